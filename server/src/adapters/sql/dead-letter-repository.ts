/**
 * Messages that failed validation, in the `dead_letters` table: written in
 * batches by ingest, read newest first by the operator's API.
 */
import { and, desc, eq, lt, or, sql } from 'drizzle-orm';
import type { Database } from './database.ts';
import { deadLetters } from './schema.ts';

/** A payload is kept up to this many bytes (UTF-8); callers cut it, this repository makes sure. */
export const DEAD_LETTER_PAYLOAD_BYTES = 4096;
const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

export interface DeadLetterInput {
  receivedAt: Date;
  topic: string;
  payload: string;
  /** True when the caller already cut the payload. */
  payloadTruncated: boolean;
  /** A stable code such as 'not-json'. */
  reason: string;
  detail: string;
}

export interface DeadLetter extends DeadLetterInput {
  id: number;
}

export interface DeadLetterPage {
  items: DeadLetter[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export class DeadLetterCursorError extends Error {
  readonly code = 'DEAD_LETTER_CURSOR_INVALID';
}

export class DeadLetterRepository {
  constructor(private readonly database: Database) {}

  async add(entries: readonly DeadLetterInput[]): Promise<void> {
    if (entries.length === 0) return;
    // 6 parameters a row; 1,000 rows keep a statement well under PostgreSQL's 65,535.
    for (let start = 0; start < entries.length; start += 1_000) {
      const rows = entries.slice(start, start + 1_000).map((e) => {
        const payload = boundedText(e.payload, DEAD_LETTER_PAYLOAD_BYTES);
        return {
          receivedAt: e.receivedAt,
          topic: boundedText(e.topic, 1024).text,
          payload: payload.text,
          payloadTruncated: e.payloadTruncated || payload.truncated,
          reason: boundedText(e.reason, 128).text,
          detail: boundedText(e.detail, 2048).text,
        };
      });
      await this.database.db.insert(deadLetters).values(rows);
    }
  }

  /** Newest first (by receivedAt, then insertion order). */
  async list(opts: { limit?: number; cursor?: string | null } = {}): Promise<DeadLetterPage> {
    const limit = Math.min(Math.max(Math.trunc(opts.limit ?? DEFAULT_PAGE) || DEFAULT_PAGE, 1), MAX_PAGE);
    const after = opts.cursor ? decodeCursor(opts.cursor) : null;
    const rows = await this.database.db
      .select()
      .from(deadLetters)
      .where(after
        ? or(lt(deadLetters.receivedAt, after.receivedAt), and(eq(deadLetters.receivedAt, after.receivedAt), lt(deadLetters.id, after.id)))
        : undefined)
      .orderBy(desc(deadLetters.receivedAt), desc(deadLetters.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  /** How many dead letters each reason has, e.g. { 'not-json': 3 }. */
  async countsByReason(): Promise<Record<string, number>> {
    const rows = await this.database.db
      .select({ reason: deadLetters.reason, count: sql<number>`count(*)::int` })
      .from(deadLetters)
      .groupBy(deadLetters.reason);
    return Object.fromEntries(rows.map((r) => [r.reason, Number(r.count)]));
  }
}

function encodeCursor(d: DeadLetter): string {
  return `${d.receivedAt.getTime()}.${d.id}`;
}

function decodeCursor(cursor: string): { receivedAt: Date; id: number } {
  const match = /^(\d{1,15})\.(\d{1,15})$/.exec(cursor);
  if (!match) throw new DeadLetterCursorError(`Invalid dead-letter cursor: ${JSON.stringify(cursor.slice(0, 40))}`);
  return { receivedAt: new Date(Number(match[1])), id: Number(match[2]) };
}

/**
 * At most `maxBytes` of UTF-8, cut on a character boundary, with NUL characters
 * (which PostgreSQL text cannot hold) replaced, so that one odd payload can never
 * make a whole batch fail.
 */
function boundedText(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const clean = text.replaceAll('\u0000', '\uFFFD');
  const bytes = Buffer.from(clean, 'utf8');
  if (bytes.length <= maxBytes) return { text: clean, truncated: false };
  let end = maxBytes;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1; // back off a continuation byte
  return { text: bytes.subarray(0, end).toString('utf8'), truncated: true };
}

/**
 * The alarm engine's snapshot as it is stored: gzip, in base64 text (the
 * column is text), behind a prefix. A partition's snapshot is megabytes of
 * JSON that compresses several times over; stored as it is, it kept PGlite
 * (one statement at a time) busy for hundreds of milliseconds, and every
 * alarm and ticket arriving meanwhile waited. Compressing runs on libuv's
 * thread pool, not the event loop. A snapshot stored as plain JSON (by an
 * older server) is read as it is.
 */
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';

const GZIP_PREFIX = 'gzip:';
/**
 * zlib goes back to the event loop after each output chunk (16 kB by default):
 * on a busy loop (ingest at thousands of messages a second) those turns took
 * seconds. A snapshot fits in one or two of these.
 */
const CHUNK_BYTES = 4 * 2 ** 20;
const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export async function encodeSnapshot(json: string): Promise<string> {
  // Level 1: most of the size goes at a fraction of the default level's time.
  return GZIP_PREFIX + (await gzipAsync(json, { level: 1, chunkSize: CHUNK_BYTES })).toString('base64');
}

export async function decodeSnapshot(stored: string): Promise<string> {
  if (!stored.startsWith(GZIP_PREFIX)) return stored;
  return (await gunzipAsync(Buffer.from(stored.slice(GZIP_PREFIX.length), 'base64'), { chunkSize: CHUNK_BYTES })).toString('utf8');
}

/**
 * The relational store's tables (drizzle, PostgreSQL dialect; PGlite runs the
 * same migrations). Migrations in drizzle/ are generated from this file with
 * `npm run db:generate` and never edited by hand.
 *
 * Sections: telemetry (readings), ingest (dead letters). Alarms and tickets
 * get their own sections as they arrive.
 */
import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import type { MetricValue } from '../../contract.ts';

// Event times are kept to the millisecond, like the readings' own timestamps.
const timestampMs = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });

// ── Telemetry ────────────────────────────────────────────────────────────────

/**
 * One wide row per telemetry message. The primary key makes writes idempotent:
 * a repeated (device, ts, seq) is dropped with ON CONFLICT DO NOTHING, and the
 * same index serves per-device time ranges and "newest reading" look-ups.
 */
export const readings = pgTable('readings', {
  deviceId: text('device_id').notNull(),
  ts: timestampMs('ts').notNull(),
  seq: integer('seq').notNull(),
  values: jsonb('values').$type<Record<string, MetricValue>>().notNull(),
  receivedAt: timestampMs('received_at').notNull().defaultNow(),
}, (t) => [
  primaryKey({ name: 'readings_pkey', columns: [t.deviceId, t.ts, t.seq] }),
]);

// ── Ingest ───────────────────────────────────────────────────────────────────

/** Messages that failed validation, kept (bounded) so an operator can see why. */
export const deadLetters = pgTable('dead_letters', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  receivedAt: timestampMs('received_at').notNull().defaultNow(),
  topic: text('topic').notNull(),
  payload: text('payload').notNull(),
  payloadTruncated: boolean('payload_truncated').notNull().default(false),
  /** A stable code such as 'not-json'. */
  reason: text('reason').notNull(),
  detail: text('detail').notNull().default(''),
}, (t) => [
  index('dead_letters_received_at_idx').on(t.receivedAt.desc(), t.id.desc()),
  index('dead_letters_reason_idx').on(t.reason),
]);


export * from './schema-alarms.ts';
export * from './schema-auth.ts';
export * from './schema-tickets.ts';

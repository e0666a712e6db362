/**
 * The relational store's tables (drizzle, PostgreSQL dialect; PGlite runs the
 * same migrations). Migrations in drizzle/ are generated from this file with
 * `npm run db:generate` and never edited by hand.
 *
 * Sections: telemetry (readings, their roll-ups and the newest reading per
 * device), ingest (dead letters). Alarms and tickets
 * get their own sections as they arrive.
 */
import { bigint, boolean, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
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

/**
 * The newest reading of each device (greatest ts, then seq), so that start-up
 * reads one row per device instead of every reading. A device's first reading
 * adds its row in the statement that stores it; newer ones are written behind,
 * every 5 s (see time-series-store.ts).
 */
export const latestReadings = pgTable('latest_readings', {
  deviceId: text('device_id').primaryKey(),
  ts: timestampMs('ts').notNull(),
  seq: integer('seq').notNull(),
  values: jsonb('values').$type<Record<string, MetricValue>>().notNull(),
});

/**
 * Hourly roll-up per device and numeric (or boolean, as 0/1) metric, over
 * UTC hours. `first`/`last` are the values of the hour's first and last
 * readings (by ts, then seq); `prev` is the last value before the hour (null
 * when there is none), so that consumption (`last - prev`) needs no look-back.
 */
export const readingsHourly = pgTable('readings_hourly', {
  deviceId: text('device_id').notNull(),
  metric: text('metric').notNull(),
  hour: timestampMs('hour').notNull(),
  n: integer('n').notNull(),
  sum: doublePrecision('sum').notNull(),
  min: doublePrecision('min').notNull(),
  max: doublePrecision('max').notNull(),
  first: doublePrecision('first').notNull(),
  last: doublePrecision('last').notNull(),
  prev: doublePrecision('prev'),
}, (t) => [
  primaryKey({ name: 'readings_hourly_pkey', columns: [t.deviceId, t.metric, t.hour] }),
]);

/**
 * The consumption of a group of devices (see rollups.ts) per hour and per UTC
 * day: the sum over members with readings of `last - coalesce(prev, first)`.
 * No row: no member had a reading.
 */
export const readingsGroupHourly = pgTable('readings_group_hourly', {
  groupKey: text('group_key').notNull(),
  metric: text('metric').notNull(),
  hour: timestampMs('hour').notNull(),
  delta: doublePrecision('delta').notNull(),
}, (t) => [
  primaryKey({ name: 'readings_group_hourly_pkey', columns: [t.groupKey, t.metric, t.hour] }),
]);

export const readingsGroupDaily = pgTable('readings_group_daily', {
  groupKey: text('group_key').notNull(),
  metric: text('metric').notNull(),
  day: timestampMs('day').notNull(),
  delta: doublePrecision('delta').notNull(),
}, (t) => [
  primaryKey({ name: 'readings_group_daily_pkey', columns: [t.groupKey, t.metric, t.day] }),
]);

/** Groups whose sums are complete, and the membership (groupVersion) they were built for. */
export const rollupGroups = pgTable('rollup_groups', {
  groupKey: text('group_key').primaryKey(),
  version: text('version').notNull(),
});

/**
 * Dirty marks: hours whose roll-ups may be out of date, for every device
 * (`rollup_dirty_hours`, written by large or recent batches) or for one
 * (`rollup_dirty`, a few late readings). Every write marks what it touched in
 * the statement that stores it; `gen` grows at each new mark, so that a
 * roll-up pass removes only the marks it has seen.
 */
export const rollupDirtyHours = pgTable('rollup_dirty_hours', {
  hour: timestampMs('hour').primaryKey(),
  gen: bigint('gen', { mode: 'number' }).notNull().default(1),
});

export const rollupDirty = pgTable('rollup_dirty', {
  deviceId: text('device_id').notNull(),
  hour: timestampMs('hour').notNull(),
  gen: bigint('gen', { mode: 'number' }).notNull().default(1),
}, (t) => [
  primaryKey({ name: 'rollup_dirty_pkey', columns: [t.deviceId, t.hour] }),
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

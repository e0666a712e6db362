/**
 * Telemetry in the relational store (PGlite or PostgreSQL): raw `readings`
 * (one wide row per message), `latest_readings` (the newest per device) and
 * hourly roll-ups (rollups.ts explains the tables and how a query is split).
 *
 * Range queries (see the port for the contract):
 * - Buckets start at multiples of `everyMs` since the epoch (UTC). The first
 *   bucket is the one containing `from` (it may start before `from` when `from`
 *   is not aligned); the last starts before `to`. Only readings in [from, to) count.
 * - Numbers aggregate as they are, booleans as 0/1. String values are not
 *   numeric and are skipped, so a metric that only ever holds strings yields
 *   null buckets.
 * - `delta` = the bucket's last value minus the last value before the bucket;
 *   for the first bucket that is the last reading before `from`. Null when the
 *   bucket is empty or there is no earlier reading. Negative deltas (a meter
 *   replaced or reset) are returned as they are; detectors decide.
 * - Totals over a set of devices (rangeTotal, deviceTotals): per device and
 *   bucket as above, then summed per bucket. Their `delta` differs in one
 *   point: a meter with no reading before `from` (new in the range) counts
 *   from its first reading in the range, so that the buckets add up to the
 *   devices' totals.
 * The answers are the same whether a stretch is read from roll-ups or raw.
 *
 * Write path: one statement per 1,000 readings (2,000 on PostgreSQL) stores
 * them, marks the hours they touch dirty (for every device when the hour is
 * recent or the batch is large, else per device; an open hour once) and adds
 * a `latest_readings` row for a device seen for the first time; on
 * PostgreSQL, a chunk with nothing to mark and no new device (most of them)
 * is stored by COPY. Newer latest values are kept in memory and written
 * behind, every 5 s, at most once per device whatever the message rate
 * (upserted in the write statement they cost about 40 % of its throughput on
 * both engines; written every second, 20–40 % at tens of thousands of
 * readings a second). latest() on this instance writes them first; after a
 * crash, the last 5 s of values are missing from it until each device
 * reports again.
 *
 * Roll-up passes (every few seconds with `background`, or all at once with
 * refresh()) recompute the marked hours once closed, in statements of about
 * POINTS_PER_STATEMENT values: device rows from the raw readings, then the
 * groups' hourly and daily sums, then remove the marks they saw (a mark
 * written in the meantime has a new `gen` and stays). Their writes go in
 * PGlite's bulk lane. Passes are idempotent; with several server instances
 * on one PostgreSQL, only the holder of a lease runs the background ones
 * (rollup-lease.ts), so that the work is not done once per instance.
 */
import { setImmediate } from 'node:timers/promises';
import { inArray, sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { systemClock, type Clock } from '../../ports/clock.ts';
import type {
  Bucket, DeviceTotal, DeviceTotalsQuery, RangeQuery, Reading, StoreHealth, TimeSeriesStore, TotalQuery,
} from '../../ports/time-series.ts';
import { AGGREGATES, TOTAL_AGGREGATES } from '../../ports/time-series.ts';
import { queryRows, type Database } from './database.ts';
import { coveredGroups, DAY, groupVersion, HOUR, hourRuns, planRead, type ReadPlan, type RollupGroup } from './rollups.ts';
import { latestReadings } from './schema.ts';

/**
 * Readings per INSERT (a fixed number of array parameters whatever the size).
 * 1,000 rows take ≈10 ms on the 2-core machine; smaller chunks lose throughput
 * to per-statement cost, larger ones gain little on either engine (issue 9).
 */
const ROWS_PER_INSERT = 1_000;
/**
 * Readings per statement where COPY is used (PostgreSQL, out of process): a
 * telemetry writer's whole batch, as a COPY takes two round trips where an
 * INSERT takes one (1,000-row COPYs: −25 % rows/s with two writers).
 */
const ROWS_PER_COPY = 2_000;
/**
 * The rows of readingArrays' four parameters, from $`first` on. The values go
 * as one JSON array rather than an array of quoted JSON texts: ≈1.5 µs a row
 * less to build on the server's thread and ≈2 less for PGlite to read.
 */
function readingRows(first: number): string {
  const [ids, times, seqs, values] = [0, 1, 2, 3].map((i) => `$${first + i}`);
  return `rows from (unnest(${ids}::text[]), unnest(${times}::timestamptz[]), unnest(${seqs}::int[]), jsonb_array_elements(${values}::jsonb))`;
}
/**
 * Stores a chunk of readings, marks the hours it touched and adds the latest
 * row of devices seen for the first time, in one statement (so a reading is
 * never stored without its mark). Mark arrays hold no duplicates and are
 * sorted, so concurrent writers lock marks in the same order.
 */
const WRITE_READINGS = `with stored as (
    insert into readings (device_id, ts, seq, "values")
    select * from ${readingRows(1)}
    on conflict do nothing
  ),
  estate_marks as (
    insert into rollup_dirty_hours as d (hour) select unnest($5::timestamptz[])
    on conflict (hour) do update set gen = d.gen + 1
  ),
  device_marks as (
    insert into rollup_dirty as d (device_id, hour) select * from unnest($6::text[], $7::timestamptz[])
    on conflict (device_id, hour) do update set gen = d.gen + 1
  )
  insert into latest_readings (device_id, ts, seq, "values")
  select * from ${readingRows(8)}
  on conflict (device_id) do nothing`;
/** Stores readings when there is nothing to mark and no new device: most writes, once their open hour is marked. */
const COPY_READINGS = `copy readings (device_id, ts, seq, "values") from stdin`;
/** The same without COPY (PGlite), or when COPY failed on a key already stored. */
const INSERT_READINGS = `insert into readings (device_id, ts, seq, "values")
  select * from ${readingRows(1)}
  on conflict do nothing`;
const UNIQUE_VIOLATION = '23505';
/** The newer reading wins; a repeated (ts, seq) keeps the one stored first, like `readings`. */
const UPSERT_LATEST = `insert into latest_readings as l (device_id, ts, seq, "values")
  select * from ${readingRows(1)}
  on conflict (device_id) do update set ts = excluded.ts, seq = excluded.seq, "values" = excluded."values"
  where (l.ts, l.seq) < (excluded.ts, excluded.seq)`;

/** A batch marks an older hour for every device rather than per device past this many devices in it. */
const DEVICE_MARKS_PER_HOUR = 500;
const LATEST_FLUSH_MS = 5_000;
const ROLLUP_EVERY_MS = 5_000;
/** A background pass works at most this long, then waits for the next. */
const PASS_BUDGET_MS = 1_000;
/** Background passes leave an hour alone until this long after it ends, when its readings have arrived. */
const SETTLE_MS = 5 * 60_000;
/**
 * No pass touches an hour until this long after its end, and until this long
 * before it, a writer marks an open hour once (the mark only has to exist):
 * marking it at every write would make concurrent writers queue for its row
 * (-18 % rows/s with two writers on PostgreSQL). Covers clock skew between
 * server instances and statement time.
 */
const OPEN_HOUR_MARGIN_MS = 60_000;
/**
 * Values (a reading's metrics) per roll-up statement: ≈100 ms of PGlite on
 * the 2-core machine, which runs one statement at a time, so a larger one
 * would hold up ingest writes. A device's values per hour are learnt as its
 * hours are rolled up (a meter: a few; an elevator: thousands).
 */
const POINTS_PER_STATEMENT = 20_000;
const DEFAULT_POINTS_PER_HOUR = 1_000;
/** Group members' hourly rows per statement when a group's sums are rebuilt. */
const ROWS_PER_GROUP_BUILD = 200_000;
const MAX_SPAN_HOURS = 7 * 24;
/** Marks read per step. */
const MARKS_PER_STEP = 1_000;

/** A guard against queries that would return millions of buckets. */
export const MAX_BUCKETS = 100_000;

export class RangeQueryError extends Error {
  readonly code = 'RANGE_QUERY_INVALID';
}

export interface SqlTimeSeriesStoreOptions {
  /** Decides which hours are closed. */
  readonly clock?: Clock;
  /** Devices whose consumption is kept summed (groupsFromCatalogue); none by default. */
  readonly groups?: readonly RollupGroup[];
  /** Run roll-up passes and write latest values behind on timers (the server). Without, refresh() and latest() do it. */
  readonly background?: boolean;
  /** With several server instances on one database: background passes run only while this instance holds the lease (rollup-lease.ts). */
  readonly lease?: PassLease;
}

/** Decides which of several instances runs the background passes; started with them, stopped (and given up) by close(). */
export interface PassLease {
  readonly held: boolean;
  start(): void;
  stop(): Promise<void>;
}

interface Mark { hourMs: number; gen: string }
/** A device's hourly row whose `prev` a step changed: its groups' sums need recomputing. */
interface Moved { deviceId: string; hourMs: number }
/** Devices recomputed in one statement (SQL selecting `device_id`), and the groups they complete. */
interface Chunk { devices: SQL; groups: readonly RollupGroup[] }
interface DeviceMark extends Mark { deviceId: string }
/** An hourly roll-up row; `prev` null: look it up (the device's first hour in the span). */
interface HourRow {
  deviceId: string; metric: string; hour: number; n: number; sum: number; min: number; max: number; first: number; last: number; prev: number | null;
  firstAt: [number, number]; lastAt: [number, number];
}

export class SqlTimeSeriesStore implements TimeSeriesStore {
  private readonly clock: Clock;
  /** Every group, groups of groups (`parts`) included. */
  private readonly groups: ReadonlyMap<string, RollupGroup>;
  /** The groups of devices, and the one each grouped device is in. */
  private readonly leaves: readonly RollupGroup[];
  private readonly groupOf = new Map<string, RollupGroup>();
  /** The groups of groups each group is a part of. */
  private readonly parentsOf = new Map<string, RollupGroup[]>();
  /** Groups whose sums are complete: only these answer totals. */
  private readonly readyGroups = new Set<string>();
  /** Groups to (re)build, and keys no longer configured whose rows go. */
  private unbuilt: RollupGroup[] = [];
  private building: { start: number; end: number } | null = null;
  private staleGroupKeys: string[] = [];
  /** Open hours this store has marked (for every device): later writes into them need no mark until they close. */
  private readonly markedOpenHours = new Set<number>();
  /** Devices known to have a latest_readings row. */
  private readonly knownDevices = new Set<string>();
  /** Newest reading per device not yet in latest_readings. */
  private pendingLatest = new Map<string, Reading>();
  private flushing: Promise<void> = Promise.resolve();
  private starting: Promise<void> | null = null;
  /** Roll-up work runs one step at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private passRunning = false;
  /** Bulk loads running (bulkLoad()): background passes wait for them. */
  private bulkLoads = 0;
  /** Values per hour of each device, as seen in its rolled-up hours. */
  private readonly pointsPerHour = new Map<string, number>();
  private others: { at: number; ids: string[] } | null = null;
  private backgroundError: string | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly lease: PassLease | null;
  private closed = false;

  constructor(private readonly database: Database, options: SqlTimeSeriesStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.groups = new Map((options.groups ?? []).map((g) => [g.key, g]));
    this.leaves = [...this.groups.values()].filter((g) => !g.parts);
    for (const group of this.leaves) for (const id of group.deviceIds) this.groupOf.set(id, group);
    for (const parent of this.groups.values()) {
      if (!parent.parts) continue;
      // Its sums are its parts' sums: they must be groups of devices whose members are its members.
      const parts = parent.parts.map((key) => this.groups.get(key));
      const members = parts.flatMap((part) => part?.deviceIds ?? []).sort();
      if (parts.some((part) => !part || part.parts) || JSON.stringify(members) !== JSON.stringify([...parent.deviceIds].sort())) {
        throw new Error(`Roll-up group ${parent.key}: its parts must be groups of devices that together hold its members`);
      }
      for (const key of parent.parts) this.parentsOf.set(key, [...(this.parentsOf.get(key) ?? []), parent]);
    }
    this.lease = options.lease ?? null;
    if (options.background) {
      this.lease?.start();
      this.timers.push(
        setInterval(() => void this.flushLatest().catch((error: unknown) => this.noteBackgroundError(error)), LATEST_FLUSH_MS).unref(),
        setInterval(() => this.backgroundPass(), ROLLUP_EVERY_MS).unref(),
      );
    }
  }

  async write(batch: readonly Reading[]): Promise<void> {
    if (batch.length === 0) return;
    await this.start();
    const crowded = crowdedHours(batch, alignDown(this.clock.now(), HOUR) - HOUR);
    const rowsPerChunk = this.database.copy ? ROWS_PER_COPY : ROWS_PER_INSERT;
    for (let start = 0; start < batch.length; start += rowsPerChunk) {
      // Let timers and I/O in between chunks (and between back-to-back writes).
      await setImmediate();
      const chunk = batch.slice(start, start + rowsPerChunk);
      const newest = newestPerDevice(chunk);
      // Sorted, like the marks: two writes adding the same devices' latest rows in different orders deadlocked on PostgreSQL.
      const firstSeen = [...newest.values()].filter((r) => !this.knownDevices.has(r.deviceId)).sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));
      const { estateHours, deviceMarks, openHours } = this.marksFor(chunk, crowded);
      if (estateHours.length === 0 && deviceMarks.length === 0 && firstSeen.length === 0) {
        await this.storeReadings(chunk);
      } else {
        await this.database.execute(WRITE_READINGS, [
          ...readingArrays(chunk),
          textArray(estateHours.map(isoTime)),
          textArray(deviceMarks.map((m) => m.deviceId)),
          textArray(deviceMarks.map((m) => isoTime(m.hourMs))),
          ...readingArrays(firstSeen),
        ]);
      }
      for (const hour of openHours) this.markedOpenHours.add(hour);
      for (const r of firstSeen) this.knownDevices.add(r.deviceId);
      for (const r of newest.values()) {
        const pending = this.pendingLatest.get(r.deviceId);
        if (!pending || newer(r, pending)) this.pendingLatest.set(r.deviceId, r);
      }
    }
  }

  /**
   * Stores readings that need no mark: by COPY where the database has it
   * (PostgreSQL: about half its CPU per row of the INSERT, issue 9).
   * COPY cannot skip a key already stored (a message delivered again): then
   * the chunk goes again as an INSERT that does.
   */
  private async storeReadings(chunk: readonly Reading[]): Promise<void> {
    if (!this.database.copy) {
      await this.database.execute(INSERT_READINGS, readingArrays(chunk));
      return;
    }
    try {
      await this.database.copy(COPY_READINGS, copyRows(chunk));
    } catch (error) {
      if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
      await this.database.execute(INSERT_READINGS, readingArrays(chunk));
    }
  }

  async latest(deviceIds?: readonly string[]): Promise<Reading[]> {
    if (deviceIds?.length === 0) return [];
    await this.flushLatest();
    const rows = await this.database.db
      .select()
      .from(latestReadings)
      .where(deviceIds ? inArray(latestReadings.deviceId, [...deviceIds]) : undefined)
      .orderBy(latestReadings.deviceId);
    return rows.map((r) => ({ deviceId: r.deviceId, ts: r.ts.getTime(), seq: r.seq, values: r.values }));
  }

  async range(query: RangeQuery): Promise<Bucket[]> {
    validateRangeQuery(query);
    const { deviceId, metric, from, to, everyMs, agg } = query;
    const plan = await this.plan(query, [deviceId], []);
    const every = sql`${everyMs}::bigint`;
    const rows = await this.run<{ ts: number; value: number | null }>(sql`
      with ${perDeviceBuckets(plan, metric, every, agg === 'delta')}
      select b::float8 as ts, (${bucketValue(agg)})::float8 as value
      from generate_series(${alignDown(from, everyMs)}::bigint, ${alignDown(to - 1, everyMs)}::bigint, ${every}) as b
      left join per_device on per_device.bucket = b
      order by b`);
    return rows.map(toBucket);
  }

  async rangeTotal(query: TotalQuery): Promise<Bucket[]> {
    validateTotalQuery(query);
    await this.start();
    const { deviceIds, metric, from, to, everyMs, agg } = query;
    const groups = agg === 'delta'
      ? coveredGroups(deviceIds, [...this.readyGroups].map((key) => this.groups.get(key)!)).filter((g) => g.metrics.includes(metric))
      : [];
    const plan = await this.plan(query, deviceIds, groups);
    const every = sql`${everyMs}::bigint`;
    const perDeviceValue = agg === 'delta' ? sql`per_device.v` : agg === 'mean' ? sql`per_device.sum / per_device.n` : sql`per_device.sum`;
    const rows = await this.run<{ ts: number; value: number | null }>(sql`
      with ${perDeviceBuckets(plan, metric, every, agg === 'delta')},
      parts as (
        select per_device.bucket, ${perDeviceValue} as value from per_device
        union all
        ${groupBuckets(plan, metric, every)}
      )
      select b::float8 as ts, sum(parts.value)::float8 as value
      from generate_series(${alignDown(from, everyMs)}::bigint, ${alignDown(to - 1, everyMs)}::bigint, ${every}) as b
      left join parts on parts.bucket = b
      group by b
      order by b`);
    return rows.map(toBucket);
  }

  async deviceTotals(query: DeviceTotalsQuery): Promise<DeviceTotal[]> {
    validateTotalQuery({ ...query, everyMs: query.to - query.from });
    const { deviceIds, metric, from, to, agg } = query;
    if (deviceIds.length === 0) return [];
    const ids = sql`${textArray(deviceIds)}::text[]`;
    const fromTs = sql`${isoTime(from)}::timestamptz`;
    const toTs = sql`${isoTime(to)}::timestamptz`;
    let value: SQL;
    if (agg === 'delta') {
      // Three index look-ups per device instead of reading every reading in the range.
      const edge = (where: SQL, order: SQL) => sql`(
        select ${numericValue(metric)} from readings
        where device_id = ids.id and ${where} and ${numericValue(metric)} is not null
        order by ${order} limit 1)`;
      const last = edge(sql`ts >= ${fromTs} and ts < ${toTs}`, sql`ts desc, seq desc`);
      const before = edge(sql`ts < ${fromTs}`, sql`ts desc, seq desc`);
      const first = edge(sql`ts >= ${fromTs} and ts < ${toTs}`, sql`ts, seq`);
      value = sql`${last} - coalesce(${before}, ${first})`;
    } else {
      value = sql`(
        select ${agg === 'mean' ? sql`avg` : sql`sum`}(${numericValue(metric)}) from readings
        where device_id = ids.id and ts >= ${fromTs} and ts < ${toTs})`;
    }
    const rows = await this.run<{ deviceId: string; value: number | null }>(sql`
      select ids.id as "deviceId", (${value})::float8 as value
      from unnest(${ids}) as ids(id)
      order by ids.id`);
    return rows.map((r) => ({ deviceId: r.deviceId, value: r.value === null ? null : Number(r.value) }));
  }

  /**
   * Brings every roll-up up to date with what has been written, for every
   * closed hour: call it after a bulk load (the simulated history, the bench).
   * Queries are right without it, only slower over hours not yet rolled up.
   */
  async refresh(): Promise<void> {
    await this.start();
    await this.flushLatest();
    const closedBefore = alignDown(this.clock.now() - OPEN_HOUR_MARGIN_MS, HOUR);
    while (await this.step(closedBefore)) { /* until no closed hour is marked */ }
  }

  async bulkLoad<T>(load: () => Promise<T>): Promise<T> {
    this.bulkLoads += 1;
    try {
      return await load();
    } finally {
      this.bulkLoads -= 1;
    }
  }

  async health(): Promise<StoreHealth> {
    try {
      await this.database.ping();
      return { ok: true, engine: this.database.engine, ...(this.backgroundError && { detail: `roll-ups behind: ${this.backgroundError}` }) };
    } catch (error) {
      return { ok: false, engine: this.database.engine, detail: errorText(error) };
    }
  }

  /** Stops the timers and writes what is pending. The Database is shared with the other repositories; whoever opened it closes it. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.queue;
    await this.lease?.stop();
    await this.flushLatest();
  }

  // ── Latest ────────────────────────────────────────────────────────────────

  /** Writes the pending latest values; one flush at a time, a call during one waits for the next. */
  private flushLatest(): Promise<void> {
    this.flushing = this.flushing.catch(() => undefined).then(async () => {
      if (this.pendingLatest.size === 0) return;
      const pending = this.pendingLatest;
      this.pendingLatest = new Map();
      const rows = [...pending.values()].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));
      try {
        for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
          await this.database.execute(UPSERT_LATEST, readingArrays(rows.slice(i, i + ROWS_PER_INSERT)));
        }
      } catch (error) {
        // Put back what is not superseded, for the next flush.
        for (const r of rows) {
          const now = this.pendingLatest.get(r.deviceId);
          if (!now || newer(r, now)) this.pendingLatest.set(r.deviceId, r);
        }
        throw error;
      }
    });
    return this.flushing;
  }

  // ── Dirty marks and the read plan ─────────────────────────────────────────

  /**
   * The hours a chunk touches: recent ones and the batch's crowded ones for
   * every device, the rest per device; an open hour this store has marked
   * already is left out until it is about to close (`openHours`: the open
   * hours marked now).
   */
  private marksFor(chunk: readonly Reading[], crowded: ReadonlySet<number>): {
    estateHours: number[]; deviceMarks: Array<{ deviceId: string; hourMs: number }>; openHours: number[];
  } {
    const now = this.clock.now();
    const recent = alignDown(now, HOUR) - HOUR;
    for (const hour of this.markedOpenHours) if (hour < recent) this.markedOpenHours.delete(hour);
    const hours = new Set<number>();
    for (const r of chunk) hours.add(alignDown(r.ts, HOUR));
    const estateHours: number[] = [];
    const deviceMarks: Array<{ deviceId: string; hourMs: number }> = [];
    const openHours: number[] = [];
    for (const hour of hours) {
      const open = hour + HOUR - OPEN_HOUR_MARGIN_MS > now;
      if (open && this.markedOpenHours.has(hour)) continue;
      if (open) openHours.push(hour);
      if (hour >= recent || crowded.has(hour)) {
        estateHours.push(hour);
        continue;
      }
      const ids = new Set(chunk.filter((r) => alignDown(r.ts, HOUR) === hour).map((r) => r.deviceId));
      for (const deviceId of ids) deviceMarks.push({ deviceId, hourMs: hour });
    }
    estateHours.sort((a, b) => a - b);
    deviceMarks.sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : a.hourMs - b.hourMs));
    return { estateHours, deviceMarks, openHours };
  }

  private async plan(query: Omit<RangeQuery, 'deviceId' | 'agg'>, deviceIds: readonly string[], groups: readonly RollupGroup[]): Promise<ReadPlan> {
    const { from, to, everyMs } = query;
    // Nothing can come from roll-ups: skip reading the marks.
    if (everyMs % HOUR !== 0 || Math.ceil(from / HOUR) >= Math.floor(to / HOUR) || deviceIds.length === 0) {
      return planRead({ from, to, everyMs, deviceIds, groups: [], dirtyFrom: () => -Infinity });
    }
    await this.start();
    const rows = await queryRows<{ deviceId: string | null; fromMs: number }>(this.database.db, sql`
      select device_id as "deviceId", (extract(epoch from min(hour)) * 1000)::float8 as "fromMs"
      from rollup_dirty where device_id = any(${textArray(deviceIds)}::text[]) group by device_id
      union all
      select null, (extract(epoch from min(hour)) * 1000)::float8 from rollup_dirty_hours`);
    let estate = Infinity;
    const byDevice = new Map<string, number>();
    for (const r of rows) {
      if (r.fromMs === null) continue;
      if (r.deviceId === null) estate = Number(r.fromMs);
      else byDevice.set(r.deviceId, Number(r.fromMs));
    }
    return planRead({ from, to, everyMs, deviceIds, groups, dirtyFrom: (id) => Math.min(estate, byDevice.get(id) ?? Infinity) });
  }

  // ── Roll-up passes ────────────────────────────────────────────────────────

  /** Loads what the store keeps in memory: known devices and which groups are built. */
  private start(): Promise<void> {
    this.starting ??= this.load().catch((error: unknown) => {
      this.starting = null;
      throw error;
    });
    return this.starting;
  }

  private async load(): Promise<void> {
    const devices = await queryRows<{ id: string }>(this.database.db, sql`select device_id as id from latest_readings`);
    for (const d of devices) this.knownDevices.add(d.id);
    const built = await queryRows<{ key: string; version: string }>(this.database.db, sql`select group_key as key, version from rollup_groups`);
    const versions = new Map(built.map((b) => [b.key, b.version]));
    for (const group of this.groups.values()) {
      if (versions.get(group.key) === groupVersion(group)) this.readyGroups.add(group.key);
      else this.unbuilt.push(group);
    }
    this.staleGroupKeys = [...versions.keys()].filter((key) => !this.groups.has(key));
  }

  private backgroundPass(): void {
    if (this.passRunning || this.closed || this.bulkLoads > 0 || (this.lease && !this.lease.held)) return;
    this.passRunning = true;
    const deadline = performance.now() + PASS_BUDGET_MS;
    const work = async () => {
      await this.start();
      const closedBefore = alignDown(this.clock.now() - SETTLE_MS, HOUR);
      while (!this.closed && performance.now() < deadline && (await this.step(closedBefore))) { /* within the budget */ }
    };
    work().then(
      () => { this.backgroundError = null; },
      (error: unknown) => this.noteBackgroundError(error),
    ).finally(() => { this.passRunning = false; });
  }

  private noteBackgroundError(error: unknown): void {
    this.backgroundError = errorText(error);
  }

  /** One bounded piece of roll-up work on hours before `closedBefore`; false when there was none. */
  private step(closedBefore: number): Promise<boolean> {
    const run = this.queue.then(async () => {
      await setImmediate();
      if (this.staleGroupKeys.length > 0 || this.unbuilt.length > 0) {
        await this.buildGroupsStep();
        return true;
      }
      const hours = await queryRows<Mark>(this.database.db, sql`
        select (extract(epoch from hour) * 1000)::float8 as "hourMs", gen::text as gen
        from rollup_dirty_hours where hour < ${isoTime(closedBefore)}::timestamptz
        order by hour limit ${MARKS_PER_STEP}`);
      if (hours.length > 0) {
        await this.estateStep(hours);
        return true;
      }
      const marks = await queryRows<DeviceMark>(this.database.db, sql`
        select device_id as "deviceId", (extract(epoch from hour) * 1000)::float8 as "hourMs", gen::text as gen
        from rollup_dirty where hour < ${isoTime(closedBefore)}::timestamptz
        order by hour, device_id limit ${MARKS_PER_STEP}`);
      if (marks.length > 0) {
        await this.deviceStep(marks);
        return true;
      }
      return false;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Recomputes every device over the first run of marked hours (as many hours as keep statements to their size), then drops the marks seen. */
  private async estateStep(hours: readonly Mark[]): Promise<void> {
    const marked = hours.map((h) => ({ ...h, hourMs: Number(h.hourMs) }));
    const run = hourRuns(marked.map((h) => h.hourMs))[0]!;
    const start = run.start;
    // As many hours as the busiest device's fit in one statement.
    const others = await this.otherDevices();
    const busiest = [...this.groupOf.keys(), ...others].reduce((max, id) => Math.max(max, this.weight(id)), 1);
    const spanHours = Math.max(1, Math.min(MAX_SPAN_HOURS, Math.floor(POINTS_PER_STATEMENT / busiest)));
    const end = Math.min(run.end, start + spanHours * HOUR);
    // Per-device marks inside the span are covered by it; read before recomputing so that later ones stay.
    const deviceMarks = await queryRows<DeviceMark>(this.database.db, sql`
      select device_id as "deviceId", (extract(epoch from hour) * 1000)::float8 as "hourMs", gen::text as gen
      from rollup_dirty where hour >= ${isoTime(start)}::timestamptz and hour < ${isoTime(end)}::timestamptz`);
    const moved = await this.recomputeChunks(this.estateChunks(others, (end - start) / HOUR), start, end);
    await this.recomputeParents([...this.groups.values()].filter((g) => g.parts), [{ start, end }]);
    await this.recomputeGroupDays([...this.groups.values()], [{ start, end }]);
    await this.recomputeGroups(this.groupsOf(moved.map((m) => m.deviceId)), hourRuns(moved.map((m) => m.hourMs)));
    await this.dropMarks(marked.filter((h) => h.hourMs >= start && h.hourMs < end), deviceMarks);
  }

  /** Values per hour a device is expected to have (learnt, or a high guess for one not rolled up yet). */
  private weight(deviceId: string): number {
    return this.pointsPerHour.get(deviceId) ?? DEFAULT_POINTS_PER_HOUR;
  }

  /** The devices outside groups with readings, read at most once a minute. */
  private async otherDevices(): Promise<string[]> {
    if (!this.others || performance.now() - this.others.at > 60_000) {
      const rows = await queryRows<{ id: string }>(this.database.db, sql`
        select device_id as id from latest_readings where device_id <> all(${textArray([...this.groupOf.keys()])}::text[]) order by device_id`);
      this.others = { at: performance.now(), ids: rows.map((r) => r.id) };
    }
    return this.others.ids;
  }

  /**
   * Every device, in statements of about POINTS_PER_STATEMENT values over
   * `spanHours`: whole groups first (their sums come out of the same
   * statement), then the others by ranges of ids, so that a device whose
   * first reading lands meanwhile still falls in one.
   */
  private estateChunks(others: readonly string[], spanHours: number): Chunk[] {
    const budget = POINTS_PER_STATEMENT / spanHours;
    const list: Chunk[] = [];
    let packed: RollupGroup[] = [];
    let load = 0;
    const pack = () => {
      if (packed.length > 0) list.push({ devices: sql`select unnest(${textArray(packed.flatMap((g) => g.deviceIds))}::text[]) as device_id`, groups: packed });
      packed = [];
      load = 0;
    };
    for (const group of this.leaves) {
      const groupLoad = group.deviceIds.reduce((sum, id) => sum + this.weight(id), 0);
      if (packed.length > 0 && load + groupLoad > budget) pack();
      packed.push(group);
      load += groupLoad;
    }
    pack();

    const grouped = sql`${textArray([...this.groupOf.keys()])}::text[]`;
    // Ranges [low, high): the first open below, the last open above.
    let low: string | null = null;
    for (let i = 0; i <= others.length; i++) {
      const last = i === others.length;
      if (!last && (load === 0 || load + this.weight(others[i]!) <= budget)) {
        load += this.weight(others[i]!);
        continue;
      }
      const high: string | null = last ? null : others[i]!;
      list.push({
        devices: sql`select device_id from latest_readings
          where (${low}::text is null or device_id >= ${low}::text) and (${high}::text is null or device_id < ${high}::text)
            and device_id <> all(${grouped})`,
        groups: [],
      });
      low = high;
      load = last ? 0 : this.weight(others[i]!);
    }
    return list;
  }

  /** Recomputes the devices marked in the earliest marked hour, and the sums of their groups. */
  private async deviceStep(marks: readonly DeviceMark[]): Promise<void> {
    const hour = Number(marks[0]!.hourMs);
    const inHour = marks.filter((m) => Number(m.hourMs) === hour);
    const ids = inHour.map((m) => m.deviceId);
    const chunks: Chunk[] = [];
    let chunk: string[] = [];
    let load = 0;
    for (const [i, id] of ids.entries()) {
      chunk.push(id);
      load += this.weight(id);
      if (load < POINTS_PER_STATEMENT && i < ids.length - 1) continue;
      chunks.push({ devices: sql`select unnest(${textArray(chunk)}::text[]) as device_id`, groups: [] });
      chunk = [];
      load = 0;
    }
    const moved = await this.recomputeChunks(chunks, hour, hour + HOUR);
    await this.recomputeGroups(this.groupsOf(ids), [{ start: hour, end: hour + HOUR }]);
    await this.recomputeGroups(this.groupsOf(moved.map((m) => m.deviceId)), hourRuns(moved.map((m) => m.hourMs)));
    await this.dropMarks([], inHour);
  }

  private groupsOf(deviceIds: readonly string[]): RollupGroup[] {
    return [...new Set(deviceIds.map((id) => this.groupOf.get(id)).filter((g) => g !== undefined))];
  }

  /**
   * Rebuilds the hourly rows of each chunk's devices over [start, end) from
   * the raw readings, and corrects `prev` of each device's next row after
   * `end`; a chunk's `groups` (whose members it all selects) get their hourly
   * sums from the same rows. Returns the next rows so corrected: their groups
   * need recomputing too. One chunk's readings are read and aggregated while
   * the previous chunk's rows are stored (on PostgreSQL on two connections;
   * on PGlite its worker stores while this thread aggregates).
   */
  private async recomputeChunks(chunks: readonly Chunk[], start: number, end: number): Promise<Moved[]> {
    const moved: Moved[] = [];
    let storing: Promise<Moved[]> = Promise.resolve([]);
    try {
      for (const chunk of chunks) {
        const hours = await this.readHours(chunk.devices, start, end);
        moved.push(...(await storing));
        storing = this.storeHours(hours, start, end, chunk.groups);
        // Awaited after the next read; a failure meanwhile must not count as an unhandled rejection.
        storing.catch(() => undefined);
      }
      moved.push(...(await storing));
    } finally {
      // A failed read: the step ends once the chunk being stored is.
      await storing.catch(() => undefined);
    }
    return moved;
  }

  /**
   * The readings of the devices `devices` selects over [start, end), as
   * hourly rows. They come out whole, one JSON text per device (a row per
   * reading costs three times as much to return from PGlite), and are
   * aggregated here: on PGlite, one row per metric (jsonb_each) and
   * per-group aggregate state in SQL cost several times more when an hour
   * holds only a reading or two (meters); on PostgreSQL, twice the CPU of
   * this and the upsert together.
   */
  private async readHours(devices: SQL, start: number, end: number): Promise<HourRow[]> {
    const perDevice = await queryRows<{ deviceId: string; readings: string }>(this.database.db, sql`
      with devices as (${devices})
      select d.device_id as "deviceId", r.readings::text as readings
      from devices d
      cross join lateral (
        -- One index range per device, never a scan of every reading.
        select json_agg(json_build_array((extract(epoch from r.ts) * 1000)::bigint, r.seq, r."values")) as readings
        from readings r where r.device_id = d.device_id and r.ts >= ${isoTime(start)}::timestamptz and r.ts < ${isoTime(end)}::timestamptz
      ) as r
      where r.readings is not null`);
    const readings: Array<{ deviceId: string; ts: number; seq: number; values: Reading['values'] }> = [];
    for (const { deviceId, readings: text } of perDevice) {
      for (const [ts, seq, values] of JSON.parse(text) as Array<[number, number, Reading['values']]>) readings.push({ deviceId, ts, seq, values });
    }
    const hours = hourlyRows(readings);
    const seen = new Map<string, { points: number; hours: Set<number> }>();
    for (const h of hours) {
      const device = seen.get(h.deviceId) ?? { points: 0, hours: new Set<number>() };
      device.points += h.n;
      device.hours.add(h.hour);
      seen.set(h.deviceId, device);
    }
    for (const [id, device] of seen) this.pointsPerHour.set(id, Math.max(1, Math.ceil(device.points / device.hours.size)));
    return hours;
  }

  /**
   * Upserts hourly rows of [start, end) and the sums of `groups` over them,
   * then corrects `prev` of each device's next row after `end`; returns the
   * rows so corrected. The rows stream from their arrays into the table
   * (encoded by hourRowsSql): only each device's first row in the span (its
   * `prev` is the device's previous row, looked up here) goes through a
   * CTE, and the groups' sums of the other rows are added up in this process.
   */
  private async storeHours(hours: readonly HourRow[], start: number, end: number, groups: readonly RollupGroup[]): Promise<Moved[]> {
    if (hours.length === 0) return [];
    const opening = hours.filter((h) => h.prev === null);
    const chained = hours.filter((h) => h.prev !== null);
    const memberOf = new Map<string, string>();
    for (const g of groups) for (const id of g.deviceIds) for (const metric of g.metrics) memberOf.set(`${id}\u0000${metric}`, g.key);
    const partials = new Map<string, { key: string; metric: string; hour: number; delta: number }>();
    for (const h of chained) {
      const key = memberOf.get(`${h.deviceId}\u0000${h.metric}`);
      if (key === undefined) continue;
      const id = `${key}\u0000${h.metric}\u0000${h.hour}`;
      const part = partials.get(id);
      if (part) part.delta += h.last - h.prev!;
      else partials.set(id, { key, metric: h.metric, hour: h.hour, delta: h.last - h.prev! });
    }
    const sums = [...partials.values()];
    const openingGroups = opening.map((h) => memberOf.get(`${h.deviceId}\u0000${h.metric}`) ?? null);
    await this.bulk(sql`
      with opening as (
        select o.device_id, o.metric, o.hour, o.n, o.sum, o.min, o.max, o.first, o.last,
          -- The value before a device's first hour here: its previous row's last.
          (select p.last from readings_hourly p
           where p.device_id = o.device_id and p.metric = o.metric and p.hour < ${isoTime(start)}::timestamptz
           order by p.hour desc limit 1) as prev,
          g.group_key
        from (${hourRowsSql(opening)}) as o
        join unnest(${textArray(openingGroups)}::text[]) with ordinality as g(group_key, i) on g.i = o.i
      ),
      upserted as (
        insert into readings_hourly as h (device_id, metric, hour, n, sum, min, max, first, last, prev)
        select device_id, metric, hour, n, sum, min, max, first, last, prev from (${hourRowsSql(chained)}) as c
        union all
        select device_id, metric, hour, n, sum, min, max, first, last, prev from opening
        on conflict (device_id, metric, hour) do update
          set n = excluded.n, sum = excluded.sum, min = excluded.min, max = excluded.max, first = excluded.first, last = excluded.last, prev = excluded.prev
          where (h.n, h.sum, h.min, h.max, h.first, h.last, h.prev) is distinct from (excluded.n, excluded.sum, excluded.min, excluded.max, excluded.first, excluded.last, excluded.prev)
      ),
      parts as (
        select s.group_key, s.metric, to_timestamp(s.hour::float8 * 3600) as hour, s.delta
        from unnest(${textArray(sums.map((s) => s.key))}::text[], ${textArray(sums.map((s) => s.metric))}::text[],
          ${integers(sums, (s) => s.hour / HOUR)}::int[], ${floats(sums, (s) => s.delta)}::float8[]) as s(group_key, metric, hour, delta)
        union all
        select group_key, metric, hour, last - coalesce(prev, first) from opening where group_key is not null
      )
      ${UPSERT_GROUP_HOURLY} select group_key, metric, hour, sum(delta) from parts group by group_key, metric, hour
      ${ON_GROUP_HOURLY_CONFLICT}`);
    // Each device and metric's last value here is the `prev` of its next row after the span.
    const tails = hours.filter((h, i) => hours[i + 1]?.deviceId !== h.deviceId || hours[i + 1]?.metric !== h.metric);
    const rows = await this.run<{ deviceId: string; hourMs: number }>(sql`
      with following as (
        select t.device_id, t.metric, t.last, n.hour
        from unnest(${textArray(tails.map((t) => t.deviceId))}::text[], ${textArray(tails.map((t) => t.metric))}::text[],
          ${floats(tails, (t) => t.last)}::float8[]) as t(device_id, metric, last)
        cross join lateral (
          select x.hour, x.prev from readings_hourly x
          where x.device_id = t.device_id and x.metric = t.metric and x.hour >= ${isoTime(end)}::timestamptz order by x.hour limit 1
        ) as n
        where n.prev is distinct from t.last
      )
      update readings_hourly h set prev = f.last from following f
      where h.device_id = f.device_id and h.metric = f.metric and h.hour = f.hour
      returning h.device_id as "deviceId", (extract(epoch from h.hour) * 1000)::float8 as "hourMs"`);
    return rows.map((r) => ({ deviceId: r.deviceId, hourMs: Number(r.hourMs) }));
  }

  /**
   * Recomputes the groups' hourly sums over the spans: a group of devices
   * from its members' rows; a group of groups among them, or over one of
   * them, from its parts' sums (each part is ready or among `groups`); then
   * the days the spans touch.
   */
  private async recomputeGroups(groups: readonly RollupGroup[], spans: ReadonlyArray<{ start: number; end: number }>): Promise<void> {
    if (groups.length === 0 || spans.length === 0) return;
    const leaves = groups.filter((g) => !g.parts);
    const parents = [...new Set([...groups.filter((g) => g.parts), ...leaves.flatMap((g) => this.parentsOf.get(g.key) ?? [])])];
    if (leaves.length > 0) await this.recomputeLeaves(leaves, spans);
    await this.recomputeParents(parents, spans);
    await this.recomputeGroupDays([...leaves, ...parents], spans);
  }

  /** Recomputes the hourly sums of groups of devices over the spans, from their members' rows. */
  private async recomputeLeaves(groups: readonly RollupGroup[], spans: ReadonlyArray<{ start: number; end: number }>): Promise<void> {
    const members = groups.flatMap((g) => g.deviceIds.flatMap((deviceId) => g.metrics.map((metric) => ({ key: g.key, deviceId, metric }))));
    await this.bulk(sql`
      with members as (
        select * from unnest(${textArray(members.map((m) => m.key))}::text[], ${textArray(members.map((m) => m.deviceId))}::text[],
          ${textArray(members.map((m) => m.metric))}::text[]) as m(group_key, device_id, metric)
      ),
      spans as (
        select * from ${timeSpans(spans)} as s(start_at, end_at)
      ),
      sums as (
        select m.group_key, m.metric, h.hour, sum(h.last - coalesce(h.prev, h.first)) as delta
        from members m cross join spans s
        cross join lateral (
          select h.hour, h.last, h.prev, h.first from readings_hourly h
          where h.device_id = m.device_id and h.metric = m.metric and h.hour >= s.start_at and h.hour < s.end_at
          offset 0 -- an index range per member and span, never a scan of every row
        ) as h
        group by m.group_key, m.metric, h.hour
      )
      ${UPSERT_GROUP_HOURLY} select * from sums ${ON_GROUP_HOURLY_CONFLICT}`);
    await setImmediate();
  }

  /** Recomputes the hourly sums of groups of groups over the spans, from their parts' sums (their days are left to the caller). */
  private async recomputeParents(parents: readonly RollupGroup[], spans: ReadonlyArray<{ start: number; end: number }>): Promise<void> {
    if (parents.length === 0 || spans.length === 0) return;
    const parts = parents.flatMap((p) => p.parts!.flatMap((part) => p.metrics.map((metric) => ({ parent: p.key, part, metric }))));
    await this.bulk(sql`
      with parts as (
        select * from unnest(${textArray(parts.map((p) => p.parent))}::text[], ${textArray(parts.map((p) => p.part))}::text[],
          ${textArray(parts.map((p) => p.metric))}::text[]) as p(parent, part, metric)
      ),
      spans as (
        select * from ${timeSpans(spans)} as s(start_at, end_at)
      ),
      sums as (
        select p.parent, p.metric, g.hour, sum(g.delta) as delta
        from parts p cross join spans s
        cross join lateral (
          select g.hour, g.delta from readings_group_hourly g
          where g.group_key = p.part and g.metric = p.metric and g.hour >= s.start_at and g.hour < s.end_at
          offset 0
        ) as g
        group by p.parent, p.metric, g.hour
      )
      ${UPSERT_GROUP_HOURLY} select * from sums ${ON_GROUP_HOURLY_CONFLICT}`);
  }

  /** Recomputes the groups' daily sums, from their hourly sums, for every UTC day the spans touch. */
  private async recomputeGroupDays(groups: readonly RollupGroup[], spans: ReadonlyArray<{ start: number; end: number }>): Promise<void> {
    if (groups.length === 0) return;
    const days = dayRuns(spans);
    const pairs = groups.flatMap((g) => g.metrics.map((metric) => ({ key: g.key, metric })));
    await this.bulk(sql`
      with pairs as (select * from unnest(${textArray(pairs.map((p) => p.key))}::text[], ${textArray(pairs.map((p) => p.metric))}::text[]) as p(group_key, metric)),
      days as (
        select * from ${timeSpans(days)} as d(start_at, end_at)
      ),
      sums as (
        select p.group_key, p.metric, date_bin('1 day', g.hour, ${EPOCH}) as day, sum(g.delta) as delta
        from pairs p cross join days d
        cross join lateral (
          select g.hour, g.delta from readings_group_hourly g
          where g.group_key = p.group_key and g.metric = p.metric and g.hour >= d.start_at and g.hour < d.end_at
          offset 0
        ) as g
        group by 1, 2, 3
      )
      insert into readings_group_daily as g (group_key, metric, day, delta)
      select * from sums
      on conflict (group_key, metric, day) do update set delta = excluded.delta where g.delta is distinct from excluded.delta`);
  }

  /**
   * Runs a roll-up statement whose result is not needed. On PGlite in its
   * bulk lane: it waits while other statements (alarms, tickets, queries)
   * are answered. On PostgreSQL as run() does.
   */
  private async bulk(query: SQL): Promise<void> {
    if (this.database.engine === 'postgres') {
      await this.run(query);
      return;
    }
    const { sql: text, params } = DIALECT.sqlToQuery(query);
    await this.database.execute(text, params);
  }

  /**
   * Runs a query or roll-up statement. On PostgreSQL: with JIT off (the
   * planner's estimates for these statements call for it, and compiling costs
   * far more than running them: 1.5 s for a plot's month) and, for roll-ups,
   * without waiting for the commit to reach the disk: the rows can be
   * computed again, and the marks go in a later, durable commit, which
   * flushes this one's log too.
   */
  private async run<Row>(query: SQL): Promise<Row[]> {
    if (this.database.engine !== 'postgres') return queryRows<Row>(this.database.db, query);
    return this.database.db.transaction(async (tx) => {
      await tx.execute(sql`select set_config('jit', 'off', true), set_config('synchronous_commit', 'off', true)`);
      return queryRows<Row>(tx, query);
    });
  }

  /** Removes the marks a step has handled, unless written again since (their gen moved on). */
  private async dropMarks(hours: readonly Mark[], deviceMarks: readonly DeviceMark[]): Promise<void> {
    if (hours.length > 0) {
      await this.database.execute(`delete from rollup_dirty_hours d using unnest($1::timestamptz[], $2::bigint[]) as m(hour, gen)
        where d.hour = m.hour and d.gen = m.gen`, [textArray(hours.map((h) => isoTime(Number(h.hourMs)))), `{${hours.map((h) => h.gen).join(',')}}`]);
    }
    if (deviceMarks.length > 0) {
      await this.database.execute(`delete from rollup_dirty d using unnest($1::text[], $2::timestamptz[], $3::bigint[]) as m(device_id, hour, gen)
        where d.device_id = m.device_id and d.hour = m.hour and d.gen = m.gen`, [
        textArray(deviceMarks.map((m) => m.deviceId)), textArray(deviceMarks.map((m) => isoTime(Number(m.hourMs)))), `{${deviceMarks.map((m) => m.gen).join(',')}}`,
      ]);
    }
  }

  /**
   * Groups added or changed since their sums were built (a new database, an
   * edited catalogue) are rebuilt from the device rows, a span of hours per
   * step; until then totals read their members one by one.
   */
  private async buildGroupsStep(): Promise<void> {
    if (this.staleGroupKeys.length > 0) {
      const keys = textArray(this.staleGroupKeys);
      await this.database.execute('delete from readings_group_hourly where group_key = any($1::text[])', [keys]);
      await this.database.execute('delete from readings_group_daily where group_key = any($1::text[])', [keys]);
      await this.database.execute('delete from rollup_groups where group_key = any($1::text[])', [keys]);
      this.staleGroupKeys = [];
      return;
    }
    if (!this.building) {
      const keys = textArray(this.unbuilt.map((g) => g.key));
      await this.database.execute('delete from readings_group_hourly where group_key = any($1::text[])', [keys]);
      await this.database.execute('delete from readings_group_daily where group_key = any($1::text[])', [keys]);
      const pairs = this.unbuilt.flatMap((g) => g.deviceIds.flatMap((deviceId) => g.metrics.map((metric) => ({ deviceId, metric }))));
      const [bounds] = await queryRows<{ first: number | null; last: number | null }>(this.database.db, sql`
        select (extract(epoch from min(b.first)) * 1000)::float8 as first, (extract(epoch from max(b.last)) * 1000)::float8 as last
        from unnest(${textArray(pairs.map((p) => p.deviceId))}::text[], ${textArray(pairs.map((p) => p.metric))}::text[]) as p(device_id, metric)
        cross join lateral (
          select min(hour) as first, max(hour) as last from readings_hourly h where h.device_id = p.device_id and h.metric = p.metric
        ) as b`);
      this.building = bounds?.first == null || bounds.last == null
        ? { start: 0, end: 0 }
        : { start: Number(bounds.first), end: Number(bounds.last) + HOUR };
    }
    const { start, end } = this.building;
    if (start < end) {
      // Rows read an hour: a member's, or a part's for a group of groups.
      const rows = this.unbuilt.reduce((n, g) => n + (g.parts ?? g.deviceIds).length * g.metrics.length, 0);
      const spanEnd = Math.min(end, start + Math.max(1, Math.min(MAX_SPAN_HOURS, Math.floor(ROWS_PER_GROUP_BUILD / rows))) * HOUR);
      await this.recomputeGroups(this.unbuilt, [{ start, end: spanEnd }]);
      this.building = { start: spanEnd, end };
      if (spanEnd < end) return;
    }
    await this.database.execute(`insert into rollup_groups (group_key, version) select * from unnest($1::text[], $2::text[])
      on conflict (group_key) do update set version = excluded.version`, [
      textArray(this.unbuilt.map((g) => g.key)), textArray(this.unbuilt.map(groupVersion)),
    ]);
    for (const group of this.unbuilt) this.readyGroups.add(group.key);
    this.unbuilt = [];
    this.building = null;
  }
}

export function validateRangeQuery(q: RangeQuery): void {
  const problems: string[] = [];
  if (!Number.isSafeInteger(q.from) || !Number.isSafeInteger(q.to)) problems.push('from and to must be integer epoch milliseconds');
  else if (q.to <= q.from) problems.push('to must be after from');
  if (!Number.isSafeInteger(q.everyMs) || q.everyMs <= 0) problems.push('everyMs must be a positive integer');
  if (!(AGGREGATES as readonly string[]).includes(q.agg)) problems.push(`agg must be one of ${AGGREGATES.join(', ')}`);
  if (typeof q.deviceId !== 'string' || typeof q.metric !== 'string') problems.push('deviceId and metric must be strings');
  if (problems.length === 0) {
    const buckets = (alignDown(q.to - 1, q.everyMs) - alignDown(q.from, q.everyMs)) / q.everyMs + 1;
    if (buckets > MAX_BUCKETS) problems.push(`the query spans ${buckets} buckets; at most ${MAX_BUCKETS} are allowed`);
  }
  if (problems.length > 0) throw new RangeQueryError(`Invalid range query: ${problems.join('; ')}`);
}

export function validateTotalQuery(q: TotalQuery): void {
  if (!Array.isArray(q.deviceIds) || q.deviceIds.some((id) => typeof id !== 'string')) {
    throw new RangeQueryError('Invalid range query: deviceIds must be a list of strings');
  }
  if (!(TOTAL_AGGREGATES as readonly string[]).includes(q.agg)) {
    throw new RangeQueryError(`Invalid range query: agg must be one of ${TOTAL_AGGREGATES.join(', ')}`);
  }
  validateRangeQuery({ ...q, deviceId: '' });
}

const EPOCH = sql`timestamptz '1970-01-01 00:00:00+00'`;
/** Turns a statement built with drizzle's sql`` into text and parameters for Database.execute(). */
const DIALECT = new PgDialect();

/**
 * CTEs ending in `per_device(device_id, bucket, n, sum, min, max, last, v, prior)`:
 * each device's aggregates per bucket over the plan's raw and hourly
 * stretches. `v` is the bucket's consumption (last minus the value before it,
 * or minus the device's first value when there is none before) and `prior`
 * says whether a value before the bucket existed (delta is null without one).
 * `withBaseline` looks up the value before each raw stretch (delta only).
 */
function perDeviceBuckets(plan: ReadPlan, metric: string, every: SQL, withBaseline: boolean): SQL {
  const bucketOf = (ms: SQL) => sql`${ms} - (((${ms} % ${every}) + ${every}) % ${every})`;
  // The value before a stretch. After clean hours ('hourly'): the last reading of the hour before it, read
  // in the stretch's own index range as a bucket of its own (null) that comes first (a second look-up per
  // device cost more than the stretch: the open hour of a plot is one per meter), else the device's newest
  // hourly row before it. Otherwise the newest reading before it that has the metric.
  const lookBack = withBaseline ? sql`case when s.hourly_base then interval '1 hour' else interval '0' end` : sql`interval '0'`;
  const baseline = withBaseline
    ? sql`case when f.hourly_base
        then (select h.last from readings_hourly h
              where h.device_id = f.device_id and h.metric = ${metric}::text and h.hour < f.start_at order by h.hour desc limit 1)
        else (select ${numericValue(metric)} from readings r
              where r.device_id = f.device_id and r.ts < f.start_at and ${numericValue(metric)} is not null
              order by r.ts desc, r.seq desc limit 1)
      end`
    : sql`null::float8`;
  return sql`raw_stretches as (
      select s.id as device_id, s.start_at, s.end_at, b.hourly_base
      from (${stretchesSql(plan.raw)}) as s
      join unnest(${`{${plan.raw.map((s) => s.baseline === 'hourly').join(',')}}`}::boolean[]) with ordinality as b(hourly_base, i) on b.i = s.i
    ),
    raw_buckets as (
      select s.device_id, s.start_at, s.hourly_base, case when p.ts >= s.start_at then ${bucketOf(sql`p.ms`)} end as bucket,
        min(p.ms) as start_ms, count(*) as n, sum(p.v) as sum, min(p.v) as min, max(p.v) as max,
        -- First and last by (ts, seq): the least and greatest [ms, seq, value] arrays, without a sort per bucket.
        (min(array[p.ms::float8, p.seq::float8, p.v]))[3] as first, (max(array[p.ms::float8, p.seq::float8, p.v]))[3] as last
      from raw_stretches s cross join lateral (
        select r.ts, (extract(epoch from r.ts) * 1000)::bigint as ms, r.seq, ${numericValue(metric)} as v
        from readings r where r.device_id = s.device_id and r.ts >= s.start_at - ${lookBack} and r.ts < s.end_at
        offset 0 -- an index range per stretch: left to itself, PostgreSQL may scan every reading
      ) as p
      where p.v is not null
      group by s.device_id, s.start_at, s.hourly_base, 4
    ),
    raw_chained as (
      select b.*, lag(b.last) over w as before, row_number() over w = 1 as opening
      from raw_buckets b window w as (partition by b.device_id, b.start_at order by b.bucket nulls first)
    ),
    raw_pieces as (
      select device_id, bucket, start_ms, n, sum, min, max, last,
        last - coalesce(before, base, first) as v, (before is not null or base is not null) as prior
      from (select f.*, case when f.opening then ${baseline} end as base from raw_chained f where f.bucket is not null) as x
    ),
    hourly_stretches as (
      select s.id as device_id, s.start_at, s.end_at from (${stretchesSql(plan.hourly)}) as s
    ),
    hourly_pieces as (
      select h.device_id, ${bucketOf(sql`h.ms`)} as bucket, min(h.ms) as start_ms,
        sum(h.n) as n, sum(h.sum) as sum, min(h.min) as min, max(h.max) as max,
        (max(array[h.ms::float8, h.last]))[2] as last,
        sum(h.last - coalesce(h.prev, h.first)) as v,
        (min(array[h.ms::float8, (h.prev is not null)::int]))[2] = 1 as prior
      from hourly_stretches s cross join lateral (
        select h.*, (extract(epoch from h.hour) * 1000)::bigint as ms from readings_hourly h
        where h.device_id = s.device_id and h.metric = ${metric}::text and h.hour >= s.start_at and h.hour < s.end_at
        offset 0
      ) as h
      group by h.device_id, 2
    ),
    pieces as (
      select device_id, bucket, start_ms, n, sum, min, max, last, v, prior from raw_pieces
      union all
      select device_id, bucket, start_ms, n, sum, min, max, last, v, prior from hourly_pieces
    ),
    per_device as (
      select device_id, bucket, sum(n)::float8 as n, sum(sum) as sum, min(min) as min, max(max) as max,
        (max(array[start_ms::float8, last]))[2] as last, sum(v) as v, (min(array[start_ms::float8, prior::int]))[2] = 1 as prior
      from pieces group by device_id, bucket
    )`;
}

/** Time spans as `unnest(starts, ends)`: a span list's rows (start_at, end_at) once given an alias. */
function timeSpans(spans: ReadonlyArray<{ start: number; end: number }>): SQL {
  return sql`unnest(${textArray(spans.map((s) => isoTime(s.start)))}::timestamptz[], ${textArray(spans.map((s) => isoTime(s.end)))}::timestamptz[])`;
}

/** A group's hourly sums written again: the row changes only when its sum did. */
const UPSERT_GROUP_HOURLY = sql.raw('insert into readings_group_hourly as g (group_key, metric, hour, delta)');
const ON_GROUP_HOURLY_CONFLICT = sql.raw('on conflict (group_key, metric, hour) do update set delta = excluded.delta where g.delta is distinct from excluded.delta');

/**
 * `select i, id, start_at, end_at` over stretches (of a device or a group),
 * numbered from 1. Their bounds go as positions in the list of distinct ones:
 * a plot's 1,174 meters usually share theirs, and a timestamptz costs ≈3 µs
 * to parse on PGlite.
 */
function stretchesSql(stretches: ReadonlyArray<{ start: number; end: number } & ({ deviceId: string } | { key: string })>): SQL {
  const bounds = new Map<number, number>();
  const at = (ms: number) => {
    let position = bounds.get(ms);
    if (position === undefined) bounds.set(ms, (position = bounds.size + 1));
    return position;
  };
  const starts = `{${stretches.map((s) => at(s.start)).join(',')}}`;
  const ends = `{${stretches.map((s) => at(s.end)).join(',')}}`;
  const ids = textArray(stretches.map((s) => ('deviceId' in s ? s.deviceId : s.key)));
  const times = sql`${textArray([...bounds.keys()].map(isoTime))}::timestamptz[]`;
  return sql`select s.i, s.id, (${times})[s.start_i] as start_at, (${times})[s.end_i] as end_at
    from unnest(${ids}::text[], ${starts}::int[], ${ends}::int[]) with ordinality as s(id, start_i, end_i, i)`;
}

/**
 * `select bucket, value` rows from the plan's group stretches (hourly and
 * daily sums), added up per hour or day first: a plot's month is 50 groups'
 * rows for each of 720 hours, and per-row arithmetic on 36,000 rows cost more
 * than reading them.
 */
function groupBuckets(plan: ReadPlan, metric: string, every: SQL): SQL {
  const part = (table: SQL, column: SQL, stretches: ReadPlan['groupHourly']) => sql`
    select g.ms - (((g.ms % ${every}) + ${every}) % ${every}) as bucket, g.value
    from (
      select (extract(epoch from t.at) * 1000)::bigint as ms, sum(t.delta) as value
      from (${stretchesSql(stretches)}) as s
      cross join lateral (
        select ${column} as at, t.delta from ${table} t
        where t.group_key = s.id and t.metric = ${metric}::text and ${column} >= s.start_at and ${column} < s.end_at
        offset 0
      ) as t
      group by t.at
    ) as g`;
  return sql`${part(sql`readings_group_hourly`, sql`t.hour`, plan.groupHourly)}
    union all
    ${part(sql`readings_group_daily`, sql`t.day`, plan.groupDaily)}`;
}

function bucketValue(agg: RangeQuery['agg']): SQL {
  switch (agg) {
    case 'mean': return sql`per_device.sum / per_device.n`;
    case 'min': return sql`per_device.min`;
    case 'max': return sql`per_device.max`;
    case 'sum': return sql`per_device.sum`;
    case 'last': return sql`per_device.last`;
    case 'delta': return sql`case when per_device.prior then per_device.v end`;
  }
}

/**
 * The readings' numbers (and booleans, as 0/1) aggregated per device, metric
 * and hour, ordered so; `prev` is the previous hour's last value of the same
 * device and metric, null for the first. Other values are skipped, as in SQL.
 */
function hourlyRows(readings: ReadonlyArray<{ deviceId: string; ts: number; seq: number; values: Reading['values'] }>): HourRow[] {
  const byKey = new Map<string, HourRow>();
  for (const r of readings) {
    const ts = Number(r.ts);
    const hour = alignDown(ts, HOUR);
    for (const [metric, value] of Object.entries(r.values)) {
      if (typeof value === 'number') addPoint(byKey, r.deviceId, metric, hour, ts, r.seq, value);
      else if (typeof value === 'boolean') addPoint(byKey, r.deviceId, metric, hour, ts, r.seq, value ? 1 : 0);
    }
  }
  const rows = [...byKey.values()].sort((a, b) =>
    (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : a.hour - b.hour));
  for (let i = 1; i < rows.length; i++) {
    const [before, row] = [rows[i - 1]!, rows[i]!];
    if (before.deviceId === row.deviceId && before.metric === row.metric) row.prev = before.last;
  }
  return rows;
}

/** Adds a value to its device, metric and hour; first and last by (ts, seq). */
function addPoint(byKey: Map<string, HourRow>, deviceId: string, metric: string, hour: number, ts: number, seq: number, v: number): void {
  const key = `${deviceId}\u0000${metric}\u0000${hour}`;
  const row = byKey.get(key);
  if (!row) {
    byKey.set(key, { deviceId, metric, hour, n: 1, sum: v, min: v, max: v, first: v, last: v, prev: null, firstAt: [ts, seq], lastAt: [ts, seq] });
    return;
  }
  row.n += 1;
  row.sum += v;
  row.min = Math.min(row.min, v);
  row.max = Math.max(row.max, v);
  if (ts < row.firstAt[0] || (ts === row.firstAt[0] && seq < row.firstAt[1])) {
    row.first = v;
    row.firstAt = [ts, seq];
  }
  if (ts > row.lastAt[0] || (ts === row.lastAt[0] && seq > row.lastAt[1])) {
    row.last = v;
    row.lastAt = [ts, seq];
  }
}

/**
 * `select i, device_id, metric, hour, n, sum, min, max, first, last, prev`
 * over hourly rows sent as array parameters, encoded to be cheap to parse
 * (parameters were most of a roll-up statement's cost on PGlite, where a
 * float8 takes ≈2.5 µs to parse, a timestamptz ≈3, an int or NULL under 1):
 * devices and metrics as positions in short lists of names, hours as epoch
 * hours, and sum, min, max and first as NULL where they equal `last` (every
 * hour with one reading). `i` numbers the rows from 1.
 */
function hourRowsSql(rows: readonly HourRow[]): SQL {
  const devices = new Map<string, number>();
  const metrics = new Map<string, number>();
  const position = (names: Map<string, number>, name: string) => {
    let at = names.get(name);
    if (at === undefined) names.set(name, (at = names.size + 1));
    return at;
  };
  const deviceAt = integers(rows, (h) => position(devices, h.deviceId));
  const metricAt = integers(rows, (h) => position(metrics, h.metric));
  const unlessLast = (pick: (h: HourRow) => number) => floats(rows, (h) => (pick(h) === h.last ? null : pick(h)));
  return sql`select c.i, (${textArray([...devices.keys()])}::text[])[c.d] as device_id, (${textArray([...metrics.keys()])}::text[])[c.m] as metric,
      to_timestamp(c.h::float8 * 3600) as hour, c.n, coalesce(c.sum, c.last) as sum, coalesce(c.min, c.last) as min,
      coalesce(c.max, c.last) as max, coalesce(c.first, c.last) as first, c.last, c.prev
    from unnest(${deviceAt}::int[], ${metricAt}::int[], ${integers(rows, (h) => h.hour / HOUR)}::int[], ${integers(rows, (h) => h.n)}::int[],
      ${unlessLast((h) => h.sum)}::float8[], ${unlessLast((h) => h.min)}::float8[], ${unlessLast((h) => h.max)}::float8[],
      ${unlessLast((h) => h.first)}::float8[], ${floats(rows, (h) => h.last)}::float8[], ${floats(rows, (h) => h.prev)}::float8[])
      with ordinality as c(d, m, h, n, sum, min, max, first, last, prev, i)`;
}

/** An int array literal of one field of each row. */
function integers<Row>(rows: readonly Row[], pick: (row: Row) => number): string {
  return `{${rows.map(pick).join(',')}}`;
}

/** A float8 array literal of one field of each row (NULL for null). */
function floats<Row>(rows: readonly Row[], pick: (row: Row) => number | null): string {
  return `{${rows.map((row) => pick(row) ?? 'NULL').join(',')}}`;
}

/** The UTC days the spans touch, as merged [start, end) runs. */
function dayRuns(spans: ReadonlyArray<{ start: number; end: number }>): Array<{ start: number; end: number }> {
  const runs: Array<{ start: number; end: number }> = [];
  const days = spans.map((s) => ({ start: alignDown(s.start, DAY), end: alignDown(s.end - 1, DAY) + DAY })).sort((a, b) => a.start - b.start);
  for (const day of days) {
    const run = runs.at(-1);
    if (run && day.start <= run.end) run.end = Math.max(run.end, day.end);
    else runs.push({ ...day });
  }
  return runs;
}

function toBucket(r: { ts: number; value: number | null }): Bucket {
  return { ts: Number(r.ts), value: r.value === null ? null : Number(r.value) };
}

/** The hours before `recent` in which a batch holds readings of more than DEVICE_MARKS_PER_HOUR devices. */
function crowdedHours(batch: readonly Reading[], recent: number): Set<number> {
  const devices = new Map<number, Set<string>>();
  for (const r of batch) {
    const hour = alignDown(r.ts, HOUR);
    if (hour >= recent) continue;
    let ids = devices.get(hour);
    if (!ids) devices.set(hour, (ids = new Set()));
    ids.add(r.deviceId);
  }
  return new Set([...devices].filter(([, ids]) => ids.size > DEVICE_MARKS_PER_HOUR).map(([hour]) => hour));
}

/** The newest reading of each device in a chunk; of two with the same (ts, seq), the first (the one stored). */
function newestPerDevice(chunk: readonly Reading[]): Map<string, Reading> {
  const newest = new Map<string, Reading>();
  for (const r of chunk) {
    const known = newest.get(r.deviceId);
    if (!known || newer(r, known)) newest.set(r.deviceId, r);
  }
  return newest;
}

function newer(a: Reading, b: Reading): boolean {
  return a.ts > b.ts || (a.ts === b.ts && a.seq > b.seq);
}

/** Four parameters (device ids, times, seqs: arrays; values: a JSON array) for readingRows. ISO times need no quotes. */
function readingArrays(rows: readonly Reading[]): string[] {
  return [
    textArray(rows.map((r) => r.deviceId)),
    `{${rows.map((r) => readingTime(r.ts)).join(',')}}`,
    `{${rows.map((r) => r.seq).join(',')}}`,
    `[${rows.map((r) => JSON.stringify(r.values)).join(',')}]`,
  ];
}

/** Readings as lines of COPY's text format: device, ts, seq, values. */
function copyRows(rows: readonly Reading[]): string {
  let text = '';
  for (const r of rows) text += `${copyField(r.deviceId)}\t${readingTime(r.ts)}\t${r.seq}\t${copyField(JSON.stringify(r.values))}\n`;
  return text;
}

const COPY_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A field of COPY's text format: backslashes, tabs and line breaks escaped (JSON has only the first). */
function copyField(value: string): string {
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : value;
}

/** A PostgreSQL array literal, every element quoted (the cast in SQL gives the type), null as NULL: one parameter however many items. */
function textArray(items: ReadonlyArray<string | null>): string {
  return `{${items.map((item) => (item === null ? 'NULL' : `"${item.replace(/["\\]/g, '\\$&')}"`)).join(',')}}`;
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** The second last formatted by readingTime, and its ISO form up to the seconds. */
const formattedSecond = { second: NaN, prefix: '' };
/** Year 10000: from there ISO years take more than four digits. */
const YEAR_10000_MS = 253_402_300_800_000;

/**
 * isoTime for every reading written: consecutive readings mostly share their
 * second, whose ISO form is kept (toISOString was ≈2 % of the server's
 * thread at 10,000 msgs/s).
 */
function readingTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= YEAR_10000_MS) return isoTime(ms);
  const second = Math.floor(ms / 1000);
  if (second !== formattedSecond.second) {
    formattedSecond.second = second;
    formattedSecond.prefix = isoTime(second * 1000).slice(0, 19);
  }
  const millis = ms - second * 1000;
  return `${formattedSecond.prefix}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}

function alignDown(ms: number, everyMs: number): number {
  return Math.floor(ms / everyMs) * everyMs;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The metric as float8: numbers as they are, booleans 0/1, anything else null. */
function numericValue(metric: string): SQL {
  return sql`case jsonb_typeof("values" -> ${metric}::text)
    when 'number' then ("values" ->> ${metric}::text)::float8
    when 'boolean' then case when ("values" -> ${metric}::text) = 'true'::jsonb then 1 else 0 end
  end`;
}

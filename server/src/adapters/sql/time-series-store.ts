/**
 * Telemetry in the relational store's `readings` table (PGlite or PostgreSQL).
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
 *
 * Totals over a set of devices (rangeTotal, deviceTotals) are one statement
 * each, whatever the number of devices: per device and bucket as above, then
 * summed per bucket. Their `delta` differs in one point: a meter with no
 * reading before `from` (new in the range) counts from its first reading in
 * the range, so that the buckets add up to the devices' totals.
 */
import { setImmediate } from 'node:timers/promises';
import { desc, inArray, sql, type SQL } from 'drizzle-orm';
import type {
  Bucket, DeviceTotal, DeviceTotalsQuery, RangeQuery, Reading, StoreHealth, TimeSeriesStore, TotalAggregate, TotalQuery,
} from '../../ports/time-series.ts';
import { AGGREGATES, TOTAL_AGGREGATES } from '../../ports/time-series.ts';
import { queryRows, type Database } from './database.ts';
import { readings } from './schema.ts';

/**
 * Readings per INSERT (4 parameters whatever the size). PGlite holds the event
 * loop for a whole statement: 1,000 rows take ≈10 ms on the 2-core machine;
 * smaller chunks lose throughput to per-statement cost, larger ones gain
 * little on either engine (measured for issue 9).
 */
const ROWS_PER_INSERT = 1_000;
/** One statement per chunk: four arrays, unnested into rows, so the statement text never changes. */
const INSERT_READINGS = `insert into readings (device_id, ts, seq, "values")
  select * from unnest($1::text[], $2::timestamptz[], $3::int[], $4::jsonb[])
  on conflict do nothing`;
/** A guard against queries that would return millions of buckets. */
export const MAX_BUCKETS = 100_000;

export class RangeQueryError extends Error {
  readonly code = 'RANGE_QUERY_INVALID';
}

export class SqlTimeSeriesStore implements TimeSeriesStore {
  constructor(private readonly database: Database) {}

  async write(batch: readonly Reading[]): Promise<void> {
    for (let start = 0; start < batch.length; start += ROWS_PER_INSERT) {
      // PGlite runs on this thread and answers through promises alone: without
      // this, back-to-back chunks (and writes) never let timers and I/O in.
      await setImmediate();
      const chunk = batch.slice(start, start + ROWS_PER_INSERT);
      await this.database.execute(INSERT_READINGS, [
        textArray(chunk.map((r) => r.deviceId)),
        textArray(chunk.map((r) => new Date(r.ts).toISOString())),
        `{${chunk.map((r) => r.seq).join(',')}}`,
        textArray(chunk.map((r) => JSON.stringify(r.values))),
      ]);
    }
  }

  async latest(deviceIds?: readonly string[]): Promise<Reading[]> {
    if (deviceIds?.length === 0) return [];
    const query = this.database.db
      .selectDistinctOn([readings.deviceId], { deviceId: readings.deviceId, ts: readings.ts, seq: readings.seq, values: readings.values })
      .from(readings)
      .where(deviceIds ? inArray(readings.deviceId, [...deviceIds]) : undefined)
      .orderBy(readings.deviceId, desc(readings.ts), desc(readings.seq));
    const rows = await query;
    return rows.map((r) => ({ deviceId: r.deviceId, ts: r.ts.getTime(), seq: r.seq, values: r.values }));
  }

  async range(query: RangeQuery): Promise<Bucket[]> {
    validateRangeQuery(query);
    const { deviceId, metric, from, to, everyMs, agg } = query;
    const firstBucket = alignDown(from, everyMs);
    const lastBucket = alignDown(to - 1, everyMs);
    const fromTs = sql`${new Date(from).toISOString()}::timestamptz`;
    const toTs = sql`${new Date(to).toISOString()}::timestamptz`;
    const every = sql`${everyMs}::bigint`;

    const rows = await queryRows<{ ts: number; value: number | null }>(this.database.db, sql`
      with points as (
        select ms - (((ms % ${every}) + ${every}) % ${every}) as bucket, ms, seq, v
        from (
          select (extract(epoch from ts) * 1000)::bigint as ms, seq, ${numericValue(metric)} as v
          from readings
          where device_id = ${deviceId} and ts >= ${fromTs} and ts < ${toTs}
        ) as r
        where v is not null
      ),
      per_bucket as (
        select bucket, ${aggregateExpression(agg, deviceId, metric, fromTs)} as value
        from points
        group by bucket
      )
      select b::float8 as ts, per_bucket.value::float8 as value
      from generate_series(${firstBucket}::bigint, ${lastBucket}::bigint, ${every}) as b
      left join per_bucket on per_bucket.bucket = b
      order by b`);
    return rows.map((r) => ({ ts: Number(r.ts), value: r.value === null ? null : Number(r.value) }));
  }

  async rangeTotal(query: TotalQuery): Promise<Bucket[]> {
    validateTotalQuery(query);
    const { deviceIds, metric, from, to, everyMs, agg } = query;
    const every = sql`${everyMs}::bigint`;
    const perDevice = perDeviceValues(deviceIds, metric, from, to, agg,
      sql`ms - (((ms % ${every}) + ${every}) % ${every})`);
    const rows = await queryRows<{ ts: number; value: number | null }>(this.database.db, sql`
      with ${perDevice}
      select b::float8 as ts, sum(per_device.value)::float8 as value
      from generate_series(${alignDown(from, everyMs)}::bigint, ${alignDown(to - 1, everyMs)}::bigint, ${every}) as b
      left join per_device on per_device.bucket = b
      group by b
      order by b`);
    return rows.map((r) => ({ ts: Number(r.ts), value: r.value === null ? null : Number(r.value) }));
  }

  async deviceTotals(query: DeviceTotalsQuery): Promise<DeviceTotal[]> {
    validateTotalQuery({ ...query, everyMs: query.to - query.from });
    const { deviceIds, metric, from, to, agg } = query;
    if (deviceIds.length === 0) return [];
    const ids = sql`${textArray(deviceIds)}::text[]`;
    const fromTs = sql`${new Date(from).toISOString()}::timestamptz`;
    const toTs = sql`${new Date(to).toISOString()}::timestamptz`;
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
    const rows = await queryRows<{ deviceId: string; value: number | null }>(this.database.db, sql`
      select ids.id as "deviceId", (${value})::float8 as value
      from unnest(${ids}) as ids(id)
      order by ids.id`);
    return rows.map((r) => ({ deviceId: r.deviceId, value: r.value === null ? null : Number(r.value) }));
  }

  async health(): Promise<StoreHealth> {
    try {
      await this.database.ping();
      return { ok: true, engine: this.database.engine };
    } catch (error) {
      return { ok: false, engine: this.database.engine, detail: error instanceof Error ? error.message : String(error) };
    }
  }

  /** The Database is shared with the other repositories; whoever opened it closes it. */
  async close(): Promise<void> {}
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

/** A PostgreSQL array literal, every element quoted (the cast in SQL gives the type): one parameter however many items. */
function textArray(items: readonly string[]): string {
  return `{${items.map((item) => `"${item.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

/**
 * CTEs ending in `per_device(device_id, bucket, value)`: each device's
 * aggregate per bucket (`bucketOf` maps the reading's epoch ms `ms` to its bucket).
 */
function perDeviceValues(deviceIds: readonly string[], metric: string, from: number, to: number, agg: TotalAggregate, bucketOf: SQL): SQL {
  const ids = sql`${textArray(deviceIds)}::text[]`;
  const fromTs = sql`${new Date(from).toISOString()}::timestamptz`;
  const toTs = sql`${new Date(to).toISOString()}::timestamptz`;
  const points = sql`points as (
    select device_id, ${bucketOf} as bucket, ms, seq, v
    from (
      select device_id, (extract(epoch from ts) * 1000)::bigint as ms, seq, ${numericValue(metric)} as v
      from readings
      where device_id = any(${ids}) and ts >= ${fromTs} and ts < ${toTs}
    ) as r
    where v is not null
  )`;
  if (agg !== 'delta') {
    return sql`${points},
    per_device as (
      select device_id, bucket, ${agg === 'mean' ? sql`avg(v)` : sql`sum(v)`} as value
      from points group by device_id, bucket
    )`;
  }
  // The last reading before `from`, one index look-up per device.
  return sql`${points},
    baseline as (
      select ids.id as device_id, before.v
      from unnest(${ids}) as ids(id)
      cross join lateral (
        select ${numericValue(metric)} as v from readings
        where device_id = ids.id and ts < ${fromTs} and ${numericValue(metric)} is not null
        order by ts desc, seq desc limit 1
      ) as before
    ),
    per_bucket as (
      select device_id, bucket,
        (array_agg(v order by ms desc, seq desc))[1] as last,
        (array_agg(v order by ms, seq))[1] as first
      from points group by device_id, bucket
    ),
    with_base as (
      select p.device_id, p.bucket, p.last,
        coalesce(baseline.v, first_value(p.first) over (partition by p.device_id order by p.bucket)) as base
      from per_bucket p left join baseline on baseline.device_id = p.device_id
    ),
    per_device as (
      select device_id, bucket, last - lag(last, 1, base) over (partition by device_id order by bucket) as value
      from with_base
    )`;
}

function alignDown(ms: number, everyMs: number): number {
  return Math.floor(ms / everyMs) * everyMs;
}

/** The metric as float8: numbers as they are, booleans 0/1, anything else null. */
function numericValue(metric: string): SQL {
  return sql`case jsonb_typeof("values" -> ${metric}::text)
    when 'number' then ("values" ->> ${metric}::text)::float8
    when 'boolean' then case when ("values" -> ${metric}::text) = 'true'::jsonb then 1 else 0 end
  end`;
}

function aggregateExpression(agg: RangeQuery['agg'], deviceId: string, metric: string, fromTs: SQL): SQL {
  const last = sql`(array_agg(v order by ms desc, seq desc))[1]`;
  switch (agg) {
    case 'mean': return sql`avg(v)`;
    case 'min': return sql`min(v)`;
    case 'max': return sql`max(v)`;
    case 'sum': return sql`sum(v)`;
    case 'last': return last;
    case 'delta': {
      // The previous non-empty bucket's last value; the first one looks before `from`.
      const before = sql`(
        select ${numericValue(metric)} from readings
        where device_id = ${deviceId} and ts < ${fromTs} and ${numericValue(metric)} is not null
        order by ts desc, seq desc limit 1)`;
      return sql`${last} - lag(${last}, 1, ${before}) over (order by bucket)`;
    }
  }
}

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
 */
import { desc, inArray, sql, type SQL } from 'drizzle-orm';
import type { Bucket, RangeQuery, Reading, StoreHealth, TimeSeriesStore } from '../../ports/time-series.ts';
import { AGGREGATES } from '../../ports/time-series.ts';
import { queryRows, type Database } from './database.ts';
import { readings } from './schema.ts';

/** PostgreSQL allows 65,535 parameters per statement; a reading takes 4. */
const ROWS_PER_INSERT = 5_000;
/** A guard against queries that would return millions of buckets. */
export const MAX_BUCKETS = 100_000;

export class RangeQueryError extends Error {
  readonly code = 'RANGE_QUERY_INVALID';
}

export class SqlTimeSeriesStore implements TimeSeriesStore {
  constructor(private readonly database: Database) {}

  async write(batch: readonly Reading[]): Promise<void> {
    for (let start = 0; start < batch.length; start += ROWS_PER_INSERT) {
      const rows = batch.slice(start, start + ROWS_PER_INSERT).map((r) => ({
        deviceId: r.deviceId,
        ts: new Date(r.ts),
        seq: r.seq,
        values: r.values,
      }));
      await this.database.db.insert(readings).values(rows).onConflictDoNothing();
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

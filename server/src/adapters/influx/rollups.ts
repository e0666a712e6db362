/**
 * Retention and downsampling in InfluxDB.
 *
 * - The raw bucket keeps readings for a limited time (its retention is set
 *   where the bucket is created: docker compose's DOCKER_INFLUXDB_INIT_RETENTION, e.g. 30d).
 * - `<bucket>_1h` and `<bucket>_1d` hold hourly and daily roll-ups for years,
 *   filled by two InfluxDB tasks. Each roll-up point keeps the series' tags
 *   and field name and adds a tag `agg`: sum, count, min, max and last for
 *   gauges (mean is sum / count, exact however many readings an hour had),
 *   only last for cumulative registers (their consumption is a difference of lasts).
 * - Late data: devices may upload a day of readings at once, so each run
 *   recomputes a look-back window (48 h of hours, 3 days of days), overwriting
 *   the same points. Readings that arrive later than that reach the raw bucket
 *   only.
 * - `range()` reads a roll-up when the bucket width is a whole number of
 *   hours (days): a 90-minute bucket cannot be built from whole hours. At that
 *   resolution the first and last bucket count the whole hours (days) that
 *   `from` and `to` fall in, and the newest hour appears when the task has run
 *   (a few minutes after the hour).
 */
import { flux } from '@influxdata/influxdb-client';
import { KINDS } from '../../catalogue/kinds.ts';
import type { InfluxConnection } from './influx-time-series-store.ts';
import { SEQ_FIELD } from './line-protocol.ts';

export type Resolution = 'raw' | '1h' | '1d';
export const RESOLUTION_MS = { '1h': 3_600_000, '1d': 86_400_000 } as const;

export function rollupBucket(bucket: string, resolution: Exclude<Resolution, 'raw'>): string {
  return `${bucket}_${resolution}`;
}

/** The coarsest stored resolution whose points fit the query's buckets exactly. */
export function chooseResolution(everyMs: number, rollupsEnabled: boolean): Resolution {
  if (!rollupsEnabled) return 'raw';
  if (everyMs % RESOLUTION_MS['1d'] === 0) return '1d';
  if (everyMs % RESOLUTION_MS['1h'] === 0) return '1h';
  return 'raw';
}

/** Metric names that are cumulative registers in the catalogue. */
export function cumulativeMetrics(): string[] {
  const names = new Set<string>();
  for (const kind of Object.values(KINDS)) {
    for (const [name, def] of Object.entries(kind.metrics)) if (def.cumulative) names.add(name);
  }
  return [...names].sort();
}

export interface RollupTask {
  readonly name: string;
  readonly flux: string;
}

/** The two task scripts, each starting with its `option task = {...}`. */
export function rollupTasks(bucket: string, org: string, cumulative: readonly string[] = cumulativeMetrics()): RollupTask[] {
  const hourlyName = `estatewatch rollup ${rollupBucket(bucket, '1h')}`;
  const dailyName = `estatewatch rollup ${rollupBucket(bucket, '1d')}`;
  const hourly = flux`import "date"
import "types"

option task = {name: ${hourlyName}, every: 1h, offset: 5m}

stop = date.truncate(t: now(), unit: 1h)
start = date.sub(d: 48h, from: stop)
cumulative = ${cumulative}

readings = from(bucket: ${bucket})
  |> range(start: start, stop: stop)
  |> filter(fn: (r) => r._field != ${SEQ_FIELD})
  |> filter(fn: (r) => types.isType(v: r._value, type: "float") or types.isType(v: r._value, type: "int") or types.isType(v: r._value, type: "uint") or types.isType(v: r._value, type: "bool"))
  |> toFloat()
gauges = readings |> filter(fn: (r) => not contains(value: r._field, set: cumulative))

rollup = (tables=<-, fn, agg) => tables
  |> aggregateWindow(every: 1h, fn: fn, createEmpty: false, timeSrc: "_start")
  |> toFloat()
  |> set(key: "agg", value: agg)
  |> to(bucket: ${rollupBucket(bucket, '1h')}, org: ${org})
  |> yield(name: agg)

gauges |> rollup(fn: sum, agg: "sum")
gauges |> rollup(fn: count, agg: "count")
gauges |> rollup(fn: min, agg: "min")
gauges |> rollup(fn: max, agg: "max")
readings |> rollup(fn: last, agg: "last")`;

  const daily = flux`import "date"

option task = {name: ${dailyName}, every: 1d, offset: 15m}

stop = date.truncate(t: now(), unit: 1d)
start = date.sub(d: 3d, from: stop)

hours = from(bucket: ${rollupBucket(bucket, '1h')})
  |> range(start: start, stop: stop)

rollup = (agg, fn) => hours
  |> filter(fn: (r) => r.agg == agg)
  |> aggregateWindow(every: 1d, fn: fn, createEmpty: false, timeSrc: "_start")
  |> to(bucket: ${rollupBucket(bucket, '1d')}, org: ${org})
  |> yield(name: agg)

rollup(agg: "sum", fn: sum)
rollup(agg: "count", fn: sum)
rollup(agg: "min", fn: min)
rollup(agg: "max", fn: max)
rollup(agg: "last", fn: last)`;

  return [
    { name: hourlyName, flux: hourly.toString() },
    { name: dailyName, flux: daily.toString() },
  ];
}

export interface RetentionOptions {
  /** How long hourly roll-ups are kept; default two years. */
  readonly hourlyRetentionDays?: number;
  /** How long daily roll-ups are kept; default ten years. */
  readonly dailyRetentionDays?: number;
  readonly fetch?: typeof fetch;
}

export class InfluxSetupError extends Error {
  readonly code = 'INFLUX_SETUP_FAILED';
}

export interface RetentionSetup {
  readonly buckets: readonly { name: string; action: 'created' | 'updated' }[];
  readonly tasks: readonly { name: string; action: 'created' | 'updated' }[];
}

/**
 * Creates (or brings up to date) the roll-up buckets and tasks through the
 * HTTP API. Idempotent: safe to run at every start. The token needs read and
 * write on buckets and tasks of the org (the admin token of the compose stack has them).
 */
export async function setupInfluxRetention(connection: InfluxConnection, options: RetentionOptions = {}): Promise<RetentionSetup> {
  const doFetch = options.fetch ?? fetch;
  const base = connection.url.replace(/\/+$/, '');
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await doFetch(`${base}${path}`, {
      method,
      headers: { Authorization: `Token ${connection.token}`, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new InfluxSetupError(`InfluxDB ${method} ${path.split('?')[0]} answered ${response.status}: ${text.slice(0, 500)}`);
    return (text === '' ? {} : JSON.parse(text)) as T;
  };
  const query = (params: Record<string, string>) => new URLSearchParams(params).toString();

  const { orgs } = await call<{ orgs?: { id: string }[] }>('GET', `/api/v2/orgs?${query({ org: connection.org })}`);
  const orgID = orgs?.[0]?.id;
  if (!orgID) throw new InfluxSetupError(`InfluxDB has no organisation named ${JSON.stringify(connection.org)}`);

  const day = 86_400;
  const wanted = [
    { name: rollupBucket(connection.bucket, '1h'), everySeconds: (options.hourlyRetentionDays ?? 730) * day },
    { name: rollupBucket(connection.bucket, '1d'), everySeconds: (options.dailyRetentionDays ?? 3650) * day },
  ];
  const buckets: RetentionSetup['buckets'][number][] = [];
  for (const { name, everySeconds } of wanted) {
    const retentionRules = [{ type: 'expire', everySeconds }];
    const found = await call<{ buckets?: { id: string }[] }>('GET', `/api/v2/buckets?${query({ orgID, name })}`);
    const existing = found.buckets?.[0];
    if (existing) {
      await call('PATCH', `/api/v2/buckets/${encodeURIComponent(existing.id)}`, { retentionRules });
      buckets.push({ name, action: 'updated' });
    } else {
      await call('POST', '/api/v2/buckets', { orgID, name, retentionRules });
      buckets.push({ name, action: 'created' });
    }
  }

  const tasks: RetentionSetup['tasks'][number][] = [];
  for (const task of rollupTasks(connection.bucket, connection.org)) {
    const found = await call<{ tasks?: { id: string }[] }>('GET', `/api/v2/tasks?${query({ orgID, name: task.name })}`);
    const existing = found.tasks?.[0];
    if (existing) {
      await call('PATCH', `/api/v2/tasks/${encodeURIComponent(existing.id)}`, { flux: task.flux, status: 'active' });
      tasks.push({ name: task.name, action: 'updated' });
    } else {
      await call('POST', '/api/v2/tasks', { orgID, flux: task.flux, status: 'active' });
      tasks.push({ name: task.name, action: 'created' });
    }
  }
  return { buckets, tasks };
}

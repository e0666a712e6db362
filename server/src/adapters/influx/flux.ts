/**
 * The Flux queries of the InfluxDB adapter, as pure builders. Every value that
 * comes from outside (bucket, site, device ids, metric names, times,
 * durations) goes through the client's `flux` tagged template, which turns it
 * into a quoted, escaped Flux literal: a device id cannot end the string and
 * append its own pipeline.
 */
import { flux, fluxDateTime, fluxDuration, fluxExpression, type ParameterizedQuery } from '@influxdata/influxdb-client';
import type { Aggregate, RangeQuery, TotalAggregate } from '../../ports/time-series.ts';
import { RESOLUTION_MS, type Resolution } from './rollups.ts';

/** `range()` needs bounds; readings keep event time, which may lie ahead of the wall clock (accelerated simulation). */
export const EARLIEST = new Date(0);
export const LATEST = new Date('2262-04-11T00:00:00Z'); // InfluxDB's largest time is 2262-04-11T23:47:16Z

const time = (ms: number | Date) => fluxDateTime(new Date(ms).toISOString());
const every = (ms: number) => fluxDuration(`${ms}ms`);

/**
 * The newest value of every field of every device (or of the named ones).
 * The rows stay one per device and field: the store keeps, per device, the
 * fields at the newest timestamp (the metrics of one message share it) and
 * pivots them in code. A Flux `pivot()` would do the same, but annotated CSV
 * writes null and "" alike, so an absent string metric could not be told from
 * an empty one.
 */
export function latestQuery(bucket: string, site: string, deviceIds?: readonly string[]): ParameterizedQuery {
  const devices = deviceIds
    ? flux`\n  |> filter(fn: (r) => ${fluxExpression(deviceIds.map((id) => flux`r.device == ${id}`.toString()).join(' or '))})`
    : fluxExpression('');
  return flux`from(bucket: ${bucket})
  |> range(start: ${time(EARLIEST)}, stop: ${time(LATEST)})
  |> filter(fn: (r) => r.site == ${site})${devices}
  |> last()
  |> keep(columns: ["device", "_field", "_value", "_time"])`;
}

/** A port range query, plus where to read it: the bucket, the site tag and the resolution. */
export interface FluxRange extends RangeQuery {
  readonly bucket: string;
  readonly site: string;
  readonly resolution: Resolution;
}

/** Readings of one device's metric in [start, stop), as floats (booleans 0/1, strings left out). */
function numericSeries(q: FluxRange, start: number, stop: number, rollup: string | null): string {
  const rollupFilter = rollup === null ? '' : flux` and r.agg == ${rollup}`.toString();
  return flux`from(bucket: ${q.bucket})
  |> range(start: ${time(start)}, stop: ${time(stop)})
  |> filter(fn: (r) => r.site == ${q.site} and r.device == ${q.deviceId} and r._field == ${q.metric}${fluxExpression(rollupFilter)})
  |> filter(fn: (r) => types.isType(v: r._value, type: "float") or types.isType(v: r._value, type: "int") or types.isType(v: r._value, type: "uint") or types.isType(v: r._value, type: "bool"))
  |> toFloat()`.toString();
}

/** Which stored aggregate of a roll-up answers each query aggregate, and how buckets of it combine. */
const ROLLUP_SOURCE: Record<Exclude<Aggregate, 'mean'>, { rollup: string; fn: string }> = {
  min: { rollup: 'min', fn: 'min' },
  max: { rollup: 'max', fn: 'max' },
  sum: { rollup: 'sum', fn: 'sum' },
  last: { rollup: 'last', fn: 'last' },
  delta: { rollup: 'last', fn: 'last' },
};

/**
 * The query of RangeQuery: rows of `_time` (the window start, or `from` for a
 * first window clipped by it) and `_value`. The store maps them onto the full
 * list of buckets, so empty windows may be missing from the result.
 *
 * - raw mean/min/max/sum/last: `aggregateWindow` with windows aligned to
 *   multiples of `every` since the epoch.
 * - delta: the last value of each non-empty window, with the last reading
 *   before `from` prepended, then `difference()`: each window minus the one
 *   before it, the first minus the reading before `from`.
 * - roll-ups (everyMs a multiple of an hour or a day): the same over the
 *   stored hourly/daily aggregates; mean is returned as rows of `agg` = sum
 *   and count per window for the store to divide, since a mean of means would
 *   weigh hours with few readings like hours with many.
 */
export function rangeQuery(q: FluxRange): ParameterizedQuery {
  const rolled = q.resolution !== 'raw';
  // A roll-up point stands for its whole hour (day): include the ones the range touches.
  const width = rolled ? RESOLUTION_MS[q.resolution] : 1;
  const start = Math.floor(q.from / width) * width;
  const stop = Math.ceil(q.to / width) * width;
  const header = 'import "types"\n\n';

  if (q.agg === 'delta') {
    const rollup = rolled ? ROLLUP_SOURCE.delta.rollup : null;
    const buckets = `${numericSeries(q, start, stop, rollup)}
  |> aggregateWindow(every: ${every(q.everyMs)}, fn: last, createEmpty: false, timeSrc: "_start")
  |> keep(columns: ["_time", "_value"])`;
    // Nothing can precede the epoch start; the first bucket's delta is then null, as difference() drops it.
    if (start <= EARLIEST.getTime()) return fluxExpression(`${header}${buckets}\n  |> difference()`);
    return fluxExpression(`${header}before = ${numericSeries(q, EARLIEST.getTime(), start, rollup)}
  |> last()
  |> keep(columns: ["_time", "_value"])

buckets = ${buckets}

union(tables: [before, buckets])
  |> group()
  |> sort(columns: ["_time"])
  |> difference()`);
  }

  if (q.agg === 'mean' && rolled) {
    return fluxExpression(`${header}${numericSeries(q, start, stop, null)}
  |> filter(fn: (r) => r.agg == "sum" or r.agg == "count")
  |> aggregateWindow(every: ${every(q.everyMs)}, fn: sum, createEmpty: false, timeSrc: "_start")
  |> keep(columns: ["_time", "_value", "agg"])`);
  }

  const source = q.agg === 'mean' ? { rollup: null, fn: 'mean' } : { rollup: rolled ? ROLLUP_SOURCE[q.agg].rollup : null, fn: ROLLUP_SOURCE[q.agg].fn };
  return fluxExpression(`${header}${numericSeries(q, start, stop, source.rollup)}
  |> aggregateWindow(every: ${every(q.everyMs)}, fn: ${source.fn}, createEmpty: true, timeSrc: "_start")
  |> keep(columns: ["_time", "_value"])`);
}

export interface FluxTotal {
  readonly bucket: string;
  readonly site: string;
  readonly deviceIds: readonly string[];
  readonly metric: string;
  readonly from: number;
  readonly to: number;
  /** null: one value per device over the whole range (deviceTotals). */
  readonly everyMs: number | null;
  readonly agg: TotalAggregate;
  /** Roll-ups serve delta only (their stored `last`); sum and mean read raw readings. */
  readonly resolution: Resolution;
}

/** Readings of the named devices' metric in [start, stop), as floats; one table per device. */
function setSeries(q: FluxTotal, start: number, stop: number, rollup: string | null): string {
  const devices = q.deviceIds.map((id) => flux`r.device == ${id}`.toString()).join(' or ');
  const rollupFilter = rollup === null ? '' : flux` and r.agg == ${rollup}`.toString();
  return flux`from(bucket: ${q.bucket})
  |> range(start: ${time(start)}, stop: ${time(stop)})
  |> filter(fn: (r) => r.site == ${q.site} and r._field == ${q.metric}${fluxExpression(rollupFilter)})
  |> filter(fn: (r) => ${fluxExpression(devices)})
  |> filter(fn: (r) => types.isType(v: r._value, type: "float") or types.isType(v: r._value, type: "int") or types.isType(v: r._value, type: "uint") or types.isType(v: r._value, type: "bool"))
  |> toFloat()
  |> group(columns: ["device"])`.toString();
}

/**
 * The queries of rangeTotal (everyMs set) and deviceTotals (everyMs null),
 * with the semantics of the SQL store: per device, then added up.
 *
 * - delta: per device a baseline (the last reading before the range, else
 *   the first one in it, dated at the epoch so that it sorts first), the last
 *   value of each window (or of the whole range), then `difference()`. For
 *   totals the differences are summed per window time.
 * - sum/mean: per device `aggregateWindow` (or `sum()`/`mean()` over the
 *   range); for totals summed per window time.
 *
 * Rows: `_time`, `_value` for totals (empty windows missing; the store fills
 * them), `device`, `_value` for deviceTotals.
 */
export function totalQuery(q: FluxTotal): ParameterizedQuery {
  const rolled = q.agg === 'delta' && q.resolution !== 'raw';
  const width = rolled ? RESOLUTION_MS[q.resolution as Exclude<Resolution, 'raw'>] : 1;
  const start = Math.floor(q.from / width) * width;
  const stop = Math.ceil(q.to / width) * width;
  const rollup = rolled ? 'last' : null;
  const header = 'import "types"\n\n';
  const perTime = `
  |> group(columns: ["_time"])
  |> sum()
  |> group()
  |> sort(columns: ["_time"])`;

  if (q.agg !== 'delta') {
    const fn = q.agg;
    if (q.everyMs === null) {
      return fluxExpression(`${header}${setSeries(q, start, stop, null)}
  |> ${fn}()
  |> keep(columns: ["device", "_value"])`);
    }
    return fluxExpression(`${header}${setSeries(q, start, stop, null)}
  |> aggregateWindow(every: ${every(q.everyMs)}, fn: ${fn}, createEmpty: false, timeSrc: "_start")
  |> keep(columns: ["_time", "_value", "device"])${perTime}`);
  }

  const lasts = q.everyMs === null
    ? `${setSeries(q, start, stop, rollup)}
  |> last()
  |> keep(columns: ["_time", "_value", "device"])`
    : `${setSeries(q, start, stop, rollup)}
  |> aggregateWindow(every: ${every(q.everyMs)}, fn: last, createEmpty: false, timeSrc: "_start")
  |> keep(columns: ["_time", "_value", "device"])`;
  const befores = start <= EARLIEST.getTime() ? '' : `before = ${setSeries(q, EARLIEST.getTime(), start, rollup)}
  |> last()
  |> keep(columns: ["_time", "_value", "device"])

`;
  return fluxExpression(`${header}${befores}firsts = ${setSeries(q, start, stop, rollup)}
  |> first()
  |> keep(columns: ["_time", "_value", "device"])

baseline = union(tables: [${befores ? 'before, ' : ''}firsts])
  |> group(columns: ["device"])
  |> sort(columns: ["_time"])
  |> first()
  |> map(fn: (r) => ({r with _time: ${time(EARLIEST)}}))

lasts = ${lasts}

union(tables: [baseline, lasts])
  |> group(columns: ["device"])
  |> sort(columns: ["_time"])
  |> difference()${q.everyMs === null ? '\n  |> keep(columns: ["device", "_value"])' : perTime}`);
}

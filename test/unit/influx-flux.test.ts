import { describe, expect, it } from 'vitest';
import { latestQuery, rangeQuery, totalQuery, type FluxRange, type FluxTotal } from '../../server/src/adapters/influx/flux.ts';
import { chooseResolution, cumulativeMetrics, rollupBucket, rollupTasks } from '../../server/src/adapters/influx/rollups.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MALICIOUS = 'x") |> drop()';
const NUMERIC = 'filter(fn: (r) => types.isType(v: r._value, type: "float") or types.isType(v: r._value, type: "int") or types.isType(v: r._value, type: "uint") or types.isType(v: r._value, type: "bool"))';

describe('latestQuery', () => {
  it('takes the last value of every field of the site\'s devices', () => {
    expect(latestQuery('telemetry', 'blue-valley').toString()).toBe(`from(bucket: "telemetry")
  |> range(start: time(v: "1970-01-01T00:00:00.000Z"), stop: time(v: "2262-04-11T00:00:00.000Z"))
  |> filter(fn: (r) => r.site == "blue-valley")
  |> last()
  |> keep(columns: ["device", "_field", "_value", "_time"])`);
  });

  it('filters on the named devices, escaping each id', () => {
    const query = latestQuery('telemetry', 'blue-valley', ['WM-1', MALICIOUS]).toString();
    expect(query).toContain('|> filter(fn: (r) => r.device == "WM-1" or r.device == "x\\") |> drop()")\n');
    expect(query).not.toContain('"x")');
  });

  it('escapes the bucket and site too', () => {
    const query = latestQuery('b"ucket', 'si\\te ${x}').toString();
    expect(query).toContain('from(bucket: "b\\"ucket")');
    expect(query).toContain('r.site == "si\\\\te \\${x}"');
  });
});

describe('rangeQuery', () => {
  const base: FluxRange = {
    bucket: 'telemetry', site: 'bv', deviceId: 'WM-1', metric: 'volume_m3',
    from: Date.UTC(2024, 0, 1, 0, 30), to: Date.UTC(2024, 0, 1, 3), everyMs: HOUR, agg: 'mean', resolution: 'raw',
  };
  const series = (bucket: string, start: string, stop: string, extra = '') => `from(bucket: "${bucket}")
  |> range(start: time(v: "${start}"), stop: time(v: "${stop}"))
  |> filter(fn: (r) => r.site == "bv" and r.device == "WM-1" and r._field == "volume_m3"${extra})
  |> ${NUMERIC}
  |> toFloat()`;

  it.each(['mean', 'min', 'max', 'sum', 'last'] as const)('raw %s: aggregateWindow over [from, to), empty windows included', (agg) => {
    expect(rangeQuery({ ...base, agg }).toString()).toBe(`import "types"

${series('telemetry', '2024-01-01T00:30:00.000Z', '2024-01-01T03:00:00.000Z')}
  |> aggregateWindow(every: duration(v: "3600000ms"), fn: ${agg}, createEmpty: true, timeSrc: "_start")
  |> keep(columns: ["_time", "_value"])`);
  });

  it('raw delta: last per window, the last reading before `from` prepended, then difference()', () => {
    expect(rangeQuery({ ...base, agg: 'delta' }).toString()).toBe(`import "types"

before = ${series('telemetry', '1970-01-01T00:00:00.000Z', '2024-01-01T00:30:00.000Z')}
  |> last()
  |> keep(columns: ["_time", "_value"])

buckets = ${series('telemetry', '2024-01-01T00:30:00.000Z', '2024-01-01T03:00:00.000Z')}
  |> aggregateWindow(every: duration(v: "3600000ms"), fn: last, createEmpty: false, timeSrc: "_start")
  |> keep(columns: ["_time", "_value"])

union(tables: [before, buckets])
  |> group()
  |> sort(columns: ["_time"])
  |> difference()`);
  });

  it('delta from the epoch has nothing before it to prepend', () => {
    const query = rangeQuery({ ...base, from: 0, agg: 'delta' }).toString();
    expect(query).not.toContain('before');
    expect(query.endsWith('|> keep(columns: ["_time", "_value"])\n  |> difference()')).toBe(true);
  });

  it('hourly roll-up max: the stored max per hour, the range widened to whole hours', () => {
    const query = rangeQuery({ ...base, bucket: 'telemetry_1h', agg: 'max', resolution: '1h', to: Date.UTC(2024, 0, 1, 2, 10) }).toString();
    expect(query).toBe(`import "types"

${series('telemetry_1h', '2024-01-01T00:00:00.000Z', '2024-01-01T03:00:00.000Z', ' and r.agg == "max"')}
  |> aggregateWindow(every: duration(v: "3600000ms"), fn: max, createEmpty: true, timeSrc: "_start")
  |> keep(columns: ["_time", "_value"])`);
  });

  it('roll-up mean: sums and counts per window, for the store to divide', () => {
    const query = rangeQuery({ ...base, bucket: 'telemetry_1d', everyMs: 7 * DAY, resolution: '1d' }).toString();
    expect(query).toContain('range(start: time(v: "2024-01-01T00:00:00.000Z"), stop: time(v: "2024-01-02T00:00:00.000Z"))');
    expect(query).toContain(`|> filter(fn: (r) => r.agg == "sum" or r.agg == "count")
  |> aggregateWindow(every: duration(v: "604800000ms"), fn: sum, createEmpty: false, timeSrc: "_start")
  |> keep(columns: ["_time", "_value", "agg"])`);
  });

  it('roll-up delta works on the stored last values', () => {
    const query = rangeQuery({ ...base, bucket: 'telemetry_1h', agg: 'delta', resolution: '1h' }).toString();
    expect(query.match(/r\.agg == "last"/g)).toHaveLength(2);
    expect(query).toContain('stop: time(v: "2024-01-01T00:00:00.000Z"))'); // "before" ends where the widened range starts
  });

  it('escapes a malicious device id and metric', () => {
    const query = rangeQuery({ ...base, deviceId: MALICIOUS, metric: 'm" or true or "' }).toString();
    expect(query).toContain('r.device == "x\\") |> drop()" and r._field == "m\\" or true or \\""');
  });
});

describe('totalQuery', () => {
  const base: FluxTotal = {
    bucket: 'telemetry', site: 'bv', deviceIds: ['WM-1', 'WM-2'], metric: 'volume_m3',
    from: Date.UTC(2024, 0, 1, 0, 30), to: Date.UTC(2024, 0, 1, 3), everyMs: HOUR, agg: 'delta', resolution: 'raw',
  };
  const series = (bucket: string, start: string, stop: string, extra = '') => `from(bucket: "${bucket}")
  |> range(start: time(v: "${start}"), stop: time(v: "${stop}"))
  |> filter(fn: (r) => r.site == "bv" and r._field == "volume_m3"${extra})
  |> filter(fn: (r) => r.device == "WM-1" or r.device == "WM-2")
  |> ${NUMERIC}
  |> toFloat()
  |> group(columns: ["device"])`;
  const inRange = series('telemetry', '2024-01-01T00:30:00.000Z', '2024-01-01T03:00:00.000Z');

  it('delta: per device a baseline (last before, else first in range), last per window, difference, summed per window', () => {
    expect(totalQuery(base).toString()).toBe(`import "types"

before = ${series('telemetry', '1970-01-01T00:00:00.000Z', '2024-01-01T00:30:00.000Z')}
  |> last()
  |> keep(columns: ["_time", "_value", "device"])

firsts = ${inRange}
  |> first()
  |> keep(columns: ["_time", "_value", "device"])

baseline = union(tables: [before, firsts])
  |> group(columns: ["device"])
  |> sort(columns: ["_time"])
  |> first()
  |> map(fn: (r) => ({r with _time: time(v: "1970-01-01T00:00:00.000Z")}))

lasts = ${inRange}
  |> aggregateWindow(every: duration(v: "3600000ms"), fn: last, createEmpty: false, timeSrc: "_start")
  |> keep(columns: ["_time", "_value", "device"])

union(tables: [baseline, lasts])
  |> group(columns: ["device"])
  |> sort(columns: ["_time"])
  |> difference()
  |> group(columns: ["_time"])
  |> sum()
  |> group()
  |> sort(columns: ["_time"])`);
  });

  it('delta per device over the whole range (deviceTotals): the last value, one row per device', () => {
    const query = totalQuery({ ...base, everyMs: null }).toString();
    expect(query).toContain(`lasts = ${inRange}
  |> last()
  |> keep(columns: ["_time", "_value", "device"])`);
    expect(query.endsWith('|> difference()\n  |> keep(columns: ["device", "_value"])')).toBe(true);
  });

  it('delta on the hourly roll-up reads the stored last values, the range widened to whole hours', () => {
    const query = totalQuery({ ...base, bucket: 'telemetry_1h', resolution: '1h' }).toString();
    expect(query.match(/r\.agg == "last"/g)).toHaveLength(3);
    expect(query).toContain('range(start: time(v: "2024-01-01T00:00:00.000Z"), stop: time(v: "2024-01-01T03:00:00.000Z"))');
  });

  it('delta from the epoch has no "before"', () => {
    const query = totalQuery({ ...base, from: 0 }).toString();
    expect(query).not.toContain('before');
    expect(query).toContain('baseline = union(tables: [firsts])');
  });

  it.each(['sum', 'mean'] as const)('%s: per device per window, summed per window; raw readings even when a roll-up is offered', (agg) => {
    expect(totalQuery({ ...base, agg, resolution: '1h' }).toString()).toBe(`import "types"

${inRange}
  |> aggregateWindow(every: duration(v: "3600000ms"), fn: ${agg}, createEmpty: false, timeSrc: "_start")
  |> keep(columns: ["_time", "_value", "device"])
  |> group(columns: ["_time"])
  |> sum()
  |> group()
  |> sort(columns: ["_time"])`);
    expect(totalQuery({ ...base, agg, everyMs: null }).toString()).toBe(`import "types"

${inRange}
  |> ${agg}()
  |> keep(columns: ["device", "_value"])`);
  });

  it('escapes every device id', () => {
    const query = totalQuery({ ...base, deviceIds: ['WM-1', MALICIOUS] }).toString();
    expect(query).toContain('|> filter(fn: (r) => r.device == "WM-1" or r.device == "x\\") |> drop()")\n');
  });
});

describe('chooseResolution', () => {
  it.each([
    [60_000, true, 'raw'],
    [15 * 60_000, true, 'raw'],
    [HOUR, true, '1h'],
    [90 * 60_000, true, 'raw'], // not whole hours
    [6 * HOUR, true, '1h'],
    [DAY, true, '1d'],
    [36 * HOUR, true, '1h'], // whole hours, not whole days
    [7 * DAY, true, '1d'],
    [DAY, false, 'raw'],
  ] as const)('everyMs %i with roll-ups %s → %s', (everyMs, enabled, expected) => {
    expect(chooseResolution(everyMs, enabled)).toBe(expected);
  });

  it('names the roll-up buckets after the raw one', () => {
    expect(rollupBucket('telemetry', '1h')).toBe('telemetry_1h');
    expect(rollupBucket('telemetry', '1d')).toBe('telemetry_1d');
  });
});

describe('rollupTasks', () => {
  const [hourly, daily] = rollupTasks('telemetry', 'estate', ['volume_m3', 'energy_kwh']);

  it('lists the catalogue\'s cumulative registers', () => {
    expect(cumulativeMetrics()).toEqual(expect.arrayContaining(['volume_m3', 'energy_kwh', 'run_hours', 'trips']));
    expect(cumulativeMetrics()).not.toContain('power_kw');
  });

  it('hourly task: every hour, recomputing 48 whole hours, sum/count/min/max of gauges and last of everything', () => {
    expect(hourly!.name).toBe('estatewatch rollup telemetry_1h');
    const text = hourly!.flux;
    expect(text.startsWith('import "date"\nimport "types"\n\noption task = {name: "estatewatch rollup telemetry_1h", every: 1h, offset: 5m}\n')).toBe(true);
    expect(text).toContain('stop = date.truncate(t: now(), unit: 1h)\nstart = date.sub(d: 48h, from: stop)');
    expect(text).toContain('cumulative = ["volume_m3","energy_kwh"]');
    expect(text).toContain('from(bucket: "telemetry")');
    expect(text).toContain('|> filter(fn: (r) => r._field != "seq")');
    expect(text).toContain('gauges = readings |> filter(fn: (r) => not contains(value: r._field, set: cumulative))');
    expect(text).toContain('|> aggregateWindow(every: 1h, fn: fn, createEmpty: false, timeSrc: "_start")\n  |> toFloat()\n  |> set(key: "agg", value: agg)\n  |> to(bucket: "telemetry_1h", org: "estate")');
    for (const agg of ['sum', 'count', 'min', 'max']) expect(text).toContain(`gauges |> rollup(fn: ${agg}, agg: "${agg}")`);
    expect(text).toContain('readings |> rollup(fn: last, agg: "last")');
  });

  it('daily task: every day from the hourly bucket, counts summed', () => {
    expect(daily!.name).toBe('estatewatch rollup telemetry_1d');
    const text = daily!.flux;
    expect(text).toContain('option task = {name: "estatewatch rollup telemetry_1d", every: 1d, offset: 15m}');
    expect(text).toContain('hours = from(bucket: "telemetry_1h")');
    expect(text).toContain('|> to(bucket: "telemetry_1d", org: "estate")');
    for (const [agg, fn] of [['sum', 'sum'], ['count', 'sum'], ['min', 'min'], ['max', 'max'], ['last', 'last']]) {
      expect(text).toContain(`rollup(agg: "${agg}", fn: ${fn})`);
    }
  });

  it('escapes bucket and org names', () => {
    const [task] = rollupTasks('te"st', 'or\\g', []);
    expect(task!.flux).toContain('from(bucket: "te\\"st")');
    expect(task!.flux).toContain('to(bucket: "te\\"st_1h", org: "or\\\\g")');
  });
});

/**
 * The managers' trend queries over the whole estate's meter history, through
 * the TimeSeriesStore port on a fresh database of the stack's engine.
 *
 * History: every water and electric meter (5,625 of the estate's 5,985
 * devices; the others are not in any trend) reporting hourly (the simulators'
 * meter models, so the registers grow like real ones) for `days` days up to
 * the current hour, written through store.write() in large batches; then
 * store.refresh() rolls the closed hours up, timed on its own. The store is
 * configured as the server configures it (the catalogue's meter groups).
 *
 * Queries (energy_kwh, delta = consumption per bucket):
 * - a device's week, hourly (one electric meter; p50/p95 over many runs);
 * - a plot's month, hourly, and a plot's year, daily: the sum over the plot's
 *   electric meters, with the store's rangeTotal() (one query); a store
 *   without it is measured with one range() per meter summed here, labelled so.
 * - a device's year, daily;
 * - the plot's month as the web asks for it while meters report: up to the
 *   end of the current hour, which holds one new reading per meter, not
 *   rolled up (read raw next to the roll-ups).
 */
import { openDatabase } from '../../server/src/adapters/sql/database.ts';
import { groupsFromCatalogue } from '../../server/src/adapters/sql/rollups.ts';
import { SqlTimeSeriesStore } from '../../server/src/adapters/sql/time-series-store.ts';
import type { Site } from '../../server/src/catalogue/types.ts';
import type { Bucket, RangeQuery, Reading, TimeSeriesStore } from '../../server/src/ports/time-series.ts';
import { Simulation } from '../../simulators/src/simulation.ts';
import type { Stack } from './stack.ts';
import { percentiles, round1, type Percentiles } from './stats.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WRITE_BATCH = 20_000;
/** Per-device queries in flight at once, as a route handler with Promise.all over a pool would have. */
const QUERY_CONCURRENCY = 8;

export interface TrendOptions { days: number; deviceRuns: number; plotRuns: number }

export interface TrendResult {
  engine: string;
  days: number;
  load: { rows: number; seconds: number; writeSeconds: number; rowsPerS: number };
  /** store.refresh() after the load: every closed hour rolled up. */
  rollup: { seconds: number; rowsPerS: number };
  plot: { id: string; meters: number };
  plotMethod: string;
  deviceWeekHourly: Percentiles | null;
  deviceYearDaily: Percentiles | null;
  plotMonthHourly: Percentiles | null;
  plotYearDaily: Percentiles | null;
  /** The plot's month up to the end of the current hour, with that hour's readings not rolled up. */
  plotMonthHourlyLive: Percentiles | null;
}

export async function runTrends(stack: Stack, options: TrendOptions, log: (line: string) => void): Promise<TrendResult> {
  const location = await stack.freshDatabase();
  const database = await openDatabase(location);
  const store: TimeSeriesStore = new SqlTimeSeriesStore(database, { groups: groupsFromCatalogue(stack.site.devices) });
  try {
    const end = Math.floor(Date.now() / HOUR) * HOUR;
    const start = end - options.days * DAY;
    const load = await loadHistory(stack.site, store, start, end, log);
    const began = performance.now();
    await store.refresh?.();
    const rollupSeconds = (performance.now() - began) / 1000;
    log(`  trend roll-ups: ${round1(rollupSeconds)} s`);

    const plotId = stack.site.plots[0]!.id;
    const meters = stack.site.devices.filter((d) => d.kind === 'electric-meter' && d.plotId === plotId).map((d) => d.id);
    const pick = (n: number) => meters[(n * 7919) % meters.length]!;
    const deviceQuery = (deviceId: string, span: number, everyMs: number): RangeQuery =>
      ({ deviceId, metric: 'energy_kwh', from: end - span, to: end, everyMs, agg: 'delta' });

    const deviceWeekHourly = await timeRuns(options.deviceRuns, (n) => store.range(deviceQuery(pick(n), 7 * DAY, HOUR)));
    const deviceYearDaily = await timeRuns(Math.max(3, Math.floor(options.deviceRuns / 5)), (n) => store.range(deviceQuery(pick(n), 365 * DAY, DAY)));
    const hasTotal = typeof (store as Partial<TimeSeriesStore>).rangeTotal === 'function';
    const plotTotal = (span: number, everyMs: number) => hasTotal
      ? store.rangeTotal({ deviceIds: meters, metric: 'energy_kwh', from: end - span, to: end, everyMs, agg: 'delta' })
      : sumOverDevices(store, meters.map((id) => deviceQuery(id, span, everyMs)));
    const plotMonthHourly = await timeRuns(options.plotRuns, () => plotTotal(30 * DAY, HOUR));
    const plotYearDaily = await timeRuns(options.plotRuns, () => plotTotal(365 * DAY, DAY));

    // The current hour: one more reading per meter of the plot, then the month the web shows.
    const latest = await store.latest(meters);
    await store.write(latest.map((r) => ({ ...r, ts: end + 60_000, seq: r.seq + 1, values: { ...r.values, energy_kwh: Number(r.values.energy_kwh) + 0.5 } })));
    const plotMonthHourlyLive = await timeRuns(options.plotRuns, () =>
      store.rangeTotal({ deviceIds: meters, metric: 'energy_kwh', from: end + HOUR - 30 * DAY, to: end + HOUR, everyMs: HOUR, agg: 'delta' }));
    return {
      engine: database.engine,
      days: options.days,
      load,
      rollup: { seconds: round1(rollupSeconds), rowsPerS: Math.round(load.rows / rollupSeconds) },
      plot: { id: plotId, meters: meters.length },
      plotMethod: hasTotal
        ? `store.rangeTotal() over the plot's ${meters.length} electric meters (one query)`
        : `one store.range() per meter (${meters.length}), ${QUERY_CONCURRENCY} in flight, summed in the bench: this store has no rangeTotal()`,
      deviceWeekHourly,
      deviceYearDaily,
      plotMonthHourly,
      plotYearDaily,
      plotMonthHourlyLive,
    };
  } finally {
    await database.close();
  }
}

async function loadHistory(site: Site, store: TimeSeriesStore, start: number, end: number, log: (line: string) => void) {
  const hourly = { 'water-meter': 3600, 'electric-meter': 3600 } as const;
  const sims = [
    new Simulation({ site, seed: 1, startMs: start, filter: { kind: 'electric-meter' }, intervalsS: hourly }),
    new Simulation({ site, seed: 1, startMs: start, filter: { kind: 'water-meter' }, intervalsS: hourly }),
  ];
  const began = performance.now();
  let writeMs = 0;
  let rows = 0;
  let batch: Reading[] = [];
  const flush = async () => {
    const t0 = performance.now();
    await store.write(batch);
    writeMs += performance.now() - t0;
    rows += batch.length;
    batch = [];
  };
  let lastLog = began;
  for (let t = start + HOUR; t <= end; t += HOUR) {
    for (const sim of sims) {
      sim.advanceTo(t - 1, (m) => {
        if (m.channel === 'telemetry') batch.push({ deviceId: m.device.id, ts: m.payload.ts as number, seq: m.payload.seq, values: m.payload.m });
      });
    }
    if (batch.length >= WRITE_BATCH) await flush();
    if (performance.now() - lastLog > 30_000) {
      lastLog = performance.now();
      log(`  trend history: ${rows} rows, ${Math.round(((t - start) / (end - start)) * 100)}%`);
    }
  }
  if (batch.length > 0) await flush();
  const seconds = (performance.now() - began) / 1000;
  return { rows, seconds: round1(seconds), writeSeconds: round1(writeMs / 1000), rowsPerS: Math.round(rows / (writeMs / 1000)) };
}

async function sumOverDevices(store: TimeSeriesStore, queries: readonly RangeQuery[]): Promise<Bucket[]> {
  const totals = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < queries.length) {
      const buckets = await store.range(queries[next++]!);
      for (const b of buckets) if (b.value !== null) totals.set(b.ts, (totals.get(b.ts) ?? 0) + b.value);
    }
  };
  await Promise.all(Array.from({ length: QUERY_CONCURRENCY }, worker));
  return [...totals].map(([ts, value]) => ({ ts, value }));
}

async function timeRuns(runs: number, query: (n: number) => Promise<unknown>): Promise<Percentiles | null> {
  const times: number[] = [];
  for (let n = 0; n < runs; n++) {
    const t0 = performance.now();
    await query(n);
    times.push(performance.now() - t0);
  }
  return percentiles(times);
}

/**
 * History: the simulated estate's past, written straight into a
 * TimeSeriesStore in large batches, so that trends are not empty on a first
 * start. Meters report hourly (what a real AMI head-end keeps); every other
 * device every 15 minutes, which is what a two-week trend can show anyway.
 */
import { setImmediate } from 'node:timers/promises';
import type { DeviceKind } from '../../server/src/catalogue/kinds.ts';
import type { Site } from '../../server/src/catalogue/types.ts';
import type { Reading, TimeSeriesStore } from '../../server/src/ports/time-series.ts';
import { Simulation, type SimMessage } from './simulation.ts';

export const HISTORY_INTERVALS_S: Readonly<Record<DeviceKind, number>> = {
  'water-meter': 3600, 'electric-meter': 3600,
  'booster-pump': 900, 'fire-pump': 900, elevator: 900, generator: 900, substation: 900,
  hydrant: 900, 'street-light': 900, 'stair-light': 900,
};

export interface HistoryProgress { readonly rows: number; readonly totalRows: number; readonly simTime: number }

export interface HistoryOptions {
  readonly site: Site;
  readonly seed: number;
  readonly store: Pick<TimeSeriesStore, 'write'>;
  readonly fromMs: number;
  readonly toMs: number;
  readonly batchSize?: number;
  readonly onProgress?: (progress: HistoryProgress) => void;
  /**
   * Batches being written at once (default 2): while the database stores one, the next one's
   * statements are being prepared, so the database never waits for this process.
   */
  readonly writesInFlight?: number;
  /** Checked between batches: true stops the fill early (server shutting down). */
  readonly cancelled?: () => boolean;
}

/** Readings the fill will write: one per device per interval. */
export function historyRows(site: Site, fromMs: number, toMs: number): number {
  return site.devices.reduce((sum, d) => sum + Math.floor((toMs - fromMs) / (HISTORY_INTERVALS_S[d.kind] * 1000)), 0);
}

/** Reports simulated between two yields: a few milliseconds of work. */
const SLICE_REPORTS = 1_000;

/**
 * Writes the readings of [fromMs, toMs) and returns how many. One batch is
 * generated while the one before is written: generation runs in slices that
 * yield to the event loop, so it goes on while the store waits for its
 * database (PGlite on its worker thread, PostgreSQL over its socket).
 */
export async function fillHistory(options: HistoryOptions): Promise<number> {
  const { site, store, fromMs, toMs } = options;
  const batchSize = options.batchSize ?? 20_000;
  const sim = new Simulation({ site, seed: options.seed, startMs: fromMs, intervalsS: HISTORY_INTERVALS_S });
  const totalRows = historyRows(site, fromMs, toMs);
  const end = toMs - 1;
  const inFlight = options.writesInFlight ?? 2;
  let rows = 0;
  const writing: Promise<void>[] = [];
  let batch: Reading[] = [];
  const collect = (m: SimMessage) => {
    if (m.channel === 'telemetry') batch.push({ deviceId: m.device.id, ts: m.payload.ts as number, seq: m.payload.seq, values: m.payload.m });
  };
  while (sim.time < end && !(options.cancelled?.() ?? false)) {
    while (batch.length < batchSize && sim.time < end) {
      sim.advanceTo(end, collect, Math.min(SLICE_REPORTS, batchSize));
      await setImmediate();
    }
    const full = batch;
    batch = [];
    if (writing.length >= inFlight) await writing.shift();
    rows += full.length;
    writing.push(store.write(full));
    options.onProgress?.({ rows, totalRows, simTime: sim.time });
  }
  await Promise.all(writing);
  return rows;
}

/** A one-line text progress bar with rows/s and ETA, redrawn in place on a terminal, every 10 % otherwise. */
export function progressBar(write: (text: string) => void, isTty: boolean, startedAt = Date.now()): (p: HistoryProgress) => void {
  let lastDecile = -1;
  return ({ rows, totalRows }) => {
    const share = totalRows === 0 ? 1 : Math.min(1, rows / totalRows);
    const seconds = Math.max(0.001, (Date.now() - startedAt) / 1000);
    const perSecond = rows / seconds;
    const eta = perSecond > 0 ? (totalRows - rows) / perSecond : 0;
    const width = 30;
    const bar = '#'.repeat(Math.round(share * width)).padEnd(width, '.');
    const line = `history [${bar}] ${Math.floor(share * 100)}% ${rows.toLocaleString('en')} rows, ${Math.round(perSecond).toLocaleString('en')} rows/s, ETA ${Math.ceil(eta)} s`;
    if (isTty) write(`\r${line}${share >= 1 ? '\n' : ''}`);
    else if (Math.floor(share * 10) > lastDecile) {
      lastDecile = Math.floor(share * 10);
      write(`${line}\n`);
    }
  };
}

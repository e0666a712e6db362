import { describe, expect, it } from 'vitest';
import type { Reading } from '../../server/src/ports/time-series.ts';
import { HISTORY_INTERVALS_S, fillHistory, historyRows, progressBar } from '../../simulators/src/history.ts';
import { at, simSite } from '../support/sim-site.ts';

const DAY = 86_400_000;
const site = simSite();
const fromMs = at(2025, 3, 3);
const toMs = fromMs + 2 * DAY;

describe('fillHistory', () => {
  it('writes every device at its history interval, in batches, with registers that never fall', async () => {
    const batches: Reading[][] = [];
    const progress: number[] = [];
    const rows = await fillHistory({ site, seed: 3, store: { write: async (b) => void batches.push([...b]) }, fromMs, toMs, batchSize: 500, onProgress: (p) => progress.push(p.rows) });
    const all = batches.flat();
    expect(rows).toBe(all.length);
    expect(rows).toBe(historyRows(site, fromMs, toMs));
    expect(batches.length).toBeGreaterThan(2);
    expect(progress.at(-1)).toBe(rows);
    for (const device of site.devices) {
      const mine = all.filter((r) => r.deviceId === device.id);
      expect(mine.length, device.id).toBe(Math.floor((toMs - fromMs) / (HISTORY_INTERVALS_S[device.kind] * 1000)));
      expect(mine.every((r) => r.ts >= fromMs && r.ts < toMs)).toBe(true);
      const volumes = mine.map((r) => r.values.volume_m3).filter((v): v is number => typeof v === 'number');
      expect(volumes.every((v, i) => i === 0 || v >= volumes[i - 1]!), device.id).toBe(true);
    }
  });

  it('stops between batches when cancelled', async () => {
    let batches = 0;
    const rows = await fillHistory({ site, seed: 3, store: { write: async () => void batches++ }, fromMs, toMs, batchSize: 100, cancelled: () => batches >= 2 });
    expect(batches).toBe(2);
    expect(rows).toBe(200);
  });
});

describe('progressBar', () => {
  it('redraws one line on a terminal and prints every tenth otherwise', () => {
    const tty: string[] = [];
    const log: string[] = [];
    const onTty = progressBar((t) => tty.push(t), true, Date.now() - 1000);
    const onLog = progressBar((t) => log.push(t), false, Date.now() - 1000);
    for (const rows of [0, 10, 50, 55, 100]) {
      onTty({ rows, totalRows: 100, simTime: 0 });
      onLog({ rows, totalRows: 100, simTime: 0 });
    }
    expect(tty.every((t) => t.startsWith('\r'))).toBe(true);
    expect(tty.at(-1)).toMatch(/100% 100 rows, .* rows\/s, ETA 0 s\n$/);
    expect(log.map((l) => l.match(/(\d+)%/)![1])).toEqual(['0', '10', '50', '100']);
  });
});

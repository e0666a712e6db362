import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KINDS } from '../../server/src/catalogue/kinds.ts';
import type { Reading } from '../../server/src/ports/time-series.ts';
import { HISTORY_INTERVALS_S, fillHistory, historyRows, progressBar } from '../../simulators/src/history.ts';
import { RESUME_GAP_MS, Simulation, type SimMessage } from '../../simulators/src/simulation.ts';
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

describe('live after history', () => {
  const HOUR = 3_600_000;
  /** The history of [fromMs, toMs), and the live run that starts `gapMs` after it (the fill's own duration, say) for two hours. */
  async function historyThenLive(resume: boolean, gapMs = 90_000) {
    const history: Reading[] = [];
    await fillHistory({ site, seed: 3, store: { write: async (b) => void history.push(...b) }, fromMs, toMs });
    const latest = new Map<string, Reading>();
    for (const r of history) if ((latest.get(r.deviceId)?.ts ?? -Infinity) < r.ts) latest.set(r.deviceId, r);
    const live: SimMessage[] = [];
    const sim = new Simulation({ site, seed: 3, startMs: toMs + gapMs, ...(resume ? { resumeFrom: latest } : {}) });
    sim.advanceTo(toMs + gapMs + 2 * HOUR, (m) => live.push(m));
    const liveReadings = live.flatMap((m) => (m.channel === 'telemetry' ? [{ deviceId: m.device.id, ts: m.payload.ts as number, values: m.payload.m }] : []));
    return { history, latest, live: liveReadings };
  }

  /** Every cumulative register that is lower in a device's first live report than in its last history reading. */
  function steppedBack(latest: Map<string, Reading>, live: readonly { deviceId: string; values: Reading['values'] }[]): string[] {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const r of live) {
      if (seen.has(r.deviceId)) continue;
      seen.add(r.deviceId);
      const device = site.devices.find((d) => d.id === r.deviceId)!;
      const before = latest.get(r.deviceId)!;
      for (const [metric, def] of Object.entries(KINDS[device.kind].metrics)) {
        if (def.cumulative && (r.values[metric] as number) < (before.values[metric] as number)) problems.push(`${r.deviceId} ${metric}: ${before.values[metric]} → ${r.values[metric]}`);
      }
    }
    return problems;
  }

  it('continues every register from where the history ends: none steps back', async () => {
    const { latest, live } = await historyThenLive(true);
    expect(new Set(live.map((r) => r.deviceId)).size).toBe(site.devices.length);
    expect(steppedBack(latest, live)).toEqual([]);
    // Without resuming, the registers would start over from the seed's values: the test can tell.
    const fresh = await historyThenLive(false);
    expect(steppedBack(fresh.latest, fresh.live).length).toBeGreaterThan(10);
  });

  it('counts what the meters measured between the last history reading and the first live one', async () => {
    const { latest, live } = await historyThenLive(true);
    const sim = new Simulation({ site, seed: 3, startMs: toMs });
    for (const id of ['WM-A-INLET', 'WM-A-01-0101', 'EM-A-MAIN']) {
      const last = latest.get(id)!;
      const first = live.find((r) => r.deviceId === id)!;
      const metric = id.startsWith('WM') ? 'volume_m3' : 'energy_kwh';
      const demand = sim.env.demand;
      const used = id === 'WM-A-INLET' ? demand.plotInletVolume('A', last.ts, first.ts)
        : id === 'EM-A-MAIN' ? demand.plotElectricKwh('A', last.ts, first.ts)
        : demand.unitWaterVolume('A-01-0101', last.ts, first.ts);
      expect(first.ts - last.ts, id).toBeGreaterThan(90_000);
      if (id !== 'WM-A-01-0101') expect(used, id).toBeGreaterThan(0.01);
      // Equal but for the rounding of the two reports (litres, hundredths of a kWh).
      expect(Math.abs((first.values[metric] as number) - (last.values[metric] as number) - used), id).toBeLessThanOrEqual(metric === 'volume_m3' ? 0.0011 : 0.011);
    }
  });

  it('does not replay an outage longer than RESUME_GAP_MS, and still never steps back', async () => {
    const { latest, live } = await historyThenLive(true, 3 * 24 * HOUR);
    expect(steppedBack(latest, live)).toEqual([]);
    const inlet = live.find((r) => r.deviceId === 'WM-A-INLET')!;
    const sim = new Simulation({ site, seed: 3, startMs: toMs });
    const atMost = sim.env.demand.plotInletVolume('A', toMs + 3 * 24 * HOUR - RESUME_GAP_MS, inlet.ts);
    expect((inlet.values.volume_m3 as number) - (latest.get('WM-A-INLET')!.values.volume_m3 as number)).toBeLessThanOrEqual(atMost + 0.001);
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

describe('npm run sim:history', () => {
  const CLI = fileURLToPath(new URL('../../simulators/src/history-cli.ts', import.meta.url));
  const run = (args: string[], env: Record<string, string>) => new Promise<{ code: number | null; stderr: string }>((resolve) => {
    // Only what the command needs: no DATABASE_URL or INFLUX_URL of the caller's.
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', ...env } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stderr }));
  });

  it('fills --days into an empty store, then refuses a second history that would contradict it', { timeout: 120_000 }, async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ew-sim-history-'));
    const env = { DATA_DIR: dataDir, SITE_FILE: fileURLToPath(new URL('../fixtures/tiny-site.json', import.meta.url)) };
    try {
      const first = await run(['--days', '2', '--seed', '4'], env);
      expect(first.stderr).toMatch(/history: 2 days of tiny-court, [\d,]+ readings into pglite/);
      expect(first.stderr).toMatch(/history: [\d,]+ readings in [\d.]+ s \([\d,]+ rows\/s\)/);
      expect(first.code).toBe(0);
      const second = await run(['--days', '30'], env);
      expect(second.code).toBe(2);
      expect(second.stderr).toContain('the store already holds readings');
      expect((await run(['--days', 'many'], env)).code).toBe(2);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

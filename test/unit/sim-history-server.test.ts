/**
 * The server's history fill and live simulators together (SIMULATE on, an empty store): the
 * live devices start once the history is written, from its last readings, so no cumulative
 * register is lower after the boundary than before it.
 */
import { describe, expect, it } from 'vitest';
import { KINDS } from '../../server/src/catalogue/kinds.ts';
import { startTestServer } from '../support/app.ts';

const TINY_SITE = new URL('../fixtures/tiny-site.json', import.meta.url).pathname;
/** One bucket that holds every reading: buckets are aligned to multiples of everyMs since 1970. */
const ALL = 2 ** 41;

describe('history, then the live simulators, in the server', () => {
  it('starts the live devices where the history ends: no register steps back', { timeout: 120_000 }, async () => {
    // 10×: the history ends 9 h back, where the live devices take over and catch up with the present; meters (15 min) report every 90 s.
    const server = await startTestServer({ SITE_FILE: TINY_SITE, SIMULATE: 'true', SIM_HISTORY_DAYS: '1', SIM_SPEED: '10' });
    try {
      const { app } = server;
      expect(app.simHistory.filling).toBe(true);
      await app.simHistory.written;
      const store = app.telemetry.store;
      const devices = app.site.site.devices;
      const ids = devices.map((d) => d.id);
      // Where the history ends, device by device (the live devices have not reported yet: they connect first).
      const historyEnd = new Map((await store.latest(ids)).map((r) => [r.deviceId, r]));
      expect(historyEnd.size).toBe(devices.length);
      const reportedLive = async () => (await store.latest(ids)).filter((r) => r.ts > historyEnd.get(r.deviceId)!.ts);
      const liveMeters = async () => (await reportedLive()).filter((r) => r.deviceId.startsWith('WM-')).length;
      for (const deadline = Date.now() + 40_000; (await liveMeters()) < 5 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 500));

      const checked: string[] = [];
      const problems: string[] = [];
      for (const reading of await reportedLive()) {
        const device = devices.find((d) => d.id === reading.deviceId)!;
        const last = historyEnd.get(device.id)!;
        for (const [metric, def] of Object.entries(KINDS[device.kind].metrics)) {
          if (!def.cumulative || typeof last.values[metric] !== 'number') continue;
          const [after] = await store.range({ deviceId: device.id, metric, from: last.ts + 1, to: Date.now() + 10 * 60_000, everyMs: ALL, agg: 'min' });
          if (after?.value == null) continue;
          checked.push(`${device.kind} ${metric}`);
          if (after.value < (last.values[metric] as number)) problems.push(`${device.id} ${metric}: history ends at ${last.values[metric]}, live starts at ${after.value}`);
        }
      }
      expect(problems).toEqual([]);
      // Registers of every sort were compared, meters included.
      for (const kind of ['water-meter volume_m3', 'elevator trips', 'booster-pump run_hours', 'fire-pump starts', 'generator run_hours']) expect(checked, kind).toContain(kind);
    } finally {
      await server.close();
    }
  });
});

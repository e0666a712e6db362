/**
 * An accelerated simulation fed to a live server (the embedded demo, SIM_SPEED > 1) starts in
 * the recent past and never runs ahead of the wall clock: ingest rightly refuses readings from
 * the future, and a simulated clock started at "now" overtook the wall clock within seconds.
 */
import { describe, expect, it } from 'vitest';
import { LIVE_CATCH_UP_WALL_MS, SimClock, liveStartMs } from '../../simulators/src/sim-clock.ts';
import type { HealthView } from '../../server/src/routes/api-types.ts';
import { eventually, startTestServer } from '../support/app.ts';

const TINY_SITE = new URL('../fixtures/tiny-site.json', import.meta.url).pathname;
const MIN = 60_000;
const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-26T08:00:00Z');

describe('a live SimClock', () => {
  it('catches up with the wall clock at its speed, then keeps real time, never ahead', () => {
    let wall = NOW;
    const clock = new SimClock(NOW - 59 * HOUR, 60, { now: () => wall }, true);
    wall += 30 * MIN;
    expect(clock.now()).toBe(NOW - 29 * HOUR); // 30 min at 60×: 30 h of the 59 caught up
    wall = NOW + HOUR;
    expect(clock.now()).toBe(wall); // caught up after an hour
    for (const later of [HOUR + 1, 2 * HOUR, 24 * HOUR]) {
      wall = NOW + later;
      expect(clock.now()).toBe(wall);
    }
  });

  it('differs from a plain SimClock, which runs ahead of the wall clock at its speed', () => {
    let wall = NOW;
    const plain = new SimClock(NOW, 60, { now: () => wall });
    const live = new SimClock(NOW, 60, { now: () => wall }, true);
    wall += 10_000;
    expect(plain.now()).toBe(NOW + 10 * MIN);
    expect(live.now()).toBe(wall);
  });
});

describe('liveStartMs', () => {
  it('starts a real-time run (or a slower one) now', () => {
    expect(liveStartMs(NOW, 1)).toBe(NOW);
    expect(liveStartMs(NOW, 0.5, NOW - HOUR)).toBe(NOW);
  });

  it('starts a faster run an hour of catching up back, but not before the newest stored reading, nor after now', () => {
    expect(LIVE_CATCH_UP_WALL_MS).toBe(HOUR);
    expect(liveStartMs(NOW, 60)).toBe(NOW - 59 * HOUR);
    expect(liveStartMs(NOW, 60, NOW - 3 * HOUR)).toBe(NOW - 3 * HOUR);
    expect(liveStartMs(NOW, 60, NOW - 100 * HOUR)).toBe(NOW - 59 * HOUR);
    expect(liveStartMs(NOW, 60, NOW + 2 * MIN)).toBe(NOW);
  });

  it('refuses a speed that is not positive', () => {
    expect(() => liveStartMs(NOW, 0)).toThrow(expect.objectContaining({ code: 'SIM_BAD_OPTION' }));
  });
});

describe('the embedded simulators at 600×', () => {
  it('publish no reading from the future: they replay the recent past and ingest refuses nothing', { timeout: 90_000 }, async () => {
    const server = await startTestServer({ SITE_FILE: TINY_SITE, SIMULATE: 'true', SIM_SPEED: '600' });
    try {
      const { app } = server;
      const ids = app.site.site.devices.map((d) => d.id);
      const newest = async () => Math.max(...(await app.telemetry.store.latest(ids)).map((r) => r.ts));
      const first = await eventually(async () => {
        const ts = await newest();
        return Number.isFinite(ts) ? ts : undefined;
      }, 30_000, 'the first simulated readings');
      // Started in the past: 599 h back (an hour of catching up at 600×).
      expect(first).toBeLessThan(Date.now() - 500 * HOUR);
      // 15 simulated minutes on: a clock started at now would have been 10 min past ingest's 5-minute limit.
      await eventually(async () => ((await newest()) >= first + 15 * MIN ? true : undefined), 30_000, '15 simulated minutes');
      expect(await newest()).toBeLessThanOrEqual(Date.now());
      const health = (await server.request({ url: '/api/health', as: null })).json() as HealthView;
      expect(health.ingest.accepted).toBeGreaterThan(0);
      expect(health.ingest.byReason).toEqual({});
    } finally {
      await server.close();
    }
  });
});

/** `--rate`: the speed that gives a target message rate, checked by counting over a simulated span (no wall clock). */
import { describe, expect, it } from 'vitest';
import { loadSite } from '../../server/src/catalogue/load.ts';
import { RateMeter, messagesPerSimSecond, speedForRate } from '../../simulators/src/rate.ts';
import { Simulation, selectDevices } from '../../simulators/src/simulation.ts';
import { at } from '../support/sim-site.ts';

const site = loadSite(null);
/** Every report interval of the catalogue (5 s … 900 s) divides it: each device reports a whole number of times. */
const SPAN_MS = 30 * 60_000;

/** Telemetry messages the simulation makes over [from, from + SPAN_MS). */
function countOverSpan(filter: Parameters<typeof selectDevices>[1], intervalsS = {}): number {
  const from = at(2025, 7, 15, 9);
  const sim = new Simulation({ site, seed: 4, startMs: from - 60_000, filter, intervalsS });
  let count = 0;
  sim.advanceTo(from + SPAN_MS - 1, (m) => {
    if (m.channel === 'telemetry' && (m.payload.ts as number) >= from) count++;
  });
  return count;
}

describe('--rate', () => {
  it('gives Blue Valley the speed at which it sends the target rate', () => {
    const perSimSecond = messagesPerSimSecond(site.devices);
    expect(perSimSecond).toBeGreaterThan(20); // ≈ 23 messages/s at 1×, as the README says
    expect(perSimSecond).toBeLessThan(26);
    const rate = 5_000;
    const speed = speedForRate(rate, site.devices);
    // The simulated half hour takes SPAN_MS / speed of wall-clock time at that speed: its messages over that time are the rate.
    const wallSeconds = SPAN_MS / speed / 1000;
    expect(countOverSpan({}) / wallSeconds).toBeCloseTo(rate, 6);
  });

  it('divides the speed among --sites copies and follows filters and intervals', () => {
    const all = speedForRate(3_000, site.devices);
    expect(speedForRate(3_000, site.devices, {}, 3)).toBeCloseTo(all / 3, 9);
    const lifts = selectDevices(site, { kind: 'elevator' });
    const intervals = { elevator: 2 };
    const speed = speedForRate(1_000, lifts, intervals);
    expect(speed).toBeCloseTo(1_000 / (lifts.length / 2), 9);
    expect(countOverSpan({ kind: 'elevator' }, intervals) / (SPAN_MS / speed / 1000)).toBeCloseTo(1_000, 6);
  });
});

describe('RateMeter', () => {
  it('reports the rate since the last sample and since the start', () => {
    const meter = new RateMeter(100, 0); // the online burst before the start is left out
    expect(meter.sample(1_100, 10_000)).toEqual({ recent: 100, overall: 100 });
    expect(meter.sample(4_100, 20_000)).toEqual({ recent: 300, overall: 200 });
    expect(meter.sample(4_100, 20_000)).toEqual({ recent: 0, overall: 200 });
  });
});

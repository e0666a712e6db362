import { describe, expect, it } from 'vitest';
import { SimClock, localTime, utcOffsetMinutes } from '../../simulators/src/sim-clock.ts';
import { sunTimes } from '../../server/src/domain/sun.ts';
import { Rng, deviceRng, noiseAt } from '../../simulators/src/random.ts';
import { at } from '../support/sim-site.ts';

const hhmm = (epochMs: number) => {
  const lt = localTime(epochMs, 480);
  return Math.floor(lt.hour) * 60 + Math.round((lt.hour % 1) * 60);
};

describe('SimClock', () => {
  it('advances speed times as fast as the wall clock from its start', () => {
    let wall = 1_000;
    const clock = new SimClock(at(2025, 6, 21), 60, { now: () => wall });
    expect(clock.now()).toBe(at(2025, 6, 21));
    wall += 15_000;
    expect(clock.now()).toBe(at(2025, 6, 21) + 15 * 60_000); // 900 s interval = 15 s of wall time at 60x
  });

  it('rejects a speed that is not positive', () => {
    expect(() => new SimClock(0, 0)).toThrow(expect.objectContaining({ code: 'SIM_BAD_OPTION' }));
    expect(() => new SimClock(0, Number.NaN)).toThrow(expect.objectContaining({ code: 'SIM_BAD_OPTION' }));
  });
});

describe('localTime at +08:00', () => {
  it('gives the local hour, weekday and day of year', () => {
    const lt = localTime(Date.parse('2025-06-21T09:30:00+08:00'), 480);
    expect(lt.hour).toBe(9.5);
    expect(lt.weekday).toBe(6); // a Saturday
    expect(lt.weekend).toBe(true);
    expect(lt.dayOfYear).toBe(172);
    expect([lt.month, lt.dayOfMonth]).toEqual([6, 21]);
    expect(lt.midnightMs).toBe(Date.parse('2025-06-21T00:00:00+08:00'));
  });

  it('starts the local day at local midnight, not UTC midnight', () => {
    const justAfter = localTime(Date.parse('2025-01-01T00:10:00+08:00'), 480);
    expect([justAfter.dayOfYear, justAfter.month, justAfter.weekday]).toEqual([1, 1, 3]);
  });

  it('knows Asia/Shanghai and refuses zones it cannot model', () => {
    expect(utcOffsetMinutes('Asia/Shanghai')).toBe(480);
    expect(() => utcOffsetMinutes('Europe/Paris')).toThrow(expect.objectContaining({ code: 'SIM_UNKNOWN_TIMEZONE' }));
  });
});

describe('sunTimes', () => {
  // Published times for Shanghai (31.23 N, 121.47 E), China Standard Time.
  it.each([
    ['summer solstice', at(2025, 6, 21, 12), 4 * 60 + 50, 19 * 60 + 1],
    ['winter solstice', at(2025, 12, 21, 12), 6 * 60 + 51, 16 * 60 + 54],
  ])('matches the almanac within 3 minutes on the %s', (_name, noon, sunrise, sunset) => {
    const sun = sunTimes(noon, 31.23, 121.47);
    if (sun.kind !== 'normal') throw new Error('expected a normal day');
    expect(Math.abs(hhmm(sun.sunriseMs) - sunrise)).toBeLessThanOrEqual(3);
    expect(Math.abs(hhmm(sun.sunsetMs) - sunset)).toBeLessThanOrEqual(3);
  });

  it('has midnight sun and polar night in the Arctic', () => {
    expect(sunTimes(at(2025, 6, 21, 12), 80, 15).kind).toBe('polar-day');
    expect(sunTimes(at(2025, 12, 21, 12), 80, 15).kind).toBe('polar-night');
  });
});

describe('random streams', () => {
  it('repeat for one seed and differ between seeds and devices', () => {
    const draw = (rng: Rng) => Array.from({ length: 5 }, () => rng.next());
    expect(draw(deviceRng(7, 'EL-A-01-1'))).toEqual(draw(deviceRng(7, 'EL-A-01-1')));
    expect(draw(deviceRng(7, 'EL-A-01-1'))).not.toEqual(draw(deviceRng(8, 'EL-A-01-1')));
    expect(draw(deviceRng(7, 'EL-A-01-1'))).not.toEqual(draw(deviceRng(7, 'EL-A-01-2')));
  });

  it('draw uniform numbers in [0, 1) with the right mean', () => {
    const rng = new Rng(42);
    const xs = Array.from({ length: 20_000 }, () => rng.next());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((a, b) => a + b, 0) / xs.length).toBeCloseTo(0.5, 1);
  });

  it('give Poisson counts with the requested mean', () => {
    const rng = new Rng(3);
    for (const mean of [0.5, 4, 50]) {
      const n = 5_000;
      let sum = 0;
      for (let i = 0; i < n; i++) sum += rng.poisson(mean);
      expect(sum / n).toBeGreaterThan(mean * 0.93);
      expect(sum / n).toBeLessThan(mean * 1.07);
    }
  });

  it('noiseAt depends only on its arguments', () => {
    expect(noiseAt(5, 1234, 2)).toBe(noiseAt(5, 1234, 2));
    expect(noiseAt(5, 1234, 2)).not.toBe(noiseAt(5, 1235, 2));
  });
});

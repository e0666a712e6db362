import { describe, expect, it } from 'vitest';
import { DAY, HOUR, MINUTE, SECOND, ctx, expected, run, type Step } from '../support/alarm-site.ts';

const vol = (volume_m3: number) => ({ volume_m3 });
/** Hourly readings from `fromHour` to `toHour` inclusive, the register growing by `perHour` each hour. */
const hourly = (fromHour: number, toHour: number, start: number, perHour: number): Step[] =>
  Array.from({ length: toHour - fromHour + 1 }, (_, i) => [(fromHour + i) * HOUR, vol(start + i * perHour)] as const);
const QUARTER = 15 * MINUTE;
/** Readings every quarter-hour from quarter `from` to quarter `to`, each `per` m³ above the one before. */
const quarterly = (from: number, to: number, start: number, per: number): Step[] =>
  Array.from({ length: to - from + 1 }, (_, i) => [(from + i) * QUARTER, vol(Math.round((start + i * per) * 1000) / 1000)] as const);

describe('register detectors', () => {
  it.each<[string, string, Step[], string]>([
    ['water-meter.reverse', 'a register going back is tamper; the lower value is the new baseline', [[0, vol(100)], [15 * MINUTE, vol(99.5)], [30 * MINUTE, vol(99.6)]], 'uac'],
    ['water-meter.reverse', 'a register standing still is fine', [[0, vol(100)], [15 * MINUTE, vol(100)]], 'uc'],
    ['electric-meter.reverse', 'electric meters too', [[0, { energy_kwh: 5000 }], [15 * MINUTE, { energy_kwh: 4000 }]], 'ua'],
    // 6 m³/h, judged over at least 15 min: 1.5 m³ in 15 min is the most that is plausible.
    ['water-meter.jump', 'exactly the plausible maximum is fine, just above is a jump', [[0, vol(100)], [15 * MINUTE, vol(101.5)], [30 * MINUTE, vol(103.01)]], 'uca'],
    ['water-meter.jump', 'two readings a second apart are judged over 15 min', [[0, vol(100)], [SECOND, vol(101.4)]], 'uc'],
    ['water-meter.jump', 'over a long gap the same rise is plausible', [[0, vol(100)], [2 * HOUR, vol(110)]], 'uc'],
    // More than 12 starts in the trailing hour.
    ['booster-pump.starts-per-hour', '12 starts in an hour is the limit, 13 is too many', [[0, { starts: 100 }], [30 * MINUTE, { starts: 110 }], [60 * MINUTE, { starts: 112 }], [61 * MINUTE, { starts: 113 }], [95 * MINUTE, { starts: 113 }]], 'cccac'],
    ['fire-pump.jockey-short-cycling', 'more than 6 jockey starts in an hour', [[0, { starts: 10 }], [20 * MINUTE, { starts: 14 }], [40 * MINUTE, { starts: 17 }]], 'cca'],
    ['fire-pump.jockey-short-cycling', 'a controller reset (register back to 0) starts a new count', [[0, { starts: 500 }], [10 * MINUTE, { starts: 0 }], [20 * MINUTE, { starts: 3 }]], 'ccc'],
    // Door cycles per trip above 3, once there were at least 5 trips in the hour.
    ['elevator.door-cycles', 'judged only after 5 trips; 4 per trip is too many, 2.1 is fine', [
      [0, { door_cycles: 1000, trips: 500 }], [30 * MINUTE, { door_cycles: 1012, trips: 504 }],
      [40 * MINUTE, { door_cycles: 1020, trips: 505 }], [50 * MINUTE, { door_cycles: 1021, trips: 510 }],
    ], 'ccac'],
    ['elevator.door-cycles', 'a reading without trips cannot be judged', [[0, { door_cycles: 1000, trips: 500 }], [MINUTE, { door_cycles: 1100 }]], 'cu'],
    // Use in each of 96 quarter-hour buckets, by event time.
    ['water-meter.continuous-flow', 'use in every quarter-hour: active once 24 hours are complete', quarterly(0, 96, 10, 0.002), `u${'c'.repeat(95)}a`],
    ['water-meter.continuous-flow', 'a quarter-hour without use closes the run (known only when it has ended)', [...quarterly(0, 96, 10, 0.002), [97 * QUARTER, vol(10.192)], [98 * QUARTER, vol(10.194)]], `u${'c'.repeat(95)}a ac`],
    ['water-meter.continuous-flow', 'one idle quarter-hour in the middle: no alarm', [...quarterly(0, 48, 10, 0.002), [49 * QUARTER, vol(10.096)], ...quarterly(50, 100, 10.098, 0.002)], 'u'.concat('c'.repeat(100))],
    // Without the gap the run would be complete at quarter 96; after it a new run starts with the quarter before 48.
    ['water-meter.continuous-flow', 'a gap without readings breaks the run', [...quarterly(0, 40, 10, 0.002), ...quarterly(48, 130, 10.1, 0.002)], 'u'.concat('c'.repeat(123))],
    // Hourly readings leave three quarters of every hour without evidence: they can never show a whole day of use.
    ['water-meter.continuous-flow', 'hourly readings cannot prove continuous use', hourly(0, 30, 10, 0.01), 'u'.concat('c'.repeat(30))],
    // Zero use for 3 days in an occupied unit.
    ['water-meter.no-use', 'three days without use', [[0, vol(50)], [DAY, vol(50)], [3 * DAY - 1, vol(50)], [3 * DAY, vol(50)], [3 * DAY + 15 * MINUTE, vol(50.01)]], 'ucca c'],
  ])('%s: %s', (ruleId, _name, steps, codes) => {
    expect(run(ruleId, steps)).toEqual(expected(codes));
  });

  it('continuous flow: a shop with continuous use is exempt', () => {
    expect(run('water-meter.continuous-flow', hourly(0, 30, 10, 0.5), ctx('WM-A-S01', { exempt: true }))).toEqual(expected('c'.repeat(31)));
  });

  it('continuous flow: a day of hourly readings uploaded late and in one batch is judged by event time', () => {
    // The batch arrives after newer readings of another day; readings older than the newest are ignored, not alarmed on.
    const batch = hourly(0, 24, 10, 0.01);
    expect(run('water-meter.continuous-flow', [[48 * HOUR, vol(20)], ...batch]).slice(1)).toEqual(expected('u'.repeat(25)));
  });

  it('zero use: an unoccupied unit raises nothing', () => {
    expect(run('water-meter.no-use', [[0, vol(50)], [5 * DAY, vol(50)]], ctx('WM-A-01-0101', { occupied: false }))).toEqual(expected('uc'));
  });

  it('duplicates do not count as use or as a reading', () => {
    expect(run('water-meter.reverse', [[0, vol(100), 1], [15 * MINUTE, vol(99), 2], [15 * MINUTE, vol(99), 2]])).toEqual(expected('uau'));
  });
});

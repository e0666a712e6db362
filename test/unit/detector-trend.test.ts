import { describe, expect, it } from 'vitest';
import { HOUR, MINUTE, expected, run, type Step } from '../support/alarm-site.ts';

const RULE = 'booster-pump.vibration-rising';
const STEP = 5 * MINUTE;

/** One reading every 5 min (one per bucket) from `from` (min) for `minutes`, vibration `at(minute)`, running unless told. */
function pump(from: number, minutes: number, at: (minute: number) => number, running = true): Step[] {
  return Array.from({ length: minutes / 5 }, (_, i): Step => {
    const minute = from + i * 5;
    return [minute * MINUTE, { vibration_mms: Math.round(at(minute) * 1000) / 1000, running }];
  });
}

const rising = (start: number, perHour: number) => (minute: number) => start + (perHour * minute) / 60;

describe('trend (booster-pump.vibration-rising): least-squares slope of 5-min means over the last hour', () => {
  it.each<[string, Step[], string]>([
    // Six buckets span 25 min (not yet 30): unchanged; the seventh spans 30 min and is judged.
    ['a steady pump is judged once 30 min are covered, and is normal', pump(0, 60, () => 2.4), 'uuuuuu cccccc'],
    ['rising 1.2 mm/s an hour: abnormal as soon as it can be judged', pump(0, 60, rising(2.4, 1.2)), 'uuuuuu aaaaaa'],
    ['rising 0.4 mm/s an hour is normal wear', pump(0, 60, rising(2.4, 0.4)), 'uuuuuu cccccc'],
    // Between 0.5 and 1 mm/s an hour the state holds: from normal it stays normal.
    ['rising 0.75 mm/s an hour from normal stays normal', pump(0, 60, rising(2.4, 0.75)), 'uuuuuu cccccc'],
    // From 5.05 mm/s at 1.8/h the fitted value reaches 7.1 after 68 min: the limit's own rule speaks from there.
    ['a rise that reaches the limit returns to normal', pump(0, 90, rising(5.05, 1.8)), 'uuuuuu aaaaaaaa cccc'],
    // The stops read 0.1 mm/s: counted, the restart would look like a steep rise. Not counted, the first
    // reading after the stop joins the buckets from before it and spans enough to be judged.
    ['readings while the pump is stopped do not count', [...pump(0, 30, () => 2.4), ...pump(30, 30, () => 0.1, false), ...pump(60, 60, () => 2.4)], `${'u'.repeat(12)}${'c'.repeat(12)}`],
  ])('%s', (_name, steps, codes) => {
    expect(run(RULE, steps)).toEqual(expected(codes));
  });

  it('between the clear and the alarm slope an active alarm holds, and clears below 0.5 mm/s an hour', () => {
    // 1.2/h for 40 min, then 0.75/h: the window's slope settles at 0.75 and the alarm holds; then flat: it clears.
    const at = (m: number) => (m < 40 ? 2.4 + (1.2 * m) / 60 : m < 100 ? 3.2 + (0.75 * (m - 40)) / 60 : 3.95);
    const conditions = run(RULE, pump(0, 180, at));
    expect(conditions.slice(6, 20)).toEqual(expected('a'.repeat(14)));
    expect(conditions.at(-1)).toBe('clear');
    const firstClear = conditions.indexOf('clear');
    expect(firstClear * STEP).toBeGreaterThan(100 * MINUTE);
    expect(firstClear * STEP).toBeLessThan(160 * MINUTE);
  });

  it('a reading without the running flag keeps the last one known', () => {
    const steps = pump(0, 60, rising(2.4, 1.2)).map(([t, v], i): Step => (i % 2 === 1 ? [t, { vibration_mms: v.vibration_mms! }] : [t, v]));
    expect(run(RULE, steps)).toEqual(expected('uuuuuu aaaaaa'));
  });

  it('old buckets leave the window', () => {
    // A steep rise two hours ago, flat since: only the last hour counts.
    const steps = [...pump(0, 30, rising(2.4, 3)), ...pump(30, 150, () => 3.9)];
    expect(run(RULE, steps).at(-1)).toBe('clear');
    expect(steps.at(-1)![0] - HOUR).toBeGreaterThan(30 * MINUTE);
  });
});

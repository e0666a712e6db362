import { describe, expect, it } from 'vitest';
import { evaluate, type Condition, type DetectorState } from '../../server/src/domain/alarms/detectors.ts';
import type { OwnBaselineDetector, ReadingRule } from '../../server/src/domain/alarms/rules.ts';
import { DAY, HOUR, MINUTE, T0, ctx, reading, rule, type Step } from '../support/alarm-site.ts';

const WATER = rule('water-meter.use-above-baseline');
/** Factor and margin exact in binary, for the edges: limit = 2 × usual + 0.5. */
const EXACT: ReadingRule = { ...WATER, detector: { ...(WATER.detector as OwnBaselineDetector), factor: 2, margin: 0.5 } };

/** Readings every `stepMs` from `phase` for `days` days; `use(day, hour)` is the m³ used in that (UTC) hour, spread evenly over it. */
interface MeterOptions { readonly stepMs?: number; readonly phase?: number; readonly skip?: (t: number) => boolean }

function meter(days: number, use: (day: number, hour: number) => number, { stepMs = 15 * MINUTE, phase = 0, skip = () => false }: MeterOptions = {}): Step[] {
  const steps: Step[] = [];
  let volume = 100;
  for (let t = phase; t <= days * DAY; t += stepMs) {
    if (t > phase) {
      const from = t - stepMs;
      const hourOf = (m: number) => use(Math.floor(m / DAY), Math.floor((m % DAY) / HOUR));
      // Within one hour in one step (exact for the edges); across an hour minute by minute, so each hour gets its own.
      if (Math.floor(from / HOUR) === Math.floor((t - 1) / HOUR)) volume += hourOf(from) * (stepMs / HOUR);
      else for (let m = from; m < t; m += MINUTE) volume += hourOf(m) / 60;
    }
    if (!skip(t)) steps.push([t, { volume_m3: volume }]);
  }
  return steps;
}

/** [day, hh:mm of the reading, condition] for every reading that was judged. */
function verdicts(steps: readonly Step[], r: ReadingRule = WATER, deviceId = 'WM-A-01-0101'): [number, string, Condition][] {
  let state: DetectorState | undefined;
  const out: [number, string, Condition][] = [];
  for (const [offset, values] of steps) {
    const result = evaluate(r, state, reading(deviceId, T0 + offset, values), ctx(deviceId));
    state = result.state;
    if (result.condition !== 'unchanged') out.push([Math.floor(offset / DAY), new Date(T0 + offset).toISOString().slice(11, 16), result.condition]);
  }
  return out;
}

const judgedAt = (list: [number, string, Condition][], day: number, time: string) => list.find(([d, t]) => d === day && t === time)?.[2];

describe('use above the unit\'s own baseline for the hour of day (own-baseline)', () => {
  it('an hour of day is judged only once it was learned on 3 days, at the reading that ends the hour', () => {
    const list = verdicts(meter(4, () => 0.25, { stepMs: HOUR }), EXACT);
    expect(list.filter(([d]) => d < 3)).toEqual([]);
    // Day 3's hours are judged at 01:00 … 24:00 (the last at day 4, 00:00).
    expect(list).toHaveLength(24);
    expect(list.every(([, , c]) => c === 'clear')).toBe(true);
  });

  it('readings starting after the hour began leave that hour unlearned on the first day', () => {
    // From 00:07: hour 0 of day 0 is not complete, so hour 0 is learned on days 1–3 and first judged on day 4.
    const list = verdicts(meter(5, () => 0.25, { phase: 7 * MINUTE }), EXACT);
    expect(list.filter(([, t]) => t === '01:07').map(([d]) => d)).toEqual([4]);
    expect(list.filter(([, t]) => t === '02:07').map(([d]) => d)).toEqual([3, 4]);
  });

  it.each<[string, number, Condition]>([
    ['exactly at the limit (2 × 0.25 + 0.5) is normal', 1, 'clear'],
    ['just above it is abnormal', 1.0625, 'active'],
  ])('%s', (_name, use, condition) => {
    const list = verdicts(meter(4, (day, hour) => (day === 3 && hour === 10 ? use : 0.25)), EXACT);
    expect(judgedAt(list, 3, '10:45')).toBeUndefined(); // the hour is still open
    expect(judgedAt(list, 3, '11:00')).toBe(condition);
    expect(judgedAt(list, 3, '12:00')).toBe('clear');
  });

  it.each<[string, number, Condition]>([
    // The real rule: 3 × usual + 0.1 m³. A unit that never uses water has a limit of 0.1 m³.
    ['a quiet unit running a tap for a few litres is no alarm', 0.0625, 'clear'],
    ['a quiet unit losing 125 L in an hour is', 0.125, 'active'],
  ])('%s', (_name, use, condition) => {
    const list = verdicts(meter(4, (day, hour) => (day === 3 && hour === 3 ? use : 0)));
    expect(judgedAt(list, 3, '04:00')).toBe(condition);
  });

  it('use between readings off the hour is shared between the hours by time', () => {
    // Readings at hh:07; a burst of 2 m³/h from 14:00 gives hour 14 all of its 2 m³ even though no reading falls on 14:00.
    const list = verdicts(meter(4, (day, hour) => (day === 3 && hour === 14 ? 2 : 0.25), { phase: 7 * MINUTE }), EXACT);
    expect(judgedAt(list, 3, '14:07')).toBe('clear');
    expect(judgedAt(list, 3, '15:07')).toBe('active');
  });

  it('hours across a gap longer than an hour are neither judged nor learned', () => {
    const gap = (t: number) => t > 3 * DAY + 9 * HOUR && t < 3 * DAY + 12 * HOUR;
    const list = verdicts(meter(4, (day, hour) => (day === 3 && hour === 10 ? 5 : 0.25), { skip: gap }), EXACT);
    expect(list.filter(([d, t]) => d === 3 && t >= '09:15' && t < '13:00')).toEqual([]);
    expect(judgedAt(list, 3, '13:00')).toBe('clear');
  });

  it('what is learned from an abnormal hour is capped at the limit', () => {
    // Day 3, hour 10 uses 5 m³ (limit 1): the usual becomes 0.25 + 0.3 × (1 − 0.25) = 0.475, limit 1.45.
    // Uncapped it would be 1.675 (limit 3.85) and day 4's 2 m³ would pass unnoticed.
    const list = verdicts(meter(5, (day, hour) => (hour !== 10 ? 0.25 : day === 3 ? 5 : day === 4 ? 2 : 0.25)), EXACT);
    expect(judgedAt(list, 3, '11:00')).toBe('active');
    expect(judgedAt(list, 4, '11:00')).toBe('active');
  });

  it('electric meters have their own margin (1.5 kWh)', () => {
    const steps = meter(4, (day, hour) => (day === 3 && hour === 20 ? 4.5 : 1)).map(([t, v]): Step => [t, { energy_kwh: v.volume_m3! }]);
    const electric = rule('electric-meter.use-above-baseline');
    // 3 × 1 + 1.5 = 4.5: exactly the limit is normal.
    expect(judgedAt(verdicts(steps, electric, 'EM-A-01-0101'), 3, '21:00')).toBe('clear');
    const more = meter(4, (day, hour) => (day === 3 && hour === 20 ? 4.75 : 1)).map(([t, v]): Step => [t, { energy_kwh: v.volume_m3! }]);
    expect(judgedAt(verdicts(more, electric, 'EM-A-01-0101'), 3, '21:00')).toBe('active');
  });
});

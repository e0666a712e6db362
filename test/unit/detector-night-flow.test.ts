import { describe, expect, it } from 'vitest';
import { evaluate, type Condition, type DetectorState } from '../../server/src/domain/alarms/detectors.ts';
import { localClock } from '../../server/src/domain/alarms/local-clock.ts';
import type { NightFlowDetector, ReadingRule } from '../../server/src/domain/alarms/rules.ts';
import { DAY, HOUR, MINUTE, T0, ctx, reading, rule, type Step } from '../support/alarm-site.ts';

const QUARTER = 15 * MINUTE;
const NIGHT_FLOW = rule('water-meter.night-flow');
/** The same rule with a margin that is exact in binary, for the edges. */
const EXACT: ReadingRule = { ...NIGHT_FLOW, detector: { ...(NIGHT_FLOW.detector as NightFlowDetector), marginPerHour: 0.5 } };

interface Options {
  /** Offset of every reading within its quarter-hour. */
  readonly phase?: number;
  /** UTC hours of the night window the flows apply to (the site's 02:00–04:00 in UTC). */
  readonly window?: readonly [number, number];
  /** Readings dropped (offsets from T0). */
  readonly skip?: (t: number) => boolean;
}

/** Inlet readings every quarter-hour for nights.length days: nights[d] m³/h in the window of day d, 4 m³/h otherwise. */
function inlet(nights: readonly number[], { phase = 0, window = [2, 4], skip = () => false }: Options = {}): Step[] {
  const steps: Step[] = [];
  let volume = 1000;
  for (let t = phase; t < nights.length * DAY; t += QUARTER) {
    if (t > phase) {
      const mid = t - QUARTER / 2;
      const hour = (mid % DAY) / HOUR;
      volume += (hour >= window[0] && hour < window[1] ? nights[Math.floor(mid / DAY)]! : 4) / 4;
    }
    if (!skip(t)) steps.push([t, { volume_m3: volume }]);
  }
  return steps;
}

/** Runs the steps and returns the verdicts: [day, time of day, condition] for every reading that was not 'unchanged'. */
function verdicts(steps: readonly Step[], r: ReadingRule = NIGHT_FLOW, local = localClock('UTC')): [number, string, Condition][] {
  const context = ctx('WM-A-INLET', { local });
  let state: DetectorState | undefined;
  const out: [number, string, Condition][] = [];
  for (const [offset, values] of steps) {
    const result = evaluate(r, state, reading('WM-A-INLET', T0 + offset, values), context);
    state = result.state;
    if (result.condition !== 'unchanged') out.push([Math.floor(offset / DAY), new Date(T0 + offset).toISOString().slice(11, 16), result.condition]);
  }
  return out;
}

describe('night flow (water-meter.night-flow): minimum 02:00–04:00 against the median of the last 7 nights', () => {
  it.each<[string, number[], Options, [number, string, Condition][]]>([
    ['three nights are learned before any is judged; each night is judged at the first reading from 04:00',
      [1, 1, 1, 1], {}, [[3, '04:00', 'clear']]],
    ['a huge night while learning raises nothing and the median ignores it', [1, 9, 1, 1], {}, [[3, '04:00', 'clear']]],
    // Limit 1.5 × 1 + 0.3 = 1.8 m³/h.
    ['below the limit is normal, above it is a leak', [1, 1, 1, 1.75, 1.875, 1], {}, [[3, '04:00', 'clear'], [4, '04:00', 'active'], [5, '04:00', 'clear']]],
    // Learned, the leak nights would make the median 3 by the 7th night; not learned, every one of them is a leak.
    ['an abnormal night is not learned: a leak that goes on stays a leak', [1, 1, 1, 3, 3, 3, 3, 3, 1], {},
      [[3, '04:00', 'active'], [4, '04:00', 'active'], [5, '04:00', 'active'], [6, '04:00', 'active'], [7, '04:00', 'active'], [8, '04:00', 'clear']]],
    // Readings at hh:07: the interval 03:52–04:07 has its middle in the window, so 04:07 completes the night and judges it.
    ['readings off the quarter-hour: the interval across 04:00 with its middle inside counts, and its end judges', [1, 1, 1, 3], { phase: 7 * MINUTE }, [[3, '04:07', 'active']]],
    // 01:45 → 03:15 is longer than the 1 h gap allowed: only 03:15–04:00 (45 min of 120) remains, less than half the window.
    ['a night covered less than half is not judged', [1, 1, 1, 3], { skip: (t) => t >= 3 * DAY + 2 * HOUR && t < 3 * DAY + 3.25 * HOUR }, []],
    // 02:00 → 03:00 is exactly the longest gap allowed: with 03:00–04:00 the whole window is covered.
    ['a gap of exactly an hour still counts', [1, 1, 1, 3], { skip: (t) => t > 3 * DAY + 2 * HOUR && t < 3 * DAY + 3 * HOUR }, [[3, '04:00', 'active']]],
  ])('%s', (_name, nights, options, expected) => {
    expect(verdicts(inlet(nights, options))).toEqual(expected);
  });

  it.each<[string, number, Condition]>([
    ['exactly at the limit is normal', 2, 'clear'],
    ['just above it is a leak', 2.0625, 'active'],
  ])('%s (baseline 1 m³/h, limit 1.5 × 1 + 0.5 = 2)', (_name, tonight, condition) => {
    expect(verdicts(inlet([1, 1, 1, tonight]), EXACT)).toEqual([[3, '04:00', condition]]);
  });

  it('the window is the site\'s local time: at UTC+8, 02:00–04:00 is 18:00–20:00 UTC', () => {
    const shanghai = localClock('Asia/Shanghai');
    // High flow 02:00–04:00 UTC is the busy morning in Shanghai: no leak. High flow 18:00–20:00 UTC is its night.
    expect(verdicts(inlet([1, 1, 1, 1, 3], { window: [2, 4] }), NIGHT_FLOW, shanghai).filter(([, , c]) => c === 'active')).toEqual([]);
    const judged = verdicts(inlet([1, 1, 1, 1, 3], { window: [18, 20] }), NIGHT_FLOW, shanghai);
    expect(judged.at(-1)).toEqual([4, '20:00', 'active']);
  });

  it('a register that goes back (meter swap) breaks the interval instead of counting as a negative flow', () => {
    const steps = inlet([1, 1, 1, 1]).map(([t, values]): Step => (t >= 3 * DAY + 3 * HOUR ? [t, { volume_m3: (values.volume_m3 as number) - 900 }] : [t, values]));
    // 02:00–03:00 and 03:15–04:00 remain: 105 of 120 min, all at 1 m³/h.
    expect(verdicts(steps)).toEqual([[3, '04:00', 'clear']]);
  });

  it('late and duplicate readings are ignored', () => {
    const steps = inlet([1, 1, 1, 3]);
    const fourAm = steps.findIndex(([t]) => t === 3 * DAY + 4 * HOUR);
    // After 04:00: the 03:15 reading again (late) and the 04:00 one again (duplicate, same seq).
    const withRepeats = [...steps.slice(0, fourAm + 1), steps[fourAm - 3]!, steps[fourAm]!, ...steps.slice(fourAm + 1)];
    expect(verdicts(withRepeats)).toEqual([[3, '04:00', 'active']]);
  });
});

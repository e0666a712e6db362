import { describe, expect, it } from 'vitest';
import type { MetricValue } from '../../server/src/contract.ts';
import { evaluate, type Condition, type DetectorState } from '../../server/src/domain/alarms/detectors.ts';
import type { RegisterIncreaseDetector } from '../../server/src/domain/alarms/rules.ts';
import { DAY, HOUR, MINUTE, SECOND, T0, ctx, expected, reading, rule, run, type Step } from '../support/alarm-site.ts';

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

describe('register increase: only the readings where the register changed are kept', () => {
  interface Sample { readonly ts: number; readonly value: number; readonly per: number | null }
  const samplesOf = (state: DetectorState | undefined): readonly Sample[] => (state?.memory.type === 'register-increase' ? state.memory.samples : []);

  /** Feeds the steps to the rule's detector from `state` on: the condition and value after each, and the last state. */
  function feed(ruleId: string, deviceId: string, steps: readonly Step[], state?: DetectorState) {
    const judged: { condition: Condition; value: MetricValue | undefined }[] = [];
    for (const [offset, values] of steps) {
      const result = evaluate(rule(ruleId), state, reading(deviceId, T0 + offset, values), ctx(deviceId));
      state = result.state;
      judged.push({ condition: result.condition, value: result.value });
    }
    return { judged, state };
  }

  /**
   * The definition the detector must keep to, over every reading rather than
   * the changes alone: since the newest restart (a register going back), the
   * increase from the newest reading at or before the window's start, or the
   * oldest there is.
   */
  function definition(d: RegisterIncreaseDetector, steps: readonly Step[]) {
    let series: Sample[] = [];
    return steps.map(([offset, values]) => {
      const ts = T0 + offset;
      const value = values[d.metric] as number;
      const per = d.per === undefined ? null : (values[d.per.metric] as number);
      const latest = series.at(-1);
      if (latest && (value < latest.value || (per !== null && latest.per !== null && per < latest.per))) series = [];
      series.push({ ts, value, per });
      const base = series.filter((s) => s.ts <= ts - d.windowMs).at(-1) ?? series[0]!;
      if (d.per === undefined || per === null || base.per === null) return { condition: level(value - base.value > d.max), value: value - base.value };
      if (per - base.per < d.per.min) return { condition: 'clear' as const, value: value - base.value };
      const ratio = (value - base.value) / (per - base.per);
      return { condition: level(ratio > d.max), value: Math.round(ratio * 1000) / 1000 };
    });
  }
  const level = (active: boolean): Condition => (active ? 'active' : 'clear');

  /** A pump reporting every 5 s for two hours, starting now and then. */
  const pumpSteps = (startAt: (second: number) => number): Step[] =>
    Array.from({ length: 2 * 720 }, (_, i) => [i * 5 * SECOND, { starts: startAt(i * 5) }] as const);

  it('a pump reporting every 5 s keeps a sample per start, not per reading', () => {
    // 20 starts in the first hour (one every 3 min), none in the second.
    const steps = pumpSteps((s) => 100 + Math.min(20, Math.floor(s / 180)));
    const { judged, state } = feed('booster-pump.starts-per-hour', 'BP-A-1', steps);
    expect(judged).toEqual(definition(rule('booster-pump.starts-per-hour').detector as RegisterIncreaseDetector, steps));
    expect(judged.some((j) => j.condition === 'active')).toBe(true);
    expect(judged.at(-1)?.condition).toBe('clear');
    // An hour after the last start, what is left is the sample the window starts from: the value of the last start.
    expect(samplesOf(state)).toEqual([{ ts: T0 + 57 * MINUTE, value: 119, per: null }, { ts: T0 + 60 * MINUTE, value: 120, per: null }]);
  });

  it('across the window\'s start the baseline is the newest change at or before it', () => {
    // 100 from 0 to 30 min (a reading every minute), 105 at 31 min, 113 at 40 min.
    const steps: Step[] = [
      ...Array.from({ length: 31 }, (_, i) => [i * MINUTE, { starts: 100 }] as const),
      [31 * MINUTE, { starts: 105 }], [40 * MINUTE, { starts: 113 }],
      // Window from 30 min: the newest change at or before it is 100 (at 0) → 13 starts.
      [90 * MINUTE, { starts: 113 }],
      // Window from 31 min: the change at 31 min is at its start → 8 starts.
      [91 * MINUTE, { starts: 113 }],
    ];
    const { judged, state } = feed('booster-pump.starts-per-hour', 'BP-A-1', steps);
    expect(judged.slice(-2)).toEqual([{ condition: 'active', value: 13 }, { condition: 'clear', value: 8 }]);
    expect(judged).toEqual(definition(rule('booster-pump.starts-per-hour').detector as RegisterIncreaseDetector, steps));
    expect(samplesOf(state)).toEqual([{ ts: T0 + 31 * MINUTE, value: 105, per: null }, { ts: T0 + 40 * MINUTE, value: 113, per: null }]);
  });

  it('a meter swap or controller reset inside a run of equal values starts a new series', () => {
    const steps: Step[] = [
      ...Array.from({ length: 20 }, (_, i) => [i * MINUTE, { starts: 500 + Math.min(i, 5) }] as const),
      // Reset to 0, then standing still, then 7 starts: more than the jockey's 6 only counted from the reset.
      ...Array.from({ length: 10 }, (_, i) => [(20 + i) * MINUTE, { starts: 0 }] as const),
      ...Array.from({ length: 7 }, (_, i) => [(30 + i) * MINUTE, { starts: i + 1 }] as const),
    ];
    const { judged, state } = feed('fire-pump.jockey-short-cycling', 'FP-2', steps);
    expect(judged).toEqual(definition(rule('fire-pump.jockey-short-cycling').detector as RegisterIncreaseDetector, steps));
    expect(judged.at(-1)).toEqual({ condition: 'active', value: 7 });
    expect(samplesOf(state).map((s) => s.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('door cycles per trip: a change of either register is a sample; trips going back restart the series', () => {
    // Every 10 s: a trip a minute with 2 door cycles, from 40 min on 5 door cycles a trip, at 80 min the trip counter reset.
    const steps: Step[] = Array.from({ length: 150 * 6 }, (_, i) => {
      const minute = Math.floor(i / 6);
      const trips = minute < 80 ? 500 + minute : minute - 80;
      const doorCycles = 1000 + 2 * Math.min(minute, 40) + 5 * Math.max(0, minute - 40);
      return [i * 10 * SECOND, { door_cycles: doorCycles, trips }] as const;
    });
    const { judged, state } = feed('elevator.door-cycles', 'EL-A-01-1', steps);
    expect(judged).toEqual(definition(rule('elevator.door-cycles').detector as RegisterIncreaseDetector, steps));
    expect(judged.map((j) => j.condition)).toContain('active');
    // At 149 min 50 s: the change at 89 min (the window's start is after it), then one a minute, none per 10-s reading.
    expect(samplesOf(state)).toHaveLength(61);
    expect(samplesOf(state)[0]).toEqual({ ts: T0 + 89 * MINUTE, value: 1000 + 80 + 5 * 49, per: 9 });
  });

  it('random registers: the same conditions and values as the definition over every reading', () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (const [ruleId, deviceId] of [['booster-pump.starts-per-hour', 'BP-A-1'], ['elevator.door-cycles', 'EL-A-01-1']] as const) {
      const d = rule(ruleId).detector as RegisterIncreaseDetector;
      for (let trial = 0; trial < 20; trial++) {
        let ts = 0;
        let value = 1000;
        let per = 500;
        const steps: Step[] = Array.from({ length: 400 }, () => {
          // Gaps of whole minutes, from 0 (same millisecond, a newer seq) to 20, so that readings often fall on the window's start.
          const r = random();
          ts += r < 0.1 ? 0 : r < 0.5 ? MINUTE : Math.floor(random() * 20) * MINUTE;
          const change = random();
          if (change < 0.03) value = Math.floor(random() * 50);
          else if (change < 0.4) value += Math.floor(random() * 4);
          const perChange = random();
          if (perChange < 0.03) per = Math.floor(random() * 20);
          else if (perChange < 0.4) per += Math.floor(random() * 3);
          return [ts, { starts: value, door_cycles: value, trips: per }] as const;
        });
        const withSeq = steps.map(([offset, values], i) => [offset, values, i + 1] as const);
        let state: DetectorState | undefined;
        const judged = withSeq.map(([offset, values, seq]) => {
          const result = evaluate(rule(ruleId), state, reading(deviceId, T0 + offset, values, seq), ctx(deviceId));
          state = result.state;
          return { condition: result.condition, value: result.value };
        });
        expect(judged, `${ruleId}, trial ${trial}`).toEqual(definition(d, steps));
      }
    }
  });

  it('a memory saved with every reading as a sample (before they were collapsed) is judged the same', () => {
    const d = rule('booster-pump.starts-per-hour').detector as RegisterIncreaseDetector;
    const saved: DetectorState = {
      lastTs: T0 + 59 * MINUTE, lastSeq: 1,
      memory: { type: 'register-increase', samples: Array.from({ length: 60 }, (_, i) => ({ ts: T0 + i * MINUTE, value: 100 + Math.floor(i / 4), per: null })) },
    };
    const steps: Step[] = [[60 * MINUTE, { starts: 114 }], [61 * MINUTE, { starts: 114 }], [66 * MINUTE, { starts: 114 }]];
    const { judged } = feed('booster-pump.starts-per-hour', 'BP-A-1', steps, saved);
    // The window from 0, 1 and 6 min starts at 100, 100 and 101.
    expect(judged).toEqual([{ condition: 'active', value: 14 }, { condition: 'active', value: 14 }, { condition: 'active', value: 13 }]);
    expect(d.max).toBe(12);
  });
});

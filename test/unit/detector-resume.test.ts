/**
 * A detector resumed for an alarm that was active before a restart without
 * its state (detectors.ts resumeState): it holds back 'clear' until it has
 * watched for its settle time, or until it finds the condition active itself.
 */
import { describe, expect, it } from 'vitest';
import { evaluate, resumeState, settleMs, type Condition, type DetectorState } from '../../server/src/domain/alarms/detectors.ts';
import { DAY, HOUR, MINUTE, T0, ctx, expected, reading, rule, type Step } from '../support/alarm-site.ts';

function resumed(ruleId: string, deviceId: string, steps: readonly Step[]): Condition[] {
  const r = rule(ruleId);
  let state: DetectorState = resumeState(r.detector);
  return steps.map(([offset, values]) => {
    const result = evaluate(r, state, reading(deviceId, T0 + offset, values), ctx(deviceId));
    state = result.state;
    return result.condition;
  });
}

const quarters = (n: number, perQuarter: number, from = 0): Step[] =>
  Array.from({ length: n }, (_, i): Step => [(from + i) * 15 * MINUTE, { volume_m3: Math.round((50 + i * perQuarter) * 1000) / 1000 }]);

describe('resumed detectors', () => {
  it.each<[string, string, string, Step[], string]>([
    // On-delay 10 min: the still-low pressure is found active after 10 min; nothing clears it before.
    ['hydrant.pressure-low', 'HY-A-01', 'a condition still there becomes active without a clear in between',
      [[0, { pressure_mpa: 0.06 }], [5 * MINUTE, { pressure_mpa: 0.06 }], [10 * MINUTE, { pressure_mpa: 0.06 }]], 'uua'],
    ['hydrant.pressure-low', 'HY-A-01', 'a condition that is gone clears once the on-delay has passed',
      [[0, { pressure_mpa: 0.3 }], [10 * MINUTE - 1, { pressure_mpa: 0.3 }], [10 * MINUTE, { pressure_mpa: 0.3 }]], 'uuc'],
    // A leak: the fresh run of quarter-hours needs a day; the alarm is held through it and the run completes.
    ['water-meter.continuous-flow', 'WM-A-01-0101', 'a leak goes on: held for a day, then active again from its own evidence',
      quarters(97, 0.004), `${'u'.repeat(96)}a`],
    ['water-meter.continuous-flow', 'WM-A-01-0101', 'the leak was fixed: cleared after a day of watching',
      [...quarters(20, 0.004), ...quarters(80, 0, 20).map(([t, v]): Step => [t, { volume_m3: (v.volume_m3 as number) + 0.08 }])], `${'u'.repeat(97)}ccc`],
    // 6 m³/h: a jump is judged reading by reading, so its first verdict is already sound.
    ['water-meter.jump', 'WM-A-01-0101', 'a one-off event detector is trusted at once',
      [[0, { volume_m3: 50 }], [15 * MINUTE, { volume_m3: 50.1 }]], 'uc'],
  ])('%s: %s', (ruleId, deviceId, _name, steps, codes) => {
    expect(resumed(ruleId, deviceId, steps)).toEqual(expected(codes));
  });

  it('settle times follow each detector\'s horizon', () => {
    expect(settleMs(rule('hydrant.pressure-low').detector)).toBe(10 * MINUTE);
    expect(settleMs(rule('water-meter.continuous-flow').detector)).toBe(DAY);
    expect(settleMs(rule('water-meter.no-use').detector)).toBe(3 * DAY);
    expect(settleMs(rule('booster-pump.starts-per-hour').detector)).toBe(HOUR);
    expect(settleMs(rule('water-meter.jump').detector)).toBe(0);
  });

  it('once the detector has found the condition itself it is an ordinary detector again', () => {
    const r = rule('hydrant.pressure-low');
    let state: DetectorState = resumeState(r.detector);
    for (const [m, p] of [[0, 0.06], [10, 0.06]] as const) state = evaluate(r, state, reading('HY-A-01', T0 + m * MINUTE, { pressure_mpa: p }), ctx('HY-A-01')).state;
    expect(state.resume).toBeUndefined();
  });
});

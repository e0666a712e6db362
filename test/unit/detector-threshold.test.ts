import { describe, expect, it } from 'vitest';
import { evaluate } from '../../server/src/domain/alarms/detectors.ts';
import { MINUTE, SECOND, T0, ctx, expected, reading, rule, run, type Step } from '../support/alarm-site.ts';

// booster-pump.overcurrent: current_a > 40, deadband 2, on-delay 10 s, off-delay 30 s
// fire-pump.battery-low:    battery_v ≤ 16, deadband 0.5, on-delay 60 s
// hydrant.pressure-low:     pressure_mpa < 0.1, deadband 0.02, on-delay 10 min, off-delay 10 min
const amps = (current_a: number) => ({ current_a });
const active = (): Step[] => [[0, amps(45)], [10 * SECOND, amps(45)]]; // active from 10 s

describe('threshold detector', () => {
  it.each<[string, string, Step[], string]>([
    ['overcurrent', 'exactly at the limit is normal (gt)', [[0, amps(40)], [60 * SECOND, amps(40)]], 'cc'],
    ['overcurrent', 'just before the on-delay', [[0, amps(40.1)], [10 * SECOND - 1, amps(40.1)]], 'cc'],
    ['overcurrent', 'exactly at the on-delay', [[0, amps(40.1)], [10 * SECOND, amps(40.1)]], 'ca'],
    ['overcurrent', 'a dip restarts the on-delay', [[0, amps(41)], [5 * SECOND, amps(39)], [6 * SECOND, amps(41)], [15 * SECOND, amps(41)], [16 * SECOND, amps(41)]], 'ccc ca'],
    ['overcurrent', 'inside the deadband it stays active', [...active(), [20 * SECOND, amps(39)], [10 * MINUTE, amps(38.01)]], 'ca aa'],
    ['overcurrent', 'at the deadband edge the off-delay starts; clears exactly at it', [...active(), [20 * SECOND, amps(38)], [50 * SECOND - 1, amps(30)], [50 * SECOND, amps(30)]], 'ca aac'],
    ['overcurrent', 'a return into the deadband restarts the off-delay', [...active(), [20 * SECOND, amps(30)], [40 * SECOND, amps(39)], [45 * SECOND, amps(30)], [74 * SECOND, amps(30)], [75 * SECOND, amps(30)]], 'ca aaaa c'],
    ['overcurrent', 'below the limit but inside the deadband does not start the on-delay', [[0, amps(39)], [60 * SECOND, amps(39)]], 'cc'],
    ['battery-low', 'exactly at the limit is abnormal (le)', [[0, { battery_v: 16 }], [60 * SECOND, { battery_v: 16 }]], 'ca'],
    ['battery-low', 'limit + deadband still holds, just above clears', [[0, { battery_v: 15 }], [60 * SECOND, { battery_v: 15 }], [2 * MINUTE, { battery_v: 16.5 }], [3 * MINUTE, { battery_v: 16.51 }]], 'caac'],
    ['hydrant-low', '10 min on-delay and off-delay', [
      [0, { pressure_mpa: 0.09 }], [5 * MINUTE, { pressure_mpa: 0.09 }], [10 * MINUTE, { pressure_mpa: 0.09 }],
      [15 * MINUTE, { pressure_mpa: 0.13 }], [25 * MINUTE - 1, { pressure_mpa: 0.13 }], [25 * MINUTE, { pressure_mpa: 0.13 }],
    ], 'cca aac'],
    ['hydrant-low', 'exactly at the minimum is normal (lt)', [[0, { pressure_mpa: 0.1 }], [20 * MINUTE, { pressure_mpa: 0.1 }]], 'cc'],
  ])('%s: %s', (which, _name, steps, codes) => {
    const ids: Record<string, string> = { overcurrent: 'booster-pump.overcurrent', 'battery-low': 'fire-pump.battery-low', 'hydrant-low': 'hydrant.pressure-low' };
    expect(run(ids[which]!, steps)).toEqual(expected(codes));
  });

  it('ignores late readings: an old abnormal value raises nothing, an old normal value clears nothing', () => {
    expect(run('booster-pump.overcurrent', [[60 * SECOND, amps(20)], [30 * SECOND, amps(60)], [45 * SECOND, amps(60)]])).toEqual(expected('cuu'));
    expect(run('booster-pump.overcurrent', [...active(), [5 * SECOND, amps(20)], [60 * SECOND, amps(20)]])).toEqual(expected('ca u a'));
  });

  it('ignores duplicates (same ts and seq) but accepts a second message in the same millisecond with a higher seq', () => {
    expect(run('booster-pump.overcurrent', [[0, amps(45), 7], [10 * SECOND, amps(45), 9], [10 * SECOND, amps(20), 9]])).toEqual(expected('cau'));
    expect(run('booster-pump.overcurrent', [[0, amps(45), 7], [0, amps(45), 8], [0, amps(45), 6]])).toEqual(expected('ccu'));
  });

  it('a reading without the metric is ignored and does not hide older readings that carry it', () => {
    expect(run('booster-pump.overcurrent', [[0, amps(45)], [20 * SECOND, { vibration_mms: 2 }], [10 * SECOND, amps(45)]])).toEqual(expected('cua'));
  });

  it('reports the value and a message naming the limit', () => {
    const result = evaluate(rule('booster-pump.overcurrent'), undefined, reading('BP-A-1', T0, amps(42.5)), ctx('BP-A-1'));
    expect(result).toMatchObject({ value: 42.5, message: 'current_a 42.5 (limit > 40)' });
  });
});

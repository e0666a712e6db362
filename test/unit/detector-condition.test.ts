import { describe, expect, it } from 'vitest';
import { evaluate } from '../../server/src/domain/alarms/detectors.ts';
import { HOUR, MINUTE, SECOND, T0, ctx, expected, reading, rule, run, type Step } from '../support/alarm-site.ts';

const pump = (running: boolean, power_kw: number, pressure_mpa: number) => ({ running, power_kw, pressure_mpa });
const car = (floor: number, extra: Partial<{ between_floors: boolean; door: string; load_kg: number }> = {}) => ({
  floor, between_floors: true, door: 'closed', load_kg: 70, ...extra,
});

describe('condition detector', () => {
  it.each<[string, string, Step[], string]>([
    // Dry run needs low power AND low pressure while running; not one of them alone.
    ['booster-pump.dry-run', 'low power and low pressure while running, 30 s', [[0, pump(true, 1.5, 0.05)], [30 * SECOND - 1, pump(true, 1.5, 0.05)], [30 * SECOND, pump(true, 1.5, 0.05)]], 'cca'],
    ['booster-pump.dry-run', 'low pressure with normal power is not dry running', [[0, pump(true, 7, 0.05)], [MINUTE, pump(true, 7, 0.05)]], 'cc'],
    ['booster-pump.dry-run', 'low power at normal pressure is not dry running', [[0, pump(true, 1.5, 0.4)], [MINUTE, pump(true, 1.5, 0.4)]], 'cc'],
    ['booster-pump.dry-run', 'a stopped pump is not dry running', [[0, pump(false, 0, 0.05)], [MINUTE, pump(false, 0, 0.05)]], 'cc'],
    ['booster-pump.dry-run', 'power exactly at 2 kW is normal (lt)', [[0, pump(true, 2, 0.05)], [MINUTE, pump(true, 2, 0.05)]], 'cc'],
    ['booster-pump.dry-run', 'metrics missing from a reading keep their last value', [[0, pump(true, 1.5, 0.05)], [30 * SECOND, { pressure_mpa: 0.06 }]], 'ca'],
    ['booster-pump.dry-run', 'cannot judge before every metric was seen once', [[0, { running: true }], [10 * SECOND, { power_kw: 1 }]], 'uu'],
    ['booster-pump.dry-run', 'off-delay of 30 s', [[0, pump(true, 1.5, 0.05)], [30 * SECOND, pump(true, 1.5, 0.05)], [40 * SECOND, pump(true, 7, 0.4)], [70 * SECOND - 1, pump(true, 7, 0.4)], [70 * SECOND, pump(true, 7, 0.4)]], 'ca aac'],

    ['elevator.entrapment', 'stopped between floors, doors closed, load: active at 30 s', [[0, car(5)], [30 * SECOND - 1, car(5)], [30 * SECOND, car(5)]], 'cca'],
    ['elevator.entrapment', 'a car still changing floors is moving, not stuck', [[0, car(5)], [20 * SECOND, car(6)], [50 * SECOND - 1, car(6)], [50 * SECOND, car(6)]], 'ccca'],
    ['elevator.entrapment', 'empty car (15 kg is not > 15)', [[0, car(5, { load_kg: 15 })], [MINUTE, car(5, { load_kg: 15 })]], 'cc'],
    ['elevator.entrapment', 'doors open: people can get out', [[0, car(5, { door: 'open' })], [MINUTE, car(5, { door: 'open' })]], 'cc'],
    ['elevator.entrapment', 'at a landing', [[0, car(5, { between_floors: false })], [MINUTE, car(5, { between_floors: false })]], 'cc'],
    ['elevator.entrapment', 'released when the doors open', [[0, car(5)], [30 * SECOND, car(5)], [40 * SECOND, car(5, { door: 'opening' })]], 'cac'],
    ['elevator.entrapment', 'clears when the car moves, and can be raised again', [[0, car(5)], [30 * SECOND, car(5)], [35 * SECOND, car(4)], [65 * SECOND, car(4)]], 'caca'],
    ['elevator.fault', 'fault code other than 0', [[0, { fault_code: 0 }], [5 * SECOND, { fault_code: 17 }], [10 * SECOND, { fault_code: 0 }]], 'cac'],
    ['generator.fail-to-start', 'state failed', [[0, { state: 'cranking' }], [10 * SECOND, { state: 'failed' }], [20 * SECOND, { state: 'standby' }]], 'cac'],
    ['stair-light.circuit-dead', 'circuit not ok for a minute', [[0, { circuit_ok: false }], [MINUTE - 1, { circuit_ok: false }], [MINUTE, { circuit_ok: false }], [2 * MINUTE, { circuit_ok: true }]], 'ccac'],
    ['substation.feeder-outage-1', 'feeder 1 off', [[0, { feeder_1: true, feeder_2: true }], [10 * SECOND, { feeder_1: false, feeder_2: true }]], 'ca'],
    ['substation.feeder-outage-2', 'another feeder off does not concern feeder 2', [[0, { feeder_1: false, feeder_2: true }]], 'c'],
    // T0 is midnight UTC; the test schedule is night from 18:00 to 06:00.
    ['street-light.lamp-failure', 'scheduled on at night, no power, 15 min', [[0, { on: true, power_w: 1 }], [15 * MINUTE - 1, { on: true, power_w: 1 }], [15 * MINUTE, { on: true, power_w: 1 }]], 'cca'],
    ['street-light.lamp-failure', 'no power in daylight is normal', [[12 * HOUR, { on: false, power_w: 0 }], [13 * HOUR, { on: false, power_w: 0 }]], 'cc'],
    ['street-light.lamp-failure', 'power 5 W is not "near zero" (lt 5)', [[0, { on: true, power_w: 5 }], [HOUR, { on: true, power_w: 5 }]], 'cc'],
    ['street-light.day-burning', 'on in daylight for 30 min', [[12 * HOUR, { on: true, power_w: 80 }], [12 * HOUR + 30 * MINUTE, { on: true, power_w: 80 }]], 'ca'],
    ['street-light.day-burning', 'on at night is normal', [[0, { on: true, power_w: 80 }], [HOUR, { on: true, power_w: 80 }]], 'cc'],
  ])('%s: %s', (ruleId, _name, steps, codes) => {
    expect(run(ruleId, steps)).toEqual(expected(codes));
  });

  it('late and duplicate readings change nothing', () => {
    expect(run('elevator.entrapment', [[10 * SECOND, car(5)], [0, car(5)], [10 * SECOND, car(5)], [40 * SECOND, car(5)]])).toEqual(expected('cuua'));
    expect(run('booster-pump.dry-run', [[0, pump(true, 1.5, 0.05)], [40 * SECOND, pump(true, 7, 0.4)], [30 * SECOND, pump(true, 1.5, 0.05)]])).toEqual(expected('ccu'));
  });

  it('reports the metric named by the rule', () => {
    const result = evaluate(rule('elevator.fault'), undefined, reading('EL-A-01-1', T0, { fault_code: 42, floor: 3 }), ctx('EL-A-01-1'));
    expect(result).toMatchObject({ condition: 'active', value: 42 });
  });
});

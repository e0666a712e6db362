/**
 * The scenario catalogue: one named fault per anomaly the product must catch,
 * as data, with what the alarm engine must make of it. It is the truth table
 * of the anomaly engine (test/unit/scenario-truth-table.test.ts) and what
 * `npm run sim -- --scenario <id>` injects into a live fleet.
 *
 * Detection times are event time from the fault's start to the alarm.
 */
import type { DeviceKind } from '../../server/src/catalogue/kinds.ts';
import type { RejectReason } from '../../server/src/domain/ingest-validation.ts';
import {
  addToRegister, chatter, doorReopening, drift, entrapment, freezeRegister, generatorFailsToStart, jumpRegister, reverseRegister,
  setValues, shortCycling, testSkipped,
} from './faults.ts';
import type { SimEnv } from './env.ts';
import { SimError } from './errors.ts';
import { boosterRoleAt } from './models/booster-pump.ts';
import type { Fault } from './faults.ts';
import type { DeviceFilter, Injection } from './simulation.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface ExpectedAlarm {
  readonly ruleId: string;
  readonly deviceId: string;
  /** Event time from the fault's start within which the alarm must be raised. */
  readonly withinMs: number;
  /** The alarm must also be flagged chattering. */
  readonly chattering?: boolean;
}

export interface Expectation {
  /** The annunciated alarms, and nothing else. */
  readonly alarms: readonly ExpectedAlarm[];
  /** A root cause: every other alarm must be suppressed by it (not annunciated). */
  readonly suppressesOthers?: boolean;
  /** Dead-letter reasons ingest must give the scenario's bad messages. */
  readonly deadLetters?: readonly RejectReason[];
  /** How long to watch after the start (default: the longest detection time). */
  readonly observeMs?: number;
}

/**
 * When the fault starts: at least `afterMs` into the run, then at the next local time with this weekday (0 = Sunday) and hour,
 * on a day when booster pump `onDuty` has the duty (the pump rooms rotate it daily: models/booster-pump.ts).
 */
export interface ScenarioStart {
  readonly afterMs: number;
  readonly at?: { readonly weekday?: number; readonly hour: number; readonly onDuty?: string };
}

export interface Scenario {
  readonly id: string;
  readonly description: string;
  readonly devices: readonly string[];
  /** The devices to simulate around it when the scenario is judged on its own. */
  readonly scope: DeviceFilter;
  readonly start: ScenarioStart;
  /** Healthy running before the fault when judged on its own (default 1 h): a baseline some rules need. */
  readonly warmupMs?: number;
  /** Report intervals (simulated s) when judged on its own, where the catalogue's would only cost time over days. */
  readonly judgeIntervalsS?: Partial<Record<DeviceKind, number>>;
  /** What to inject, for a fault starting at `from`. */
  inject(from: number): readonly Injection[];
  readonly expected: Expectation;
}


const model = (deviceId: string, make: (from: number) => Fault) => (from: number): Injection => ({ type: 'fault', deviceId, fault: make(from) });

function one(id: string, description: string, deviceId: string, scope: DeviceFilter, start: ScenarioStart, make: (from: number) => Fault, ruleId: string, withinMs: number, extra: Partial<Scenario> = {}): Scenario {
  return {
    id, description, devices: [deviceId], scope, start,
    inject: (from) => [model(deviceId, make)(from)],
    expected: { alarms: [{ ruleId, deviceId, withinMs }] },
    ...extra,
  };
}

export const SCENARIOS: readonly Scenario[] = [
  one('leak-A-03-0502', 'A running toilet in A-03-0502: 15 L/h day and night', 'WM-A-03-0502', { building: 'A-03' }, { afterMs: 0, at: { hour: 0 } },
    (from) => addToRegister(from, 'volume_m3', 0.015), 'water-meter.continuous-flow', 25 * HOUR),
  {
    // The hour from 10:00 is judged once the inlet has reported 30 min past its end: by 11:45.
    id: 'pipe-burst-A', description: 'A main bursts between plot A\'s inlet meter and its households: the inlet passes 20 m³/h more than they use',
    devices: ['WM-A-INLET'], scope: { plot: 'A', kind: 'water-meter' }, start: { afterMs: 0, at: { hour: 10 } },
    inject: (from) => [model('WM-A-INLET', (f) => addToRegister(f, 'volume_m3', 20))(from)],
    expected: { alarms: [{ ruleId: 'water-meter.water-balance', deviceId: 'WM-A-INLET', withinMs: 2 * HOUR }], observeMs: 3 * HOUR },
  },
  // Too small for the water balance (3 m³ an hour), plain in the night minimum; judged after the 04:00 reading.
  one('night-flow-B', 'A joint of plot B\'s buried main starts leaking 1.5 m³/h at midnight, between the inlet meter and the homes', 'WM-B-INLET', { plot: 'B', kind: 'water-meter' }, { afterMs: 0, at: { hour: 0 } },
    (from) => addToRegister(from, 'volume_m3', 1.5), 'water-meter.night-flow', 4.5 * HOUR, { warmupMs: 3 * DAY }),
  one('use-above-baseline-A-10-0803', 'The flexible hose under the kitchen sink of A-10-0803 splits while nobody is home: 0.6 m³/h', 'WM-A-10-0803', { building: 'A-10', kind: 'water-meter' }, { afterMs: 0, at: { hour: 14 } },
    (from) => addToRegister(from, 'volume_m3', 0.6), 'water-meter.use-above-baseline', 90 * MINUTE, { warmupMs: 3 * DAY + HOUR }),
  one('meter-tamper-A-05-0301', 'The water meter of A-05-0301 is turned round: its register runs backwards', 'WM-A-05-0301', { building: 'A-05' }, { afterMs: 0, at: { hour: 8 } },
    (from) => reverseRegister(from, 'volume_m3'), 'water-meter.reverse', 30 * MINUTE),
  one('meter-stuck-zero-A-07-0201', 'The water meter of A-07-0201 sticks: its register stops, the home shows zero use', 'WM-A-07-0201', { building: 'A-07', kind: 'water-meter' }, { afterMs: 0, at: { hour: 0 } },
    (from) => freezeRegister(from, 'volume_m3'), 'water-meter.no-use', 3 * DAY + 30 * MINUTE),
  one('meter-jump-A-09-0401', 'The register of A-09-0401\'s water meter jumps by 40 m³ (corrupted memory)', 'WM-A-09-0401', { building: 'A-09' }, { afterMs: 0, at: { hour: 11 } },
    (from) => jumpRegister(from, 'volume_m3', 40), 'water-meter.jump', 30 * MINUTE),
  one('pump-dry-run-A', 'Plot A\'s duty pump loses its suction: it runs on at 1.1 kW and delivers no pressure', 'BP-A-1', { plot: 'A', kind: 'booster-pump' }, { afterMs: 0, at: { hour: 9, onDuty: 'BP-A-1' } },
    (from) => setValues(from, { power_kw: 1.1, current_a: 1.9, pressure_mpa: 0.04 }), 'booster-pump.dry-run', 60_000),
  one('pump-overcurrent-B-1', 'Plot B\'s duty pump motor draws 48 A (a failing bearing or winding)', 'BP-B-1', { plot: 'B', kind: 'booster-pump' }, { afterMs: 0, at: { hour: 9, onDuty: 'BP-B-1' } },
    (from) => setValues(from, { current_a: 48 }), 'booster-pump.overcurrent', 40_000),
  {
    // The trend warns first; past 7.1 mm/s the limit's alarm takes over and the trend's returns to normal.
    id: 'pump-vibration-C-1', description: 'Plot C\'s duty pump vibration rises 3 mm/s an hour (bearing wear) towards 9 mm/s',
    devices: ['BP-C-1'], scope: { plot: 'C', kind: 'booster-pump' }, start: { afterMs: 0, at: { hour: 9, onDuty: 'BP-C-1' } },
    inject: (from) => [model('BP-C-1', (f) => drift(f, 'vibration_mms', 3, 9, 2))(from)],
    expected: {
      alarms: [
        { ruleId: 'booster-pump.vibration-rising', deviceId: 'BP-C-1', withinMs: 45 * MINUTE },
        { ruleId: 'pump.vibration-high', deviceId: 'BP-C-1', withinMs: 2 * HOUR },
      ],
    },
  },
  one('pump-vibration-rising-B-1', 'Plot B\'s duty pump vibration creeps up 1.5 mm/s an hour and settles at 5 mm/s, still under the 7.1 mm/s limit', 'BP-B-1', { plot: 'B', kind: 'booster-pump' }, { afterMs: 0, at: { hour: 9, onDuty: 'BP-B-1' } },
    (from) => drift(from, 'vibration_mms', 1.5, 5, 2), 'booster-pump.vibration-rising', HOUR, { expected: { alarms: [{ ruleId: 'booster-pump.vibration-rising', deviceId: 'BP-B-1', withinMs: HOUR }], observeMs: 3 * HOUR } }),
  one('pressure-loss-A', 'The duty pump of plot A runs normally but its outlet holds only 0.18 MPa (burst riser or open bypass)', 'BP-A-1', { plot: 'A', kind: 'booster-pump' }, { afterMs: 0, at: { hour: 10, onDuty: 'BP-A-1' } },
    (from) => setValues(from, { pressure_mpa: 0.18 }), 'booster-pump.pressure-low', 90_000),
  {
    id: 'duty-fails-standby-idle-A', description: 'Plot A\'s duty pump trips at night and the standby pump does not start: the header falls to mains pressure',
    devices: ['BP-A-1', 'BP-A-3'], scope: { plot: 'A', kind: 'booster-pump' }, start: { afterMs: 0, at: { hour: 3, onDuty: 'BP-A-1' } },
    inject: (from) => [
      { type: 'fault', deviceId: 'BP-A-1', fault: setValues(from, { running: false, power_kw: 0, current_a: 0, vibration_mms: 0.1, pressure_mpa: 0.12 }) },
      { type: 'fault', deviceId: 'BP-A-2', fault: setValues(from, { pressure_mpa: 0.12 }) },
      { type: 'fault', deviceId: 'BP-A-3', fault: setValues(from, { pressure_mpa: 0.12 }) },
    ],
    expected: { alarms: [{ ruleId: 'booster-pump.standby-not-started', deviceId: 'BP-A-3', withinMs: 60_000 }] },
  },
  one('elevator-entrapment-B-02-1', 'Elevator B-02-1 stops between floors with its doors shut and two people inside', 'EL-B-02-1', { building: 'B-02' }, { afterMs: 0, at: { hour: 8 } },
    (from) => entrapment(from, 140), 'elevator.entrapment', 45_000),
  one('elevator-door-fault-A-12-2', 'Elevator A-12-2\'s door reopens four times on every stop (a dirty sill or a weak door operator)', 'EL-A-12-2', { building: 'A-12' }, { afterMs: 0, at: { hour: 7 } },
    (from) => doorReopening(from, 4), 'elevator.door-cycles', 2 * HOUR),
  {
    id: 'elevator-offline-C-03-1', description: 'Elevator C-03-1\'s controller loses its connection (the broker publishes its last will)',
    devices: ['EL-C-03-1'], scope: { building: 'C-03' }, start: { afterMs: 0, at: { hour: 14 } },
    inject: (from) => [{ type: 'silent', deviceId: 'EL-C-03-1', from, offline: true }],
    expected: { alarms: [{ ruleId: 'device.offline', deviceId: 'EL-C-03-1', withinMs: 10_000 }] },
  },
  one('generator-fails-test', 'On its weekly test the generator cranks three times and never runs', 'GEN-1', { kind: 'generator' }, { afterMs: 0, at: { weekday: 2, hour: 10 } },
    (from) => generatorFailsToStart(from), 'generator.fail-to-start', 60_000),
  one('generator-low-fuel', 'The generator\'s tank leaks: fuel falls 5 % an hour', 'GEN-1', { kind: 'generator' }, { afterMs: 0, at: { weekday: 3, hour: 0 } },
    (from) => drift(from, 'fuel_pct', -5, 20, 1), 'generator.fuel-low', 12 * HOUR),
  one('generator-low-battery', 'The generator\'s battery charger fails: the starting battery sags 0.5 V an hour', 'GEN-1', { kind: 'generator' }, { afterMs: 0, at: { weekday: 3, hour: 0 } },
    (from) => drift(from, 'battery_v', -0.5, 21.5, 2), 'generator.battery-low', 9 * HOUR),
  one('generator-test-missed', 'Nobody runs the generator\'s weekly Tuesday test', 'GEN-1', { kind: 'generator' }, { afterMs: 0, at: { weekday: 2, hour: 9 } },
    (from) => testSkipped(from), 'generator.test-missed', 26 * HOUR, { warmupMs: 7 * DAY, judgeIntervalsS: { generator: 60 } }),
  one('fire-pump-test-missed', 'Nobody runs the diesel fire pump\'s weekly Monday test', 'FP-DIESEL', { kind: 'fire-pump' }, { afterMs: 0, at: { weekday: 1, hour: 8 } },
    (from) => testSkipped(from), 'fire-pump.weekly-test-missed', 26 * HOUR, { warmupMs: 7 * DAY, judgeIntervalsS: { 'fire-pump': 60 } }),
  one('jockey-short-cycling', 'A leak in the fire main makes the jockey pump start every 6 minutes', 'FP-JOCKEY', { kind: 'fire-pump' }, { afterMs: 0, at: { hour: 13 } },
    (from) => shortCycling(from, 6 * MINUTE, MINUTE), 'fire-pump.jockey-short-cycling', 50 * MINUTE),
  one('hydrant-low-A-04', 'A valve upstream of hydrant A-04 is closed: its pressure sinks 0.15 MPa an hour', 'HY-A-04', { kind: 'hydrant' }, { afterMs: 0, at: { hour: 9 } },
    (from) => drift(from, 'pressure_mpa', -0.15, 0.05, 3), 'hydrant.pressure-low', 150 * MINUTE),
  one('hydrant-high-B-02', 'The pressure-reducing valve before hydrant B-02 fails open: 0.4 MPa an hour up to 1.15 MPa', 'HY-B-02', { kind: 'hydrant' }, { afterMs: 0, at: { hour: 9 } },
    (from) => drift(from, 'pressure_mpa', 0.4, 1.15, 3), 'hydrant.pressure-high', 2 * HOUR),
  one('hydrant-freeze-C-01', 'A cold snap chills the riser of hydrant C-01 by 2 °C an hour', 'HY-C-01', { kind: 'hydrant' }, { afterMs: 0, at: { hour: 0 } },
    (from) => drift(from, 'temp_c', -2, 0.5, 1), 'hydrant.freeze-risk', 270 * MINUTE),
  one('street-light-lamp-failure-SL-A-010', 'The lamp of street light SL-A-010 fails: switched on at night, it draws nothing', 'SL-A-010', { kind: 'street-light', plot: 'A' }, { afterMs: 0, at: { hour: 21 } },
    (from) => setValues(from, { power_w: 0 }), 'street-light.lamp-failure', 25 * MINUTE),
  one('street-light-day-burning-SL-B-005', 'The controller of street light SL-B-005 sticks on: it burns all day', 'SL-B-005', { kind: 'street-light', plot: 'B' }, { afterMs: 0, at: { hour: 10 } },
    (from) => setValues(from, { on: true, power_w: 99.5 }), 'street-light.day-burning', 40 * MINUTE),
  one('stair-light-circuit-A-06-2', 'The breaker of stairwell 2 in A-06 trips: the circuit is dead', 'ST-A-06-2', { building: 'A-06' }, { afterMs: 0, at: { hour: 19 } },
    (from) => setValues(from, { circuit_ok: false, power_w: 0 }), 'stair-light.circuit-dead', 15 * MINUTE),
  {
    id: 'feeder-outage-A-F1', description: 'Feeder 1 of substation SS-A trips: buildings A-01…A-08 lose power; their lifts, stair lights and meters go offline or silent, the generator starts and carries the fire lifts (the first lift of each building)',
    devices: ['SS-A'], scope: { plot: 'A' }, start: { afterMs: 0, at: { hour: 10 } },
    inject: (from) => [{ type: 'feeder-outage', feederId: 'SS-A/F1', from }],
    expected: { alarms: [{ ruleId: 'substation.feeder-outage-1', deviceId: 'SS-A', withinMs: 20_000 }], suppressesOthers: true, observeMs: HOUR },
  },
  {
    id: 'device-silent-HY-C-02', description: 'Hydrant C-02\'s sensor stops sending (flat battery, no last will)',
    devices: ['HY-C-02'], scope: { kind: 'hydrant' }, start: { afterMs: 0, at: { hour: 12 } },
    inject: (from) => [{ type: 'silent', deviceId: 'HY-C-02', from, offline: false }],
    expected: { alarms: [{ ruleId: 'device.silent', deviceId: 'HY-C-02', withinMs: 16 * MINUTE }] },
  },
  {
    id: 'chattering-EL-A-15-1', description: 'A loose contact makes elevator A-15-1 report fault 7 on every other message',
    devices: ['EL-A-15-1'], scope: { building: 'A-15' }, start: { afterMs: 0, at: { hour: 15 } },
    inject: (from) => [model('EL-A-15-1', (f) => chatter(f, 'fault_code', [7, 0]))(from)],
    expected: { alarms: [{ ruleId: 'elevator.fault', deviceId: 'EL-A-15-1', withinMs: 30_000, chattering: true }], observeMs: 10 * MINUTE },
  },
  {
    id: 'out-of-order-duplicates', description: 'Building B-01\'s messages arrive late, out of order and twice (a flaky concentrator link)',
    devices: ['B-01'], scope: { building: 'B-01' }, start: { afterMs: 0, at: { hour: 7 } },
    inject: (from) => [{ type: 'reorder-duplicate', building: 'B-01', from }],
    expected: { alarms: [], observeMs: 2 * HOUR },
  },
  {
    id: 'malformed-payloads', description: 'Hydrant A-05\'s firmware update goes wrong: between good reports it sends broken JSON, wrong types, unknown metrics, impossible values, bad timestamps and a garbled status',
    devices: ['HY-A-05'], scope: { kind: 'hydrant' }, start: { afterMs: 0, at: { hour: 9 } },
    inject: (from) => [{ type: 'malformed', deviceId: 'HY-A-05', from }],
    expected: {
      alarms: [], observeMs: HOUR,
      deadLetters: ['not-json', 'bad-envelope', 'wrong-type', 'unknown-metric', 'out-of-range', 'bad-timestamp', 'future-timestamp', 'bad-status'],
    },
  },
];

export function findScenario(id: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.id === id);
}

/** The fault's start for a run beginning at `runStartMs`. */
export function scenarioStartMs(scenario: Scenario, runStartMs: number, env: SimEnv): number {
  const earliest = runStartMs + scenario.start.afterMs;
  const at = scenario.start.at;
  if (at === undefined) return earliest;
  const pump = at.onDuty === undefined ? undefined : env.site.devices.find((d) => d.id === at.onDuty && d.kind === 'booster-pump');
  if (at.onDuty !== undefined && pump === undefined) throw new SimError('SIM_BAD_OPTION', `scenario ${scenario.id}: ${at.onDuty} is not a booster pump of site ${env.site.id}`);
  const first = env.local(earliest);
  // A weekday comes round in 7 days, a pump's duty in 3: both within 22.
  for (let day = 0; day < 22; day++) {
    const candidate = first.midnightMs + day * DAY + at.hour * HOUR;
    const lt = env.local(candidate);
    if (candidate >= earliest && (at.weekday === undefined || lt.weekday === at.weekday) && (pump === undefined || boosterRoleAt(pump, env, candidate) === 'duty')) return candidate;
  }
  throw new SimError('SIM_BAD_OPTION', `scenario ${scenario.id}: weekday ${String(at.weekday)} is not 0…6`);
}

/** How long a scenario must be watched after its start. */
export function observeMs(scenario: Scenario): number {
  return Math.max(scenario.expected.observeMs ?? 0, ...scenario.expected.alarms.map((a) => a.withinMs));
}

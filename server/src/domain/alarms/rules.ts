/**
 * Alarm rules as data: which devices a rule watches, how it detects its
 * condition, how urgent it is and what kind of ticket it calls for.
 * The detector functions live in detectors.ts; the engine picks the rules
 * that apply to a device by kind (and role, where one kind covers devices of
 * very different size, such as the three fire pumps).
 *
 * Detectors that learn a baseline (night flow, own hourly baseline) keep it
 * in their state and stay silent until they have learned enough. Hours and
 * nights are the site's local time (local-clock.ts).
 */
import { DEVICE_KINDS, type DeviceKind } from '../../catalogue/kinds.ts';
import type { Device, DeviceRole } from '../../catalogue/types.ts';
import type { MetricValue } from '../../contract.ts';

/** 1 = critical (people at risk) … 4 = low. */
export type Priority = 1 | 2 | 3 | 4;
export type TicketKind = 'patrol' | 'maintenance' | 'emergency';
export interface Text { readonly en: string; readonly zh: string }

export type Comparison = 'gt' | 'ge' | 'lt' | 'le';

/** One clause of a condition: a metric compared with a value, or the lighting schedule at the reading's time. */
export type Predicate =
  | { readonly metric: string; readonly op: Comparison | 'eq' | 'ne'; readonly value: MetricValue }
  | { readonly schedule: 'night' | 'day' };

/**
 * Abnormal when `value op limit` (gt: value > limit, ge: value ≥ limit, …).
 * It returns to normal only once the value is back on the normal side by the
 * deadband; in between (inside the deadband) the condition holds its state.
 * On-delay: abnormal for at least onDelayMs of event time before it becomes
 * active; off-delay: normal for at least offDelayMs before it clears.
 */
export interface ThresholdDetector {
  readonly type: 'threshold';
  readonly metric: string;
  readonly op: Comparison;
  readonly limit: number;
  readonly deadband: number;
  readonly onDelayMs: number;
  readonly offDelayMs: number;
}

/**
 * Abnormal while every predicate holds; metrics missing from a reading keep
 * their last known value. `steady` metrics must not change during the
 * abnormal run: a change restarts the on-delay (and clears an active
 * condition), e.g. an elevator that changes floor is moving, not stuck.
 * `report` names the metric whose value the alarm shows.
 */
export interface ConditionDetector {
  readonly type: 'condition';
  readonly all: readonly Predicate[];
  readonly steady?: readonly string[];
  readonly report?: string;
  readonly onDelayMs: number;
  readonly offDelayMs: number;
}

/** Change per minute between the oldest reading within `windowMs` and the newest, judged once they span `minSpanMs`. */
export interface RateOfChangeDetector {
  readonly type: 'rate-of-change';
  readonly metric: string;
  readonly direction: 'rise' | 'fall';
  readonly limitPerMinute: number;
  readonly windowMs: number;
  readonly minSpanMs: number;
}

/** Active when the value has stayed within `tolerance` of where it started for at least `windowMs`: a frozen sensor. */
export interface FlatLineDetector {
  readonly type: 'flat-line';
  readonly metric: string;
  readonly tolerance: number;
  readonly windowMs: number;
}

/** A cumulative register lower than the reading before it: tamper, meter swap or a reversed meter. */
export interface RegisterDecreaseDetector {
  readonly type: 'register-decrease';
  readonly metric: string;
}

/**
 * A cumulative register grown faster than physically plausible since the
 * reading before: more than maxPerHour × the elapsed time, where the elapsed
 * time counts as at least `minSpanMs` (so that two readings a second apart do
 * not turn one resolution step into an absurd rate).
 */
export interface RegisterJumpDetector {
  readonly type: 'register-jump';
  readonly metric: string;
  readonly maxPerHour: number;
  readonly minSpanMs: number;
}

/**
 * Growth of a cumulative register over the trailing `windowMs` above `max`
 * (starts per hour). With `per`, the growth is divided by the growth of a
 * second register and judged only once that one grew by at least `per.min`
 * (door cycles per trip).
 */
export interface RegisterIncreaseDetector {
  readonly type: 'register-increase';
  readonly metric: string;
  readonly windowMs: number;
  readonly max: number;
  readonly per?: { readonly metric: string; readonly min: number };
}

/**
 * Use in each of `buckets` consecutive time buckets of `bucketMs` (aligned to
 * the epoch, UTC), by event time: a leak never stops. Exempt devices (shops
 * with continuous use) never raise it.
 */
export interface ContinuousUseDetector {
  readonly type: 'continuous-use';
  readonly metric: string;
  readonly bucketMs: number;
  readonly buckets: number;
}

/** No growth of the register for at least `periodMs` in an occupied unit: a welfare check. */
export interface NoUseDetector {
  readonly type: 'no-use';
  readonly metric: string;
  readonly periodMs: number;
}

/** No growth of the register for at least `periodMs`: a scheduled test run that did not happen (run hours stand still). */
export interface RegisterStaleDetector {
  readonly type: 'register-stale';
  readonly metric: string;
  readonly periodMs: number;
}

/**
 * Minimum night flow of a plot's bulk inlet: the lowest flow between two
 * consecutive readings (no more than maxGapMs apart) whose midpoint lies in
 * [fromHour, toHour) local time. A night is judged once a reading is past
 * its window, if its readings covered at least minCoverage of the window.
 * Abnormal when the minimum exceeds factor × the median of the last `nights`
 * learned minima + marginPerHour; nothing is judged before `minNights` are
 * learned. A night found abnormal is not learned, so a leak that goes on
 * never becomes the baseline.
 */
export interface NightFlowDetector {
  readonly type: 'night-flow';
  readonly metric: string;
  readonly fromHour: number;
  readonly toHour: number;
  readonly nights: number;
  readonly minNights: number;
  readonly factor: number;
  /** In the register's unit per hour (m³/h). */
  readonly marginPerHour: number;
  readonly maxGapMs: number;
  readonly minCoverage: number;
}

/**
 * Use of a cumulative register in a closed local hour against the device's
 * own baseline for that hour of day: an exponentially weighted mean (weight
 * `alpha` for the newest day) per hour of day. Abnormal when the hour's use
 * exceeds factor × baseline + margin (the margin keeps quiet units, whose
 * baseline is near zero, from alarming on a single tap run). An hour of day
 * is judged only once it was learned on `minDays` days. What is learned is
 * capped at that limit, so a fault is not learned as normal in one day.
 * Use between readings is spread evenly over the time between them; a gap
 * longer than maxGapMs leaves the hours it spans unjudged and unlearned.
 */
export interface OwnBaselineDetector {
  readonly type: 'own-baseline';
  readonly metric: string;
  readonly factor: number;
  readonly margin: number;
  readonly alpha: number;
  readonly minDays: number;
  readonly maxGapMs: number;
}

/**
 * A value rising steadily: the least-squares slope of its bucketMs means
 * over the trailing windowMs, judged once there are minBuckets buckets
 * spanning minSpanMs. Abnormal when the slope is at least risePerHour and
 * the fitted value is still below `below` (above it the absolute limit's own
 * rule speaks); normal when the slope falls under clearPerHour or the fitted
 * value reaches `below`; in between it holds. With `while`, only readings
 * taken while that metric has that value count (a stopped pump's vibration
 * says nothing about its bearings).
 */
export interface TrendDetector {
  readonly type: 'trend';
  readonly metric: string;
  readonly while?: { readonly metric: string; readonly value: MetricValue };
  readonly windowMs: number;
  readonly bucketMs: number;
  readonly minBuckets: number;
  readonly minSpanMs: number;
  readonly risePerHour: number;
  readonly clearPerHour: number;
  readonly below: number;
}

/** Detectors judged on one device's readings, in event time (detectors.ts `evaluate`). */
export type ReadingDetector =
  | ThresholdDetector
  | ConditionDetector
  | RateOfChangeDetector
  | FlatLineDetector
  | RegisterDecreaseDetector
  | RegisterJumpDetector
  | RegisterIncreaseDetector
  | ContinuousUseDetector
  | NoUseDetector
  | RegisterStaleDetector
  | NightFlowDetector
  | OwnBaselineDetector
  | TrendDetector;

/** No message of any channel for more than max(factor × the kind's report interval, minMs) of wall-clock time. */
export interface SilenceDetector {
  readonly type: 'silence';
  readonly factor: number;
  readonly minMs: number;
}

/** The retained status (or last-will) says `offline`. */
export interface OfflineDetector {
  readonly type: 'offline';
}

/**
 * Judged across the devices of a feeder: at least `share` of its devices
 * that report at least every `maxIntervalS` seconds, and were heard from at
 * least once, are silent or offline, and there are at least `minDevices` of
 * them. Slow reporters (meters) would only delay the verdict, so they do not vote.
 */
export interface FeederLostDetector {
  readonly type: 'feeder-lost';
  readonly feeder: number;
  readonly share: number;
  readonly minDevices: number;
  readonly maxIntervalS: number;
}

/**
 * Judged across the water meters of a plot (water-balance.ts), on the plot's
 * bulk inlet: per closed local hour, the inlet's use minus the use of the
 * plot's meters of `consumerRoles`. Abnormal when that loss is at least
 * minLossPerHour and at least `share` of the inlet's use.
 *
 * Meters report every 15 min and may arrive late or in batches, so use is
 * attributed to hours by event time, and an hour is judged only once the
 * inlet has reported graceMs past its end. A meter counts for an hour only
 * if its readings cover the hour without a gap over maxGapMs. With fewer
 * than minCoverage of the plot's meters counting, the hour is not judged;
 * otherwise the missing meters are taken to use what the counted ones do on
 * average (their sum is scaled by all meters / counted meters).
 */
export interface WaterBalanceDetector {
  readonly type: 'water-balance';
  readonly metric: string;
  readonly consumerRoles: readonly DeviceRole[];
  readonly share: number;
  readonly minLossPerHour: number;
  readonly graceMs: number;
  readonly minCoverage: number;
  readonly maxGapMs: number;
}

/** Detectors that look across devices: feeder-lost on tick(), water-balance on the plot's water-meter readings. */
export type AggregateDetector = FeederLostDetector | WaterBalanceDetector;

export type Detector = ReadingDetector | SilenceDetector | OfflineDetector | AggregateDetector;

export interface Rule {
  readonly id: string;
  readonly kinds: readonly DeviceKind[];
  /** When present, only devices of these roles. */
  readonly roles?: readonly DeviceRole[];
  readonly priority: Priority;
  readonly ticket: TicketKind;
  readonly title: Text;
  readonly detector: Detector;
  /**
   * A root-cause rule of a substation: while its alarm is active, feeder n of
   * that substation is out, and the alarms of every device on it are
   * suppressed and linked to it. When two root-cause alarms of one feeder are
   * active, the one whose rule comes first in the list is the root.
   */
  readonly outageOfFeeder?: number;
}

export type ReadingRule = Rule & { readonly detector: ReadingDetector };

const READING_DETECTORS: ReadonlySet<Detector['type']> = new Set<ReadingDetector['type']>([
  'threshold', 'condition', 'rate-of-change', 'flat-line', 'register-decrease', 'register-jump',
  'register-increase', 'continuous-use', 'no-use', 'register-stale', 'night-flow', 'own-baseline', 'trend',
]);

export function isReadingRule(rule: Rule): rule is ReadingRule {
  return READING_DETECTORS.has(rule.detector.type);
}

export function appliesTo(rule: Rule, device: Pick<Device, 'kind' | 'role'>): boolean {
  return rule.kinds.includes(device.kind) && (rule.roles === undefined || rule.roles.includes(device.role));
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function threshold(metric: string, op: Comparison, limit: number, options: { deadband?: number; onDelayMs?: number; offDelayMs?: number } = {}): ThresholdDetector {
  return { type: 'threshold', metric, op, limit, deadband: options.deadband ?? 0, onDelayMs: options.onDelayMs ?? 0, offDelayMs: options.offDelayMs ?? 0 };
}

function condition(all: readonly Predicate[], options: { steady?: readonly string[]; report?: string; onDelayMs?: number; offDelayMs?: number } = {}): ConditionDetector {
  return { type: 'condition', all, ...options, onDelayMs: options.onDelayMs ?? 0, offDelayMs: options.offDelayMs ?? 0 };
}

/** Feeder numbers a substation can report (metrics feeder_1 … feeder_8, catalogue/kinds.ts). */
const FEEDER_NUMBERS = [1, 2, 3, 4, 5, 6, 7, 8] as const;

const feederRules: Rule[] = FEEDER_NUMBERS.flatMap((n): Rule[] => [
  {
    id: `substation.feeder-outage-${n}`, kinds: ['substation'], priority: 1, ticket: 'maintenance', outageOfFeeder: n,
    title: { en: `Feeder ${n} outage: everything it supplies is without power`, zh: `${n}号馈线停电：其供电范围全部失电` },
    detector: condition([{ metric: `feeder_${n}`, op: 'eq', value: false }], { report: `feeder_${n}` }),
  },
  {
    id: `substation.feeder-lost-${n}`, kinds: ['substation'], priority: 2, ticket: 'maintenance', outageOfFeeder: n,
    title: { en: `Feeder ${n}: most of its devices went silent together (outage suspected)`, zh: `${n}号馈线：所带设备大面积同时失联（疑似停电）` },
    detector: { type: 'feeder-lost', feeder: n, share: 0.5, minDevices: 3, maxIntervalS: 300 },
  },
]);

export const RULES: readonly Rule[] = [
  // Root causes first: their order decides which of two active ones is the root.
  ...feederRules,
  {
    id: 'device.silent', kinds: DEVICE_KINDS, priority: 3, ticket: 'maintenance',
    title: { en: 'Device silent: no message for three report intervals', zh: '设备无数据：超过三个上报周期未收到消息' },
    detector: { type: 'silence', factor: 3, minMs: MINUTE },
  },
  {
    id: 'device.offline', kinds: DEVICE_KINDS, priority: 3, ticket: 'maintenance',
    title: { en: 'Device offline', zh: '设备离线' },
    detector: { type: 'offline' },
  },

  // Booster pumps
  {
    id: 'booster-pump.dry-run', kinds: ['booster-pump'], priority: 2, ticket: 'maintenance',
    title: { en: 'Booster pump running dry: low power and low pressure while running', zh: '生活水泵干转：运行中功率与出口压力均过低' },
    detector: condition([
      { metric: 'running', op: 'eq', value: true },
      { metric: 'power_kw', op: 'lt', value: 2 },
      { metric: 'pressure_mpa', op: 'lt', value: 0.15 },
    ], { report: 'pressure_mpa', onDelayMs: 30 * SECOND, offDelayMs: 30 * SECOND }),
  },
  {
    // Every pump's outlet sensor sees the header: the standby idle while it sags means the changeover failed.
    id: 'booster-pump.standby-not-started', kinds: ['booster-pump'], roles: ['standby'], priority: 2, ticket: 'maintenance',
    title: { en: 'Booster pumps: header pressure lost and the standby pump did not start', zh: '生活水泵：管网压力丢失而备用泵未启动' },
    detector: condition([
      { metric: 'running', op: 'eq', value: false },
      { metric: 'pressure_mpa', op: 'lt', value: 0.25 },
    ], { report: 'pressure_mpa', onDelayMs: 30 * SECOND, offDelayMs: 30 * SECOND }),
  },
  {
    // Power normal distinguishes a burst main or a closed valve from running dry.
    id: 'booster-pump.pressure-low', kinds: ['booster-pump'], priority: 3, ticket: 'maintenance',
    title: { en: 'Booster pump outlet pressure low while running', zh: '生活水泵运行中出口压力低' },
    detector: condition([
      { metric: 'running', op: 'eq', value: true },
      { metric: 'power_kw', op: 'ge', value: 2 },
      { metric: 'pressure_mpa', op: 'lt', value: 0.25 },
    ], { report: 'pressure_mpa', onDelayMs: MINUTE, offDelayMs: 30 * SECOND }),
  },
  {
    id: 'booster-pump.overcurrent', kinds: ['booster-pump'], priority: 2, ticket: 'maintenance',
    title: { en: 'Booster pump overcurrent', zh: '生活水泵过流' },
    detector: threshold('current_a', 'gt', 40, { deadband: 2, onDelayMs: 10 * SECOND, offDelayMs: 30 * SECOND }),
  },
  {
    id: 'booster-pump.starts-per-hour', kinds: ['booster-pump'], priority: 3, ticket: 'maintenance',
    title: { en: 'Booster pump starting too often (more than 12 starts an hour)', zh: '生活水泵启动过于频繁（每小时超过12次）' },
    detector: { type: 'register-increase', metric: 'starts', windowMs: HOUR, max: 12 },
  },
  {
    // ISO 10816-3, medium machines on rigid foundations: 7.1 mm/s is the zone C/D boundary.
    id: 'pump.vibration-high', kinds: ['booster-pump', 'fire-pump'], priority: 3, ticket: 'maintenance',
    title: { en: 'Pump vibration above limit', zh: '水泵振动超限' },
    detector: threshold('vibration_mms', 'gt', 7.1, { deadband: 0.5, onDelayMs: MINUTE, offDelayMs: MINUTE }),
  },
  {
    // Bearing wear shows as a steady rise long before the limit. A healthy pump's 5-min means wander by
    // hundredths of a mm/s. Booster pumps only: fire pumps run minutes at a time, too short for a trend.
    id: 'booster-pump.vibration-rising', kinds: ['booster-pump'], priority: 4, ticket: 'maintenance',
    title: { en: 'Booster pump vibration rising steadily (still below the limit)', zh: '生活水泵振动持续上升（尚未超限）' },
    detector: {
      type: 'trend', metric: 'vibration_mms', while: { metric: 'running', value: true }, windowMs: HOUR, bucketMs: 5 * MINUTE,
      minBuckets: 6, minSpanMs: 30 * MINUTE, risePerHour: 1, clearPerHour: 0.5, below: 7.1,
    },
  },

  // Fire pumps (one electric, one jockey, one diesel)
  {
    id: 'fire-pump.dry-run', kinds: ['fire-pump'], roles: ['electric'], priority: 1, ticket: 'emergency',
    title: { en: 'Electric fire pump running without delivering water', zh: '电动消防泵运行但不出水' },
    detector: condition([
      { metric: 'running', op: 'eq', value: true },
      { metric: 'power_kw', op: 'lt', value: 10 },
      { metric: 'pressure_mpa', op: 'lt', value: 0.2 },
    ], { report: 'pressure_mpa', onDelayMs: 20 * SECOND, offDelayMs: 30 * SECOND }),
  },
  {
    id: 'fire-pump.overcurrent', kinds: ['fire-pump'], roles: ['electric'], priority: 2, ticket: 'maintenance',
    title: { en: 'Electric fire pump overcurrent', zh: '电动消防泵过流' },
    detector: threshold('current_a', 'gt', 150, { deadband: 5, onDelayMs: 10 * SECOND, offDelayMs: 30 * SECOND }),
  },
  {
    // 2/3 of the 24 V nominal (NFPA 25 battery check); cranking dips are shorter than the on-delay.
    id: 'fire-pump.battery-low', kinds: ['fire-pump'], roles: ['diesel'], priority: 2, ticket: 'maintenance',
    title: { en: 'Diesel fire pump battery at or below 2/3 of nominal (16 V)', zh: '柴油消防泵电池电压不高于额定值的2/3（16 V）' },
    detector: threshold('battery_v', 'le', 16, { deadband: 0.5, onDelayMs: MINUTE }),
  },
  {
    id: 'fire-pump.fuel-low', kinds: ['fire-pump'], roles: ['diesel'], priority: 3, ticket: 'maintenance',
    title: { en: 'Diesel fire pump fuel below two thirds', zh: '柴油消防泵燃油低于三分之二' },
    detector: threshold('fuel_pct', 'lt', 66, { deadband: 1, onDelayMs: 5 * MINUTE }),
  },
  {
    // NFPA 25: the diesel pump runs 30 min every week; a day's grace before the test counts as missed.
    id: 'fire-pump.weekly-test-missed', kinds: ['fire-pump'], roles: ['diesel'], priority: 2, ticket: 'maintenance',
    title: { en: 'Diesel fire pump weekly test run missed', zh: '柴油消防泵未进行每周试运行' },
    detector: { type: 'register-stale', metric: 'run_hours', periodMs: 8 * DAY },
  },
  {
    // NFPA 25: the electric pump runs monthly; first Mondays can be five weeks apart, plus a day's grace.
    id: 'fire-pump.monthly-test-missed', kinds: ['fire-pump'], roles: ['electric'], priority: 2, ticket: 'maintenance',
    title: { en: 'Electric fire pump monthly test run missed', zh: '电动消防泵未进行每月试运行' },
    detector: { type: 'register-stale', metric: 'run_hours', periodMs: 36 * DAY },
  },
  {
    id: 'fire-pump.jockey-short-cycling', kinds: ['fire-pump'], roles: ['jockey'], priority: 3, ticket: 'maintenance',
    title: { en: 'Jockey pump short-cycling (more than 6 starts an hour): leak in the fire main suspected', zh: '稳压泵频繁启停（每小时超过6次）：疑似消防管网泄漏' },
    detector: { type: 'register-increase', metric: 'starts', windowMs: HOUR, max: 6 },
  },

  // Elevators
  {
    id: 'elevator.entrapment', kinds: ['elevator'], priority: 1, ticket: 'emergency',
    title: { en: 'Elevator entrapment: stopped between floors, doors closed, passengers inside', zh: '电梯困人：停在平层外、门关闭、轿厢有人' },
    detector: condition([
      { metric: 'between_floors', op: 'eq', value: true },
      { metric: 'door', op: 'eq', value: 'closed' },
      { metric: 'load_kg', op: 'gt', value: 15 },
    // Floor and trip count steady: seen between floors twice with a trip completed in between, it was moving, not stuck.
    ], { steady: ['floor', 'trips'], report: 'load_kg', onDelayMs: 30 * SECOND }),
  },
  {
    id: 'elevator.door-cycles', kinds: ['elevator'], priority: 4, ticket: 'maintenance',
    title: { en: 'Elevator door reopening too often (more than 3 door cycles per trip)', zh: '电梯门反复开关（每次运行超过3次）' },
    detector: { type: 'register-increase', metric: 'door_cycles', windowMs: HOUR, max: 3, per: { metric: 'trips', min: 5 } },
  },
  {
    id: 'elevator.fault', kinds: ['elevator'], priority: 2, ticket: 'maintenance',
    title: { en: 'Elevator controller reports a fault code', zh: '电梯控制器报故障码' },
    detector: condition([{ metric: 'fault_code', op: 'ne', value: 0 }], { report: 'fault_code' }),
  },

  // Generator (NFPA 110 signals)
  {
    id: 'generator.fail-to-start', kinds: ['generator'], priority: 1, ticket: 'emergency',
    title: { en: 'Generator failed to start (cranking cycles exhausted)', zh: '发电机启动失败（盘车次数用尽）' },
    detector: condition([{ metric: 'state', op: 'eq', value: 'failed' }], { report: 'state' }),
  },
  {
    id: 'generator.fuel-low', kinds: ['generator'], priority: 2, ticket: 'maintenance',
    title: { en: 'Generator fuel low', zh: '发电机燃油不足' },
    detector: threshold('fuel_pct', 'lt', 40, { deadband: 2, onDelayMs: 5 * MINUTE }),
  },
  {
    id: 'generator.battery-low', kinds: ['generator'], priority: 2, ticket: 'maintenance',
    title: { en: 'Generator starting battery low', zh: '发电机启动电池电压低' },
    detector: threshold('battery_v', 'lt', 23, { deadband: 0.5, onDelayMs: 2 * MINUTE }),
  },

  {
    // NFPA 110: exercised weekly; a day's grace before the test counts as missed.
    id: 'generator.test-missed', kinds: ['generator'], priority: 3, ticket: 'maintenance',
    title: { en: 'Generator weekly test run missed', zh: '发电机未进行每周试运行' },
    detector: { type: 'register-stale', metric: 'run_hours', periodMs: 8 * DAY },
  },

  // Hydrants
  {
    id: 'hydrant.pressure-low', kinds: ['hydrant'], priority: 2, ticket: 'patrol',
    title: { en: 'Hydrant pressure below minimum (0.10 MPa)', zh: '消火栓压力低于最低值（0.10 MPa）' },
    detector: threshold('pressure_mpa', 'lt', 0.1, { deadband: 0.02, onDelayMs: 10 * MINUTE, offDelayMs: 10 * MINUTE }),
  },
  {
    id: 'hydrant.pressure-high', kinds: ['hydrant'], priority: 3, ticket: 'maintenance',
    title: { en: 'Hydrant pressure above 1.0 MPa', zh: '消火栓压力超过1.0 MPa' },
    detector: threshold('pressure_mpa', 'gt', 1.0, { deadband: 0.02, onDelayMs: 10 * MINUTE, offDelayMs: 10 * MINUTE }),
  },
  {
    id: 'hydrant.pressure-drop', kinds: ['hydrant'], priority: 2, ticket: 'patrol',
    title: { en: 'Hydrant pressure falling fast: opened without permission or a burst main', zh: '消火栓压力快速下降：疑似擅自开启或管网爆管' },
    detector: { type: 'rate-of-change', metric: 'pressure_mpa', direction: 'fall', limitPerMinute: 0.02, windowMs: 15 * MINUTE, minSpanMs: 5 * MINUTE },
  },
  {
    id: 'hydrant.freeze-risk', kinds: ['hydrant'], priority: 2, ticket: 'patrol',
    title: { en: 'Hydrant freeze risk (water at or below 2 °C)', zh: '消火栓冰冻风险（水温不高于2 °C）' },
    detector: threshold('temp_c', 'le', 2, { deadband: 1, onDelayMs: 10 * MINUTE }),
  },

  // Lights
  {
    id: 'street-light.lamp-failure', kinds: ['street-light'], priority: 4, ticket: 'patrol',
    title: { en: 'Street light out: scheduled on but drawing almost no power', zh: '路灯不亮：按计划应亮但几乎无功率' },
    detector: condition([{ schedule: 'night' }, { metric: 'power_w', op: 'lt', value: 5 }], { report: 'power_w', onDelayMs: 15 * MINUTE }),
  },
  {
    id: 'street-light.day-burning', kinds: ['street-light'], priority: 4, ticket: 'maintenance',
    title: { en: 'Street light on in daylight', zh: '路灯白天亮灯' },
    detector: condition([{ schedule: 'day' }, { metric: 'on', op: 'eq', value: true }], { report: 'power_w', onDelayMs: 30 * MINUTE }),
  },
  {
    id: 'stair-light.circuit-dead', kinds: ['stair-light'], priority: 3, ticket: 'maintenance',
    title: { en: 'Stair-light circuit dead', zh: '楼道灯回路故障' },
    detector: condition([{ metric: 'circuit_ok', op: 'eq', value: false }], { report: 'circuit_ok', onDelayMs: MINUTE }),
  },

  // Substations (380 V ± 10 % on the LV bus)
  {
    id: 'substation.voltage-low', kinds: ['substation'], priority: 2, ticket: 'maintenance',
    title: { en: 'LV bus voltage below band (342 V)', zh: '低压母线电压低于下限（342 V）' },
    detector: threshold('voltage_v', 'lt', 342, { deadband: 3, onDelayMs: 30 * SECOND, offDelayMs: 30 * SECOND }),
  },
  {
    id: 'substation.voltage-high', kinds: ['substation'], priority: 2, ticket: 'maintenance',
    title: { en: 'LV bus voltage above band (418 V)', zh: '低压母线电压高于上限（418 V）' },
    detector: threshold('voltage_v', 'gt', 418, { deadband: 3, onDelayMs: 30 * SECOND, offDelayMs: 30 * SECOND }),
  },
  {
    // The load of a whole plot never holds exactly still: a frozen value is a stuck transducer or RTU.
    id: 'substation.load-stuck', kinds: ['substation'], priority: 3, ticket: 'maintenance',
    title: { en: 'Substation load reading frozen for 30 minutes', zh: '变配电室负荷读数30分钟不变' },
    detector: { type: 'flat-line', metric: 'load_kw', tolerance: 0, windowMs: 30 * MINUTE },
  },

  // Meters
  {
    id: 'water-meter.reverse', kinds: ['water-meter'], priority: 3, ticket: 'patrol',
    title: { en: 'Water meter register went backwards (tamper suspected)', zh: '水表读数倒退（疑似被篡改）' },
    detector: { type: 'register-decrease', metric: 'volume_m3' },
  },
  {
    id: 'electric-meter.reverse', kinds: ['electric-meter'], priority: 3, ticket: 'patrol',
    title: { en: 'Electric meter register went backwards (tamper suspected)', zh: '电表读数倒退（疑似被篡改）' },
    detector: { type: 'register-decrease', metric: 'energy_kwh' },
  },
  {
    // 6 m³/h is above the overload flow of a DN20/DN25 household meter.
    id: 'water-meter.jump', kinds: ['water-meter'], roles: ['household', 'shop'], priority: 3, ticket: 'patrol',
    title: { en: 'Water meter jumped implausibly', zh: '水表读数异常跳变' },
    detector: { type: 'register-jump', metric: 'volume_m3', maxPerHour: 6, minSpanMs: 15 * MINUTE },
  },
  {
    id: 'electric-meter.jump', kinds: ['electric-meter'], roles: ['household', 'shop'], priority: 3, ticket: 'patrol',
    title: { en: 'Electric meter jumped implausibly', zh: '电表读数异常跳变' },
    detector: { type: 'register-jump', metric: 'energy_kwh', maxPerHour: 60, minSpanMs: 15 * MINUTE },
  },
  {
    // Every quarter-hour, not every hour: a household up at night (a flush at 02:00, another at 03:00) can fill
    // 24 hours one by one, but a home is quiet for at least one quarter-hour in a day; a leak never is.
    id: 'water-meter.continuous-flow', kinds: ['water-meter'], roles: ['household', 'shop'], priority: 3, ticket: 'patrol',
    title: { en: 'Water used in every quarter-hour for 24 hours: leak suspected', zh: '连续24小时每刻钟都有用水：疑似漏水' },
    detector: { type: 'continuous-use', metric: 'volume_m3', bucketMs: 15 * MINUTE, buckets: 96 },
  },
  {
    // A burst main between the inlet and the homes. The simulated estate loses 3 % plus 0.05 m³/h; a few
    // late or dead meters are estimated, and 3 m³ an hour is above what estimating them can get wrong.
    id: 'water-meter.water-balance', kinds: ['water-meter'], roles: ['plot-inlet'], priority: 2, ticket: 'maintenance',
    title: { en: 'Plot water balance: the inlet passes far more than the homes and shops use (burst main suspected)', zh: '地块水量不平衡：总表进水远大于住户与商铺用水（疑似爆管）' },
    detector: {
      type: 'water-balance', metric: 'volume_m3', consumerRoles: ['household', 'shop'], share: 0.15, minLossPerHour: 3,
      graceMs: 30 * MINUTE, minCoverage: 0.9, maxGapMs: HOUR,
    },
  },
  {
    // Minimum night flow: the classic leak indicator of a metered district. Normal nights stay within ±25 %
    // of the median; the margin keeps a small plot's few night users from counting as a leak.
    id: 'water-meter.night-flow', kinds: ['water-meter'], roles: ['plot-inlet'], priority: 3, ticket: 'patrol',
    title: { en: 'Plot night flow (02:00–04:00) far above its usual minimum: hidden leak suspected', zh: '地块夜间（02:00–04:00）最小流量远高于平常：疑似暗漏' },
    detector: {
      type: 'night-flow', metric: 'volume_m3', fromHour: 2, toHour: 4, nights: 7, minNights: 3, factor: 1.5, marginPerHour: 0.3,
      maxGapMs: HOUR, minCoverage: 0.5,
    },
  },
  {
    // The biggest home uses at most about 0.16 m³ in its busiest hour; 100 L above three times the usual is a burst hose.
    id: 'water-meter.use-above-baseline', kinds: ['water-meter'], roles: ['household', 'shop'], priority: 3, ticket: 'patrol',
    title: { en: 'Water use far above this unit\'s usual for the hour of day', zh: '用水量远高于该户同时段的平常水平' },
    detector: { type: 'own-baseline', metric: 'volume_m3', factor: 3, margin: 0.1, alpha: 0.3, minDays: 3, maxGapMs: HOUR },
  },
  {
    // 1.5 kWh above three times the usual: a heater or a kiln left on, or a fault drawing power.
    id: 'electric-meter.use-above-baseline', kinds: ['electric-meter'], roles: ['household', 'shop'], priority: 4, ticket: 'patrol',
    title: { en: 'Electricity use far above this unit\'s usual for the hour of day', zh: '用电量远高于该户同时段的平常水平' },
    detector: { type: 'own-baseline', metric: 'energy_kwh', factor: 3, margin: 1.5, alpha: 0.3, minDays: 3, maxGapMs: HOUR },
  },
  {
    id: 'water-meter.no-use', kinds: ['water-meter'], roles: ['household'], priority: 4, ticket: 'patrol',
    title: { en: 'No water used for 3 days in an occupied home: welfare check', zh: '有人居住的住户3天无用水：上门关怀' },
    detector: { type: 'no-use', metric: 'volume_m3', periodMs: 3 * DAY },
  },
];

/**
 * The alarm lifecycle of ISA-18.2 / IEC 62682, as pure functions of
 * (alarm, input, time) → (alarm, effects). Alarms are immutable values.
 *
 *   state       condition  acknowledged
 *   normal      clear      yes (or never raised)
 *   unack       active     no
 *   ack         active     yes
 *   rtn-unack   clear      no   (returned before anyone acknowledged it)
 *
 * Orthogonal to the state, three flags take an alarm off the operator's
 * screen while it keeps tracking its condition: shelved (by an operator, for
 * at most 24 h), suppressedBy (by design: the id of the root-cause alarm,
 * e.g. the feeder outage that cut this device's power) and outOfService
 * (a maintenance ticket for the device is open).
 *
 * Times: condition changes carry the time of what caused them (a reading's
 * event time, or the wall clock for silence and status); operator actions and
 * shelve expiry carry the wall clock.
 */
import type { DeviceKind } from '../../catalogue/kinds.ts';
import type { MetricValue } from '../../contract.ts';
import type { Priority, Text, TicketKind } from './rules.ts';

export type AlarmState = 'normal' | 'unack' | 'ack' | 'rtn-unack';

/**
 * Chattering: an activation at t that makes 3 or more activations within
 * (t − 60 s, t] flags the alarm `chattering`. The flag stays until a
 * condition input finds no activation at all in its trailing 60 s.
 *
 * Rate limit: while an alarm is chattering, an activation is annunciated
 * only if at least 60 s have passed since the last annunciated activation of
 * the same alarm. The others still update the alarm (state, count, value,
 * lastActiveAt) and produce 'alarm-raised' with `annunciated: false`: stored
 * and counted, but no new sound or blink, so a chattering alarm announces
 * itself at most once a minute.
 */
export const CHATTER = { windowMs: 60_000, activations: 3 } as const;

/** ISA-18.2 shelving is time-limited; a shift is the longest an operator may hide an alarm. */
export const MAX_SHELVE_MS = 24 * 3_600_000;

/** What the alarm is about: fixed when it is created. */
export interface AlarmSubject {
  readonly deviceId: string;
  readonly ruleId: string;
  readonly kind: DeviceKind;
  readonly plotId: string;
  readonly buildingId: string | null;
  readonly priority: Priority;
  readonly ticket: TicketKind;
  readonly title: Text;
}

export interface Acknowledgement { readonly by: string; readonly at: number; readonly comment: string }
export interface Shelving { readonly by: string; readonly at: number; readonly until: number; readonly reason: string }

export interface Alarm extends AlarmSubject {
  /** One alarm per (device, rule), for good: `${deviceId}:${ruleId}`. */
  readonly id: string;
  readonly state: AlarmState;
  readonly value: MetricValue | null;
  readonly message: string | null;
  /** Activations so far. */
  readonly count: number;
  readonly firstActiveAt: number | null;
  readonly lastActiveAt: number | null;
  readonly lastClearedAt: number | null;
  readonly acknowledged: Acknowledgement | null;
  readonly shelved: Shelving | null;
  readonly suppressedBy: string | null;
  readonly outOfService: boolean;
  readonly chattering: boolean;
  /** Activation times within the chatter window of the newest condition input. */
  readonly recentActivations: readonly number[];
  readonly lastAnnouncedAt: number | null;
}

export type AlarmEffect =
  | { readonly type: 'alarm-raised'; readonly at: number; readonly alarm: Alarm; readonly annunciated: boolean }
  | { readonly type: 'alarm-unshelved'; readonly at: number; readonly alarm: Alarm; readonly by: string; readonly expired: boolean }
  | {
    readonly type:
      | 'alarm-cleared' | 'alarm-acknowledged' | 'alarm-shelved' | 'alarm-updated'
      | 'alarm-suppressed' | 'alarm-unsuppressed' | 'alarm-out-of-service' | 'alarm-in-service';
    readonly at: number;
    readonly alarm: Alarm;
  };

export const ALARM_ERROR_CODES = [
  'ALARM_NOT_FOUND',
  'ALARM_NOT_ACTIVE',
  'ALARM_ALREADY_ACKNOWLEDGED',
  'ALARM_ALREADY_SHELVED',
  'ALARM_NOT_SHELVED',
  'OPERATOR_REQUIRED',
  'SHELVE_REASON_REQUIRED',
  'SHELVE_UNTIL_REQUIRED',
  'SHELVE_UNTIL_IN_PAST',
  'SHELVE_TOO_LONG',
] as const;
export type AlarmErrorCode = (typeof ALARM_ERROR_CODES)[number];
export interface AlarmError { readonly code: AlarmErrorCode; readonly message: string }

export interface Outcome { readonly alarm: Alarm; readonly effects: readonly AlarmEffect[] }
export type Transition = ({ readonly ok: true } & Outcome) | { readonly ok: false; readonly error: AlarmError };

export const alarmId = (deviceId: string, ruleId: string): string => `${deviceId}:${ruleId}`;

export function newAlarm(subject: AlarmSubject, flags: { suppressedBy?: string | null; outOfService?: boolean } = {}): Alarm {
  return {
    ...subject,
    id: alarmId(subject.deviceId, subject.ruleId),
    state: 'normal', value: null, message: null, count: 0,
    firstActiveAt: null, lastActiveAt: null, lastClearedAt: null,
    acknowledged: null, shelved: null,
    suppressedBy: flags.suppressedBy ?? null, outOfService: flags.outOfService ?? false,
    chattering: false, recentActivations: [], lastAnnouncedAt: null,
  };
}

export const isActive = (alarm: Alarm): boolean => alarm.state === 'unack' || alarm.state === 'ack';

/** On the operator's alarm list: not normal, and neither shelved, suppressed nor out of service. */
export function isAnnunciated(alarm: Alarm): boolean {
  return alarm.state !== 'normal' && alarm.shelved === null && alarm.suppressedBy === null && !alarm.outOfService;
}

const fail = (code: AlarmErrorCode, message: string): Transition => ({ ok: false, error: { code, message } });

/** Applies the detector's level. A continuing active condition updates value and message without an effect (no push per reading). */
export function applyCondition(alarm: Alarm, condition: 'active' | 'clear', at: number, detail: { value?: MetricValue; message?: string } = {}): Outcome {
  const recent = alarm.recentActivations.filter((t) => t > at - CHATTER.windowMs);

  if (condition === 'active' && !isActive(alarm)) {
    const activations = [...recent, at];
    const chattering = alarm.chattering || activations.length >= CHATTER.activations;
    const rateLimited = chattering && alarm.lastAnnouncedAt !== null && at - alarm.lastAnnouncedAt < CHATTER.windowMs;
    const annunciated = alarm.shelved === null && alarm.suppressedBy === null && !alarm.outOfService && !rateLimited;
    const next: Alarm = {
      ...alarm,
      state: 'unack', value: detail.value ?? null, message: detail.message ?? null,
      count: alarm.count + 1, firstActiveAt: alarm.firstActiveAt ?? at, lastActiveAt: at, acknowledged: null,
      chattering, recentActivations: activations, lastAnnouncedAt: annunciated ? at : alarm.lastAnnouncedAt,
    };
    return { alarm: next, effects: [{ type: 'alarm-raised', at, alarm: next, annunciated }] };
  }

  if (condition === 'clear' && isActive(alarm)) {
    // An activation that came and went while suppressed by design was never shown: nothing to acknowledge.
    const state: AlarmState = alarm.state === 'ack' || alarm.suppressedBy !== null ? 'normal' : 'rtn-unack';
    const next: Alarm = { ...alarm, state, lastClearedAt: at, recentActivations: recent, chattering: alarm.chattering && recent.length > 0 };
    return { alarm: next, effects: [{ type: 'alarm-cleared', at, alarm: next }] };
  }

  // No transition: keep the newest value while active; let the chattering flag drop once the window has passed.
  const chattering = alarm.chattering && recent.length > 0;
  const next: Alarm = {
    ...alarm, recentActivations: recent, chattering,
    ...(condition === 'active' && { value: detail.value ?? alarm.value, message: detail.message ?? alarm.message }),
  };
  return { alarm: next, effects: chattering !== alarm.chattering ? [{ type: 'alarm-updated', at, alarm: next }] : [] };
}

export function acknowledge(alarm: Alarm, action: { by: string; comment?: string }, now: number): Transition {
  if (action.by.trim() === '') return fail('OPERATOR_REQUIRED', 'an acknowledgement must name the operator');
  if (alarm.state === 'normal') return fail('ALARM_NOT_ACTIVE', `alarm ${alarm.id} is normal: there is nothing to acknowledge`);
  if (alarm.state === 'ack') return fail('ALARM_ALREADY_ACKNOWLEDGED', `alarm ${alarm.id} was already acknowledged by ${alarm.acknowledged?.by ?? 'someone'}`);
  const next: Alarm = {
    ...alarm,
    state: alarm.state === 'unack' ? 'ack' : 'normal',
    acknowledged: { by: action.by, at: now, comment: action.comment ?? '' },
  };
  return { ok: true, alarm: next, effects: [{ type: 'alarm-acknowledged', at: now, alarm: next }] };
}

/** Any state may be shelved (an operator may pre-empt a known nuisance); the condition keeps being tracked. */
export function shelve(alarm: Alarm, action: { by: string; until?: number | null; reason: string }, now: number): Transition {
  const { until } = action;
  if (action.by.trim() === '') return fail('OPERATOR_REQUIRED', 'shelving must name the operator');
  if (action.reason.trim() === '') return fail('SHELVE_REASON_REQUIRED', 'shelving needs a reason');
  if (until === undefined || until === null || !Number.isFinite(until)) return fail('SHELVE_UNTIL_REQUIRED', 'shelving needs an end time (until)');
  if (until <= now) return fail('SHELVE_UNTIL_IN_PAST', `shelve end ${new Date(until).toISOString()} is not in the future`);
  if (until - now > MAX_SHELVE_MS) return fail('SHELVE_TOO_LONG', `an alarm may be shelved for at most ${MAX_SHELVE_MS / 3_600_000} h`);
  if (alarm.shelved !== null) return fail('ALARM_ALREADY_SHELVED', `alarm ${alarm.id} is already shelved until ${new Date(alarm.shelved.until).toISOString()}`);
  const next: Alarm = { ...alarm, shelved: { by: action.by, at: now, until, reason: action.reason } };
  return { ok: true, alarm: next, effects: [{ type: 'alarm-shelved', at: now, alarm: next }] };
}

export function unshelve(alarm: Alarm, action: { by: string }, now: number): Transition {
  if (action.by.trim() === '') return fail('OPERATOR_REQUIRED', 'unshelving must name the operator');
  if (alarm.shelved === null) return fail('ALARM_NOT_SHELVED', `alarm ${alarm.id} is not shelved`);
  const next: Alarm = { ...alarm, shelved: null };
  return { ok: true, alarm: next, effects: [{ type: 'alarm-unshelved', at: now, alarm: next, by: action.by, expired: false }] };
}

/** Shelving ends by itself once the wall clock reaches `until`. */
export function expireShelving(alarm: Alarm, now: number): Outcome {
  if (alarm.shelved === null || now < alarm.shelved.until) return { alarm, effects: [] };
  const next: Alarm = { ...alarm, shelved: null };
  return { alarm: next, effects: [{ type: 'alarm-unshelved', at: now, alarm: next, by: 'system', expired: true }] };
}

/** Links the alarm to its root cause (or unlinks it with null). Normal alarms change silently: nothing to show. */
export function setSuppression(alarm: Alarm, rootAlarmId: string | null, at: number): Outcome {
  if (alarm.suppressedBy === rootAlarmId) return { alarm, effects: [] };
  const next: Alarm = { ...alarm, suppressedBy: rootAlarmId };
  if (alarm.state === 'normal') return { alarm: next, effects: [] };
  return { alarm: next, effects: [{ type: rootAlarmId === null ? 'alarm-unsuppressed' : 'alarm-suppressed', at, alarm: next }] };
}

export function setOutOfService(alarm: Alarm, outOfService: boolean, at: number): Outcome {
  if (alarm.outOfService === outOfService) return { alarm, effects: [] };
  const next: Alarm = { ...alarm, outOfService };
  return { alarm: next, effects: [{ type: outOfService ? 'alarm-out-of-service' : 'alarm-in-service', at, alarm: next }] };
}

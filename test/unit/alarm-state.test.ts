import { describe, expect, it } from 'vitest';
import {
  MAX_SHELVE_MS, acknowledge, applyCondition, expireShelving, isAnnunciated, newAlarm, setOutOfService, setSuppression, shelve, unshelve,
  type Alarm, type AlarmState, type Transition,
} from '../../server/src/domain/alarms/alarm-state.ts';
import { HOUR, MINUTE, SECOND, T0 } from '../support/alarm-site.ts';

const subject = {
  deviceId: 'BP-A-1', ruleId: 'booster-pump.overcurrent', kind: 'booster-pump', plotId: 'A', buildingId: null,
  priority: 2, ticket: 'maintenance', title: { en: 'Booster pump overcurrent', zh: '生活水泵过流' },
} as const;

const fresh = () => newAlarm(subject);
const activate = (a: Alarm, at = T0) => applyCondition(a, 'active', at, { value: 45 }).alarm;
const clear = (a: Alarm, at = T0 + MINUTE) => applyCondition(a, 'clear', at).alarm;
const ack = (a: Alarm) => {
  const result = acknowledge(a, { by: 'li.wei', comment: 'seen' }, T0 + 2 * MINUTE);
  if (!result.ok) throw new Error(result.error.code);
  return result.alarm;
};
/** An alarm brought into each state through valid transitions. */
const inState: Record<AlarmState, () => Alarm> = {
  normal: fresh,
  unack: () => activate(fresh()),
  ack: () => ack(activate(fresh())),
  'rtn-unack': () => clear(activate(fresh())),
};
const errorCode = (t: Transition) => (t.ok ? null : t.error.code);

describe('alarm lifecycle: condition changes', () => {
  it.each<[AlarmState, 'active' | 'clear', AlarmState, string[]]>([
    ['normal', 'active', 'unack', ['alarm-raised']],
    ['normal', 'clear', 'normal', []],
    ['unack', 'active', 'unack', []],
    ['unack', 'clear', 'rtn-unack', ['alarm-cleared']],
    ['ack', 'active', 'ack', []],
    ['ack', 'clear', 'normal', ['alarm-cleared']],
    ['rtn-unack', 'active', 'unack', ['alarm-raised']],
    ['rtn-unack', 'clear', 'rtn-unack', []],
  ])('%s + %s → %s', (from, condition, to, effects) => {
    const outcome = applyCondition(inState[from](), condition, T0 + 10 * MINUTE, { value: 50 });
    expect(outcome.alarm.state).toBe(to);
    expect(outcome.effects.map((e) => e.type)).toEqual(effects);
  });

  it('repeats update one alarm: count, value and lastActiveAt, never a new id', () => {
    let alarm = activate(fresh(), T0);
    alarm = clear(alarm, T0 + MINUTE);
    alarm = applyCondition(alarm, 'active', T0 + 5 * MINUTE, { value: 48, message: 'current_a 48' }).alarm;
    alarm = applyCondition(alarm, 'active', T0 + 6 * MINUTE, { value: 51 }).alarm;
    expect(alarm).toMatchObject({ id: 'BP-A-1:booster-pump.overcurrent', count: 2, value: 51, firstActiveAt: T0, lastActiveAt: T0 + 5 * MINUTE, lastClearedAt: T0 + MINUTE });
  });
});

describe('alarm lifecycle: operator actions', () => {
  it.each<[AlarmState, AlarmState | null, string | null]>([
    ['unack', 'ack', null],
    ['rtn-unack', 'normal', null],
    ['ack', null, 'ALARM_ALREADY_ACKNOWLEDGED'],
    ['normal', null, 'ALARM_NOT_ACTIVE'],
  ])('acknowledge in %s → %s (error %s)', (from, to, code) => {
    const result = acknowledge(inState[from](), { by: 'li.wei', comment: 'on my way' }, T0 + HOUR);
    expect(errorCode(result)).toBe(code);
    if (result.ok) {
      expect(result.alarm.state).toBe(to);
      expect(result.alarm.acknowledged).toEqual({ by: 'li.wei', at: T0 + HOUR, comment: 'on my way' });
      expect(result.effects.map((e) => e.type)).toEqual(['alarm-acknowledged']);
    }
  });

  it('acknowledge needs an operator', () => {
    expect(errorCode(acknowledge(inState.unack(), { by: '  ' }, T0))).toBe('OPERATOR_REQUIRED');
  });

  it.each<[string, { by: string; until?: number | null; reason: string }, string | null]>([
    ['valid, 8 h', { by: 'li.wei', until: T0 + 8 * HOUR, reason: 'sensor being replaced' }, null],
    ['exactly 24 h', { by: 'li.wei', until: T0 + MAX_SHELVE_MS, reason: 'r' }, null],
    ['24 h and 1 ms', { by: 'li.wei', until: T0 + MAX_SHELVE_MS + 1, reason: 'r' }, 'SHELVE_TOO_LONG'],
    ['without until', { by: 'li.wei', reason: 'r' }, 'SHELVE_UNTIL_REQUIRED'],
    ['until null', { by: 'li.wei', until: null, reason: 'r' }, 'SHELVE_UNTIL_REQUIRED'],
    ['until NaN', { by: 'li.wei', until: Number.NaN, reason: 'r' }, 'SHELVE_UNTIL_REQUIRED'],
    ['until now', { by: 'li.wei', until: T0, reason: 'r' }, 'SHELVE_UNTIL_IN_PAST'],
    ['without reason', { by: 'li.wei', until: T0 + HOUR, reason: '' }, 'SHELVE_REASON_REQUIRED'],
    ['without operator', { by: '', until: T0 + HOUR, reason: 'r' }, 'OPERATOR_REQUIRED'],
  ])('shelve %s', (_name, action, code) => {
    expect(errorCode(shelve(inState.unack(), action, T0))).toBe(code);
  });

  it.each<AlarmState>(['normal', 'unack', 'ack', 'rtn-unack'])('shelving works in state %s and hides the alarm without changing its state', (state) => {
    const result = shelve(inState[state](), { by: 'li.wei', until: T0 + HOUR, reason: 'nuisance' }, T0);
    if (!result.ok) throw new Error(result.error.code);
    expect(result.alarm.state).toBe(state);
    expect(isAnnunciated(result.alarm)).toBe(false);
    expect(result.effects.map((e) => e.type)).toEqual(['alarm-shelved']);
  });

  it('shelving twice, and unshelving what is not shelved, are errors', () => {
    const shelved = shelve(inState.unack(), { by: 'a', until: T0 + HOUR, reason: 'r' }, T0);
    if (!shelved.ok) throw new Error(shelved.error.code);
    expect(errorCode(shelve(shelved.alarm, { by: 'a', until: T0 + 2 * HOUR, reason: 'r' }, T0))).toBe('ALARM_ALREADY_SHELVED');
    expect(errorCode(unshelve(inState.unack(), { by: 'a' }, T0))).toBe('ALARM_NOT_SHELVED');
    const unshelved = unshelve(shelved.alarm, { by: 'b' }, T0 + MINUTE);
    expect(unshelved.ok && unshelved.effects).toEqual([expect.objectContaining({ type: 'alarm-unshelved', by: 'b', expired: false })]);
    expect(unshelved.ok && isAnnunciated(unshelved.alarm)).toBe(true);
  });

  it('shelving expires by itself when the clock reaches until, not before', () => {
    const shelved = shelve(inState.unack(), { by: 'a', until: T0 + HOUR, reason: 'r' }, T0);
    if (!shelved.ok) throw new Error(shelved.error.code);
    expect(expireShelving(shelved.alarm, T0 + HOUR - 1).effects).toEqual([]);
    const expired = expireShelving(shelved.alarm, T0 + HOUR);
    expect(expired.alarm.shelved).toBeNull();
    expect(expired.effects).toEqual([expect.objectContaining({ type: 'alarm-unshelved', by: 'system', expired: true })]);
  });

  it('a shelved alarm keeps tracking its condition but its activation is not annunciated', () => {
    const shelved = shelve(fresh(), { by: 'a', until: T0 + HOUR, reason: 'r' }, T0);
    if (!shelved.ok) throw new Error(shelved.error.code);
    const raised = applyCondition(shelved.alarm, 'active', T0 + MINUTE);
    expect(raised.alarm.state).toBe('unack');
    expect(raised.effects).toEqual([expect.objectContaining({ type: 'alarm-raised', annunciated: false })]);
  });
});

describe('alarm lifecycle: suppression and out of service', () => {
  it('a suppressed alarm is raised without annunciation and, returning while suppressed, needs no acknowledgement', () => {
    const suppressed = newAlarm(subject, { suppressedBy: 'SS-A:substation.feeder-outage-1' });
    const raised = applyCondition(suppressed, 'active', T0);
    expect(raised.effects).toEqual([expect.objectContaining({ type: 'alarm-raised', annunciated: false })]);
    expect(applyCondition(raised.alarm, 'clear', T0 + MINUTE).alarm.state).toBe('normal');
  });

  it('suppressing and releasing an active alarm are effects; a normal alarm changes silently', () => {
    const on = setSuppression(inState.unack(), 'root', T0);
    expect(on.effects.map((e) => e.type)).toEqual(['alarm-suppressed']);
    expect(isAnnunciated(on.alarm)).toBe(false);
    expect(setSuppression(on.alarm, 'root', T0).effects).toEqual([]);
    expect(setSuppression(on.alarm, null, T0).effects.map((e) => e.type)).toEqual(['alarm-unsuppressed']);
    expect(setSuppression(fresh(), 'root', T0)).toMatchObject({ alarm: { suppressedBy: 'root' }, effects: [] });
  });

  it('out of service hides the alarm and does not annunciate activations', () => {
    const oos = setOutOfService(fresh(), true, T0);
    expect(oos.effects.map((e) => e.type)).toEqual(['alarm-out-of-service']);
    const raised = applyCondition(oos.alarm, 'active', T0);
    expect(raised.effects).toEqual([expect.objectContaining({ type: 'alarm-raised', annunciated: false })]);
    expect(isAnnunciated(raised.alarm)).toBe(false);
    expect(setOutOfService(raised.alarm, false, T0).effects.map((e) => e.type)).toEqual(['alarm-in-service']);
  });
});

describe('chattering', () => {
  /** Activations at the given offsets (seconds), each followed by a clear 1 s later; returns the alarm and the annunciation flags. */
  function flap(offsetsS: number[]) {
    let alarm = fresh();
    const annunciated: boolean[] = [];
    for (const s of offsetsS) {
      const raised = applyCondition(alarm, 'active', T0 + s * SECOND);
      const effect = raised.effects[0];
      annunciated.push(effect?.type === 'alarm-raised' && effect.annunciated);
      alarm = applyCondition(raised.alarm, 'clear', T0 + (s + 1) * SECOND).alarm;
    }
    return { alarm, annunciated };
  }

  it('three activations within 60 s flag the alarm', () => {
    expect(flap([0, 20, 59]).alarm.chattering).toBe(true);
  });

  it('three activations spread over exactly 60 s do not', () => {
    expect(flap([0, 30, 60]).alarm.chattering).toBe(false);
  });

  it('while chattering, activations are annunciated at most once per 60 s but all are counted', () => {
    const { alarm, annunciated } = flap([0, 10, 20, 30, 40, 70, 75, 131]);
    // 0 and 10 are announced before chattering starts; 20..40 fall within 60 s of the announcement at 10;
    // 70 is 60 s after it; 75 is not; 131 is 61 s after 70.
    expect(annunciated).toEqual([true, true, false, false, false, true, false, true]);
    expect(alarm.count).toBe(8);
  });

  it('the flag stays while activations continue and drops once 60 s pass without one', () => {
    const { alarm } = flap([0, 10, 20]);
    expect(applyCondition(alarm, 'clear', T0 + 80 * SECOND - 1).alarm.chattering).toBe(true);
    const quiet = applyCondition(alarm, 'clear', T0 + 80 * SECOND);
    expect(quiet.alarm.chattering).toBe(false);
    expect(quiet.effects.map((e) => e.type)).toEqual(['alarm-updated']);
  });
});

import { describe, expect, it } from 'vitest';
import { applyCondition, newAlarm, type Alarm, type AlarmEffect } from '../../server/src/domain/alarms/alarm-state.ts';
import { computeKpis } from '../../server/src/domain/alarms/kpis.ts';
import { HOUR, MINUTE, SECOND, T0 } from '../support/alarm-site.ts';

const alarm = (deviceId: string, plotId = 'A', ruleId = 'elevator.fault'): Alarm => newAlarm({
  deviceId, ruleId, kind: 'elevator', plotId, buildingId: null, priority: 2, ticket: 'maintenance', title: { en: 'x', zh: '故障' },
});
const raise = (a: Alarm, at: number, annunciated = true): AlarmEffect => ({ type: 'alarm-raised', at, alarm: a, annunciated });

describe('alarm KPIs', () => {
  // Plot B: 12 elevators raised 30 s apart from T0 (a flood from the 11th, at 300 s).
  const floodB = Array.from({ length: 12 }, (_, i) => raise(alarm(`EL-B-01-${i + 1}`, 'B'), T0 + i * 30 * SECOND));
  // Plot A: a chattering pump (3 within 60 s), a pump raised 3 times but 60 s apart, one shelved raise.
  const chatter = alarm('BP-A-1', 'A', 'booster-pump.overcurrent');
  const slow = alarm('BP-A-2', 'A', 'booster-pump.overcurrent');
  const history: AlarmEffect[] = [
    ...floodB,
    raise(chatter, T0 + 25 * MINUTE), raise(chatter, T0 + 25 * MINUTE + 20 * SECOND, false), raise(chatter, T0 + 25 * MINUTE + 59 * SECOND, false),
    raise(slow, T0 + 40 * MINUTE), raise(slow, T0 + 41 * MINUTE), raise(slow, T0 + 42 * MINUTE),
    raise(alarm('HY-A-01', 'A', 'hydrant.pressure-low'), T0 + 50 * MINUTE, false),
    { type: 'alarm-cleared', at: T0 + 51 * MINUTE, alarm: slow },
    raise(alarm('EL-A-01-1'), T0 - MINUTE), // before the period
    raise(alarm('EL-A-01-2'), T0 + HOUR), // after it: the end is exclusive
  ];
  const period = { from: T0, to: T0 + HOUR, now: T0 + HOUR };
  const kpis = computeKpis(history, [], period);

  it('counts annunciated alarms per 10 minutes and per hour', () => {
    // Annunciated: 12 (plot B, all in the first 10 min) + 1 chatter + 3 slow = 16 over 6 ten-minute buckets.
    expect(kpis.annunciated).toBe(16);
    expect(kpis.per10Minutes).toEqual({ average: 16 / 6, peak: 12 });
    expect(kpis.perHour).toEqual({ average: 16, peak: 16 });
  });

  it('finds the flood period of plot B, from the 11th alarm until fewer than 5 remain in the window', () => {
    // Raised at 0 … 330 s; the 5th newest (210 s) leaves the window at 810 s.
    expect(kpis.floods).toEqual([{ plotId: 'B', start: T0 + 300 * SECOND, end: T0 + 810 * SECOND, alarms: 2 }]);
  });

  it('a flood still going at the end of the period has no end', () => {
    expect(computeKpis(floodB, [], { from: T0, to: T0 + 6 * MINUTE, now: T0 + 6 * MINUTE }).floods).toEqual([
      { plotId: 'B', start: T0 + 300 * SECOND, end: null, alarms: 2 },
    ]);
  });

  it('lists chattering alarms (3 activations within 60 s, annunciated or not) and not those 60 s apart', () => {
    expect(kpis.chattering).toEqual([{ alarmId: chatter.id, deviceId: 'BP-A-1', ruleId: 'booster-pump.overcurrent', activations: 3 }]);
  });

  it('ranks the top 10 by activations in the period, ties by id', () => {
    expect(kpis.top10).toHaveLength(10);
    expect(kpis.top10.slice(0, 3).map((t) => [t.alarmId, t.count])).toEqual([[chatter.id, 3], [slow.id, 3], ['EL-B-01-1:elevator.fault', 1]]);
    expect(kpis.top10.map((t) => t.alarmId)).not.toContain('EL-A-01-1:elevator.fault');
  });

  it('lists alarms active for more than 24 hours as stale', () => {
    const now = T0 + 3 * 24 * HOUR;
    const stale = applyCondition(alarm('GEN-1'), 'active', now - 24 * HOUR - 1).alarm;
    const young = applyCondition(alarm('FP-1'), 'active', now - 24 * HOUR).alarm;
    const returned = applyCondition(applyCondition(alarm('FP-2'), 'active', T0).alarm, 'clear', T0 + MINUTE).alarm;
    expect(computeKpis([], [stale, young, returned], { from: T0, to: now, now }).stale).toEqual([
      { alarmId: stale.id, deviceId: 'GEN-1', ruleId: 'elevator.fault', activeSince: now - 24 * HOUR - 1 },
    ]);
  });
});

/** SLA and escalation, assignment and the roster, reception deadlines and patrol rounds: pure, with a fake clock. */
import { describe, expect, it } from 'vitest';
import { loadSite } from '../../server/src/catalogue/load.ts';
import { indexSite } from '../../server/src/catalogue/site-index.ts';
import { loadStaff } from '../../server/src/catalogue/staff.ts';
import { assignmentCandidates, chooseAssignee, isOnDuty, type AssignmentPool } from '../../server/src/domain/tickets/assignment.ts';
import { atLocal, localTime } from '../../server/src/domain/tickets/local-time.ts';
import type { Ticket } from '../../server/src/domain/tickets/model.ts';
import { CHECKLIST, CHECKLIST_CATEGORIES, completeRound, isMissed, roundsForDay, startRound, type PatrolRound } from '../../server/src/domain/tickets/patrols.ts';
import { callbackDueAt, completeCallback, letterDueAt } from '../../server/src/domain/tickets/reception.ts';
import { dueEscalations, dueTimes, slaOf } from '../../server/src/domain/tickets/sla.ts';

const TZ = 'Asia/Shanghai';
const MIN = 60_000;
const HOUR = 60 * MIN;
/** Tuesday 2025-05-06 10:00 in Blue Valley. */
const TUE_10 = atLocal('2025-05-06', 10 * 60, TZ);
const site = indexSite(loadSite(null));
const catalogue = loadStaff(site);

function ticket(over: Partial<Ticket> = {}): Ticket {
  return {
    id: 1, kind: 'maintenance', priority: 2, status: 'assigned', source: 'alarm', major: false, confidential: false,
    title: 't', description: '', plotId: 'A', buildingId: null, unitId: null, deviceId: null, location: '', rootCauseKey: null,
    assignee: 'zhao.gang', createdBy: 'system', createdAt: TUE_10, updatedAt: TUE_10, acknowledgedAt: null, onSiteAt: null,
    resolvedAt: null, closedAt: null, ...dueTimes(over.priority ?? 2, TUE_10), neededBy: null, callbackPhone: null, letterDueAt: null,
    handedOverAt: null, handedOverTo: null, reply: null, repliedBy: null, repliedAt: null, escalations: [], reopenCount: 0, version: 1, ...over,
  };
}

describe('local time and the roster', () => {
  it('plans in the site\'s time zone', () => {
    expect(new Date(TUE_10).toISOString()).toBe('2025-05-06T02:00:00.000Z');
    expect(localTime(TUE_10, TZ)).toEqual({ date: '2025-05-06', weekday: 2, minutes: 600 });
  });

  it('a night shift belongs to the day it starts on', () => {
    const shifts = [{ username: 'n', weekdays: [2], fromMinutes: 20 * 60, toMinutes: 8 * 60 }];
    expect(isOnDuty(shifts, 'n', atLocal('2025-05-06', 21 * 60, TZ), TZ)).toBe(true); // Tuesday evening
    expect(isOnDuty(shifts, 'n', atLocal('2025-05-07', 3 * 60, TZ), TZ)).toBe(true); // Wednesday early morning
    expect(isOnDuty(shifts, 'n', atLocal('2025-05-07', 21 * 60, TZ), TZ)).toBe(false);
    expect(isOnDuty(shifts, 'n', atLocal('2025-05-06', 3 * 60, TZ), TZ)).toBe(false); // Monday's night
  });
});

describe('the staff catalogue', () => {
  it('covers every plot with patrol zones and every trade with technicians', () => {
    expect(new Set(catalogue.zones.map((z) => z.plotId))).toEqual(new Set(['A', 'B', 'C']));
    expect(catalogue.zones.flatMap((z) => z.buildingIds).sort()).toEqual(site.site.buildings.map((b) => b.id).sort());
    for (const skill of ['electrical', 'plumbing', 'pumps', 'elevators'] as const) {
      expect(catalogue.staff.some((s) => s.role === 'technician' && s.skills.includes(skill))).toBe(true);
    }
    expect(catalogue.staff.filter((s) => s.skills.includes('elevators')).every((s) => s.company !== null)).toBe(true);
  });
});

describe('assignment', () => {
  const pool = (onDuty: string[], openTickets: Record<string, number> = {}): AssignmentPool => ({
    staff: catalogue.staff, zones: catalogue.zones, onDuty: new Set(onDuty), openTickets: new Map(Object.entries(openTickets)),
  });

  it('sends a patrol to the officer of the zone, else to one of the same plot', () => {
    expect(chooseAssignee({ kind: 'patrol', plotId: 'A', buildingId: 'A-15', deviceKind: null }, pool(['zhang.wei', 'li.na']))).toBe('li.na');
    expect(chooseAssignee({ kind: 'patrol', plotId: 'A', buildingId: 'A-15', deviceKind: null }, pool(['zhang.wei', 'wang.lei']))).toBe('zhang.wei');
  });

  it('sends a repair to the on-duty technician with the skill and the fewest open tickets', () => {
    const request = { kind: 'maintenance' as const, plotId: 'A', buildingId: null, deviceKind: 'booster-pump' as const };
    expect(chooseAssignee(request, pool(['zhao.gang', 'wu.hao', 'huang.zhiyong'], { 'wu.hao': 2, 'zhao.gang': 3 }))).toBe('wu.hao');
    expect(chooseAssignee(request, pool(['zhao.gang', 'wu.hao'], { 'wu.hao': 4, 'zhao.gang': 3 }))).toBe('zhao.gang');
    expect(chooseAssignee({ ...request, deviceKind: 'elevator' }, pool(['zhao.gang', 'deng.wei']))).toBe('deng.wei');
    // Nobody with the trade on duty: a repair waits for a supervisor; an emergency goes to whoever is there.
    expect(chooseAssignee({ ...request, deviceKind: 'elevator' }, pool(['zhao.gang']))).toBeNull();
    expect(chooseAssignee({ ...request, kind: 'emergency', deviceKind: 'elevator' }, pool(['zhao.gang']))).toBe('zhao.gang');
    expect(chooseAssignee({ ...request, kind: 'reception' }, pool(['zhao.gang']))).toBeNull();
  });

  it('names the candidates before workload decides: whoever fits, however busy', () => {
    const names = (request: Parameters<typeof assignmentCandidates>[0], onDuty: string[]) => assignmentCandidates(request, pool(onDuty)).map((s) => s.username).sort();
    const repair = { kind: 'maintenance' as const, plotId: 'A', buildingId: 'A-03', deviceKind: 'elevator' as const };
    // One elevator technician per shift: a lift's ticket needs nobody's workload.
    expect(names(repair, ['deng.wei', 'zhao.gang', 'wu.hao'])).toEqual(['deng.wei']);
    expect(names({ ...repair, deviceKind: 'booster-pump' }, ['deng.wei', 'zhao.gang', 'wu.hao'])).toEqual(['wu.hao', 'zhao.gang']);
    expect(names(repair, ['zhao.gang'])).toEqual([]);
    expect(names({ ...repair, kind: 'emergency' }, ['zhao.gang', 'wu.hao'])).toEqual(['wu.hao', 'zhao.gang']);
    expect(names({ ...repair, kind: 'reception' }, ['deng.wei'])).toEqual([]);
    expect(names({ kind: 'patrol', plotId: 'A', buildingId: 'A-15', deviceKind: null }, ['zhang.wei', 'li.na'])).toEqual(['li.na']);
  });
});

describe('SLA and escalation', () => {
  const supervisors = { department: 'liu.jianguo', customerService: 'zhou.min' };

  it('counts each stage down and reports a breach once', () => {
    const t = ticket({ priority: 2 });
    const at = TUE_10 + 20 * MIN;
    expect(slaOf(t, at).map((s) => [s.stage, s.breached, s.remainingMs])).toEqual([
      ['acknowledge', true, -5 * MIN], ['on-site', false, 40 * MIN], ['resolve', false, 8 * HOUR - 20 * MIN],
    ]);
    const due = dueEscalations(t, at, supervisors);
    expect(due).toEqual([{ reason: 'sla-acknowledge', at, toSpot: null, notify: ['liu.jianguo'] }]);
    expect(dueEscalations({ ...t, escalations: due }, at + MIN, supervisors)).toEqual([]);
    expect(dueEscalations({ ...t, acknowledgedAt: TUE_10 + MIN }, at, supervisors)).toEqual([]);
  });

  it('a major problem brings the department supervisor to the spot and is reported to the customer-service supervisor', () => {
    expect(dueEscalations(ticket({ major: true, priority: 1 }), TUE_10, supervisors)).toEqual([{ reason: 'major', at: TUE_10, toSpot: 'liu.jianguo', notify: ['zhou.min'] }]);
  });

  it('a missed resolution goes to both supervisors; finished tickets escalate nothing', () => {
    const late = TUE_10 + 9 * HOUR;
    const started = ticket({ acknowledgedAt: TUE_10, onSiteAt: TUE_10 + MIN, status: 'in-progress' });
    expect(dueEscalations(started, late, supervisors)).toEqual([{ reason: 'sla-resolve', at: late, toSpot: null, notify: ['liu.jianguo', 'zhou.min'] }]);
    expect(dueEscalations({ ...started, status: 'closed', closedAt: late }, late, supervisors)).toEqual([]);
  });
});

describe('reception deadlines', () => {
  it('a letter must reach the customer-service supervisor within 10 minutes, else it escalates', () => {
    const due = letterDueAt('letter', TUE_10);
    expect(due).toBe(TUE_10 + 10 * MIN);
    expect(letterDueAt('phone', TUE_10)).toBeNull();
    const letter = ticket({ kind: 'reception', source: 'letter', status: 'open', assignee: null, priority: 3, letterDueAt: due });
    const supervisors = { department: 'zhou.min', customerService: 'zhou.min' };
    expect(dueEscalations(letter, TUE_10 + 10 * MIN, supervisors)).toEqual([]);
    expect(dueEscalations(letter, TUE_10 + 10 * MIN + 1, supervisors)).toEqual([{ reason: 'letter-hand-over', at: TUE_10 + 10 * MIN + 1, toSpot: null, notify: ['zhou.min'] }]);
    expect(dueEscalations({ ...letter, handedOverAt: TUE_10 + 4 * MIN }, TUE_10 + 11 * MIN, supervisors)).toEqual([]);
  });

  it('a callback is due within two hours, sooner if the resident needs it sooner; it is made once', () => {
    expect(callbackDueAt(TUE_10, null)).toBe(TUE_10 + 2 * HOUR);
    expect(callbackDueAt(TUE_10, TUE_10 + HOUR)).toBe(TUE_10 + HOUR);
    const callback = { id: 1, ticketId: 1, phone: '139 0000 0000', dueAt: TUE_10 + HOUR, doneAt: null, doneBy: null, note: '' };
    const done = completeCallback(callback, 'lin.xiaoyu', 'plumber comes at 3 pm', TUE_10 + 30 * MIN);
    expect(done).toMatchObject({ doneAt: TUE_10 + 30 * MIN, doneBy: 'lin.xiaoyu' });
    expect(() => completeCallback(done, 'lin.xiaoyu', 'again', TUE_10)).toThrow(expect.objectContaining({ code: 'CALLBACK_ALREADY_DONE' }));
    expect(() => completeCallback(callback, 'lin.xiaoyu', ' ', TUE_10)).toThrow(expect.objectContaining({ code: 'TICKET_NOTE_REQUIRED' }));
  });
});

describe('patrol rounds', () => {
  const allOk = CHECKLIST.map((i) => ({ item: i.id, ok: true }));

  it('every zone twice a day, at 09:00 and 15:00 local time', () => {
    const rounds = roundsForDay(catalogue.zones, '2025-05-06', TZ);
    expect(rounds).toHaveLength(catalogue.zones.length * 2);
    expect(rounds.filter((r) => r.zoneId === 'Z-B').map((r) => new Date(r.scheduledAt).toISOString())).toEqual(['2025-05-06T01:00:00.000Z', '2025-05-06T07:00:00.000Z']);
  });

  it('the checklist is the handbook\'s four sections, and a round is completed with all of it', () => {
    expect(new Set(CHECKLIST.map((i) => i.category))).toEqual(new Set(CHECKLIST_CATEGORIES));
    expect(CHECKLIST.filter((i) => i.major).map((i) => i.id)).toEqual(['fire-extinguishers', 'fire-lanes', 'power-lines']);
    const round: PatrolRound = { id: 1, zoneId: 'Z-B', scheduledAt: TUE_10, dueBy: TUE_10 + 4 * HOUR, status: 'scheduled', officer: null, startedAt: null, completedAt: null };
    expect(() => completeRound(round, allOk, TUE_10)).toThrow(expect.objectContaining({ code: 'PATROL_ROUND_INVALID_TRANSITION' }));
    const started = startRound(round, 'wang.lei', TUE_10 + MIN);
    expect(() => completeRound(started, allOk.slice(1), TUE_10)).toThrow(expect.objectContaining({ code: 'PATROL_CHECKLIST_INVALID' }));
    expect(() => completeRound(started, [...allOk, { item: 'roads', ok: true }], TUE_10)).toThrow(expect.objectContaining({ code: 'PATROL_CHECKLIST_INVALID' }));
    expect(() => completeRound(started, allOk.map((r) => (r.item === 'litter' ? { ...r, ok: false } : r)), TUE_10)).toThrow(expect.objectContaining({ code: 'PATROL_CHECKLIST_INVALID' }));

    const results = allOk.map((r) => (r.item === 'fire-lanes' ? { item: r.item, ok: false, note: 'van parked in the fire lane by B-02' }
      : r.item === 'street-lights' ? { item: r.item, ok: false, note: 'lamp 12 out' } : r));
    const { round: done, findings } = completeRound(started, results, TUE_10 + HOUR);
    expect(done).toMatchObject({ status: 'completed', officer: 'wang.lei', completedAt: TUE_10 + HOUR });
    expect(findings.map((f) => [f.item.id, f.kind, f.major, f.priority])).toEqual([['street-lights', 'maintenance', false, 3], ['fire-lanes', 'patrol', true, 2]]);
  });

  it('a round not completed within its window is missed', () => {
    const round: PatrolRound = { id: 1, zoneId: 'Z-B', scheduledAt: TUE_10, dueBy: TUE_10 + 4 * HOUR, status: 'in-progress', officer: 'wang.lei', startedAt: TUE_10, completedAt: null };
    expect(isMissed(round, TUE_10 + 4 * HOUR)).toBe(false);
    expect(isMissed(round, TUE_10 + 4 * HOUR + 1)).toBe(true);
    expect(isMissed({ ...round, status: 'completed' }, TUE_10 + 5 * HOUR)).toBe(false);
  });
});

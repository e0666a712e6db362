/**
 * Tickets through the REST API on PGlite and PostgreSQL: reception intake
 * and callbacks, the lifecycle with versions, letters against a fake clock,
 * confidentiality, alarm → ticket (attach, verify after normal, reopen),
 * patrol rounds, lists, export and summaries.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { applyCondition, newAlarm, type AlarmEffect, type AlarmSubject } from '../../server/src/domain/alarms/alarm-state.ts';
import { atLocal } from '../../server/src/domain/tickets/local-time.ts';
import type { TicketEvent } from '../../server/src/domain/tickets/model.ts';
import { CHECKLIST } from '../../server/src/domain/tickets/patrols.ts';
import type { ApiError, CallbackView, Page, PatrolRoundView, TicketDetailView, TicketView } from '../../server/src/routes/api-types.ts';
import type { Role } from '../../server/src/auth/roles.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { TEST_DATABASE_URL } from '../support/databases.ts';
import { createTempDatabase, type TempDatabase } from '../support/postgres.ts';

const MIN = 60_000;
/** Tuesday 2025-05-06 10:00 in Blue Valley: the day shift is on. */
const START = atLocal('2025-05-06', 10 * 60, 'Asia/Shanghai');

const ENGINES = [{ engine: 'pglite' }, ...(TEST_DATABASE_URL ? [{ engine: 'postgres' }] : [])];

describe.each(ENGINES)('tickets API on $engine', ({ engine }) => {
  let server: TestServer;
  let temp: TempDatabase | undefined;
  let now = START;
  const clock = { now: () => now };

  beforeAll(async () => {
    temp = engine === 'postgres' ? await createTempDatabase(TEST_DATABASE_URL!) : undefined;
    server = await startTestServer(temp ? { DATABASE_URL: temp.url } : {}, { clock });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await temp?.drop();
  });

  const call = async <T>(method: 'GET' | 'POST', url: string, body?: unknown, as: Role = 'admin') => {
    const response = await server.request({ method, url, ...(body !== undefined && { body }), as });
    return { status: response.statusCode, body: (response.headers['content-type']?.toString().startsWith('application/json') ? response.json() : response.body) as T };
  };
  const act = (id: number, action: string, body: Record<string, unknown>, as: Role = 'operator') => call<TicketView & ApiError>('POST', `/api/tickets/${id}/${action}`, body, as);
  const detail = async (id: number, as: Role = 'admin') => (await call<TicketDetailView>('GET', `/api/tickets/${id}`, undefined, as)).body;

  it('takes a phone call for a room, lists the callback until it is made, and refuses an unknown room', async () => {
    const created = await call<TicketView>('POST', '/api/tickets', {
      kind: 'reception', source: 'phone', room: 'A-03-0502', location: 'kitchen', title: 'Kitchen tap leaking',
      description: 'Dripping since this morning', neededBy: new Date(START + 60 * MIN).toISOString(), callbackPhone: '139 8000 1234',
    }, 'reception');
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'reception', source: 'phone', status: 'open', plotId: 'A', buildingId: 'A-03', unitId: 'A-03-0502', version: 1, createdBy: 'test-reception' });

    const callbacks = await call<CallbackView[]>('GET', '/api/callbacks', undefined, 'reception');
    const mine = callbacks.body.find((c) => c.ticketId === created.body.id)!;
    expect(mine).toMatchObject({ phone: '139 8000 1234', dueAt: START + 60 * MIN, doneAt: null, overdue: false });
    expect((await call('POST', `/api/callbacks/${mine.id}/complete`, { note: 'Plumber comes at 15:00' }, 'reception')).status).toBe(200);
    expect((await call<CallbackView[]>('GET', '/api/callbacks', undefined, 'reception')).body.some((c) => c.id === mine.id)).toBe(false);
    expect((await call<ApiError>('POST', `/api/callbacks/${mine.id}/complete`, { note: 'again' }, 'reception')).body.code).toBe('CALLBACK_ALREADY_DONE');

    const unknown = await call<ApiError>('POST', '/api/tickets', { kind: 'reception', source: 'walk-in', room: 'A-99-0101', title: 'x' }, 'reception');
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: 'TICKET_ROOM_UNKNOWN' });
    expect(unknown.body.message).toContain('A-99-0101');
    expect((await call<ApiError>('POST', '/api/tickets', { kind: 'maintenance', title: 'x' }, 'reception')).body.code).toBe('TICKET_FORBIDDEN');
  });

  it('follows a repair through its lifecycle with versions, refusing stale and invalid steps', async () => {
    const created = await call<TicketView>('POST', '/api/tickets', { kind: 'maintenance', device: 'BP-A-1', title: 'Pump bearing noisy', priority: 3 }, 'operator');
    expect(created.status).toBe(201);
    const id = created.body.id;
    // Pumps, on duty Tuesday morning, no open tickets yet: zhao.gang and wu.hao tie; in-house, then by name.
    expect(created.body).toMatchObject({ status: 'assigned', assignee: 'wu.hao', deviceId: 'BP-A-1', plotId: 'A' });
    // Still annunciated until someone is working on it.
    expect(server.app.alarms.engine.snapshot().outOfService).not.toContain('BP-A-1');

    const reassigned = await act(id, 'assign', { version: 1, assignee: 'test-technician' });
    expect(reassigned.body).toMatchObject({ status: 'assigned', assignee: 'test-technician', version: 2 });
    expect((await act(id, 'assign', { version: 2, assignee: 'nobody.here' })).body.code).toBe('TICKET_ASSIGNEE_UNKNOWN');

    // Two operators act on version 2 at once: one wins, the other gets a 409.
    const [a, b] = await Promise.all([act(id, 'accept', { version: 2 }), act(id, 'accept', { version: 2 })]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expect([a.body.code, b.body.code]).toContain('TICKET_STALE_VERSION');

    now += 5 * MIN;
    const stale = await act(id, 'start', { version: 2 }, 'technician');
    expect(stale).toMatchObject({ status: 409, body: { code: 'TICKET_STALE_VERSION' } });
    expect((await act(id, 'verify', { version: 3 })).body.code).toBe('TICKET_INVALID_TRANSITION');
    expect((await act(id, 'start', { version: 3 }, 'technician')).body).toMatchObject({ status: 'in-progress', onSiteAt: now, version: 4 });
    expect(server.app.alarms.engine.snapshot().outOfService).toContain('BP-A-1');
    expect((await act(id, 'resolve', { version: 4 }, 'technician')).body.code).toBe('TICKET_NOTE_REQUIRED');
    expect((await act(id, 'resolve', { version: 4, note: 'Bearing replaced' }, 'technician')).body).toMatchObject({ status: 'resolved', version: 5 });
    expect((await act(id, 'verify', { version: 5 }, 'technician')).status).toBe(403);
    expect((await call('POST', `/api/tickets/${id}/comments`, { note: 'Checked it runs quietly' }, 'operator')).status).toBe(201);
    expect((await act(id, 'verify', { version: 5 })).body).toMatchObject({ status: 'closed', version: 6 });
    expect(server.app.alarms.engine.snapshot().outOfService).not.toContain('BP-A-1');

    const history = await detail(id);
    expect(history.events.map((e) => [e.action, e.by])).toEqual([
      ['create', 'test-operator'], ['assign', 'test-operator'], ['accept', 'test-operator'], ['start', 'test-technician'],
      ['resolve', 'test-technician'], ['comment', 'test-operator'], ['verify', 'test-operator'],
    ]);
    expect(history.ticket.sla.map((s) => s.breached)).toEqual([false, false, false]);
  });

  it('lets only the assignee among technicians act on a ticket', async () => {
    const { body } = await call<TicketView>('POST', '/api/tickets', { kind: 'maintenance', device: 'BP-A-2', title: 'Leak at the pump seal' }, 'operator');
    expect(body.assignee).not.toBe('test-technician');
    expect((await act(body.id, 'accept', { version: 1 }, 'technician'))).toMatchObject({ status: 403, body: { code: 'TICKET_NOT_ASSIGNEE' } });
  });

  it('escalates a letter not handed over within 10 minutes and records the supervisor\'s written reply', async () => {
    const { body: letter } = await call<TicketView>('POST', '/api/tickets', { kind: 'reception', source: 'letter', room: 'C-02-0301', title: 'Complaint about night noise' }, 'reception');
    expect(letter.letterDueAt).toBe(now + 10 * MIN);
    now += 9 * MIN;
    await server.app.tickets.tick();
    expect((await detail(letter.id)).ticket.escalations).toEqual([]);
    now += 2 * MIN;
    await server.app.tickets.tick();
    const late = await detail(letter.id);
    expect(late.ticket.escalations).toMatchObject([{ reason: 'letter-hand-over', notify: ['zhou.min'] }]);
    expect(late.events.at(-1)).toMatchObject({ action: 'escalate', by: 'system' });

    const handed = await act(letter.id, 'hand-over', { version: late.ticket.version }, 'reception');
    expect(handed.body).toMatchObject({ status: 'assigned', assignee: 'zhou.min', handedOverTo: 'zhou.min' });
    expect((await act(letter.id, 'reply', { version: handed.body.version, note: 'x' }, 'reception')).status).toBe(403);
    const replied = await act(letter.id, 'reply', { version: handed.body.version, note: 'Dear resident, the shop will close its terrace at 22:00.' }, 'cs-supervisor');
    expect(replied.body).toMatchObject({ reply: 'Dear resident, the shop will close its terrace at 22:00.', repliedBy: 'test-cs-supervisor' });
  });

  it('hides a confidential ticket\'s details from roles that may not see them', async () => {
    const { body } = await call<TicketView>('POST', '/api/tickets', {
      kind: 'reception', source: 'walk-in', room: 'B-01-1203', title: 'Burglary reported', description: 'Back door forced', callbackPhone: '138 0000 9999', confidential: true,
    }, 'reception');
    await call('POST', `/api/tickets/${body.id}/comments`, { note: 'Police informed' }, 'cs-supervisor');
    const hidden = await detail(body.id, 'operator');
    expect(hidden.ticket).toMatchObject({ redacted: true, title: 'Confidential matter', description: '', unitId: null, callbackPhone: null, plotId: 'B' });
    expect(hidden.events.every((e) => e.note === '')).toBe(true);
    expect(hidden.callbacks).toEqual([]);
    const shown = await detail(body.id, 'cs-supervisor');
    expect(shown.ticket).toMatchObject({ redacted: false, title: 'Burglary reported', description: 'Back door forced', unitId: 'B-01-1203' });
    expect(shown.events.at(-1)?.note).toBe('Police informed');
  });

  describe('from alarms', () => {
    const subject = (deviceId: string, ruleId: string, over: Partial<AlarmSubject> = {}): AlarmSubject => {
      const device = server.app.site.device(deviceId)!;
      return { deviceId, ruleId, kind: device.kind, plotId: device.plotId, buildingId: device.buildingId, priority: 3, ticket: 'maintenance', title: { en: `${ruleId} on ${deviceId}`, zh: '测试' }, ...over };
    };
    let alarms = new Map<string, ReturnType<typeof newAlarm>>();
    const condition = async (s: AlarmSubject, active: boolean, suppressedBy: string | null = null) => {
      const id = `${s.deviceId}:${s.ruleId}`;
      const outcome = applyCondition(alarms.get(id) ?? newAlarm(s, { suppressedBy }), active ? 'active' : 'clear', now);
      alarms.set(id, outcome.alarm);
      await server.app.tickets.onAlarmEffects(outcome.effects as AlarmEffect[]);
      return id;
    };
    const byRootCause = async (key: string) => (await server.app.tickets.repository.all()).filter((t) => t.rootCauseKey === key);

    beforeAll(() => { alarms = new Map(); });

    it('opens one ticket per root cause: repeats and suppressed alarms attach to it', async () => {
      const vibration = subject('BP-C-1', 'pump.vibration-high');
      const id = await condition(vibration, true);
      await condition(vibration, false);
      await condition(vibration, true);
      const [ticket, ...others] = await byRootCause(id);
      expect(others).toEqual([]);
      expect(ticket).toMatchObject({ kind: 'maintenance', source: 'alarm', priority: 3, deviceId: 'BP-C-1', status: 'assigned' });

      const root = subject('SS-A', 'substation.feeder-outage-1', { priority: 1, ticket: 'maintenance' });
      const rootId = await condition(root, true);
      await condition(subject('EL-A-01-1', 'device.silent'), true, rootId);
      await condition(subject('EL-A-02-1', 'device.silent'), true, rootId);
      const [outage] = await byRootCause(rootId);
      const outageDetail = await detail(outage!.id);
      expect(outageDetail.alarms.map((a) => a.alarmId).sort()).toEqual([rootId, 'EL-A-01-1:device.silent', 'EL-A-02-1:device.silent'].sort());
      expect(await byRootCause('EL-A-01-1:device.silent')).toEqual([]);
      // Priority 1: a major problem, escalated at once.
      expect(outageDetail.ticket).toMatchObject({ major: true, escalations: [{ reason: 'major', toSpot: 'liu.jianguo', notify: ['zhou.min'] }] });
    });

    it('verifies a resolved ticket only once its alarms stayed normal, and reopens it when the fault returns', async () => {
      const dryRun = subject('BP-B-1', 'booster-pump.dry-run', { priority: 2 });
      const id = await condition(dryRun, true);
      let [ticket] = await byRootCause(id);
      const assignee = ticket!.assignee!;
      expect(assignee).toBeTruthy();
      await act(ticket!.id, 'start', { version: ticket!.version });
      await act(ticket!.id, 'resolve', { version: ticket!.version + 1, note: 'Primed the pump' });
      expect((await act(ticket!.id, 'verify', { version: ticket!.version + 2 })).body.code).toBe('TICKET_NOT_VERIFIED');

      now += MIN;
      await condition(dryRun, false);
      now += 10 * MIN;
      await server.app.tickets.tick();
      expect((await detail(ticket!.id)).ticket.status).toBe('resolved');
      now += 6 * MIN;
      await server.app.tickets.tick();
      expect((await detail(ticket!.id)).ticket).toMatchObject({ status: 'closed' });
      expect((await detail(ticket!.id)).events.at(-1)).toMatchObject({ action: 'verify', by: 'system' });

      now += 30 * MIN;
      await condition(dryRun, true);
      const all = await byRootCause(id);
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({ id: ticket!.id, status: 'assigned', assignee, reopenCount: 1 });
      expect((await detail(ticket!.id)).events.some((e: TicketEvent) => e.action === 'fault-returned')).toBe(true);
    });

    /** An alarm's next effects, and the alarm they leave (as the engine would make them). */
    const next = (s: AlarmSubject, condition: 'active' | 'clear') => {
      const id = `${s.deviceId}:${s.ruleId}`;
      const outcome = applyCondition(alarms.get(id) ?? newAlarm(s), condition, now);
      alarms.set(id, outcome.alarm);
      return { id, effects: outcome.effects as AlarmEffect[] };
    };

    it('goes by look-ups made while an alarm was stored, and never opens a second ticket when they went stale', async () => {
      const leak = subject('BP-C-1', 'pump.seal-leak');
      const raised = next(leak, 'active');
      const cleared = next(leak, 'clear');
      const again = next(leak, 'active');
      // Both raises are looked up (no ticket yet) before either is handled, as when the store lags.
      server.app.tickets.prepareAlarmEffects(raised.effects);
      server.app.tickets.prepareAlarmEffects(again.effects);
      await server.app.tickets.onAlarmEffects(raised.effects);
      await server.app.tickets.onAlarmEffects(cleared.effects);
      await server.app.tickets.onAlarmEffects(again.effects);
      const [ticket, ...others] = await byRootCause(raised.id);
      expect(others).toEqual([]);
      expect((await detail(ticket!.id)).alarms).toMatchObject([{ alarmId: raised.id, active: true }]);
    });

    it('reads the open tickets per person only when workload has to choose: a lift has one technician on shift, a pump two', async () => {
      const repository = server.app.tickets.repository;
      const openCounts = vi.spyOn(repository, 'openCounts');
      try {
        const lift = next(subject('EL-C-01-1', 'elevator.fault'), 'active');
        server.app.tickets.prepareAlarmEffects(lift.effects);
        await server.app.tickets.onAlarmEffects(lift.effects);
        expect((await byRootCause(lift.id))[0]).toMatchObject({ status: 'assigned', assignee: 'deng.wei' });
        expect(openCounts).not.toHaveBeenCalled();

        // Pumps, Tuesday morning: zhao.gang and wu.hao; the one with fewer open tickets gets it.
        const counts = await repository.openCounts();
        openCounts.mockClear();
        const lessBusy = (counts.get('zhao.gang') ?? 0) < (counts.get('wu.hao') ?? 0) ? 'zhao.gang' : 'wu.hao';
        const pump = next(subject('BP-B-2', 'pump.noise'), 'active');
        server.app.tickets.prepareAlarmEffects(pump.effects);
        await server.app.tickets.onAlarmEffects(pump.effects);
        expect((await byRootCause(pump.id))[0]).toMatchObject({ status: 'assigned', assignee: lessBusy });
        expect(openCounts).toHaveBeenCalledTimes(1);
      } finally {
        openCounts.mockRestore();
      }
    });

    it('looks again when the ticket found while the alarm was stored has been resolved since: the fault reopens it', async () => {
      const noise = subject('BP-C-1', 'pump.noise');
      const raised = next(noise, 'active');
      await server.app.tickets.onAlarmEffects(raised.effects);
      const [ticket] = await byRootCause(raised.id);
      await server.app.tickets.onAlarmEffects(next(noise, 'clear').effects);
      const returned = next(noise, 'active');
      server.app.tickets.prepareAlarmEffects(returned.effects);
      await act(ticket!.id, 'start', { version: ticket!.version });
      await act(ticket!.id, 'resolve', { version: ticket!.version + 1, note: 'Bearing greased' });
      await server.app.tickets.onAlarmEffects(returned.effects);
      const after = await detail(ticket!.id);
      expect(after.ticket).toMatchObject({ status: 'assigned', reopenCount: 1 });
      expect(after.events.at(-1)).toMatchObject({ action: 'fault-returned' });
    });
  });

  it('plans two rounds a day per zone; a round with a failed item makes a ticket; a missed round is reported', async () => {
    const { body: rounds } = await call<PatrolRoundView[]>('GET', '/api/patrols/rounds?date=2025-05-06');
    expect(rounds).toHaveLength(10);
    const afternoon = rounds.find((r) => r.zoneId === 'Z-B' && new Date(r.scheduledAt).toISOString().endsWith('07:00:00.000Z'))!;
    expect((await call('POST', `/api/patrols/rounds/${afternoon.id}/start`, undefined, 'operator')).status).toBe(403);
    expect((await call<PatrolRoundView>('POST', `/api/patrols/rounds/${afternoon.id}/start`, undefined, 'patrol-officer')).body).toMatchObject({ status: 'in-progress', officer: 'test-patrol-officer' });
    const results = CHECKLIST.map((i) => (i.id === 'fire-extinguishers' ? { item: i.id, ok: false, note: 'Extinguisher at B-02 lobby empty' } : { item: i.id, ok: true }));
    const done = await call<{ round: PatrolRoundView; tickets: TicketView[] }>('POST', `/api/patrols/rounds/${afternoon.id}/complete`, { results }, 'patrol-officer');
    expect(done.status).toBe(200);
    expect(done.body.round.status).toBe('completed');
    expect(done.body.tickets).toMatchObject([{ kind: 'patrol', source: 'patrol', major: true, plotId: 'B', assignee: 'wang.lei', escalations: [{ reason: 'major', toSpot: 'sun.qiang' }] }]);
    const records = await call<{ item: string; ticketId: number | null }[]>('GET', `/api/patrols/records?round=${afternoon.id}`);
    expect(records.body).toHaveLength(CHECKLIST.length);
    expect(records.body.find((r) => r.item === 'fire-extinguishers')?.ticketId).toBe(done.body.tickets[0]!.id);

    now = atLocal('2025-05-06', 13 * 60 + 1, 'Asia/Shanghai');
    await server.app.tickets.tick();
    const after = (await call<PatrolRoundView[]>('GET', '/api/patrols/rounds?date=2025-05-06')).body;
    expect(after.filter((r) => r.status === 'missed').map((r) => r.zoneId).sort()).toEqual(['Z-A1', 'Z-A2', 'Z-B', 'Z-C1', 'Z-C2']);
    expect(after.find((r) => r.id === afternoon.id)?.status).toBe('completed');
  });

  it('lists with filters, sorting and pages; exports CSV; summarises SLA and workload', async () => {
    const page = await call<Page<TicketView>>('GET', '/api/tickets?kind=reception&sort=createdAt&order=asc&limit=2');
    expect(page.body.total).toBe(3);
    expect(page.body.items).toHaveLength(2);
    expect(page.body.items.every((t) => t.kind === 'reception')).toBe(true);
    expect(page.body.items[0]!.createdAt).toBeLessThanOrEqual(page.body.items[1]!.createdAt);
    const next = await call<Page<TicketView>>('GET', '/api/tickets?kind=reception&sort=createdAt&order=asc&limit=2&offset=2');
    expect(next.body.items.map((t) => t.id)).not.toContain(page.body.items[0]!.id);
    const closed = await call<Page<TicketView>>('GET', '/api/tickets?status=closed,cancelled');
    expect(closed.body.items.every((t) => t.status === 'closed' || t.status === 'cancelled')).toBe(true);
    const open = await call<Page<TicketView>>('GET', '/api/tickets?status=open&plot=A&priority=1');
    expect(open.body.items.length).toBeGreaterThan(0);
    expect(open.body.items.every((t) => t.plotId === 'A' && t.priority === 1 && t.status !== 'closed')).toBe(true);
    expect((await call<Page<TicketView>>('GET', '/api/tickets?assignee=zhou.min')).body.items.every((t) => t.assignee === 'zhou.min')).toBe(true);
    expect((await call<Page<TicketView>>('GET', `/api/tickets?from=${now + 1}`)).body.total).toBe(0);
    expect((await call<ApiError>('GET', '/api/tickets?status=lost')).body.code).toBe('VALIDATION_FAILED');
    expect((await call<ApiError>('GET', '/api/tickets?from=yesterday')).body.code).toBe('BAD_REQUEST');
    expect((await call<ApiError>('GET', '/api/tickets/999999')).status).toBe(404);

    const csv = await call<string>('GET', '/api/tickets/export.csv', undefined, 'manager');
    expect(csv.status).toBe(200);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toContain('id,kind,priority,status');
    expect(lines).toHaveLength(1 + (await server.app.tickets.repository.all()).length);
    expect(csv.body).toContain('"Confidential matter"');
    expect(csv.body).not.toContain('Burglary');

    const sla = await call<{ priority: number; open: number }[]>('GET', '/api/tickets/summary/sla', undefined, 'manager');
    expect(sla.body.map((r) => r.priority)).toEqual([1, 2, 3, 4]);
    const workload = await call<{ username: string; open: number; onDuty: boolean }[]>('GET', '/api/tickets/summary/workload', undefined, 'department-supervisor');
    expect(workload.body.find((w) => w.username === 'zhou.min')?.open).toBeGreaterThanOrEqual(1);
    expect((await call('GET', '/api/tickets/summary/workload', undefined, 'technician')).status).toBe(403);
  });
});

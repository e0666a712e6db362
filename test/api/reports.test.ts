/**
 * The managers' report through the REST API on PGlite and PostgreSQL: tickets
 * made and worked through the API against a fake clock, alarm history written
 * as the engine's own effects, then one week's report (and one plot's) with
 * the SLA, time and load figures the SQL aggregation and the domain produce;
 * who may read it and every rejected query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledge, applyCondition, newAlarm, type Alarm, type AlarmSubject } from '../../server/src/domain/alarms/alarm-state.ts';
import type { Priority } from '../../server/src/domain/alarms/rules.ts';
import { atLocal } from '../../server/src/domain/tickets/local-time.ts';
import type { ApiError, ReportView, TicketView } from '../../server/src/routes/api-types.ts';
import type { Role } from '../../server/src/auth/roles.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { TEST_DATABASE_URL } from '../support/databases.ts';
import { createTempDatabase, type TempDatabase } from '../support/postgres.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const TZ = 'Asia/Shanghai';
/** Tuesday 2025-05-06 10:00 in Blue Valley: its week runs from Monday 05-05. */
const START = atLocal('2025-05-06', 10 * 60, TZ);
const WEEK_FROM = atLocal('2025-05-05', 0, TZ);

const ENGINES = [{ engine: 'pglite' }, ...(TEST_DATABASE_URL ? [{ engine: 'postgres' }] : [])];

describe.each(ENGINES)('reports API on $engine', ({ engine }) => {
  let server: TestServer;
  let temp: TempDatabase | undefined;
  let now = START;
  const clock = { now: () => now };

  const call = async <T>(method: 'GET' | 'POST', url: string, body?: unknown, as: Role | null = 'manager') => {
    const response = await server.request({ method, url, ...(body !== undefined && { body }), as });
    return { status: response.statusCode, body: response.json() as T };
  };
  const report = async (query: string, as: Role = 'manager') => call<ReportView & ApiError>('GET', `/api/reports${query}`, undefined, as);

  /** A ticket made through the API at `at`, then taken through `steps` (each at its time), as the operator. */
  async function ticket(at: number, body: Record<string, unknown>, steps: { at: number; action: string; note?: string }[] = []): Promise<TicketView> {
    now = at;
    const created = await call<TicketView>('POST', '/api/tickets', body, body.kind === 'reception' ? 'reception' : 'operator');
    expect(created.status).toBe(201);
    let current = created.body;
    for (const step of steps) {
      now = step.at;
      // A major ticket escalates on creation, which bumps its version: always act on the newest.
      const latest = (await call<{ ticket: TicketView }>('GET', `/api/tickets/${current.id}`, undefined, 'operator')).body.ticket;
      const done = await call<TicketView>('POST', `/api/tickets/${current.id}/${step.action}`, { version: latest.version, ...(step.note && { note: step.note }) }, 'operator');
      expect(done.status).toBe(200);
      current = done.body;
    }
    return current;
  }

  /** Alarm history as the engine writes it: raise, clear and acknowledge effects at the given times. */
  const alarms = new Map<string, Alarm>();
  function subject(deviceId: string, ruleId: string, priority: Priority): AlarmSubject {
    const device = server.app.site.device(deviceId)!;
    return { deviceId, ruleId, kind: device.kind, plotId: device.plotId, buildingId: device.buildingId, priority, ticket: 'patrol', title: { en: `${ruleId} title`, zh: `${ruleId} 标题` } };
  }
  async function history(s: AlarmSubject, steps: { at: number; step: 'raise' | 'clear' | 'ack' }[], suppressedBy: string | null = null): Promise<void> {
    const id = `${s.deviceId}:${s.ruleId}`;
    for (const { at, step } of steps) {
      const alarm = alarms.get(id) ?? newAlarm(s, { suppressedBy });
      let next: Alarm;
      let effects;
      if (step === 'ack') {
        const result = acknowledge(alarm, { by: 'test-operator' }, at);
        if (!result.ok) throw new Error(result.error.message);
        ({ alarm: next, effects } = result);
      } else {
        ({ alarm: next, effects } = applyCondition(alarm, step === 'raise' ? 'active' : 'clear', at));
      }
      alarms.set(id, next);
      await server.app.alarms.repository.write(effects.map((effect) => ({ effect, at })));
    }
  }

  beforeAll(async () => {
    temp = engine === 'postgres' ? await createTempDatabase(TEST_DATABASE_URL!) : undefined;
    server = await startTestServer(temp ? { DATABASE_URL: temp.url } : {}, { clock });

    // The Sunday before: another week.
    await ticket(START - 2 * DAY, { kind: 'maintenance', device: 'BP-B-1', title: 'Last week', priority: 3 });
    // Two days on, that login has expired: log in again.
    server.forget('operator');
    // P1 pump repair: accepted in 3 min (due 5), on site in 10 (due 15), resolved after 5 h (due 4 h).
    await ticket(START, { kind: 'maintenance', device: 'BP-A-1', title: 'Pump A-1 tripped', priority: 1 }, [
      { at: START + 3 * MIN, action: 'accept' }, { at: START + 10 * MIN, action: 'start' }, { at: START + 5 * HOUR, action: 'resolve', note: 'Reset the drive' },
    ]);
    // P3 phone call for a room in plot A: never answered.
    await ticket(START + HOUR, { kind: 'reception', source: 'phone', room: 'A-03-0502', title: 'Tap leaking' });
    // P2 patrol in plot B, cancelled within its acknowledge time: judged on nothing.
    await ticket(START + 2 * HOUR, { kind: 'patrol', plot: 'B', title: 'Gate left open', priority: 2 }, [{ at: START + 2 * HOUR + 5 * MIN, action: 'cancel', note: 'Duplicate' }]);
    // P4 in plot C, created 3 h before the report: nothing due yet.
    await ticket(START + 3 * HOUR, { kind: 'maintenance', device: 'BP-C-1', title: 'Pump C-1 noisy', priority: 4 });

    const hydrantA = subject('HY-A-01', 'hydrant.pressure-low', 2);
    await history(hydrantA, [
      { at: START - HOUR, step: 'raise' }, { at: START - HOUR + 4 * MIN, step: 'ack' }, { at: START - HOUR + 30 * MIN, step: 'clear' },
      // Returned before anyone acknowledged it: acknowledged 20 min after it was raised.
      { at: START + HOUR, step: 'raise' }, { at: START + HOUR + 10 * MIN, step: 'clear' }, { at: START + HOUR + 20 * MIN, step: 'ack' },
    ]);
    // Suppressed under a feeder outage: never annunciated, back to normal after an hour.
    await history(subject('EL-B-01-1', 'device.silent', 3), [{ at: START, step: 'raise' }, { at: START + HOUR, step: 'clear' }], 'SS-B:substation.feeder-outage-1');
    await history(subject('HY-C-01', 'hydrant.pressure-low', 2), [{ at: START + 2 * HOUR, step: 'raise' }]);
    // Last week's alarm is not this week's.
    await history(subject('HY-B-01', 'hydrant.pressure-low', 2), [{ at: START - 3 * DAY, step: 'raise' }]);
    // Eleven street lights of plot A fail within four minutes: a flood (more than 10 in 10 minutes).
    const lights = server.app.site.site.devices.filter((d) => d.kind === 'street-light' && d.plotId === 'A').slice(0, 11);
    expect(lights).toHaveLength(11);
    for (const [i, light] of lights.entries()) await history(subject(light.id, 'street-light.lamp-failure', 4), [{ at: START + 3 * HOUR + i * 20_000, step: 'raise' }]);

    now = START + 6 * HOUR;
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await temp?.drop();
  });

  it('reports the week: tickets by kind, priority, status and source, with SLA compliance and times', async () => {
    const { status, body } = await report('?period=week&date=2025-05-07');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      from: WEEK_FROM, to: WEEK_FROM + 7 * DAY, period: 'week', bucket: 'day', timezone: TZ, plotId: null, generatedAt: now,
      firstDate: '2025-05-05', lastDate: '2025-05-11', previousDate: '2025-05-04', nextDate: '2025-05-12',
    });
    const t = body.tickets;
    expect(t.total).toBe(4);
    const counts = (list: readonly { key: unknown; count: number }[]) => Object.fromEntries(list.map((c) => [String(c.key), c.count]));
    expect(counts(t.byKind)).toEqual({ patrol: 1, maintenance: 2, emergency: 0, reception: 1 });
    expect(counts(t.byPriority)).toEqual({ 1: 1, 2: 1, 3: 1, 4: 1 });
    expect(counts(t.byStatus)).toEqual({ open: 1, assigned: 1, 'in-progress': 0, resolved: 1, closed: 0, cancelled: 1 });
    expect(counts(t.bySource)).toEqual({ alarm: 0, patrol: 0, phone: 1, 'walk-in': 0, letter: 0, manual: 3 });

    const sla = (p: Priority | null) => t.sla.find((r) => r.priority === p)!;
    expect(sla(1)).toMatchObject({
      tickets: 1,
      acknowledge: { onTime: 1, late: 0, missed: 0, compliancePct: 100 },
      onSite: { onTime: 1, compliancePct: 100 },
      resolve: { onTime: 0, late: 1, missed: 0, compliancePct: 0 },
    });
    // The phone call: 1 h to acknowledge and 4 h to be on site, both past at 16:00.
    expect(sla(3)).toMatchObject({ acknowledge: { missed: 1, compliancePct: 0 }, onSite: { missed: 1 }, resolve: { pending: 1, compliancePct: null } });
    expect(sla(2)).toMatchObject({ tickets: 1, acknowledge: { onTime: 0, late: 0, missed: 0, pending: 0, compliancePct: null } });
    expect(sla(4)).toMatchObject({ acknowledge: { pending: 1 }, resolve: { pending: 1 } });
    expect(sla(null)).toMatchObject({ tickets: 4, acknowledge: { onTime: 1, missed: 1, pending: 1, compliancePct: 50 } });

    const times = (p: Priority | null) => t.times.find((r) => r.priority === p)!;
    expect(times(1)).toEqual({ priority: 1, acknowledge: { count: 1, meanMs: 3 * MIN, medianMs: 3 * MIN }, repair: { count: 1, meanMs: 5 * HOUR, medianMs: 5 * HOUR } });
    expect(times(null).acknowledge.count).toBe(1);

    expect(body.series.map((s) => s.tickets)).toEqual([0, 4, 0, 0, 0, 0, 0]);
    expect(body.series[1]).toMatchObject({ start: WEEK_FROM + DAY, activations: 15, annunciated: 14 });
  });

  it('reports the week\'s alarms: per priority and rule, times to acknowledge and to return, and the load against ISA-18.2', async () => {
    const { body } = await report('?period=week&date=2025-05-07');
    const a = body.alarms;
    expect(a).toMatchObject({ activations: 15, annunciated: 14, rules: 3 });
    expect(a.byPriority).toEqual([
      { priority: 1, activations: 0, annunciated: 0 }, { priority: 2, activations: 3, annunciated: 3 },
      { priority: 3, activations: 1, annunciated: 0 }, { priority: 4, activations: 11, annunciated: 11 },
    ]);
    expect(a.byRule.map((r) => [r.ruleId, r.activations, r.annunciated])).toEqual([
      ['street-light.lamp-failure', 11, 11], ['hydrant.pressure-low', 3, 3], ['device.silent', 1, 0],
    ]);
    expect(a.byRule[1]).toMatchObject({ priority: 2, title: { en: 'hydrant.pressure-low title', zh: 'hydrant.pressure-low 标题' } });
    expect(a.top10Pct).toBe(100);

    const times = (p: Priority | null) => a.times.find((r) => r.priority === p)!;
    // Hydrants: acknowledged after 4 and 20 min (the one still active is not yet); back to normal after 30 and 10 min.
    expect(times(2)).toEqual({
      priority: 2, activations: 3, annunciated: 3,
      acknowledge: { count: 2, meanMs: 12 * MIN, medianMs: 12 * MIN }, returnToNormal: { count: 2, meanMs: 20 * MIN, medianMs: 20 * MIN },
    });
    // The suppressed one was never shown, so never waited for an acknowledgement, but it did return.
    expect(times(3)).toMatchObject({ annunciated: 0, acknowledge: { count: 0, meanMs: null }, returnToNormal: { count: 1, meanMs: HOUR } });
    expect(times(1)).toMatchObject({ activations: 0, acknowledge: { count: 0 } });
    expect(times(null)).toEqual({
      priority: null, activations: 15, annunciated: 14,
      acknowledge: { count: 2, meanMs: 12 * MIN, medianMs: 12 * MIN }, returnToNormal: { count: 3, meanMs: (30 + 10 + 60) * MIN / 3, medianMs: 30 * MIN },
    });

    // Monday 00:00 to Tuesday 16:00: 40 hours, one operator on duty throughout (day and night shifts).
    expect(a.load).toMatchObject({ annunciated: 14, hours: 40, operatorHours: 40, rating: 'acceptable', perHour: { peak: 11 }, per10Minutes: { peak: 11 } });
    expect(a.load.perOperatorHour).toBeCloseTo(14 / 40, 9);
    expect(a.load.floodedPct).toBeCloseTo(100 / 240, 9);
  });

  it('narrows to one plot', async () => {
    const { body } = await report('?period=week&date=2025-05-07&plot=A');
    expect(body.plotId).toBe('A');
    expect(body.tickets.total).toBe(2);
    expect(body.alarms).toMatchObject({ activations: 13, annunciated: 13 });
    const c = await report('?period=week&date=2025-05-07&plot=C');
    expect(c.body.tickets.byKind.find((k) => k.key === 'maintenance')!.count).toBe(1);
    expect(c.body.alarms.byRule.map((r) => r.ruleId)).toEqual(['hydrant.pressure-low']);
  });

  it('takes a day in hours, defaults to this week, and an explicit from/to', async () => {
    const day = await report('?period=day&date=2025-05-06');
    expect(day.body.series).toHaveLength(24);
    expect(day.body.series.map((s) => s.tickets).reduce((x, y) => x + y)).toBe(4);
    expect(day.body.series[13]).toMatchObject({ activations: 11 });
    expect((await report('')).body).toMatchObject({ period: 'week', from: WEEK_FROM });
    const range = await report(`?from=${START - DAY}&to=${new Date(START + 2 * HOUR).toISOString()}`);
    expect(range.body).toMatchObject({ period: null, bucket: 'hour', from: START - DAY, to: START + 2 * HOUR });
    expect(range.body.tickets.total).toBe(2);
    // Last week's Sunday ticket and Saturday alarm.
    const last = await report('?period=week&date=2025-05-04');
    expect(last.body.tickets.total).toBe(1);
    expect(last.body.alarms.activations).toBe(1);
  });

  it('is for managers, supervisors and admin', async () => {
    for (const role of ['manager', 'department-supervisor', 'cs-supervisor', 'admin'] as const) expect((await report('', role)).status).toBe(200);
    for (const role of ['operator', 'technician', 'reception', 'patrol-officer'] as const) expect((await report('', role)).body.code).toBe('FORBIDDEN');
    expect((await call<ApiError>('GET', '/api/reports', undefined, null)).status).toBe(401);
  });

  it('asks for a shorter range or one plot past 50,000 tickets, instead of judging them all in memory', async () => {
    // March 2025, plot A: away from the weeks the other tests read.
    const from = atLocal('2025-03-03', 9 * 60, TZ);
    await server.app.database.execute(`insert into tickets (kind, priority, status, source, title, plot_id, created_by, created_at, updated_at, due_acknowledge_at, due_on_site_at, due_resolve_at)
      select 'patrol', 4, 'open', 'manual', 'bulk ' || n, 'A', 'test', t, t, t + interval '1 hour', t + interval '2 hours', t + interval '1 day'
      from generate_series(1, 50001) as n, lateral (select to_timestamp(($1::bigint + n * 1000) / 1000.0) as t) as at`, [from]);
    try {
      const month = await report('?period=month&date=2025-03-15');
      expect([month.status, month.body.code]).toEqual([400, 'REPORT_TOO_MANY_TICKETS']);
      expect(month.body.message).toMatch(/More than 50000 tickets in that range; choose a shorter period or one plot/);
      const plotB = await report('?period=month&date=2025-03-15&plot=B');
      expect(plotB.status).toBe(200);
      expect(plotB.body.tickets.total).toBe(0);
    } finally {
      await server.app.database.execute(`delete from tickets where created_by = 'test' and title like 'bulk %'`, []);
    }
  }, 60_000);

  it('refuses a bad query with a specific code', async () => {
    const bad = async (query: string) => { const r = await report(query); return [r.status, r.body.code]; };
    expect(await bad('?from=2025-05-01T00:00:00Z')).toEqual([400, 'REPORT_RANGE_INVALID']);
    expect(await bad('?from=soon&to=later')).toEqual([400, 'REPORT_RANGE_INVALID']);
    expect(await bad(`?from=${START}&to=${START - HOUR}`)).toEqual([400, 'REPORT_RANGE_INVALID']);
    expect(await bad('?date=2025-13-01')).toEqual([400, 'REPORT_RANGE_INVALID']);
    expect(await bad(`?from=${START - 100 * DAY}&to=${START}`)).toEqual([400, 'RANGE_TOO_LARGE']);
    expect(await bad('?period=year')).toEqual([400, 'VALIDATION_FAILED']);
    expect(await bad('?plot=Z')).toEqual([400, 'UNKNOWN_PLOT']);
  });
});

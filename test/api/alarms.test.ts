/**
 * The alarm API on each relational engine: alarms raised by readings published
 * to the embedded broker (event times in the past pass the rules' on-delays
 * without waiting), then listed, filtered, paged, acknowledged, shelved and
 * unshelved, with every error code the API can answer.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricValue } from '../../server/src/contract.ts';
import type { AlarmDetailView, AlarmKpisView, AlarmView, ApiError, Page } from '../../server/src/routes/api-types.ts';
import { eventually, startTestServer, testUsername, type TestServer } from '../support/app.ts';
import { createTempDatabase, type TempDatabase } from '../support/postgres.ts';

const MINUTE = 60_000;
const engines = [{ engine: 'pglite' }, ...(process.env.TEST_DATABASE_URL ? [{ engine: 'postgres' }] : [])];

describe.each(engines)('alarm API on $engine', ({ engine }) => {
  let server: TestServer;
  let database: TempDatabase | undefined;
  const clients = new Map<string, MqttClient>();
  /** Event times of the readings: minutes after `base`, which lies 40 minutes back. */
  const base = Date.now() - 40 * MINUTE;

  const publish = async (deviceId: string, plot: string, minutes: number, values: Record<string, MetricValue>) => {
    let client = clients.get(deviceId);
    if (!client) {
      client = await mqtt.connectAsync(server.app.broker.url, { clientId: `alarm-api-${deviceId}-${process.pid}`, ...server.mqttCredentials(deviceId) });
      clients.set(deviceId, client);
    }
    const ts = base + minutes * MINUTE;
    await client.publishAsync(`estate/${server.app.site.site.id}/${plot}/hydrant/${deviceId}/telemetry`, JSON.stringify({ v: 1, ts, seq: minutes, m: values }), { qos: 1 });
  };

  const get = async <T>(url: string) => {
    const response = await server.request({ url, as: 'operator' });
    return { status: response.statusCode, body: response.json() as T };
  };
  const post = async <T>(url: string, body?: unknown) => {
    const response = await server.request({ method: 'POST', url, as: 'operator', ...(body !== undefined && { body }) });
    return { status: response.statusCode, body: response.json() as T };
  };
  const ids = (page: Page<AlarmView>) => page.items.map((a) => a.id);

  beforeAll(async () => {
    const env: Record<string, string> = {};
    if (engine === 'postgres') {
      database = await createTempDatabase(process.env.TEST_DATABASE_URL!);
      env.DATABASE_URL = database.url;
    }
    server = await startTestServer(env);
    // Pressure below 0.10 MPa (or above 1.0) for 10 minutes of event time raises the alarm.
    await publish('HY-A-01', 'A', 0, { pressure_mpa: 0.05 });
    await publish('HY-A-01', 'A', 12, { pressure_mpa: 0.05 });
    await publish('HY-A-02', 'A', 1, { pressure_mpa: 0.05 });
    await publish('HY-A-02', 'A', 13, { pressure_mpa: 0.05 });
    await publish('HY-A-02', 'A', 14, { pressure_mpa: 0.3 }); // back to normal: returns after the off-delay
    await publish('HY-A-02', 'A', 25, { pressure_mpa: 0.3 });
    await publish('HY-B-01', 'B', 0, { pressure_mpa: 1.2 });
    await publish('HY-B-01', 'B', 12, { pressure_mpa: 1.2 });
    await publish('HY-C-01', 'C', 1, { pressure_mpa: 0.05 });
    await publish('HY-C-01', 'C', 14, { pressure_mpa: 0.05 });
    await eventually(async () => {
      const { body } = await get<Page<AlarmView>>('/api/alarms');
      return body.total === 4 ? body : undefined;
    }, 10_000, 'four alarms');
  });

  afterAll(async () => {
    await Promise.all([...clients.values()].map((c) => c.endAsync()));
    await server?.close();
    await database?.drop();
  });

  it('lists the alarms that are not normal, by priority and then the newest activation', async () => {
    const { status, body } = await get<Page<AlarmView>>('/api/alarms');
    expect(status).toBe(200);
    expect(ids(body)).toEqual(['HY-C-01:hydrant.pressure-low', 'HY-A-02:hydrant.pressure-low', 'HY-A-01:hydrant.pressure-low', 'HY-B-01:hydrant.pressure-high']);
    expect(body).toMatchObject({ total: 4, limit: 100, offset: 0 });
    expect(body.items[0]).toMatchObject({
      deviceId: 'HY-C-01', ruleId: 'hydrant.pressure-low', kind: 'hydrant', plotId: 'C', priority: 2, ticket: 'patrol',
      state: 'unack', value: 0.05, count: 1, firstActiveAt: base + 14 * MINUTE, lastActiveAt: base + 14 * MINUTE,
      acknowledged: null, shelved: null, suppressedBy: null, outOfService: false, chattering: false, annunciated: true,
    });
    expect(body.items[0]?.title.en).toMatch(/Hydrant pressure below minimum/);
    expect(body.items[1]).toMatchObject({ state: 'rtn-unack', lastClearedAt: base + 25 * MINUTE });
  });

  it('filters by state, priority, plot, kind and device, and pages', async () => {
    expect(ids((await get<Page<AlarmView>>('/api/alarms?state=rtn-unack')).body)).toEqual(['HY-A-02:hydrant.pressure-low']);
    expect(ids((await get<Page<AlarmView>>('/api/alarms?priority=3')).body)).toEqual(['HY-B-01:hydrant.pressure-high']);
    expect(ids((await get<Page<AlarmView>>('/api/alarms?plot=A')).body)).toEqual(['HY-A-02:hydrant.pressure-low', 'HY-A-01:hydrant.pressure-low']);
    expect(ids((await get<Page<AlarmView>>('/api/alarms?device=HY-C-01')).body)).toEqual(['HY-C-01:hydrant.pressure-low']);
    expect((await get<Page<AlarmView>>('/api/alarms?kind=hydrant')).body.total).toBe(4);
    expect((await get<Page<AlarmView>>('/api/alarms?kind=elevator')).body.total).toBe(0);

    const first = (await get<Page<AlarmView>>('/api/alarms?limit=3')).body;
    const second = (await get<Page<AlarmView>>('/api/alarms?limit=3&offset=3')).body;
    expect([first.total, second.total]).toEqual([4, 4]);
    expect([...ids(first), ...ids(second)]).toEqual(ids((await get<Page<AlarmView>>('/api/alarms')).body));
  });

  it('shows one alarm with its history', async () => {
    const { status, body } = await get<AlarmDetailView>('/api/alarms/HY-A-02:hydrant.pressure-low');
    expect(status).toBe(200);
    expect(body).toMatchObject({ id: 'HY-A-02:hydrant.pressure-low', state: 'rtn-unack' });
    expect(body.events.map((e) => [e.type, e.at, e.state])).toEqual([
      ['alarm-cleared', base + 25 * MINUTE, 'rtn-unack'],
      ['alarm-raised', base + 13 * MINUTE, 'unack'],
    ]);
  });

  it('acknowledges: an active alarm stays listed as ack, a returned one becomes normal and leaves the list', async () => {
    const active = await post<AlarmView>('/api/alarms/HY-A-01:hydrant.pressure-low/ack', { comment: 'patrol sent' });
    expect(active.status).toBe(200);
    expect(active.body).toMatchObject({ state: 'ack', acknowledged: { by: testUsername('operator'), comment: 'patrol sent' } });

    const returned = await post<AlarmView>('/api/alarms/HY-A-02:hydrant.pressure-low/ack');
    expect(returned.body.state).toBe('normal');

    const listed = (await get<Page<AlarmView>>('/api/alarms')).body;
    expect(ids(listed)).toEqual(['HY-C-01:hydrant.pressure-low', 'HY-A-01:hydrant.pressure-low', 'HY-B-01:hydrant.pressure-high']);
    expect(listed.items[1]).toMatchObject({ state: 'ack', acknowledged: { comment: 'patrol sent' } });
    expect(ids((await get<Page<AlarmView>>('/api/alarms?activeOnly=false&state=normal')).body)).toEqual(['HY-A-02:hydrant.pressure-low']);
    const history = (await get<AlarmDetailView>('/api/alarms/HY-A-01:hydrant.pressure-low')).body.events;
    expect(history[0]).toMatchObject({ type: 'alarm-acknowledged', by: testUsername('operator'), state: 'ack' });
  });

  it('shelves for some minutes or until a time, and unshelves', async () => {
    const before = Date.now();
    const shelved = await post<AlarmView>('/api/alarms/HY-C-01:hydrant.pressure-low/shelve', { minutes: 30, reason: 'main being flushed' });
    expect(shelved.status).toBe(200);
    expect(shelved.body).toMatchObject({ state: 'unack', annunciated: false, shelved: { by: testUsername('operator'), reason: 'main being flushed' } });
    expect(shelved.body.shelved!.until).toBeGreaterThanOrEqual(before + 30 * MINUTE);
    expect(shelved.body.shelved!.until).toBeLessThanOrEqual(Date.now() + 30 * MINUTE);

    const unshelved = await post<AlarmView>('/api/alarms/HY-C-01:hydrant.pressure-low/unshelve');
    expect(unshelved.body).toMatchObject({ shelved: null, annunciated: true });

    const until = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const again = await post<AlarmView>('/api/alarms/HY-B-01:hydrant.pressure-high/shelve', { until, reason: 'gauge being replaced' });
    expect(again.body).toMatchObject({ annunciated: false, shelved: { until: Date.parse(until), reason: 'gauge being replaced' } });
    expect((await get<Page<AlarmView>>('/api/alarms?device=HY-B-01')).body.items[0]?.shelved?.until).toBe(Date.parse(until));
  });

  it.each([
    ['GET', '/api/alarms/NOPE:nothing', undefined, 404, 'ALARM_NOT_FOUND'],
    ['POST', '/api/alarms/NOPE:nothing/ack', {}, 404, 'ALARM_NOT_FOUND'],
    ['POST', '/api/alarms/NOPE:nothing/shelve', { minutes: 5, reason: 'x' }, 404, 'ALARM_NOT_FOUND'],
    ['POST', '/api/alarms/NOPE:nothing/unshelve', undefined, 404, 'ALARM_NOT_FOUND'],
    ['POST', '/api/alarms/HY-A-01:hydrant.pressure-low/ack', {}, 409, 'ALARM_ALREADY_ACKNOWLEDGED'],
    ['POST', '/api/alarms/HY-A-02:hydrant.pressure-low/ack', {}, 409, 'ALARM_NOT_ACTIVE'],
    ['POST', '/api/alarms/HY-B-01:hydrant.pressure-high/shelve', { minutes: 5, reason: 'again' }, 409, 'ALARM_ALREADY_SHELVED'],
    ['POST', '/api/alarms/HY-C-01:hydrant.pressure-low/unshelve', undefined, 409, 'ALARM_NOT_SHELVED'],
    ['POST', '/api/alarms/HY-A-01:hydrant.pressure-low/shelve', { reason: 'no end' }, 400, 'SHELVE_UNTIL_REQUIRED'],
    ['POST', '/api/alarms/HY-A-01:hydrant.pressure-low/shelve', { minutes: 5, reason: '   ' }, 400, 'SHELVE_REASON_REQUIRED'],
    ['POST', '/api/alarms/HY-A-01:hydrant.pressure-low/shelve', { until: '2020-01-01T00:00:00Z', reason: 'x' }, 400, 'SHELVE_UNTIL_IN_PAST'],
    ['POST', '/api/alarms/HY-A-01:hydrant.pressure-low/shelve', { minutes: 25 * 60, reason: 'x' }, 400, 'SHELVE_TOO_LONG'],
    ['POST', '/api/alarms/HY-A-01:hydrant.pressure-low/shelve', { minutes: 5, until: '2030-01-01T00:00:00Z', reason: 'x' }, 400, 'BAD_REQUEST'],
    ['POST', '/api/alarms/HY-A-01:hydrant.pressure-low/shelve', { until: 'tomorrow', reason: 'x' }, 400, 'BAD_REQUEST'],
    ['POST', '/api/alarms/HY-A-01:hydrant.pressure-low/shelve', { minutes: 5 }, 400, 'VALIDATION_FAILED'],
    ['GET', '/api/alarms?priority=9', undefined, 400, 'VALIDATION_FAILED'],
    ['GET', '/api/alarms?state=bad', undefined, 400, 'VALIDATION_FAILED'],
    ['GET', '/api/alarms?plot=Z', undefined, 400, 'BAD_REQUEST'],
    ['GET', '/api/alarms/kpis?from=2024-01-02&to=2024-01-01', undefined, 400, 'BAD_REQUEST'],
    ['GET', '/api/alarms/kpis?from=2024-01-01&to=2024-03-01', undefined, 400, 'RANGE_TOO_LARGE'],
  ] as const)('%s %s → %s %s', async (method, url, body, status, code) => {
    const response = await server.request({ method, url, as: 'operator', ...(body !== undefined && { body }) });
    expect(response.statusCode).toBe(status);
    expect(response.json()).toMatchObject({ statusCode: status, code });
    expect((response.json() as ApiError).message.length).toBeGreaterThan(5);
  });

  it('lets every role list, and only the control room, supervisors and admin act', async () => {
    expect((await server.request({ url: '/api/alarms', as: 'technician' })).statusCode).toBe(200);
    const refused = await server.request({ method: 'POST', url: '/api/alarms/HY-C-01:hydrant.pressure-low/ack', body: {}, as: 'technician' });
    expect(refused.statusCode).toBe(403);
    const supervisor = await server.request({ method: 'POST', url: '/api/alarms/HY-C-01:hydrant.pressure-low/ack', body: {}, as: 'department-supervisor' });
    expect(supervisor.json()).toMatchObject({ state: 'ack', acknowledged: { by: testUsername('department-supervisor') } });
  });

  it('computes the KPIs from the stored history', async () => {
    const { status, body } = await get<AlarmKpisView>(`/api/alarms/kpis?from=${base - MINUTE}&to=${Date.now()}`);
    expect(status).toBe(200);
    expect(body.annunciated).toBe(4);
    expect(body.top10.map((t) => t.alarmId).sort()).toEqual([
      'HY-A-01:hydrant.pressure-low', 'HY-A-02:hydrant.pressure-low', 'HY-B-01:hydrant.pressure-high', 'HY-C-01:hydrant.pressure-low',
    ]);
    expect(body.perHour.peak).toBeGreaterThanOrEqual(1);
    expect(body.floods).toEqual([]);
    expect(body.stale).toEqual([]);
    const empty = (await get<AlarmKpisView>('/api/alarms/kpis?from=2024-01-01T00:00:00Z&to=2024-01-02T00:00:00Z')).body;
    expect(empty).toMatchObject({ annunciated: 0, top10: [], floods: [] });
  });
});

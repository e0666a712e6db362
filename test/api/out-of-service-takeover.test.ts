/**
 * A maintenance ticket changed while its device's partition had no owner
 * reached no alarm engine (the change is told to the owner, and there was
 * none), and a snapshot can be older than the ticket: whoever takes the
 * partition over next rebuilds the device's out-of-service switch from the
 * maintenance tickets under way, so a device under maintenance raises no
 * annunciated alarm and no ticket after a takeover. A start on PGlite takes
 * every partition over through the same path as a change of owner.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../../server/src/adapters/sql/database.ts';
import { alarmEngineState } from '../../server/src/adapters/sql/schema.ts';
import type { Role } from '../../server/src/auth/roles.ts';
import type { AlarmDetailView, TicketView } from '../../server/src/routes/api-types.ts';
import { eventually, startTestServer, type TestServer } from '../support/app.ts';

const DEVICE = 'EL-A-01-1';
const ALARM = `${DEVICE}:elevator.fault`;
let tempDir: string;
let dataDir: string;
let server: TestServer | undefined;
let ticket: TicketView;

/** A first start creates the PGlite cluster: slow on a loaded machine. Each restart after it takes the partitions over. */
const RESTARTS = { timeout: 120_000 };

beforeAll(async () => {
  tempDir = await mkdtemp(path.join(tmpdir(), 'ew-out-of-service-'));
  dataDir = path.join(tempDir, 'data');
  await restart();
}, 180_000);
afterAll(async () => {
  await server?.close();
  await rm(tempDir, { recursive: true, force: true });
});

const restart = async (): Promise<TestServer> => {
  await server?.close();
  server = await startTestServer({ DATA_DIR: dataDir });
  return server;
};
/** Ticket changes from here on reach no engine, as on an instance that owns no partition while the device's has no owner. */
const ownerGone = (s: TestServer) => s.app.tickets.useOutOfService(() => {});
const act = async (action: string, body: Record<string, unknown>, as: Role) => {
  const response = await server!.request({ method: 'POST', url: `/api/tickets/${ticket.id}/${action}`, body: { version: ticket.version, ...body }, as });
  expect(response.statusCode, response.body).toBe(200);
  ticket = response.json() as TicketView;
};
const outOfService = (s: TestServer) => s.app.alarms.engine.snapshot().outOfService;
const ticketsOfDevice = async (s: TestServer) => (await s.app.tickets.repository.all()).filter((t) => t.deviceId === DEVICE);

it('a ticket started while the partition had no owner: its next owner takes the device out of service, and a fault raises no ticket', RESTARTS, async () => {
  let s = server!;
  const created = await s.request({ method: 'POST', url: '/api/tickets', body: { kind: 'maintenance', device: DEVICE, title: 'Door sensor replacement' }, as: 'operator' });
  expect(created.statusCode, created.body).toBe(201);
  ticket = created.json() as TicketView;
  ownerGone(s);
  await act('assign', { assignee: 'test-technician' }, 'operator');
  await act('accept', {}, 'technician');
  await act('start', {}, 'technician');
  expect(ticket.status).toBe('in-progress');
  expect(outOfService(s)).not.toContain(DEVICE);

  // Closed: its partition's snapshot still says in service.
  s = await restart();
  expect(outOfService(s)).toContain(DEVICE);

  const client = await mqtt.connectAsync(s.app.broker.url, { clientId: `out-of-service-${process.pid}`, ...s.mqttCredentials(DEVICE) });
  await client.publishAsync(`estate/blue-valley/A/elevator/${DEVICE}/telemetry`,
    JSON.stringify({ v: 1, ts: Date.now() - 30_000, seq: 1, m: { fault_code: 23, floor: 2, door: 'closed' } }), { qos: 1 });
  await client.endAsync();
  await eventually(() => s.app.alarms.engine.alarm(ALARM), 10_000, 'the alarm');
  await s.app.alarms.flush();
  await s.app.tickets.idle();
  expect((await s.request({ url: `/api/alarms/${ALARM}` })).json()).toMatchObject({ state: 'unack', outOfService: true, annunciated: false });
  expect((await ticketsOfDevice(s)).map((t) => t.id)).toEqual([ticket.id]);
});

it('without a snapshot the maintenance tickets still decide', RESTARTS, async () => {
  await server!.close();
  server = undefined;
  const database = await openDatabase({ url: null, dataDir });
  await database.db.delete(alarmEngineState);
  await database.close();

  const s = await restart();
  expect(outOfService(s)).toContain(DEVICE);
});

it('a ticket closed while the partition had no owner: its next owner puts the device and its alarm back in service', RESTARTS, async () => {
  let s = server!;
  ownerGone(s);
  await act('resolve', { note: 'Sensor replaced' }, 'technician');
  await act('verify', {}, 'operator');
  expect(ticket.status).toBe('closed');
  expect(outOfService(s)).toContain(DEVICE);

  s = await restart();
  expect(outOfService(s)).not.toContain(DEVICE);
  await s.app.alarms.flush();
  const alarm = (await s.request({ url: `/api/alarms/${ALARM}` })).json() as AlarmDetailView;
  expect(alarm).toMatchObject({ state: 'unack', outOfService: false, annunciated: true });
  expect(alarm.events.map((e) => e.type)).toContain('alarm-in-service');
});

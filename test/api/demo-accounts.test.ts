/**
 * The demo accounts (password "bluevalley-demo") work only in the embedded demo (SIMULATE on,
 * no DATABASE_URL), and there the demo technician and patrol officer are on the duty roster:
 * a ticket the roster assigns, from an alarm of the simulated estate or by hand, reaches a
 * demo login. Started any other way, the same accounts are refused and off the roster.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../../server/src/auth/auth-service.ts';
import type { Page, StaffView, TicketView, UserView } from '../../server/src/routes/api-types.ts';
import { TEST_DATABASE_URL } from '../support/databases.ts';
import { createTempDatabase } from '../support/postgres.ts';
import { eventually, sessionHeaders, startTestServer, type TestServer } from '../support/app.ts';

const ELEVATOR = 'EL-A-03-1';
const TINY_SITE = new URL('../fixtures/tiny-site.json', import.meta.url).pathname;

let dataDir: string;
beforeAll(async () => { dataDir = await mkdtemp(path.join(os.tmpdir(), 'ew-demo-accounts-')); });
afterAll(async () => { if (dataDir) await rm(dataDir, { recursive: true, force: true }); });

/** Logs in by API; each login from its own address (the per-address rate limit). */
let clients = 0;
const login = (server: TestServer, username: string) => server.app.inject({
  method: 'POST', url: '/api/auth/login', payload: { username, password: DEMO_PASSWORD }, remoteAddress: `10.1.0.${++clients}`,
});

describe('in the embedded demo (npm start)', () => {
  let server: TestServer;
  beforeAll(async () => { server = await startTestServer({ SIMULATE: 'true', DATA_DIR: dataDir }); }, 120_000);
  afterAll(async () => { await server?.close(); });

  it('has a demo account per role, with the published password', async () => {
    const users = (await server.request({ url: '/api/users' })).json() as UserView[];
    expect(users.filter((u) => u.demo && !u.disabled).map((u) => u.username).sort()).toEqual([
      'demo-admin', 'demo-cs-supervisor', 'demo-department-supervisor', 'demo-manager', 'demo-operator', 'demo-patrol-officer', 'demo-reception', 'demo-technician',
    ]);
    const response = await login(server, 'demo-technician');
    expect(response.statusCode).toBe(200);
  });

  it('puts the demo technician and patrol officer on the roster, on duty round the clock', async () => {
    const staff = (await server.request({ url: '/api/staff', as: 'operator' })).json() as StaffView[];
    expect(staff.find((s) => s.username === 'demo-technician')).toMatchObject({ role: 'technician', onDuty: true, skills: ['electrical', 'plumbing', 'pumps', 'elevators'] });
    expect(staff.find((s) => s.username === 'demo-patrol-officer')).toMatchObject({ role: 'patrol-officer', onDuty: true, zoneId: 'Z-A1' });
    // The real roster is still there.
    expect(staff.filter((s) => s.role === 'technician').length).toBeGreaterThan(1);
  });

  it('sends an alarm\'s ticket to the demo technician, who sees it under My tickets and accepts it', async () => {
    const device = await mqtt.connectAsync(server.app.broker.url, { clientId: `demo-e2e-${randomBytes(3).toString('hex')}`, ...server.mqttCredentials(ELEVATOR) });
    try {
      await device.publishAsync(`estate/blue-valley/A/elevator/${ELEVATOR}/telemetry`, JSON.stringify({ v: 1, ts: Date.now() - 1000, seq: 1_000_000, m: { fault_code: 17, floor: 4, door: 'closed' } }), { qos: 1 });
    } finally {
      await device.endAsync();
    }
    const ticket = await eventually(async () => {
      const page = (await server.request({ url: '/api/tickets?kind=maintenance&limit=100', as: 'operator' })).json() as Page<TicketView>;
      return page.items.find((t) => t.deviceId === ELEVATOR);
    }, 15_000, 'the elevator ticket');
    // Nobody has open tickets yet: the in-house demo technician comes before the lift contractor's.
    expect(ticket).toMatchObject({ source: 'alarm', status: 'assigned', assignee: 'demo-technician' });

    const headers = sessionHeaders(await login(server, 'demo-technician'));
    const mine = (await server.app.inject({ url: '/api/tickets?assignee=demo-technician&status=open', headers })).json() as Page<TicketView>;
    expect(mine.items.map((t) => t.id)).toContain(ticket.id);
    const accepted = await server.app.inject({ method: 'POST', url: `/api/tickets/${ticket.id}/accept`, headers, payload: { version: ticket.version } });
    expect(accepted.statusCode, accepted.body).toBe(200);
  });

  it('sends a patrol ticket in plot A north to the demo patrol officer', async () => {
    const created = await server.request({ method: 'POST', url: '/api/tickets', as: 'operator', body: { kind: 'patrol', building: 'A-03', title: 'Gate left open' } });
    expect(created.statusCode, created.body).toBe(201);
    const ticket = created.json() as TicketView;
    expect(ticket.assignee).toBe('demo-patrol-officer');
    const headers = sessionHeaders(await login(server, 'demo-patrol-officer'));
    const mine = (await server.app.inject({ url: '/api/tickets?assignee=demo-patrol-officer&status=open', headers })).json() as Page<TicketView>;
    expect(mine.items.map((t) => t.id)).toEqual([ticket.id]);
  });
});

describe('started any other way', () => {
  it('refuses the demo accounts and keeps them off the roster (SIMULATE off, same data)', { timeout: 120_000 }, async () => {
    const server = await startTestServer({ SIMULATE: 'false', DATA_DIR: dataDir });
    try {
      const users = (await server.request({ url: '/api/users' })).json() as UserView[];
      const demo = users.filter((u) => u.demo);
      expect(demo).toHaveLength(8);
      expect(demo.every((u) => u.disabled)).toBe(true);
      const refused = await login(server, 'demo-technician');
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toMatchObject({ code: 'LOGIN_FAILED' });

      const staff = (await server.request({ url: '/api/staff', as: 'operator' })).json() as StaffView[];
      expect(staff.filter((s) => s.username.startsWith('demo-'))).toEqual([]);
      const created = (await server.request({ method: 'POST', url: '/api/tickets', as: 'operator', body: { kind: 'patrol', building: 'A-03', title: 'Gate left open' } })).json() as TicketView;
      expect(['zhang.wei', 'feng.bo']).toContain(created.assignee);
    } finally {
      await server.close();
    }
  });

  it.skipIf(TEST_DATABASE_URL === null)('creates no demo account with DATABASE_URL, even with SIMULATE on', { timeout: 120_000 }, async () => {
    const database = await createTempDatabase(TEST_DATABASE_URL!);
    const server = await startTestServer({ SIMULATE: 'true', DATABASE_URL: database.url, SITE_FILE: TINY_SITE });
    try {
      const users = (await server.request({ url: '/api/users' })).json() as UserView[];
      expect(users.filter((u) => u.demo)).toEqual([]);
      expect((await login(server, 'demo-operator')).statusCode).toBe(401);
    } finally {
      await server.close();
      await database.drop();
    }
  });
});

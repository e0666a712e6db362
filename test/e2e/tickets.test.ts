/**
 * From a fault to a ticket on a phone: an elevator publishes a fault code over
 * MQTT → the alarm opens one maintenance ticket, pushed to the control room →
 * the fault repeats and attaches to it instead of opening another → the
 * ticket is assigned to a technician, whose socket (and only the assignee's)
 * receives it → starting work takes the device out of service.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../server/src/auth/roles.ts';
import type { ClientToServerEvents, PushedTicket, ServerToClientEvents } from '../../server/src/push/events.ts';
import type { Page, TicketView } from '../../server/src/routes/api-types.ts';
import { eventually, startTestServer, testUsername, type TestServer } from '../support/app.ts';

const ELEVATOR = 'EL-A-03-1';

describe('alarm → ticket → technician, through MQTT and socket.io', () => {
  let server: TestServer;
  let device: MqttClient;
  const sockets: Socket<ServerToClientEvents, ClientToServerEvents>[] = [];
  const received = new Map<Role, PushedTicket[]>();

  async function connectAs(role: Role): Promise<void> {
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = connectSocket(server.baseUrl, { transports: ['websocket'], extraHeaders: await server.headersFor(role) });
    sockets.push(socket);
    received.set(role, []);
    socket.on('tickets:changed', ({ ticket }) => received.get(role)!.push(ticket));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
  }

  let seq = 0;
  const fault = (code: number, ts: number) =>
    device.publishAsync(`estate/blue-valley/A/elevator/${ELEVATOR}/telemetry`, JSON.stringify({ v: 1, ts, seq: ++seq, m: { fault_code: code, floor: 4, door: 'closed' } }), { qos: 1 });

  const elevatorTickets = async () => {
    const page = (await server.request({ url: '/api/tickets?kind=maintenance&plot=A&limit=100', as: 'operator' })).json() as Page<TicketView>;
    return page.items.filter((t) => t.deviceId === ELEVATOR);
  };

  beforeAll(async () => {
    server = await startTestServer();
    device = await mqtt.connectAsync(server.app.broker.url, { clientId: `tickets-e2e-${randomBytes(3).toString('hex')}`, ...server.mqttCredentials(ELEVATOR) });
    await connectAs('operator');
    await connectAs('technician');
    await connectAs('reception');
  });

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await device?.endAsync();
    await server?.close();
  });

  it('opens one maintenance ticket for the fault and pushes it to the control room', async () => {
    await fault(17, Date.now() - 60_000);
    const [ticket] = await eventually(async () => {
      const tickets = await elevatorTickets();
      return tickets.length > 0 ? tickets : undefined;
    }, 10_000, 'the elevator ticket');
    expect(ticket).toMatchObject({ kind: 'maintenance', source: 'alarm', deviceId: ELEVATOR, plotId: 'A' });
    await eventually(() => received.get('operator')!.find((t) => t.id === ticket!.id), 5_000, 'tickets:changed at the operator');
  });

  it('attaches a repeat of the fault to the open ticket instead of opening another', async () => {
    await fault(0, Date.now() - 40_000);
    await fault(17, Date.now() - 20_000);
    await eventually(async () => (server.app.alarms.engine.alarm(`${ELEVATOR}:elevator.fault`)?.count === 2 ? true : undefined), 10_000, 'the second activation');
    await server.app.tickets.idle();
    expect(await elevatorTickets()).toHaveLength(1);
  });

  it('reaches the assigned technician alone, and starting work takes the device out of service', async () => {
    const [ticket] = await elevatorTickets();
    const assigned = await server.request({ method: 'POST', url: `/api/tickets/${ticket!.id}/assign`, body: { version: ticket!.version, assignee: testUsername('technician') }, as: 'operator' });
    expect(assigned.statusCode).toBe(200);
    const pushed = await eventually(() => received.get('technician')!.find((t) => t.id === ticket!.id && t.assignee === testUsername('technician')), 5_000, 'tickets:changed at the technician');
    expect(pushed.status).toBe('assigned');
    expect(received.get('reception')!.some((t) => t.id === ticket!.id)).toBe(false);
    expect(server.app.alarms.engine.snapshot().outOfService).not.toContain(ELEVATOR);

    const started = await server.request({ method: 'POST', url: `/api/tickets/${ticket!.id}/start`, body: { version: (assigned.json() as TicketView).version }, as: 'technician' });
    expect(started.statusCode, started.body).toBe(200);
    expect(server.app.alarms.engine.snapshot().outOfService).toContain(ELEVATOR);
  });
});

/**
 * socket.io behind the session: the handshake needs a session cookie, each
 * socket joins role:<role>, user:<username> and (with a plot) plot:<id>, live
 * device frames reach the roles that watch the site but not technicians, and
 * logging out ends the socket.
 */
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_DEVICE_ROLES, ROLES, type Role } from '../../server/src/auth/roles.ts';
import { deviceTopic } from '../../server/src/contract.ts';
import type { ClientToServerEvents, DeviceState, ServerToClientEvents } from '../../server/src/push/events.ts';
import { eventually, startTestServer, testUsername, type TestServer } from '../support/app.ts';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

let server: TestServer;
const sockets: Client[] = [];
beforeAll(async () => { server = await startTestServer({ SITE_FILE: new URL('../fixtures/tiny-site.json', import.meta.url).pathname }); });
afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await server?.close();
});

function open(headers: Record<string, string>): Promise<Client> {
  const socket: Client = connectSocket(server.baseUrl, { transports: ['websocket'], extraHeaders: headers, reconnection: false, forceNew: true });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** The rooms a user's sockets are in, from the server's side. */
async function roomsOf(username: string): Promise<string[]> {
  const found = await server.app.io.in(`user:${username}`).fetchSockets();
  return [...new Set(found.flatMap((s) => [...s.rooms].filter((r) => r !== s.id)))].sort();
}

describe('socket.io handshake', () => {
  it('refuses a socket without a session or with a forged one', async () => {
    await expect(open({})).rejects.toThrow('UNAUTHENTICATED');
    await expect(open({ cookie: 'ew_session=forged-token' })).rejects.toThrow('UNAUTHENTICATED');
  });

  it('puts each role in its role and user rooms, and a patrol officer in the room of their plot', async () => {
    for (const role of ROLES) {
      await open(await server.headersFor(role));
      const plot = role === 'patrol-officer' ? [`plot:${server.app.site.site.plots[0]!.id}`] : [];
      expect(await roomsOf(testUsername(role))).toEqual([`role:${role}`, `user:${testUsername(role)}`, ...plot].sort());
    }
  });
});

describe('live device frames by role', () => {
  it('go to every role that watches the site, not to technicians', async () => {
    const received = new Map<Role, DeviceState[]>();
    const snapshots = new Map<Role, number>();
    for (const role of ROLES) {
      const socket = await open(await server.headersFor(role));
      received.set(role, []);
      socket.on('devices:update', (states) => received.get(role)!.push(...states));
      snapshots.set(role, (await socket.timeout(5_000).emitWithAck('devices:snapshot')).length);
    }
    const pump = server.app.site.site.devices.find((d) => d.kind === 'booster-pump')!;
    const device = await mqtt.connectAsync(server.app.broker.url, { clientId: `rooms-${randomBytes(4).toString('hex')}`, ...server.mqttCredentials(pump.id) });
    try {
      await device.publishAsync(deviceTopic(server.app.site.site.id, pump.plotId, pump.kind, pump.id, 'telemetry'), JSON.stringify({ v: 1, ts: Date.now(), seq: 1, m: { pressure_mpa: 0.47 } }), { qos: 1 });
      await eventually(() => (LIVE_DEVICE_ROLES.every((r) => received.get(r)!.some((s) => s.id === pump.id)) ? true : undefined), 5_000, 'the frame in every watching role');
    } finally {
      await device.endAsync();
    }
    // The frame went out to everyone at once: had the technician been sent it, it would have arrived by now.
    expect(received.get('technician')).toEqual([]);
    expect(snapshots.get('technician')).toBe(0);
    expect(snapshots.get('operator')).toBe(server.app.site.site.devices.length);
  });
});

describe('session end', () => {
  it('disconnects the socket of a session that logs out', async () => {
    const headers = await server.login('reception');
    const socket = await open(headers);
    const gone = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    expect((await server.app.inject({ method: 'POST', url: '/api/auth/logout', headers })).statusCode).toBe(204);
    expect(await gone).toBe('io server disconnect');
    await expect(open(headers)).rejects.toThrow('UNAUTHENTICATED');
  });
});

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Server } from 'socket.io';
import { io as connectClient } from 'socket.io-client';
import type { ClientToServerEvents, DeviceState, ServerToClientEvents } from '../../../server/src/push/events.ts';
import { ConnectionState } from './connection.svelte.ts';
import { HealthStore } from './health.svelte.ts';
import { linkSocket } from './live-link.ts';
import type { LiveSocket } from './live-link.ts';
import { LiveDevices } from './live-devices.svelte.ts';
import { state } from './testing/fixtures.ts';

// A real socket.io server on port 0 stands in for the EstateWatch push plugin.
describe('linkSocket', () => {
  let server: Server<ClientToServerEvents, ServerToClientEvents>;
  let client: LiveSocket;
  let snapshot: DeviceState[];
  let snapshotRequests: number;
  let live: LiveDevices;
  let connection: ConnectionState;
  let health: HealthStore;
  let unlink: () => void;

  beforeEach(async () => {
    snapshot = [state('BP-A-1', 'online', 1_000)];
    snapshotRequests = 0;
    const http = createServer();
    server = new Server(http);
    server.on('connection', (socket) => {
      socket.on('devices:snapshot', (reply) => {
        snapshotRequests += 1;
        reply(snapshot);
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;

    live = new LiveDevices((flush) => queueMicrotask(flush));
    connection = new ConnectionState();
    health = new HealthStore(async () => new Response('{}'));
    client = connectClient(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnectionDelay: 20, reconnectionDelayMax: 40 });
    unlink = linkSocket(client, { live, connection, health });
  });

  afterEach(async () => {
    unlink();
    client.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('asks for a snapshot on connect and applies pushed updates and counters', async () => {
    expect(connection.status).toBe('connecting');
    await vi.waitFor(() => expect(live.get('BP-A-1')?.status).toBe('online'));
    expect(connection.status).toBe('connected');
    expect(snapshotRequests).toBe(1);

    server.emit('devices:update', [state('BP-A-1', 'offline', 2_000), state('SL-A-1', 'online', 2_000)]);
    server.emit('ingest:counters', { accepted: 10, rejected: 1, byReason: { BAD_JSON: 1 } });
    await vi.waitFor(() => expect(live.get('BP-A-1')?.status).toBe('offline'));
    expect(live.get('SL-A-1')?.status).toBe('online');
    await vi.waitFor(() => expect(health.ingest?.rejected).toBe(1));
  });

  it('asks for a fresh snapshot after the server drops the link', async () => {
    await vi.waitFor(() => expect(snapshotRequests).toBe(1));
    snapshot = [state('BP-A-1', 'offline', 5_000)];
    // Registered after linkSocket's own listener, so it sees the state that listener left.
    const seen: string[] = [];
    client.on('disconnect', () => seen.push(connection.status));

    server.disconnectSockets(true);
    await vi.waitFor(() => expect(snapshotRequests).toBe(2));
    await vi.waitFor(() => expect(live.get('BP-A-1')?.status).toBe('offline'));
    expect(seen).toEqual(['reconnecting']);
    expect(connection.status).toBe('connected');
  });
});

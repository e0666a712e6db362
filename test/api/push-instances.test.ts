/**
 * Pushes with two server instances on one PostgreSQL: an instance delivers
 * to its own sockets itself and to the other instance's through the
 * adapter, and no socket gets an event twice.
 */
import { io as connectSocket, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientToServerEvents, ServerToClientEvents } from '../../server/src/push/events.ts';
import { TEST_DATABASE_URL } from '../support/databases.ts';
import { eventually, startTestServer, type TestServer } from '../support/app.ts';
import { createTempDatabase, type TempDatabase } from '../support/postgres.ts';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

describe.runIf(TEST_DATABASE_URL)('pushes with two instances', () => {
  let temp: TempDatabase;
  const servers: TestServer[] = [];
  const sockets: Client[] = [];

  beforeAll(async () => {
    temp = await createTempDatabase(TEST_DATABASE_URL!);
    for (let i = 0; i < 2; i++) {
      servers.push(await startTestServer({ DATABASE_URL: temp.url, SITE_FILE: new URL('../fixtures/tiny-site.json', import.meta.url).pathname }));
    }
    // Each adapter has heard the other: both listen.
    await eventually(async () => {
      const counts = await Promise.all(servers.map((s) => s.app.io.of('/').adapter.serverCount()));
      return counts.every((n) => n === 2) || undefined;
    }, 20_000, 'both instances in the cluster');
  }, 60_000);
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    for (const server of servers) await server.close();
    await temp?.drop();
  });

  async function operatorOn(server: TestServer): Promise<{ ticketIds: number[] }> {
    const socket: Client = connectSocket(server.baseUrl, { transports: ['websocket'], extraHeaders: await server.headersFor('operator'), reconnection: false, forceNew: true });
    sockets.push(socket);
    const received = { ticketIds: [] as number[] };
    socket.on('tickets:changed', ({ ticket }) => received.ticketIds.push(ticket.id));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return received;
  }

  async function createTicket(server: TestServer, title: string): Promise<number> {
    const response = await server.request({ method: 'POST', url: '/api/tickets', body: { kind: 'maintenance', title } });
    expect(response.statusCode).toBe(201);
    return (response.json() as { id: number }).id;
  }

  it('a ticket change reaches the operators of both instances, each once', async () => {
    const [first, second] = servers as [TestServer, TestServer];
    const onFirst = await operatorOn(first);
    const onSecond = await operatorOn(second);

    const one = await createTicket(first, 'pushed from the first instance');
    await eventually(() => (onFirst.ticketIds.includes(one) && onSecond.ticketIds.includes(one)) || undefined, 10_000, 'the first ticket at both instances');
    const two = await createTicket(second, 'pushed from the second instance');
    await eventually(() => (onFirst.ticketIds.includes(two) && onSecond.ticketIds.includes(two)) || undefined, 10_000, 'the second ticket at both instances');

    // A second copy of the first (its own instance's delivery repeated after the adapter's round
    // trip through PostgreSQL) would have come before the second ticket went the same way.
    expect(onFirst.ticketIds.toSorted((a, b) => a - b)).toEqual([one, two]);
    expect(onSecond.ticketIds.toSorted((a, b) => a - b)).toEqual([one, two]);
  });
});

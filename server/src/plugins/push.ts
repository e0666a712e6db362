import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { createAdapter } from '@socket.io/postgres-adapter';
import fp from 'fastify-plugin';
import pg from 'pg';
import { Server, type Namespace, type Socket } from 'socket.io';
import { Adapter, MessageType, type BroadcastOptions, type ClusterAdapter } from 'socket.io-adapter';
import type { Principal } from '../auth/auth-service.ts';
import { LIVE_DEVICE_ROLES, rooms } from '../auth/roles.ts';
import type { FastifyInstance } from 'fastify';
import type { ClientToServerEvents, DeviceState, IngestCounters, ServerToClientEvents } from '../push/events.ts';

/** Live device changes are coalesced into at most this many frames a second. */
const FRAMES_PER_SECOND = 4;
const COUNTERS_EVERY_MS = 1_000;
/** A peer's counters older than this are from an instance that is gone. */
const PEER_COUNTERS_TTL_MS = 5 * COUNTERS_EVERY_MS;
/** How long a question to the other instances waits for their answers at most. */
const ASK_TIMEOUT_MS = 3_000;
const POOL_END_WAIT_MS = 2_000;
/** setTimeout's ceiling; a longer session is re-checked when the timer fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the handshake attached to a socket. */
export interface SocketData { principal: Principal }

export type PushServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/**
 * The other server instances of the site, reached through the socket.io
 * adapter (server-side events over PostgreSQL NOTIFY). Alone (PGlite, one
 * process) there is no one to reach: `ask` answers [] and `tell` does nothing.
 */
export interface Cluster {
  /** This process, in logs and partition leases. */
  readonly instance: string;
  /** Whether other instances can be reached (the PostgreSQL adapter is on). */
  readonly shared: boolean;
  /** Asks every other instance; resolves with the answers that came in time. */
  ask<Answer>(event: string, question: unknown): Promise<Answer[]>;
  /** Answers `event` for the others' ask(); a handler that throws answers null. */
  answer<Question, Answer>(event: string, handler: (question: Question) => Answer | Promise<Answer>): void;
  /** Tells every other instance, without waiting. */
  tell(event: string, message: unknown): void;
  listen<Message>(event: string, handler: (message: Message) => void): void;
}

declare module 'fastify' {
  interface FastifyInstance { io: PushServer; cluster: Cluster }
}

/** The rooms of everyone allowed to see every device's live state. */
export const LIVE_DEVICE_ROOMS = LIVE_DEVICE_ROLES.map(rooms.role);

/**
 * socket.io on the Fastify HTTP server. The handshake must carry a valid
 * session cookie; each socket joins `role:<role>`, `user:<username>` and, for
 * users with a plot, `plot:<id>`, and emitters address those rooms. Device
 * states are sent as coalesced frames (latest state per changed device) to
 * the roles that watch the whole site, so a burst of thousands of messages
 * costs a browser a few frames a second, and a technician's phone nothing.
 */
export default fp(async (app) => {
  const io: PushServer = new Server(app.server, { serveClient: false });
  const cluster = await clusterOf(app, io);

  io.use((socket, next) => {
    const token = app.auth.tokenFromCookieHeader(socket.handshake.headers.cookie);
    app.auth.service.authenticate(token).then((found) => {
      if (found === null || found === 'expired') {
        next(Object.assign(new Error(found === 'expired' ? 'SESSION_EXPIRED' : 'UNAUTHENTICATED'), { data: { code: found === 'expired' ? 'SESSION_EXPIRED' : 'UNAUTHENTICATED' } }));
        return;
      }
      socket.data.principal = found;
      next();
    }, (error: unknown) => next(error instanceof Error ? error : new Error(String(error))));
  });

  const endsWithSession = (socket: Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>) => {
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      const left = socket.data.principal.expiresAt.getTime() - app.clock.now();
      if (left <= 0) socket.disconnect(true);
      else timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    };
    arm();
    socket.on('disconnect', () => clearTimeout(timer));
  };

  io.on('connection', (socket) => {
    const { user } = socket.data.principal;
    void socket.join([rooms.role(user.role), rooms.user(user.username), ...(user.plotId !== null ? [rooms.plot(user.plotId)] : [])]);
    endsWithSession(socket);
    const seesDevices = LIVE_DEVICE_ROLES.includes(user.role);
    socket.on('devices:snapshot', (reply) => {
      if (typeof reply !== 'function') return;
      if (!seesDevices) return reply([]);
      devicesSnapshot().then(reply, (error: unknown) => {
        app.log.warn({ err: error }, 'devices snapshot from the other instances failed; sending this one\'s');
        reply(app.ingest.live.all());
      });
    });
    if (seesDevices) socket.emit('ingest:counters', totalCounters());
  });

  // Each instance's live state is fresh for the plots it owns: the others' come from their owners.
  const ownedStates = () => app.ingest.live.all().filter((s) => app.partitions.ownsPlot(app.site.device(s.id)?.plotId ?? ''));
  cluster.answer('devices:owned', ownedStates);
  const devicesSnapshot = async (): Promise<DeviceState[]> => {
    const states = app.ingest.live.all();
    if (!cluster.shared || app.partitions.ownsAll()) return states;
    const byId = new Map(states.map((s) => [s.id, s]));
    for (const answer of await cluster.ask<DeviceState[] | null>('devices:owned', null)) {
      for (const state of answer ?? []) byId.set(state.id, state);
    }
    return [...byId.values()];
  };

  // Counters are per instance; every instance tells the others its own, and shows the sum.
  const peerCounters = new Map<string, { counters: IngestCounters; at: number }>();
  cluster.listen<{ instance: string; counters: IngestCounters }>('ingest:counters', ({ instance, counters }) => {
    peerCounters.set(instance, { counters, at: Date.now() });
  });
  const totalCounters = (): IngestCounters => {
    const total: IngestCounters = { accepted: 0, rejected: 0, byReason: {} };
    const now = Date.now();
    for (const [instance, peer] of peerCounters) if (now - peer.at > PEER_COUNTERS_TTL_MS) peerCounters.delete(instance);
    for (const counters of [app.ingest.counters, ...[...peerCounters.values()].map((p) => p.counters)]) {
      total.accepted += counters.accepted;
      total.rejected += counters.rejected;
      for (const [reason, n] of Object.entries(counters.byReason)) total.byReason[reason] = (total.byReason[reason] ?? 0) + n;
    }
    return total;
  };

  // Logout, password or role change, disabled account: that session's sockets go too.
  // On every instance: the session's sockets may be connected to another one.
  type Ended = Parameters<Parameters<typeof app.auth.service.onSessionsEnded>[0]>[0];
  const disconnectEnded = (ended: Ended) => {
    for (const socket of io.of('/').sockets.values()) {
      const { principal } = socket.data;
      if ('sessionId' in ended ? principal.sessionId === ended.sessionId : principal.user.id === ended.userId) socket.disconnect(true);
    }
  };
  app.auth.service.onSessionsEnded((ended) => {
    disconnectEnded(ended);
    cluster.tell('sessions:ended', ended);
  });
  cluster.listen<Ended>('sessions:ended', disconnectEnded);

  const frames = setInterval(() => {
    const changed = app.ingest.live.takeChanged();
    if (changed.length === 0) return;
    // With no other instance up, a frame stays here: through the adapter every frame (up to a
    // few MB a second at full ingest) would be stored in PostgreSQL for no one to read.
    void io.of('/').adapter.serverCount().then((servers) => (servers > 1 ? io : io.local).to(LIVE_DEVICE_ROOMS).emit('devices:update', changed));
  }, 1000 / FRAMES_PER_SECOND);
  const counters = setInterval(() => {
    cluster.tell('ingest:counters', { instance: cluster.instance, counters: app.ingest.counters });
    // Local sockets only: every instance sends its own clients the same sum.
    io.local.to(LIVE_DEVICE_ROOMS).emit('ingest:counters', totalCounters());
  }, COUNTERS_EVERY_MS);

  app.decorate('io', io);
  app.decorate('cluster', cluster);
  app.addHook('preClose', async () => {
    clearInterval(frames);
    clearInterval(counters);
    // Disconnect clients before the HTTP server waits for open connections to end.
    // (io.close() would also close the HTTP server, which Fastify owns.)
    io.local.disconnectSockets(true);
    io.engine.close();
  });
}, { name: 'push', dependencies: ['ingest', 'auth'] });

/**
 * The cluster adapter sends a broadcast to the other instances (a pg_notify
 * through the pool) and delivers it to this server's own sockets only once
 * that is done, so every alarm and ticket push waited for a free connection
 * and a PostgreSQL round trip. Here this server's sockets get it at once; the
 * same message still goes to the others, unawaited. No socket gets it twice:
 * an instance ignores its own messages, and the others deliver only to theirs.
 */
function deliveringHereFirst(adapter: ClusterAdapter): ClusterAdapter {
  // The cluster adapter's own fire-and-forget send (protected in its typings): its errors go to the errorHandler.
  const cluster = adapter as unknown as { publish(message: { type: MessageType.BROADCAST; data: { packet: unknown; opts: unknown } }): void };
  adapter.broadcast = async (packet: unknown, opts: BroadcastOptions) => {
    if (opts.flags?.local !== true) {
      // Serialised before this returns, so what the local delivery does to the packet does not travel.
      cluster.publish({ type: MessageType.BROADCAST, data: { packet, opts: { rooms: [...opts.rooms], except: [...(opts.except ?? [])], flags: opts.flags } } });
    }
    Adapter.prototype.broadcast.call(adapter, packet, opts);
  };
  return adapter;
}

/**
 * With PostgreSQL, the @socket.io/postgres-adapter: every emit also reaches the
 * sockets of the other instances on the same database, and server-side
 * events make the Cluster. With PGlite the process is alone.
 */
async function clusterOf(app: FastifyInstance, io: PushServer): Promise<Cluster> {
  const instance = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const url = app.config.database.url;
  if (url === null) {
    return { instance, shared: false, ask: async () => [], answer: () => {}, tell: () => {}, listen: () => {} };
  }
  let lastLogged = '';
  const logOnce = (error: Error, what: string) => {
    // The same failure repeats with every emit while the database is away: log each kind once.
    if (error.message === lastLogged) return;
    lastLogged = error.message;
    app.log.warn({ err: error }, `socket.io adapter: ${what}`);
  };
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5_000 });
  pool.on('error', (error) => logOnce(error, 'an idle connection failed'));
  // The adapter keeps one connection checked out for LISTEN; without a listener its error would end the process.
  pool.on('connect', (client) => client.on('error', (error) => logOnce(error, 'the LISTEN connection failed; it reconnects')));
  const postgresAdapter = createAdapter(pool, {
    // One channel per site: servers of other sites on the same database do not hear these.
    channelPrefix: `estatewatch#${app.site.site.id}`,
    heartbeatInterval: 2_000,
    heartbeatTimeout: 6_000,
    errorHandler: (error) => logOnce(error, 'publishing failed'),
  });
  // socket.io makes the adapter with `new`: a function, not an arrow.
  io.adapter(function adapterOf(nsp: Namespace) { return deliveringHereFirst(postgresAdapter(nsp)); });
  app.addHook('onClose', async () => {
    await io.of('/').adapter.close();
    // The adapter never gives back a LISTEN connection that died (a database outage), and pool.end() waits for it.
    await Promise.race([pool.end(), new Promise((resolve) => setTimeout(resolve, POOL_END_WAIT_MS).unref())]);
  });

  const serverSide = io as unknown as {
    serverSideEmit(event: string, ...args: unknown[]): void;
    on(event: string, handler: (...args: never[]) => void): void;
  };
  return {
    instance,
    shared: true,
    ask: <Answer>(event: string, question: unknown) => new Promise<Answer[]>((resolve) => {
      const timer = setTimeout(() => resolve([]), ASK_TIMEOUT_MS);
      serverSide.serverSideEmit(event, question, (_error: Error | null, answers: Answer[] | undefined) => {
        clearTimeout(timer);
        resolve(answers ?? []);
      });
    }),
    answer: <Question, Answer>(event: string, handler: (question: Question) => Answer | Promise<Answer>) => {
      serverSide.on(event, (question: Question, reply: (answer: Answer | null) => void) => {
        Promise.resolve().then(() => handler(question)).then(reply, (error: unknown) => {
          app.log.error({ err: error, event }, 'answering another instance failed');
          reply(null);
        });
      });
    },
    tell: (event: string, message: unknown) => serverSide.serverSideEmit(event, message),
    listen: <Message>(event: string, handler: (message: Message) => void) => serverSide.on(event, handler),
  };
}

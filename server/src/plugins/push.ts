import fp from 'fastify-plugin';
import { Server, type Socket } from 'socket.io';
import type { Principal } from '../auth/auth-service.ts';
import { LIVE_DEVICE_ROLES, rooms } from '../auth/roles.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../push/events.ts';

/** Live device changes are coalesced into at most this many frames a second. */
const FRAMES_PER_SECOND = 4;
const COUNTERS_EVERY_MS = 1_000;
/** setTimeout's ceiling; a longer session is re-checked when the timer fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the handshake attached to a socket. */
export interface SocketData { principal: Principal }

export type PushServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

declare module 'fastify' {
  interface FastifyInstance { io: PushServer }
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
      if (typeof reply === 'function') reply(seesDevices ? app.ingest.live.all() : []);
    });
    if (seesDevices) socket.emit('ingest:counters', app.ingest.counters);
  });

  // Logout, password or role change, disabled account: that session's sockets go too.
  app.auth.service.onSessionsEnded((ended) => {
    for (const socket of io.of('/').sockets.values()) {
      const { principal } = socket.data;
      if ('sessionId' in ended ? principal.sessionId === ended.sessionId : principal.user.id === ended.userId) socket.disconnect(true);
    }
  });

  const frames = setInterval(() => {
    const changed = app.ingest.live.takeChanged();
    if (changed.length > 0) io.to(LIVE_DEVICE_ROOMS).emit('devices:update', changed);
  }, 1000 / FRAMES_PER_SECOND);
  const counters = setInterval(() => io.to(LIVE_DEVICE_ROOMS).emit('ingest:counters', app.ingest.counters), COUNTERS_EVERY_MS);

  app.decorate('io', io);
  app.addHook('preClose', async () => {
    clearInterval(frames);
    clearInterval(counters);
    // Disconnect clients before the HTTP server waits for open connections to end.
    // (io.close() would also close the HTTP server, which Fastify owns.)
    io.disconnectSockets(true);
    io.engine.close();
  });
}, { name: 'push', dependencies: ['ingest', 'auth'] });

import fp from 'fastify-plugin';
import { Server } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '../push/events.ts';

/** Live device changes are coalesced into at most this many frames a second. */
const FRAMES_PER_SECOND = 4;
const COUNTERS_EVERY_MS = 1_000;

declare module 'fastify' {
  interface FastifyInstance { io: Server<ClientToServerEvents, ServerToClientEvents> }
}

/**
 * socket.io on the Fastify HTTP server. Device states are sent as coalesced
 * frames (latest state per changed device), so a burst of thousands of
 * messages costs a browser a few frames a second, not thousands of events.
 */
export default fp(async (app) => {
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(app.server, { serveClient: false });

  io.on('connection', (socket) => {
    socket.on('devices:snapshot', (reply) => {
      if (typeof reply === 'function') reply(app.ingest.live.all());
    });
    socket.emit('ingest:counters', app.ingest.counters);
  });

  const frames = setInterval(() => {
    const changed = app.ingest.live.takeChanged();
    if (changed.length > 0) io.emit('devices:update', changed);
  }, 1000 / FRAMES_PER_SECOND);
  const counters = setInterval(() => io.emit('ingest:counters', app.ingest.counters), COUNTERS_EVERY_MS);

  app.decorate('io', io);
  app.addHook('preClose', async () => {
    clearInterval(frames);
    clearInterval(counters);
    // Disconnect clients before the HTTP server waits for open connections to end.
    // (io.close() would also close the HTTP server, which Fastify owns.)
    io.disconnectSockets(true);
    io.engine.close();
  });
}, { name: 'push', dependencies: ['ingest'] });

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';

const WEB_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/**
 * Serves the built web app at `/`. A client-side route (a path without a
 * file extension) gets index.html, so that it survives a reload; a missing
 * file (a stale script after a rebuild) and unknown /api paths are 404.
 */
export default fp(async (app) => {
  const built = existsSync(`${WEB_DIST}index.html`);
  if (built) {
    // serve: false and a route of our own, so that the files carry a declared access like every route.
    await app.register(fastifyStatic, { root: WEB_DIST, serve: false });
    app.get('/*', { config: { allow: 'public' } }, async (request, reply) => {
      const path = (request.params as { '*': string })['*'];
      if (path.startsWith('api/') || path.startsWith('socket.io/')) return reply.callNotFound();
      // Straight to the file: a detour through the not-found handler awaited the reply once per hook again.
      return reply.sendFile(isClientRoute(path) ? 'index.html' : path);
    });
  } else {
    app.log.warn({ dir: WEB_DIST }, 'web app is not built; run `npm run build` (npm start does it for you)');
  }
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const isPage = request.method === 'GET' && !path.startsWith('/api/') && !path.startsWith('/socket.io/') && isClientRoute(path);
    if (isPage && built) return reply.sendFile('index.html');
    if (isPage) {
      return reply.code(503).type('text/plain').send('The web app is not built yet. Run `npm run build`, or start with `npm start`, which builds it.');
    }
    return reply.code(404).send({ statusCode: 404, code: 'NOT_FOUND', message: `No route for ${request.method} ${path}` });
  });
}, { name: 'web' });

/** A page of the app rather than a file: its last segment has no extension (`/tickets`, `/`, not `/assets/app.js`). */
function isClientRoute(path: string): boolean {
  return !/\.[A-Za-z0-9]+$/.test(path.slice(path.lastIndexOf('/') + 1));
}

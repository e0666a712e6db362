import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';

const WEB_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/**
 * Serves the built web app at `/`. Unknown non-API paths get index.html so
 * that client-side routes survive a reload; unknown /api paths stay 404 JSON.
 */
export default fp(async (app) => {
  const built = existsSync(`${WEB_DIST}index.html`);
  if (built) {
    // serve: false and a route of our own, so that the files carry a declared access like every route.
    await app.register(fastifyStatic, { root: WEB_DIST, serve: false });
    app.get('/*', { config: { allow: 'public' } }, async (request, reply) => {
      const path = (request.params as { '*': string })['*'];
      if (path === '' || path.startsWith('api/') || path.startsWith('socket.io/')) return reply.callNotFound();
      return reply.sendFile(path);
    });
  } else {
    app.log.warn({ dir: WEB_DIST }, 'web app is not built; run `npm run build` (npm start does it for you)');
  }
  app.setNotFoundHandler((request, reply) => {
    const isPage = request.method === 'GET' && !request.url.startsWith('/api/') && !request.url.startsWith('/socket.io/');
    if (isPage && built) return reply.sendFile('index.html');
    if (isPage) {
      return reply.code(503).type('text/plain').send('The web app is not built yet. Run `npm run build`, or start with `npm start`, which builds it.');
    }
    return reply.code(404).send({ statusCode: 404, code: 'NOT_FOUND', message: `No route for ${request.method} ${request.url.split('?')[0]}` });
  });
}, { name: 'web' });

/**
 * The route × role matrix: every route the server registers (collected by the
 * auth plugin's onRoute hook, so a new route is covered without touching this
 * file), called by every role and anonymously, against its declared `allow`:
 * public → never 401/403; anonymous → 401; an allowed role → neither 401 nor
 * 403 (the request may still be invalid: 400/404 is fine); any other role → 403.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../../server/src/auth/roles.ts';
import type { RouteAccess } from '../../server/src/plugins/auth.ts';
import { startTestServer } from '../support/app.ts';

const server = await startTestServer();
afterAll(async () => { await server.close(); });

/** Ending one's own session runs last, so the cached sessions serve every other route first. */
const endsSession = (route: RouteAccess) => route.url === '/api/auth/logout';
const routes = [...server.app.auth.routes].sort((a, b) => Number(endsSession(a)) - Number(endsSession(b)));

/** Parameters get placeholder values: authorisation is decided before the route looks at them. */
const concreteUrl = (url: string) => url.replace(/:(\w+)/g, 'matrix-$1').replace('*', 'matrix-file');

function expected(route: RouteAccess, as: Role | null): 'ok' | 401 | 403 {
  if (route.allow === 'public') return 'ok';
  if (as === null) return 401;
  return route.allow.includes(as) ? 'ok' : 403;
}

describe('route × role matrix', () => {
  it('covers the routes of every area', () => {
    const urls = routes.map((r) => r.url);
    expect(urls).toEqual(expect.arrayContaining(['/api/health', '/api/auth/login', '/api/auth/me', '/api/users', '/api/site', '/api/devices/:id']));
  });

  it.each(routes.map((route) => [`${route.method} ${route.url}`, route] as const))('%s', async (_name, route) => {
    const outcomes: string[] = [];
    const problems: string[] = [];
    for (const as of [null, ...ROLES] as const) {
      const response = await server.request({
        method: route.method as 'GET',
        url: concreteUrl(route.url),
        as,
        ...(['POST', 'PUT', 'PATCH', 'DELETE'].includes(route.method) && { body: {} }),
      });
      const want = expected(route, as);
      const status = response.statusCode;
      const fine = want === 'ok' ? status !== 401 && status !== 403 : status === want;
      outcomes.push(`${as ?? 'anonymous'}:${status}`);
      if (!fine) problems.push(`${as ?? 'anonymous'} got ${status}, expected ${want === 'ok' ? 'not 401/403' : want}: ${response.body.slice(0, 160)}`);
      if (endsSession(route) && as !== null) server.forget(as);
    }
    expect(problems, outcomes.join(' ')).toEqual([]);
  });
});

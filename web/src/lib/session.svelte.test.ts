// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import type { SessionView } from '../../../server/src/routes/api-types.ts';
import { SessionStore } from './session.svelte.ts';

const VIEW: SessionView = {
  user: {
    id: 1, username: 'op', displayName: 'Op', role: 'operator', plotId: null, disabled: false, demo: false,
    createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', passwordChangedAt: '2026-01-01T00:00:00.000Z',
  },
  csrfToken: 'csrf-123',
  expiresAt: '2026-01-02T00:00:00.000Z',
};

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('SessionStore', () => {
  it('is anonymous without a session and active after a login', async () => {
    const session = new SessionStore(async (url) => (url === '/api/auth/login' ? json(VIEW) : json({ code: 'UNAUTHENTICATED', message: 'x' }, 401)));
    await session.check();
    expect(session.state).toEqual({ kind: 'anonymous', reason: null });
    expect(await session.login('op', 'pw')).toEqual({ ok: true });
    expect(session.state.kind).toBe('active');
  });

  it('reports a lock-out with its retry time', async () => {
    const session = new SessionStore(async () => json({ statusCode: 429, code: 'LOGIN_LOCKED', message: 'later' }, 429, { 'retry-after': '900' }));
    expect(await session.login('op', 'wrong')).toEqual({ ok: false, code: 'LOGIN_LOCKED', retryAfterS: 900 });
  });

  it('sends the CSRF token on state-changing requests only', async () => {
    const sent: { method: string; token: string | null }[] = [];
    const session = new SessionStore(async (_url, init) => {
      sent.push({ method: init?.method ?? 'GET', token: new Headers(init?.headers).get('x-csrf-token') });
      return json(VIEW);
    });
    await session.check();
    await session.fetch('/api/alarms/x/ack', { method: 'POST' });
    await session.fetch('/api/site');
    expect(sent.slice(1)).toEqual([{ method: 'POST', token: 'csrf-123' }, { method: 'GET', token: null }]);
  });

  it('goes back to the login page, saying why, when the server answers 401', async () => {
    let loggedIn = true;
    const changes: string[] = [];
    const session = new SessionStore(async () => (loggedIn ? json(VIEW) : json({ code: 'SESSION_EXPIRED', message: 'x' }, 401)));
    session.subscribe((state) => changes.push(state.kind));
    await session.check();
    loggedIn = false;
    const response = await session.fetch('/api/site');
    expect(response.status).toBe(401);
    expect(session.state).toEqual({ kind: 'anonymous', reason: 'expired' });
    expect(changes).toEqual(['active', 'anonymous']);
  });
});

/** Accounts and sessions through the API: login, cookie, CSRF, lock-out, expiry, password change, admin, audit, headers. */
import { buildApp } from '../../server/src/app.ts';
import { loadConfig } from '../../server/src/config/config.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError, AuthEventView, SessionView, UserView } from '../../server/src/routes/api-types.ts';
import { sessionHeaders, startTestServer, TEST_DEFAULTS, TEST_PASSWORD, testUsername, type TestServer } from '../support/app.ts';

/** A clock the tests move: sessions expire without waiting. */
const clock = { t: Date.UTC(2026, 5, 1, 8), now: () => clock.t };

let server: TestServer;
beforeAll(async () => { server = await startTestServer({ SESSION_TTL_HOURS: '2' }, { clock }); });
afterAll(async () => { await server?.close(); });

/** Each from its own address: this file logs in more often than the per-address rate limit allows. */
let clients = 0;
const login = (username: string, password: string, headers: Record<string, string> = {}) =>
  server.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password }, headers, remoteAddress: `10.0.${Math.floor(++clients / 250)}.${clients % 250}` });

describe('login, me, logout', () => {
  it('sets an httpOnly, SameSite=Strict session cookie with an expiry and returns the CSRF token', async () => {
    const response = await login(testUsername('operator'), TEST_PASSWORD);
    expect(response.statusCode).toBe(200);
    const cookie = response.cookies.find((c) => c.name === 'ew_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie.secure).toBeFalsy(); // plain HTTP here; COOKIE_SECURE=true or HTTPS behind TRUST_PROXY sets it
    expect(new Date(cookie.expires!).getTime()).toBe(clock.t + 2 * 3_600_000);
    const body = response.json() as SessionView;
    expect(body.user).toMatchObject({ username: 'test-operator', role: 'operator' });
    expect(body.user).not.toHaveProperty('passwordHash');
    expect(body.csrfToken.length).toBeGreaterThanOrEqual(40);

    const me = await server.app.inject({ url: '/api/auth/me', headers: { cookie: `ew_session=${cookie.value}` } });
    expect((me.json() as SessionView).csrfToken).toBe(body.csrfToken);
  });

  it('answers a wrong password and an unknown user alike', async () => {
    const wrong = await login(testUsername('reception'), 'not the password');
    const unknown = await login('nobody-here', 'not the password');
    expect([wrong.statusCode, unknown.statusCode]).toEqual([401, 401]);
    expect(wrong.json()).toEqual(unknown.json());
    expect((wrong.json() as ApiError).code).toBe('LOGIN_FAILED');
  });

  it('refuses a form-encoded body (a cross-site form cannot post JSON)', async () => {
    const form = await server.app.inject({ method: 'POST', url: '/api/auth/login', payload: 'username=admin&password=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.statusCode).toBe(415);
  });

  it('issues a new session on every login and ends it on logout', async () => {
    const first = sessionHeaders(await login(testUsername('manager'), TEST_PASSWORD));
    const second = sessionHeaders(await login(testUsername('manager'), TEST_PASSWORD, { cookie: first.cookie! }));
    expect(second.cookie).not.toBe(first.cookie);
    // The session presented at login is replaced, not kept alongside.
    expect((await server.app.inject({ url: '/api/auth/me', headers: first })).statusCode).toBe(401);
    const out = await server.app.inject({ method: 'POST', url: '/api/auth/logout', headers: second });
    expect(out.statusCode).toBe(204);
    expect(out.cookies.find((c) => c.name === 'ew_session')?.value).toBe('');
    expect((await server.app.inject({ url: '/api/auth/me', headers: second })).statusCode).toBe(401);
  });

  it('expires a session after SESSION_TTL_HOURS', async () => {
    const headers = await server.login('cs-supervisor');
    expect((await server.app.inject({ url: '/api/auth/me', headers })).statusCode).toBe(200);
    clock.t += 2 * 3_600_000;
    try {
      const expired = await server.app.inject({ url: '/api/site', headers });
      expect(expired.statusCode).toBe(401);
      expect((expired.json() as ApiError).code).toBe('SESSION_EXPIRED');
      expect((await server.app.inject({ url: '/api/site', headers })).json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    } finally {
      server.forget('admin'); // sessions cached before the jump have expired too
    }
  });
});

describe('CSRF', () => {
  it('refuses a state-changing request without the session\'s token, and accepts it with the token', async () => {
    const { cookie, 'x-csrf-token': token } = await server.login('operator');
    const change = (headers: Record<string, string>) => server.app.inject({
      method: 'PUT', url: '/api/auth/password', headers: { cookie: cookie!, ...headers },
      payload: { currentPassword: 'wrong-current-password', newPassword: 'a brand new passphrase' },
    });
    const missing = await change({});
    expect(missing.statusCode).toBe(403);
    expect((missing.json() as ApiError).code).toBe('CSRF_TOKEN_INVALID');
    expect((await change({ 'x-csrf-token': 'forged' })).statusCode).toBe(403);
    const other = (await server.login('manager'))['x-csrf-token']!;
    expect((await change({ 'x-csrf-token': other })).statusCode).toBe(403); // another session's token
    // With the token the request reaches the route (which then finds the current password wrong).
    expect((await change({ 'x-csrf-token': token! })).json()).toMatchObject({ code: 'PASSWORD_INCORRECT' });
    // Reads need no token.
    expect((await server.app.inject({ url: '/api/auth/me', headers: { cookie: cookie! } })).statusCode).toBe(200);
  });
});

describe('brute force', () => {
  it('locks a username out after 5 failures, even for the right password, and lets it in after the lock', async () => {
    const username = testUsername('technician');
    for (let i = 0; i < 5; i++) expect((await login(username, `guess-${i}`)).statusCode).toBe(401);
    const locked = await login(username, TEST_PASSWORD);
    expect(locked.statusCode).toBe(429);
    expect((locked.json() as ApiError).code).toBe('LOGIN_LOCKED');
    expect(Number(locked.headers['retry-after'])).toBe(15 * 60);
    clock.t += 15 * 60_000;
    server.forget('admin');
    expect((await login(username, TEST_PASSWORD)).statusCode).toBe(200);
  });

  it('rate-limits the login route per client address', async () => {
    const limited = await startTestServer();
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 22; i++) {
        // An empty body fails validation quickly; the limit counts it all the same.
        statuses.push((await limited.app.inject({ method: 'POST', url: '/api/auth/login', payload: {} })).statusCode);
      }
      expect(statuses.slice(0, 20)).toEqual(Array(20).fill(400));
      expect(statuses.slice(20)).toEqual([429, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('password change', () => {
  it('changes the password, ends the user\'s other sessions and keeps this one', async () => {
    const created = await server.request({ method: 'POST', url: '/api/users', body: { username: 'pat', displayName: 'Pat', role: 'reception', password: 'first password here' } });
    expect(created.statusCode).toBe(201);
    const here = sessionHeaders(await login('pat', 'first password here'));
    const elsewhere = sessionHeaders(await login('pat', 'first password here'));
    const weak = await server.app.inject({ method: 'PUT', url: '/api/auth/password', headers: here, payload: { currentPassword: 'first password here', newPassword: 'short' } });
    expect((weak.json() as ApiError).code).toBe('PASSWORD_REJECTED');
    const changed = await server.app.inject({ method: 'PUT', url: '/api/auth/password', headers: here, payload: { currentPassword: 'first password here', newPassword: 'second password here' } });
    expect(changed.statusCode).toBe(204);
    expect((await server.app.inject({ url: '/api/auth/me', headers: here })).statusCode).toBe(200);
    expect((await server.app.inject({ url: '/api/auth/me', headers: elsewhere })).statusCode).toBe(401);
    expect((await login('pat', 'first password here')).statusCode).toBe(401);
    expect((await login('pat', 'second password here')).statusCode).toBe(200);
  });
});

describe('user administration', () => {
  it('creates, changes the role of and disables users; a role change ends their sessions', async () => {
    const created = await server.request({ method: 'POST', url: '/api/users', body: { username: 'Zoe.Li', displayName: '李佐伊', role: 'patrol-officer', plotId: 'B', password: 'zoe patrols plot B' } });
    expect(created.statusCode).toBe(201);
    const zoe = created.json() as UserView;
    expect(zoe).toMatchObject({ username: 'zoe.li', role: 'patrol-officer', plotId: 'B', disabled: false });

    const zoeSession = sessionHeaders(await login('zoe.li', 'zoe patrols plot B'));
    expect((await server.app.inject({ url: '/api/users', headers: zoeSession })).statusCode).toBe(403);

    const promoted = await server.request({ method: 'PATCH', url: `/api/users/${zoe.id}`, body: { role: 'department-supervisor', plotId: null } });
    expect(promoted.json()).toMatchObject({ role: 'department-supervisor', plotId: null });
    expect((await server.app.inject({ url: '/api/auth/me', headers: zoeSession })).statusCode).toBe(401);

    await server.request({ method: 'PATCH', url: `/api/users/${zoe.id}`, body: { disabled: true } });
    expect((await login('zoe.li', 'zoe patrols plot B')).statusCode).toBe(401);

    const listed = (await server.request({ url: '/api/users' })).json() as UserView[];
    expect(listed.find((u) => u.username === 'zoe.li')).toMatchObject({ disabled: true });
  });

  it('refuses duplicates, unknown plots and roles, weak passwords, demo names and the last admin\'s demotion', async () => {
    const post = (body: object) => server.request({ method: 'POST', url: '/api/users', body });
    const base = { displayName: 'X', role: 'operator', password: 'a fine passphrase' };
    expect((await post({ ...base, username: 'test-operator' })).json()).toMatchObject({ code: 'USERNAME_TAKEN' });
    expect((await post({ ...base, username: 'xx1', plotId: 'Z' })).json()).toMatchObject({ code: 'UNKNOWN_PLOT' });
    expect((await post({ ...base, username: 'xx2', role: 'superuser' })).json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await post({ ...base, username: 'xx3', password: 'short' })).json()).toMatchObject({ code: 'PASSWORD_REJECTED' });
    expect((await post({ ...base, username: 'demo-x' })).statusCode).toBe(400);
    expect((await post({ ...base, username: '<b>x</b>' })).json()).toMatchObject({ code: 'VALIDATION_FAILED' });

    const users = (await server.request({ url: '/api/users' })).json() as UserView[];
    // Leave one enabled admin (the one this test acts as): demoting it is refused.
    const last = users.find((u) => u.username === testUsername('admin'))!;
    for (const other of users.filter((u) => u.role === 'admin' && u.id !== last.id)) {
      expect((await server.request({ method: 'PATCH', url: `/api/users/${other.id}`, body: { disabled: true } })).statusCode).toBe(200);
    }
    const refused = await server.request({ method: 'PATCH', url: `/api/users/${last.id}`, body: { role: 'operator' }, as: 'admin' });
    expect(refused.json()).toMatchObject({ code: 'LAST_ADMIN' });
  });

  it('keeps an audit log of logins, failures, lock-outs and role changes', async () => {
    const events = (await server.request({ url: '/api/auth/events?limit=1000', as: 'admin' })).json() as AuthEventView[];
    const types = new Set(events.map((e) => e.type));
    for (const type of ['login', 'login-failed', 'login-locked', 'logout', 'password-changed', 'user-created', 'user-updated', 'session-expired']) expect(types).toContain(type);
    const roleChange = events.find((e) => e.type === 'user-updated' && e.username === 'zoe.li' && 'role' in e.detail);
    expect(roleChange).toMatchObject({ actor: expect.any(String), detail: { role: { from: 'patrol-officer', to: 'department-supervisor' } } });
    expect(events.find((e) => e.type === 'login-failed')?.address).toMatch(/^10\.0\./);
  });
});

describe('security headers', () => {
  it('sends a CSP and the other helmet headers', async () => {
    const response = await server.request({ url: '/api/health', as: null });
    expect(response.headers['content-security-policy']).toMatch(/default-src 'self'.*script-src 'self'/);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
  });
});

describe('secure by default', () => {
  it('refuses a route that declares no access, naming it', async () => {
    const app = await buildApp(loadConfig(TEST_DEFAULTS), { logger: false });
    try {
      expect(() => app.get('/api/forgotten', async () => 'open to all')).toThrow(/Route GET \/api\/forgotten declares no access/);
      expect(() => app.get('/api/typo', { config: { allow: ['operater' as 'operator'] } }, async () => 'x')).toThrow(/config.allow \["operater"\]/);
    } finally {
      await app.close();
    }
  });
});

import { describe, expect, it } from 'vitest';
import type { UserView } from '../../../server/src/routes/api-types.ts';
import { changePassword, newPasswordProblem, newUserProblem, UsersStore } from './users.svelte.ts';
import type { NewUserForm } from './users.svelte.ts';

function user(id: number, username: string, extra: Partial<UserView> = {}): UserView {
  const at = '2026-11-01T00:00:00.000Z';
  return { id, username, displayName: username, role: 'operator', plotId: null, disabled: false, demo: false, createdAt: at, updatedAt: at, passwordChangedAt: at, ...extra };
}

interface Call { url: string; method: string; body: unknown }

/** A fetch that records each request and answers from `reply`. */
function fakeFetch(reply: (call: Call) => { status: number; body?: unknown } | Error) {
  const calls: Call[] = [];
  const fetchFn = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const call = { url, method: init.method ?? 'GET', body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined };
    calls.push(call);
    const answer = reply(call);
    if (answer instanceof Error) throw answer;
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), { status: answer.status, headers: { 'content-type': 'application/json' } });
  };
  return { fetchFn, calls };
}

describe('form checks', () => {
  it('wants both passwords, the minimum length and a matching repeat', () => {
    expect(newPasswordProblem('', 'long-enough-pass', 'long-enough-pass')).toBe('missing');
    expect(newPasswordProblem('old', 'short', 'short')).toBe('tooShort');
    expect(newPasswordProblem('old', 'x'.repeat(201), 'x'.repeat(201))).toBe('tooLong');
    expect(newPasswordProblem('old', 'long-enough-pass', 'long-enough-pasz')).toBe('mismatch');
    expect(newPasswordProblem('old', 'long-enough-pass', 'long-enough-pass')).toBeNull();
  });

  it('checks a new user: username pattern, name, a patrol officer\'s plot, password length', () => {
    const ok: NewUserForm = { username: 'li.wei', displayName: 'Li Wei', role: 'patrol-officer', plotId: 'A', password: 'twelve-chars' };
    expect(newUserProblem(ok)).toBeNull();
    expect(newUserProblem({ ...ok, username: 'x' })).toBe('badUsername');
    expect(newUserProblem({ ...ok, username: '-li' })).toBe('badUsername');
    expect(newUserProblem({ ...ok, displayName: '  ' })).toBe('displayNameRequired');
    expect(newUserProblem({ ...ok, plotId: '' })).toBe('plotRequired');
    expect(newUserProblem({ ...ok, role: 'technician', plotId: '' })).toBeNull();
    expect(newUserProblem({ ...ok, password: 'short' })).toBe('tooShort');
  });
});

describe('changePassword', () => {
  it('PUTs both passwords and reports the server\'s code and message on failure', async () => {
    const { fetchFn, calls } = fakeFetch(() => ({ status: 204 }));
    expect(await changePassword(fetchFn, 'old-password', 'new-password-1')).toEqual({ ok: true, value: null });
    expect(calls).toEqual([{ url: '/api/auth/password', method: 'PUT', body: { currentPassword: 'old-password', newPassword: 'new-password-1' } }]);

    const refused = fakeFetch(() => ({ status: 400, body: { statusCode: 400, code: 'PASSWORD_INCORRECT', message: 'The current password is wrong' } }));
    expect(await changePassword(refused.fetchFn, 'bad', 'new-password-1')).toEqual({ ok: false, code: 'PASSWORD_INCORRECT', message: 'The current password is wrong' });

    const offline = fakeFetch(() => new Error('connection refused'));
    expect(await changePassword(offline.fetchFn, 'a', 'b')).toMatchObject({ ok: false, code: 'NETWORK' });
  });
});

describe('UsersStore', () => {
  it('loads the users sorted by username, or keeps the error code', async () => {
    const { fetchFn } = fakeFetch(() => ({ status: 200, body: [user(2, 'zhao'), user(1, 'admin', { role: 'admin' })] }));
    const store = new UsersStore(fetchFn);
    expect(store.loaded).toBe(false);
    await store.fetch();
    expect(store.users.map((u) => u.username)).toEqual(['admin', 'zhao']);
    expect(store.error).toBeNull();
    expect(store.loaded).toBe(true);

    const forbidden = new UsersStore(fakeFetch(() => ({ status: 403, body: { statusCode: 403, code: 'FORBIDDEN', message: 'no' } })).fetchFn);
    await forbidden.fetch();
    expect(forbidden.error).toBe('FORBIDDEN');
    expect(forbidden.loaded).toBe(true);
  });

  it('creates a user (a plot only for patrol officers) and adds it to the list', async () => {
    const { fetchFn, calls } = fakeFetch((call) => call.method === 'GET'
      ? { status: 200, body: [user(1, 'admin')] }
      : { status: 201, body: user(5, 'chen', { role: 'technician' }) });
    const store = new UsersStore(fetchFn);
    await store.fetch();
    const result = await store.create({ username: ' chen ', displayName: 'Chen', role: 'technician', plotId: 'B', password: 'twelve-chars' });
    expect(result.ok).toBe(true);
    expect(calls[1]).toEqual({ url: '/api/users', method: 'POST', body: { username: 'chen', displayName: 'Chen', role: 'technician', plotId: null, password: 'twelve-chars' } });
    expect(store.users.map((u) => u.username)).toEqual(['admin', 'chen']);
  });

  it('patches a user, clears the plot when the role leaves patrol, and keeps the list on a refusal', async () => {
    let answer: { status: number; body: unknown } = { status: 200, body: user(3, 'wang', { role: 'operator' }) };
    const { fetchFn, calls } = fakeFetch((call) => (call.method === 'GET' ? { status: 200, body: [user(3, 'wang', { role: 'patrol-officer', plotId: 'A' })] } : answer));
    const store = new UsersStore(fetchFn);
    await store.fetch();
    expect(await store.update(3, { role: 'operator' })).toMatchObject({ ok: true });
    expect(calls[1]).toEqual({ url: '/api/users/3', method: 'PATCH', body: { role: 'operator', plotId: null } });
    expect(store.users[0]).toMatchObject({ role: 'operator', plotId: null });

    answer = { status: 409, body: { statusCode: 409, code: 'LAST_ADMIN', message: 'This is the last enabled admin' } };
    expect(await store.update(3, { disabled: true })).toEqual({ ok: false, code: 'LAST_ADMIN', message: 'This is the last enabled admin' });
    expect(calls[2]?.body).toEqual({ disabled: true });
    expect(store.users[0]?.disabled).toBe(false);
  });
});

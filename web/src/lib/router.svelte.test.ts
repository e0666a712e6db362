import { describe, expect, it } from 'vitest';
import type { Role } from '../../../server/src/auth/roles.ts';
import { ROLES } from '../../../server/src/auth/roles.ts';
import type { SessionView } from '../../../server/src/routes/api-types.ts';
import { allowedRoute, HOME_ROUTES, Router, routeFor, routesFor } from './router.svelte.ts';
import type { HashLocation } from './router.svelte.ts';
import { SessionStore } from './session.svelte.ts';

function fakeLocation(initial: string): HashLocation & { fire(hash: string): void } {
  let hash = initial;
  let listener: (() => void) | null = null;
  return {
    get hash() { return hash; },
    set: (next) => { hash = next; },
    listen: (l) => { listener = l; return () => { listener = null; }; },
    fire: (next) => { hash = next; listener?.(); },
  };
}

describe('routeFor', () => {
  it.each([
    ['', 'control-room'], ['#', 'control-room'], ['#/', 'control-room'],
    ['#/trends', 'trends'], ['#/trends/', 'trends'], ['#trends', 'trends'],
    ['#/no-such-view', 'control-room'],
  ])('%j → %s', (hash, id) => expect(routeFor(hash).id).toBe(id));
});

describe('Router', () => {
  it('starts on the hash\'s route and follows hash changes (back and forward buttons)', () => {
    const location = fakeLocation('#/trends');
    const router = new Router(location);
    expect(router.current.id).toBe('trends');
    location.fire('#/');
    expect(router.current.id).toBe('control-room');
  });

  it('go() sets the hash; stop() stops listening', () => {
    const location = fakeLocation('');
    const router = new Router(location);
    router.go('trends');
    expect(location.hash).toBe('#/trends');
    router.stop();
    location.fire('#/');
    expect(router.current.id).toBe('trends');
  });
});

describe('routes by role', () => {
  it('shows each role only the views it may use, and sends it to its first view otherwise', () => {
    expect(routesFor('technician').map((r) => r.id)).toEqual(['my-tickets']);
    expect(routesFor('reception').map((r) => r.id)).toEqual(['control-room', 'reception']);
    expect(routesFor('operator').map((r) => r.id)).toEqual(['control-room', 'trends', 'reception']);
    expect(allowedRoute(routeFor('#/'), 'technician').id).toBe('my-tickets');
    expect(allowedRoute(routeFor('#/reception'), 'technician').id).toBe('my-tickets');
    expect(allowedRoute(routeFor('#/trends'), 'reception').id).toBe('control-room');
    expect(allowedRoute({ ...routeFor('#/reception') }, 'reception').id).toBe('reception');
    expect(allowedRoute(routeFor('#/my-tickets'), 'technician').id).toBe('my-tickets');
    // Reports: managers, supervisors and admin, not the operator at the desk.
    expect(routesFor('manager').map((r) => r.id)).toEqual(['control-room', 'trends', 'reports']);
    expect(allowedRoute(routeFor('#/reports'), 'operator').id).toBe('control-room');
    expect(allowedRoute(routeFor('#/reports'), 'cs-supervisor').id).toBe('reports');
  });

  it('gives the users view to admin only, and the account view (from the user menu, not the nav) to everyone', () => {
    expect(routesFor('admin').map((r) => r.id)).toEqual(['control-room', 'trends', 'reports', 'reception', 'users']);
    expect(allowedRoute(routeFor('#/users'), 'operator').id).toBe('control-room');
    expect(allowedRoute(routeFor('#/users'), 'admin').id).toBe('users');
    expect(allowedRoute(routeFor('#/account'), 'technician').id).toBe('account');
  });
});

describe('landing on each role\'s main view', () => {
  it('has a main view for every role, one it may use', () => {
    expect(HOME_ROUTES).toEqual({
      operator: 'control-room', 'department-supervisor': 'control-room', 'cs-supervisor': 'control-room', admin: 'control-room',
      reception: 'reception', technician: 'my-tickets', 'patrol-officer': 'my-tickets', manager: 'trends',
    });
    for (const role of ROLES) expect(routesFor(role).map((r) => r.id), role).toContain(HOME_ROUTES[role]);
  });

  it.each([
    ['reception', '#/', '#/reception'],
    ['technician', '#/', '#/my-tickets'],
    ['patrol-officer', '', '#/my-tickets'],
    ['manager', '#/', '#/trends'],
    // Where the previous user left off does not matter: the operator starts at the control room.
    ['operator', '#/reception', '#/'],
    ['admin', '#/users', '#/'],
  ] as const)('after logging in, a %s at %j lands on %s', (role: Role, hash, expected) => {
    const location = fakeLocation(hash);
    const router = new Router(location);
    router.land(role, 'login');
    expect(location.hash).toBe(expected);
    expect(router.current.hash).toBe(expected);
  });

  it('keeps a restored session where its address is, and lands it when the address names no view', () => {
    const at = (hash: string, role: Role) => {
      const location = fakeLocation(hash);
      const router = new Router(location);
      router.land(role, 'restored');
      return router.current.id;
    };
    expect(at('#/', 'reception')).toBe('control-room'); // a reload on the control room stays there
    expect(at('#/reports', 'manager')).toBe('reports');
    expect(at('', 'reception')).toBe('reception');
    expect(at('#', 'manager')).toBe('trends');
  });

  it('follows the session: lands on login, not on a later check of the same session', async () => {
    const view = (role: Role): SessionView => ({
      user: { id: 1, username: 'u', displayName: 'U', role, plotId: null, disabled: false, demo: false, createdAt: '', updatedAt: '', passwordChangedAt: '' },
      csrfToken: 't', expiresAt: '2026-01-02T00:00:00.000Z',
    });
    let role: Role | null = null;
    const session = new SessionStore(async (url) => {
      if (url === '/api/auth/login') role = 'reception';
      if (url === '/api/auth/logout') role = null;
      return role === null ? Response.json({ code: 'UNAUTHENTICATED', message: 'x' }, { status: 401 }) : Response.json(view(role));
    });
    const location = fakeLocation('#/');
    const router = new Router(location);
    router.follow(session);
    await session.check();
    expect(router.current.id).toBe('control-room');
    await session.login('desk', 'pw');
    expect(router.current.id).toBe('reception');
    // The receptionist looks at the control room; the session is checked again (a socket reconnect): no jump back.
    router.go('control-room');
    await session.check();
    expect(router.current.id).toBe('control-room');
    await session.logout();
    role = 'technician';
    await session.check(); // a session restored from the cookie, at the control room's address: the technician may not use it
    expect(allowedRoute(router.current, 'technician').id).toBe('my-tickets');
  });
});

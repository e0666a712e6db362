import { describe, expect, it } from 'vitest';
import { allowedRoute, Router, routeFor, routesFor } from './router.svelte.ts';
import type { HashLocation } from './router.svelte.ts';

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
  });

  it('gives the users view to admin only, and the account view (from the user menu, not the nav) to everyone', () => {
    expect(routesFor('admin').map((r) => r.id)).toEqual(['control-room', 'trends', 'reception', 'users']);
    expect(allowedRoute(routeFor('#/users'), 'operator').id).toBe('control-room');
    expect(allowedRoute(routeFor('#/users'), 'admin').id).toBe('users');
    expect(allowedRoute(routeFor('#/account'), 'technician').id).toBe('account');
  });
});

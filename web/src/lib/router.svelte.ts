/**
 * Hash routing between the app's views: a small typed table, the current
 * route as state. Views are added by adding a row. Unknown hashes fall back
 * to the first route (the control room), so an old bookmark still opens.
 * Each role lands on its own main view when its session begins.
 */
import { ANY_ROLE, LIVE_DEVICE_ROLES } from '../../../server/src/auth/roles.ts';
import type { Role } from '../../../server/src/auth/roles.ts';
import type { MessageKey } from './i18n.svelte.ts';
import type { SessionState } from './session.svelte.ts';

/** `roles`: who sees the view in the nav and may open it (the server checks every request anyway). */
export const ROUTES = [
  { id: 'control-room', hash: '#/', label: 'nav.controlRoom', roles: LIVE_DEVICE_ROLES },
  // The roles of TREND_ROLES in server/src/routes/trends.ts (not imported: that file is server code).
  { id: 'trends', hash: '#/trends', label: 'nav.trends', roles: ['manager', 'admin', 'operator', 'department-supervisor', 'cs-supervisor'] },
  // The roles of REPORT_ROLES in server/src/routes/reports.ts.
  { id: 'reports', hash: '#/reports', label: 'nav.reports', roles: ['manager', 'department-supervisor', 'cs-supervisor', 'admin'] },
  { id: 'my-tickets', hash: '#/my-tickets', label: 'nav.myTickets', roles: ['technician', 'patrol-officer'] },
  { id: 'reception', hash: '#/reception', label: 'nav.reception', roles: ['reception', 'cs-supervisor', 'operator', 'admin'] },
  { id: 'users', hash: '#/users', label: 'nav.users', roles: ['admin'] },
  // `inUserMenu`: linked from the user menu, not the nav.
  { id: 'account', hash: '#/account', label: 'nav.account', roles: ANY_ROLE, inUserMenu: true },
] as const satisfies readonly { id: string; hash: `#/${string}`; label: MessageKey; roles: readonly Role[]; inUserMenu?: true }[];

function mayUse(route: Route, role: Role): boolean {
  return (route.roles as readonly Role[]).includes(role);
}

/** The views a role sees in the nav, in order. */
export function routesFor(role: Role): Route[] {
  return ROUTES.filter((route) => mayUse(route, role) && !('inUserMenu' in route));
}

/** What to show for `route` to `role`: the route itself, or the role's first view when it may not use it. */
export function allowedRoute(route: Route, role: Role): Route {
  // By id: the router's current route is a state proxy, not the table's object.
  return ROUTES.find((r) => r.id === route.id && mayUse(r, role)) ?? routesFor(role)[0] ?? route;
}

export type RouteId = (typeof ROUTES)[number]['id'];
export type Route = (typeof ROUTES)[number];

/** Each role's main view: where it lands after logging in. */
export const HOME_ROUTES: Readonly<Record<Role, RouteId>> = {
  operator: 'control-room',
  'department-supervisor': 'control-room',
  'cs-supervisor': 'control-room',
  admin: 'control-room',
  reception: 'reception',
  technician: 'my-tickets',
  'patrol-officer': 'my-tickets',
  manager: 'trends',
};

/** How a session began: logging in on the login page, or restored from the cookie (a reload, a new tab). */
export type SessionStart = 'login' | 'restored';

/** The route a location hash names ('', '#' and '#/' are the first one). */
export function routeFor(hash: string): Route {
  const path = `#/${hash.replace(/^#?\/?/, '').replace(/\/+$/, '')}`;
  return ROUTES.find((route) => route.hash === path) ?? ROUTES[0];
}

/** Where the router reads and writes the hash (window.location and its hashchange event in the browser). */
export interface HashLocation {
  readonly hash: string;
  set(hash: string): void;
  /** Calls `listener` on every change; returns the unsubscribe. */
  listen(listener: () => void): () => void;
}

export function browserLocation(): HashLocation {
  return {
    get hash() { return window.location.hash; },
    set: (hash) => { window.location.hash = hash; },
    listen: (listener) => {
      window.addEventListener('hashchange', listener);
      return () => window.removeEventListener('hashchange', listener);
    },
  };
}

export class Router {
  current = $state<Route>(ROUTES[0]);
  readonly #location: HashLocation;
  readonly #stop: () => void;

  constructor(location: HashLocation) {
    this.#location = location;
    this.current = routeFor(location.hash);
    this.#stop = location.listen(() => (this.current = routeFor(this.#location.hash)));
  }

  go(id: RouteId): void {
    const route = ROUTES.find((r) => r.id === id) ?? ROUTES[0];
    this.current = route;
    if (routeFor(this.#location.hash) !== route) this.#location.set(route.hash);
  }

  /**
   * A session began. After logging in, the role's main view; a restored session keeps the
   * view its address names (a reload stays put), and an address naming none is the main view too.
   */
  land(role: Role, how: SessionStart): void {
    if (how === 'login' || this.#location.hash === '' || this.#location.hash === '#') this.go(HOME_ROUTES[role]);
  }

  /** Lands the user as each session begins (from the login page: 'login'; from checking the cookie: 'restored'). Returns the unsubscribe. */
  follow(session: { readonly state: SessionState; subscribe(listener: (state: SessionState) => void): () => void }): () => void {
    let before = session.state.kind;
    return session.subscribe((state) => {
      if (state.kind === 'active' && before !== 'active') this.land(state.view.user.role, before === 'anonymous' ? 'login' : 'restored');
      before = state.kind;
    });
  }

  stop(): void {
    this.#stop();
  }
}

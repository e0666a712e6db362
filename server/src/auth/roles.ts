/**
 * Who may do what. Every route declares `config: { allow: [...roles] }` or
 * `config: { allow: 'public' }`; the auth plugin enforces it and refuses a
 * route that declares nothing (secure by default).
 */
export const ROLES = [
  'operator', // control-room operator: watches the map, acknowledges and shelves alarms
  'patrol-officer', // owns a patrol zone; rounds and findings
  'technician', // maintenance: electrical, plumbing, pumps, elevators
  'department-supervisor', // called to the spot for a major problem
  'cs-supervisor', // customer-service supervisor: letters, escalations, confidential matters
  'reception', // phone, walk-in and letter intake
  'manager', // meter trends, reports
  'admin', // users and roles
] as const;
export type Role = (typeof ROLES)[number];

export type Access = readonly Role[] | 'public';

/** Everyone who is logged in, whatever their role. */
export const ANY_ROLE: readonly Role[] = ROLES;

// The `config.allow` type on Fastify routes is declared in server/src/plugins/auth.ts,
// so that this file stays free of server types (the web imports it through api-types).

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/**
 * Who receives the live device stream (every device's state, the ingest
 * counters) over socket.io. Technicians' phones do not: they get their own
 * tickets in their `user:<username>` room.
 */
export const LIVE_DEVICE_ROLES: readonly Role[] = ROLES.filter((role) => role !== 'technician');

/** socket.io rooms. Emitters address people through these, never through socket ids. */
export const rooms = {
  role: (role: Role) => `role:${role}`,
  user: (username: string) => `user:${username}`,
  /** Users with a plot (a patrol officer's zone) join their plot's room. */
  plot: (plotId: string) => `plot:${plotId}`,
} as const;

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

declare module 'fastify' {
  interface FastifyContextConfig {
    allow?: Access;
  }
}

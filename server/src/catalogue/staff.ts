/**
 * Staff, patrol zones and the duty roster of a site, from staff.json: read
 * and checked against the site catalogue once, at start-up. A site the file
 * does not describe gets one patrol zone per plot and no staff (tickets
 * then wait for a supervisor to assign them).
 */
import { readFileSync } from 'node:fs';
import { ROLES, type Role } from '../auth/roles.ts';
import { SKILLS, type Shift, type Skill, type StaffMember, type Zone } from '../domain/tickets/assignment.ts';
import { DEPARTMENTS, type Department } from '../domain/tickets/sla.ts';
import type { SiteIndex } from './types.ts';

export const STAFF_FILE = new URL('./staff.json', import.meta.url);

export interface StaffCatalogue {
  readonly zones: readonly Zone[];
  readonly staff: readonly StaffMember[];
  readonly shifts: readonly Shift[];
}

interface StaffFile {
  site: string;
  shifts: Record<string, { from: string; to: string }>;
  zones: { id: string; name: string; nameZh: string; plotId: string; buildings: string[] }[];
  staff: {
    username: string; name: string; nameZh: string; role: string; department: string | null; shift: string;
    weekdays: number[]; phone: string; skills?: string[]; zone?: string; company?: string;
  }[];
}

export class StaffCatalogueError extends Error {
  readonly code = 'STAFF_CATALOGUE_INVALID';
  constructor(readonly problems: string[]) {
    super(`Invalid staff catalogue:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const minutesOf = (hhmm: string): number | null => {
  const m = /^(\d{2}):(\d{2})$/.exec(hhmm);
  return m && Number(m[1]) < 24 && Number(m[2]) < 60 ? Number(m[1]) * 60 + Number(m[2]) : null;
};

export function loadStaff(site: SiteIndex, file: URL | string = STAFF_FILE): StaffCatalogue {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as StaffFile;
  if (raw.site !== site.site.id) {
    return {
      zones: site.site.plots.map((p) => ({ id: `Z-${p.id}`, name: p.name, nameZh: p.name, plotId: p.id, buildingIds: site.site.buildings.filter((b) => b.plotId === p.id).map((b) => b.id) })),
      staff: [],
      shifts: [],
    };
  }
  const problems: string[] = [];
  const zones: Zone[] = raw.zones.map((z) => {
    if (!site.plot(z.plotId)) problems.push(`zone ${z.id}: unknown plot ${z.plotId}`);
    for (const b of z.buildings) if (site.building(b)?.plotId !== z.plotId) problems.push(`zone ${z.id}: building ${b} is not in plot ${z.plotId}`);
    return { id: z.id, name: z.name, nameZh: z.nameZh, plotId: z.plotId, buildingIds: z.buildings };
  });
  const zoneIds = new Set(zones.map((z) => z.id));
  const usernames = new Set<string>();
  const staff: StaffMember[] = [];
  const shifts: Shift[] = [];
  for (const s of raw.staff) {
    const where = `staff ${s.username}`;
    if (!/^[a-z][a-z0-9.-]*$/.test(s.username)) problems.push(`${where}: username must be lower-case letters, digits, dots and dashes`);
    if (usernames.has(s.username)) problems.push(`${where}: listed twice`);
    usernames.add(s.username);
    if (!(ROLES as readonly string[]).includes(s.role)) problems.push(`${where}: unknown role ${s.role}`);
    if (s.department !== null && !(DEPARTMENTS as readonly string[]).includes(s.department)) problems.push(`${where}: unknown department ${s.department}`);
    for (const skill of s.skills ?? []) if (!(SKILLS as readonly string[]).includes(skill)) problems.push(`${where}: unknown skill ${skill}`);
    if (s.zone !== undefined && !zoneIds.has(s.zone)) problems.push(`${where}: unknown zone ${s.zone}`);
    if (s.role === 'patrol-officer' && s.zone === undefined) problems.push(`${where}: a patrol officer owns a zone`);
    const shift = raw.shifts[s.shift];
    const from = shift && minutesOf(shift.from);
    const to = shift && minutesOf(shift.to);
    if (from == null || to == null) problems.push(`${where}: unknown or malformed shift ${s.shift}`);
    if (s.weekdays.length === 0 || s.weekdays.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) problems.push(`${where}: weekdays are 1 (Monday) to 7 (Sunday)`);
    staff.push({
      username: s.username, name: s.name, nameZh: s.nameZh, role: s.role as Role, department: s.department as Department | null,
      skills: (s.skills ?? []) as Skill[], zoneId: s.zone ?? null, company: s.company ?? null, phone: s.phone,
    });
    shifts.push({ username: s.username, weekdays: s.weekdays, fromMinutes: from ?? 0, toMinutes: to ?? 0 });
  }
  for (const z of zones) if (!staff.some((s) => s.zoneId === z.id)) problems.push(`zone ${z.id}: no patrol officer owns it`);
  if (problems.length > 0) throw new StaffCatalogueError(problems);
  return { zones, staff, shifts };
}

/** The embedded demo's field accounts (server/src/auth/auth-service.ts creates their logins). */
export interface DemoFieldAccounts { readonly technician: string; readonly patrolOfficer: string; readonly plotId: string | null }

/**
 * The roster with the embedded demo's field accounts on it, so that the tickets the simulated
 * estate causes reach a demo login too (tickets go to roster usernames). Both are on duty
 * round the clock: the technician with every skill, the patrol officer walking the first zone
 * of their plot. They take their turn like anyone else: the least busy gets the next ticket.
 */
export function withDemoStaff(catalogue: StaffCatalogue, demo: DemoFieldAccounts): StaffCatalogue {
  const zone = catalogue.zones.find((z) => z.plotId === demo.plotId);
  const members: StaffMember[] = [
    { username: demo.technician, name: 'Demo technician', nameZh: '演示技术员', role: 'technician', department: 'engineering', skills: [...SKILLS], zoneId: null, company: null, phone: '' },
    ...(zone === undefined ? [] : [{ username: demo.patrolOfficer, name: 'Demo patrol officer', nameZh: '演示巡逻员', role: 'patrol-officer' as const, department: 'security' as const, skills: [], zoneId: zone.id, company: null, phone: '' }]),
  ];
  // From midnight to midnight: a shift that runs past midnight covers the whole day.
  const roundTheClock = (username: string): Shift => ({ username, weekdays: [1, 2, 3, 4, 5, 6, 7], fromMinutes: 0, toMinutes: 0 });
  return { zones: catalogue.zones, staff: [...catalogue.staff, ...members], shifts: [...catalogue.shifts, ...members.map((m) => roundTheClock(m.username))] };
}

/**
 * Who does the work: staff, patrol zones and the on-duty roster as data, and
 * the choice of assignee — by zone (patrols) or skill (repairs), among the
 * people on duty now, the one with the fewest open tickets.
 */
import type { Role } from '../../auth/roles.ts';
import type { DeviceKind } from '../../catalogue/kinds.ts';
import { localTime } from './local-time.ts';
import type { TicketKind } from './model.ts';
import type { Department } from './sla.ts';

export const SKILLS = ['electrical', 'plumbing', 'pumps', 'elevators'] as const;
export type Skill = (typeof SKILLS)[number];

export interface StaffMember {
  readonly username: string;
  readonly name: string;
  readonly nameZh: string;
  readonly role: Role;
  readonly department: Department | null;
  readonly skills: readonly Skill[];
  /** Patrol officers: the zone they own. */
  readonly zoneId: string | null;
  /** Works for an outside company (elevator maintenance contractors). */
  readonly company: string | null;
  readonly phone: string;
}

export interface Zone {
  readonly id: string;
  readonly name: string;
  readonly nameZh: string;
  readonly plotId: string;
  readonly buildingIds: readonly string[];
}

/** One line of the roster: on duty from `fromMinutes` to `toMinutes` local time on these weekdays (a night shift runs past midnight). */
export interface Shift {
  readonly username: string;
  readonly weekdays: readonly number[];
  readonly fromMinutes: number;
  readonly toMinutes: number;
}

/** The trade a device's repair needs. */
export const SKILL_FOR_KIND: Readonly<Record<DeviceKind, Skill>> = {
  'water-meter': 'plumbing',
  hydrant: 'plumbing',
  'booster-pump': 'pumps',
  'fire-pump': 'pumps',
  elevator: 'elevators',
  'electric-meter': 'electrical',
  generator: 'electrical',
  'street-light': 'electrical',
  'stair-light': 'electrical',
  substation: 'electrical',
};

export function isOnDuty(shifts: readonly Shift[], username: string, now: number, timezone: string): boolean {
  const t = localTime(now, timezone);
  const yesterday = t.weekday === 1 ? 7 : t.weekday - 1;
  return shifts.some((s) => {
    if (s.username !== username) return false;
    if (s.fromMinutes < s.toMinutes) return s.weekdays.includes(t.weekday) && t.minutes >= s.fromMinutes && t.minutes < s.toMinutes;
    // Past midnight: the evening part belongs to today's shift, the early-morning part to yesterday's.
    return (s.weekdays.includes(t.weekday) && t.minutes >= s.fromMinutes) || (s.weekdays.includes(yesterday) && t.minutes < s.toMinutes);
  });
}

/** The patrol zone of a place: the zone listing its building, else the plot's first zone. */
export function zoneOf(zones: readonly Zone[], plotId: string | null, buildingId: string | null): Zone | undefined {
  if (buildingId !== null) {
    const byBuilding = zones.find((z) => z.buildingIds.includes(buildingId));
    if (byBuilding) return byBuilding;
  }
  return plotId === null ? undefined : zones.find((z) => z.plotId === plotId);
}

export interface AssignmentRequest {
  readonly kind: TicketKind;
  readonly plotId: string | null;
  readonly buildingId: string | null;
  readonly deviceKind: DeviceKind | null;
}

export interface AssignmentPool {
  readonly staff: readonly StaffMember[];
  readonly zones: readonly Zone[];
  readonly onDuty: ReadonlySet<string>;
  readonly openTickets: ReadonlyMap<string, number>;
}

/** The least busy of the candidates; in-house staff before contractors, then by name, so that the choice is stable. */
function leastBusy(candidates: readonly StaffMember[], openTickets: ReadonlyMap<string, number>): string | null {
  const sorted = [...candidates].sort((a, b) =>
    (openTickets.get(a.username) ?? 0) - (openTickets.get(b.username) ?? 0)
    || Number(a.company !== null) - Number(b.company !== null)
    || a.username.localeCompare(b.username));
  return sorted[0]?.username ?? null;
}

/**
 * Whom a new ticket may go to, before workload decides among them: none when
 * nobody fits (it stays open for a supervisor to assign, and its SLA
 * escalates). Reception tickets are assigned by hand (letters go to the
 * customer-service supervisor).
 */
export function assignmentCandidates(request: AssignmentRequest, pool: Omit<AssignmentPool, 'openTickets'>): readonly StaffMember[] {
  const onDuty = pool.staff.filter((s) => pool.onDuty.has(s.username));
  if (request.kind === 'reception') return [];
  if (request.kind === 'patrol') {
    const officers = onDuty.filter((s) => s.role === 'patrol-officer');
    const zone = zoneOf(pool.zones, request.plotId, request.buildingId);
    const inZone = officers.filter((s) => zone !== undefined && s.zoneId === zone.id);
    if (inZone.length > 0) return inZone;
    const plotZones = new Set(pool.zones.filter((z) => z.plotId === request.plotId).map((z) => z.id));
    const inPlot = officers.filter((s) => s.zoneId !== null && plotZones.has(s.zoneId));
    return inPlot.length > 0 ? inPlot : officers;
  }
  const technicians = onDuty.filter((s) => s.role === 'technician');
  const skill = request.deviceKind === null ? null : SKILL_FOR_KIND[request.deviceKind];
  const skilled = skill === null ? technicians : technicians.filter((s) => s.skills.includes(skill));
  if (skilled.length > 0) return skilled;
  // People at risk: anyone who can get there beats waiting for the right trade.
  return request.kind === 'emergency' ? technicians : [];
}

/** The on-duty person for a new ticket: the least busy of its candidates, or null when there is none. */
export function chooseAssignee(request: AssignmentRequest, pool: AssignmentPool): string | null {
  return leastBusy(assignmentCandidates(request, pool), pool.openTickets);
}

/** The on-duty supervisor of a department (by role), for escalations. */
export function supervisorOnDuty(pool: Pick<AssignmentPool, 'staff' | 'onDuty'>, role: 'department-supervisor' | 'cs-supervisor', department: Department | null): string | null {
  const found = pool.staff
    .filter((s) => s.role === role && pool.onDuty.has(s.username) && (department === null || s.department === department))
    .sort((a, b) => a.username.localeCompare(b.username));
  return found[0]?.username ?? null;
}

/**
 * Tickets as plain values: what a work order is, who may see what, and the
 * typed errors every ticket operation reports. Pure: no I/O, no clock.
 */
import type { Role } from '../../auth/roles.ts';
import type { Priority } from '../alarms/rules.ts';

export type { Priority };

export const TICKET_KINDS = ['patrol', 'maintenance', 'emergency', 'reception'] as const;
export type TicketKind = (typeof TICKET_KINDS)[number];

export const TICKET_STATUSES = ['open', 'assigned', 'in-progress', 'resolved', 'closed', 'cancelled'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

/** Closed and cancelled tickets are finished; every other status counts as open (one per root cause). */
export const FINISHED_STATUSES: readonly TicketStatus[] = ['closed', 'cancelled'];
export const isFinished = (status: TicketStatus): boolean => FINISHED_STATUSES.includes(status);
/**
 * A maintenance ticket takes its device out of service (ISA-18.2) from the moment the
 * technician starts work until the fix is verified: before that, the fault must stay
 * annunciated to the control room.
 */
export const holdsOutOfService = (status: TicketStatus): boolean => status === 'in-progress' || status === 'resolved';

export const TICKET_SOURCES = ['alarm', 'patrol', 'phone', 'walk-in', 'letter', 'manual'] as const;
export type TicketSource = (typeof TICKET_SOURCES)[number];

export const RECEPTION_SOURCES = ['phone', 'walk-in', 'letter'] as const;
export type ReceptionSource = (typeof RECEPTION_SOURCES)[number];

export const PRIORITIES: readonly Priority[] = [1, 2, 3, 4];

/** The SLA stages, in the order they fall due. */
export const SLA_STAGES = ['acknowledge', 'on-site', 'resolve'] as const;
export type SlaStage = (typeof SLA_STAGES)[number];

/** Why a ticket was escalated: an SLA stage breached, a major problem, a letter not handed over in time. */
export type EscalationReason = `sla-${SlaStage}` | 'major' | 'letter-hand-over';

export interface Escalation {
  readonly reason: EscalationReason;
  readonly at: number;
  /** Called to the spot (the department supervisor, for a major problem), when one is on duty. */
  readonly toSpot: string | null;
  /** Told about it: supervisors on duty. */
  readonly notify: readonly string[];
}

export interface Ticket {
  readonly id: number;
  readonly kind: TicketKind;
  readonly priority: Priority;
  readonly status: TicketStatus;
  readonly source: TicketSource;
  /** A major problem (handbook): the department supervisor goes to the spot, the customer-service supervisor is told. */
  readonly major: boolean;
  readonly confidential: boolean;
  readonly title: string;
  readonly description: string;
  readonly plotId: string | null;
  readonly buildingId: string | null;
  /** The room (unit id) a resident called about, e.g. 'A-03-0502'. */
  readonly unitId: string | null;
  readonly deviceId: string | null;
  /** Where exactly, in words ("kitchen", "outside the north gate"). */
  readonly location: string;
  /** One open ticket per root cause: the alarm id of the root (or the alarm itself), or null for tickets not made from alarms. */
  readonly rootCauseKey: string | null;
  readonly assignee: string | null;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly acknowledgedAt: number | null;
  readonly onSiteAt: number | null;
  readonly resolvedAt: number | null;
  readonly closedAt: number | null;
  readonly dueAcknowledgeAt: number;
  readonly dueOnSiteAt: number;
  readonly dueResolveAt: number;
  /** When the resident needs it (reception). */
  readonly neededBy: number | null;
  readonly callbackPhone: string | null;
  /** Letters: by when the letter-transfer form must be with the customer-service supervisor. */
  readonly letterDueAt: number | null;
  readonly handedOverAt: number | null;
  readonly handedOverTo: string | null;
  /** The customer-service supervisor's written reply (letters). */
  readonly reply: string | null;
  readonly repliedBy: string | null;
  readonly repliedAt: number | null;
  readonly escalations: readonly Escalation[];
  readonly reopenCount: number;
  /** Optimistic concurrency: every change of the ticket increments it. */
  readonly version: number;
}

export const TICKET_ACTIONS = [
  'create', 'assign', 'accept', 'start', 'resolve', 'verify', 'cancel', 'reopen', 'comment',
  'hand-over', 'reply', 'escalate', 'link-alarm', 'fault-returned',
] as const;
export type TicketAction = (typeof TICKET_ACTIONS)[number];

/** One line of the append-only audit trail: who did what, when, with what note. */
export interface TicketEvent {
  readonly ticketId: number;
  readonly at: number;
  readonly by: string;
  readonly action: TicketAction;
  readonly from: TicketStatus | null;
  readonly to: TicketStatus;
  readonly note: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export const TICKET_ERROR_CODES = [
  'TICKET_NOT_FOUND',
  'TICKET_INVALID_TRANSITION',
  'TICKET_STALE_VERSION',
  'TICKET_NOTE_REQUIRED',
  'TICKET_ASSIGNEE_REQUIRED',
  'TICKET_ASSIGNEE_UNKNOWN',
  'TICKET_NOT_ASSIGNEE',
  'TICKET_NOT_VERIFIED',
  'TICKET_REPLY_REQUIRED',
  'TICKET_NOT_A_LETTER',
  'TICKET_ROOM_UNKNOWN',
  'TICKET_SOURCE_REQUIRED',
  'TICKET_LOCATION_UNKNOWN',
  'TICKET_FORBIDDEN',
  'CALLBACK_NOT_FOUND',
  'CALLBACK_ALREADY_DONE',
  'PATROL_ROUND_NOT_FOUND',
  'PATROL_ROUND_INVALID_TRANSITION',
  'PATROL_CHECKLIST_INVALID',
] as const;
export type TicketErrorCode = (typeof TICKET_ERROR_CODES)[number];

export class TicketError extends Error {
  constructor(readonly code: TicketErrorCode, message: string) {
    super(message);
    this.name = 'TicketError';
  }
}

/** Who acts: the username, and the role when known (it is, once the auth plugin runs). */
export interface Actor { readonly username: string; readonly role: Role | null }

/** Roles that see a confidential ticket's details (the handbook: not disclosed to those who ask). */
export const CONFIDENTIAL_READERS: readonly Role[] = ['cs-supervisor', 'admin'];

export const CONFIDENTIAL_TITLE = 'Confidential matter';

export function maySeeDetails(ticket: Pick<Ticket, 'confidential' | 'assignee'>, viewer: Actor): boolean {
  if (!ticket.confidential) return true;
  return (viewer.role !== null && CONFIDENTIAL_READERS.includes(viewer.role)) || (ticket.assignee !== null && ticket.assignee === viewer.username);
}

/** The ticket as a viewer may see it: a confidential one keeps its place, times and status, but not what it is about. */
export function redactTicket(ticket: Ticket, viewer: Actor): Ticket {
  if (maySeeDetails(ticket, viewer)) return ticket;
  return { ...ticket, title: CONFIDENTIAL_TITLE, description: '', unitId: null, location: '', callbackPhone: null, reply: null };
}

export function redactEvent(event: TicketEvent, ticket: Ticket, viewer: Actor): TicketEvent {
  return maySeeDetails(ticket, viewer) ? event : { ...event, note: '', data: {} };
}

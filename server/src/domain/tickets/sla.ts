/**
 * Service levels per priority (acknowledge, on site, resolved) and the
 * escalations the handbook asks for: a breached stage is reported to the
 * department supervisor (a missed resolution also to the customer-service
 * supervisor); a major problem brings the department supervisor to the spot
 * and is reported to the customer-service supervisor; a letter not handed
 * over within its deadline is reported to the customer-service supervisor.
 * Each reason escalates a ticket once.
 */
import type { Escalation, EscalationReason, Priority, SlaStage, Ticket, TicketKind } from './model.ts';
import { isFinished, SLA_STAGES } from './model.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface SlaTargets { readonly acknowledgeMs: number; readonly onSiteMs: number; readonly resolveMs: number }

/** 1 = people at risk … 4 = low. */
export const SLA_BY_PRIORITY: Readonly<Record<Priority, SlaTargets>> = {
  1: { acknowledgeMs: 5 * MINUTE, onSiteMs: 15 * MINUTE, resolveMs: 4 * HOUR },
  2: { acknowledgeMs: 15 * MINUTE, onSiteMs: HOUR, resolveMs: 8 * HOUR },
  3: { acknowledgeMs: HOUR, onSiteMs: 4 * HOUR, resolveMs: 24 * HOUR },
  4: { acknowledgeMs: 4 * HOUR, onSiteMs: 24 * HOUR, resolveMs: 72 * HOUR },
};

export function dueTimes(priority: Priority, createdAt: number): Pick<Ticket, 'dueAcknowledgeAt' | 'dueOnSiteAt' | 'dueResolveAt'> {
  const t = SLA_BY_PRIORITY[priority];
  return { dueAcknowledgeAt: createdAt + t.acknowledgeMs, dueOnSiteAt: createdAt + t.onSiteMs, dueResolveAt: createdAt + t.resolveMs };
}

export interface SlaStageState {
  readonly stage: SlaStage;
  readonly dueAt: number;
  readonly metAt: number | null;
  /** Time left (negative: overdue); null once met. */
  readonly remainingMs: number | null;
  readonly breached: boolean;
}

/** What the SLA of a ticket is judged on (reports load only this much). */
export type SlaTimes = Pick<Ticket, 'status' | 'closedAt' | 'acknowledgedAt' | 'onSiteAt' | 'resolvedAt' | 'dueAcknowledgeAt' | 'dueOnSiteAt' | 'dueResolveAt'>;

function stageTimes(ticket: SlaTimes, stage: SlaStage): { dueAt: number; metAt: number | null } {
  switch (stage) {
    case 'acknowledge': return { dueAt: ticket.dueAcknowledgeAt, metAt: ticket.acknowledgedAt };
    case 'on-site': return { dueAt: ticket.dueOnSiteAt, metAt: ticket.onSiteAt };
    case 'resolve': return { dueAt: ticket.dueResolveAt, metAt: ticket.resolvedAt ?? (ticket.status === 'closed' ? ticket.closedAt : null) };
  }
}

/** The countdown of every stage. A cancelled ticket breaches nothing it had not breached when cancelled. */
export function slaOf(ticket: SlaTimes, now: number): SlaStageState[] {
  const clock = ticket.status === 'cancelled' ? (ticket.closedAt ?? now) : now;
  return SLA_STAGES.map((stage) => {
    const { dueAt, metAt } = stageTimes(ticket, stage);
    return { stage, dueAt, metAt, remainingMs: metAt === null ? dueAt - clock : null, breached: metAt === null ? clock > dueAt : metAt > dueAt };
  });
}

export const DEPARTMENTS = ['engineering', 'security', 'customer-service'] as const;
export type Department = (typeof DEPARTMENTS)[number];

/** The department whose supervisor answers for a kind of ticket. */
export const DEPARTMENT_OF_KIND: Readonly<Record<TicketKind, Department>> = {
  maintenance: 'engineering',
  emergency: 'engineering',
  patrol: 'security',
  reception: 'customer-service',
};

/** The supervisors on duty now; null where none is. */
export interface Supervisors { readonly department: string | null; readonly customerService: string | null }

const present = (...names: (string | null)[]): string[] => [...new Set(names.filter((n): n is string => n !== null))];

/** The escalations due now that the ticket has not had yet. */
export function dueEscalations(ticket: Ticket, now: number, supervisors: Supervisors): Escalation[] {
  if (isFinished(ticket.status)) return [];
  const done = new Set(ticket.escalations.map((e) => e.reason));
  const due: Escalation[] = [];
  const add = (reason: EscalationReason, toSpot: string | null, notify: string[]) => {
    if (!done.has(reason)) due.push({ reason, at: now, toSpot, notify });
  };
  if (ticket.major) add('major', supervisors.department, present(supervisors.customerService));
  if (ticket.letterDueAt !== null && ticket.handedOverAt === null && now > ticket.letterDueAt) add('letter-hand-over', null, present(supervisors.customerService));
  for (const s of slaOf(ticket, now)) {
    if (s.metAt !== null || !s.breached) continue;
    add(`sla-${s.stage}`, null, s.stage === 'resolve' ? present(supervisors.department, supervisors.customerService) : present(supervisors.department));
  }
  return due;
}

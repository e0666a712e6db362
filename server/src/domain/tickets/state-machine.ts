/**
 * The ticket lifecycle:
 *
 *   open ─assign─▶ assigned ─start─▶ in-progress ─resolve─▶ resolved ─verify─▶ closed
 *     └──────────────┴──────cancel───────┴─▶ cancelled        └──reopen◀──────┘
 *
 * accept acknowledges an assigned ticket (the SLA's first stage); start means
 * on site. A ticket made from alarms is verified only after its alarms have
 * stayed normal for `verifyAfterMs` since it was resolved (or since they last
 * cleared, if later). Every command yields the next ticket and one audit
 * event; an invalid one throws a TicketError with a stable code. Comments do
 * not change the version: they never make someone else's action stale.
 */
import type { Role } from '../../auth/roles.ts';
import { TicketError, type Actor, type Escalation, type Ticket, type TicketAction, type TicketEvent, type TicketStatus } from './model.ts';

export interface LifecyclePolicy {
  /** How long the linked alarms must stay normal before an alarm ticket is verified. */
  readonly verifyAfterMs: number;
}

export type TicketCommand =
  | { readonly action: 'assign'; readonly assignee: string; readonly note?: string }
  | { readonly action: 'accept'; readonly note?: string }
  | { readonly action: 'start'; readonly note?: string }
  | { readonly action: 'resolve'; readonly note: string }
  /** `alarmsNormalSince`: when the last linked alarm cleared (null while one is active); needed for alarm tickets. */
  | { readonly action: 'verify'; readonly note?: string; readonly alarmsNormalSince?: number | null }
  | { readonly action: 'cancel'; readonly note: string }
  | { readonly action: 'reopen'; readonly note: string }
  | { readonly action: 'comment'; readonly note: string }
  | { readonly action: 'hand-over'; readonly to: string; readonly note?: string }
  | { readonly action: 'reply'; readonly note: string };

export type CommandAction = TicketCommand['action'];

export interface Change { readonly ticket: Ticket; readonly event: TicketEvent }

/** From which statuses each command may be given. */
export const ALLOWED_FROM: Readonly<Record<CommandAction, readonly TicketStatus[]>> = {
  assign: ['open', 'assigned', 'in-progress'],
  accept: ['assigned'],
  start: ['assigned'],
  resolve: ['in-progress'],
  verify: ['resolved'],
  cancel: ['open', 'assigned', 'in-progress'],
  reopen: ['resolved', 'closed'],
  comment: ['open', 'assigned', 'in-progress', 'resolved', 'closed', 'cancelled'],
  'hand-over': ['open', 'assigned', 'in-progress'],
  reply: ['open', 'assigned', 'in-progress', 'resolved'],
};

/** People in the field act only on tickets assigned to them; supervisors, the control room and admins act for anyone. */
const FIELD_ROLES: readonly Role[] = ['technician', 'patrol-officer'];
const OWN_TICKET_ACTIONS: readonly CommandAction[] = ['accept', 'start', 'resolve'];
/** Verification is the control room's or a supervisor's word, never the repairer's own. */
const MAY_NOT_VERIFY: readonly Role[] = ['technician', 'patrol-officer', 'reception'];

function requireNote(note: string | undefined, action: string): string {
  const text = note?.trim() ?? '';
  if (text === '') throw new TicketError('TICKET_NOTE_REQUIRED', `${action} needs a note`);
  return text;
}

export function applyCommand(ticket: Ticket, command: TicketCommand, actor: Actor, now: number, policy: LifecyclePolicy): Change {
  const { action } = command;
  if (!ALLOWED_FROM[action].includes(ticket.status)) {
    throw new TicketError('TICKET_INVALID_TRANSITION', `cannot ${action} ticket ${ticket.id}: it is ${ticket.status} (allowed from ${ALLOWED_FROM[action].join(', ')})`);
  }
  if (actor.role !== null && FIELD_ROLES.includes(actor.role) && OWN_TICKET_ACTIONS.includes(action) && ticket.assignee !== actor.username) {
    throw new TicketError('TICKET_NOT_ASSIGNEE', `ticket ${ticket.id} is assigned to ${ticket.assignee ?? 'nobody'}, not to ${actor.username}`);
  }

  let next: Ticket;
  let note = command.note?.trim() ?? '';
  const data: Record<string, unknown> = {};
  switch (command.action) {
    case 'assign': {
      const assignee = command.assignee.trim();
      if (assignee === '') throw new TicketError('TICKET_ASSIGNEE_REQUIRED', 'assign needs an assignee');
      data.assignee = assignee;
      data.previous = ticket.assignee;
      // A new person has to acknowledge and reach the spot again.
      const reassigned = ticket.assignee !== assignee;
      next = { ...ticket, status: 'assigned', assignee, ...(reassigned && { acknowledgedAt: null, onSiteAt: null }) };
      break;
    }
    case 'accept':
      if (ticket.acknowledgedAt !== null) throw new TicketError('TICKET_INVALID_TRANSITION', `ticket ${ticket.id} was already accepted`);
      next = { ...ticket, acknowledgedAt: now };
      break;
    case 'start':
      next = { ...ticket, status: 'in-progress', acknowledgedAt: ticket.acknowledgedAt ?? now, onSiteAt: now };
      break;
    case 'resolve':
      note = requireNote(command.note, 'resolve');
      if (ticket.source === 'letter' && ticket.reply === null) {
        throw new TicketError('TICKET_REPLY_REQUIRED', `ticket ${ticket.id} is a letter: the supervisor's written reply must be recorded before it is resolved`);
      }
      next = { ...ticket, status: 'resolved', resolvedAt: now };
      break;
    case 'verify':
      if (actor.role !== null && MAY_NOT_VERIFY.includes(actor.role)) {
        throw new TicketError('TICKET_FORBIDDEN', `a ${actor.role} may not verify a fix; the control room or a supervisor does`);
      }
      if (ticket.source === 'alarm') {
        const since = command.alarmsNormalSince ?? null;
        const from = since === null ? null : Math.max(since, ticket.resolvedAt ?? since);
        if (from === null || now - from < policy.verifyAfterMs) {
          const left = from === null ? 'an alarm is still active' : `${Math.ceil((policy.verifyAfterMs - (now - from)) / 60_000)} min to go`;
          throw new TicketError('TICKET_NOT_VERIFIED', `ticket ${ticket.id}: the device must stay normal for ${policy.verifyAfterMs / 60_000} min after the fix before it is verified (${left})`);
        }
      }
      next = { ...ticket, status: 'closed', closedAt: now };
      break;
    case 'cancel':
      note = requireNote(command.note, 'cancel');
      next = { ...ticket, status: 'cancelled', closedAt: now };
      break;
    case 'reopen':
      note = requireNote(command.note, 'reopen');
      next = reopened(ticket);
      break;
    case 'comment':
      note = requireNote(command.note, 'comment');
      return { ticket, event: eventOf(ticket, ticket, 'comment', actor.username, now, note, data) };
    case 'hand-over': {
      if (ticket.source !== 'letter') throw new TicketError('TICKET_NOT_A_LETTER', `ticket ${ticket.id} is not a letter; only letters are handed over`);
      if (ticket.handedOverAt !== null) throw new TicketError('TICKET_INVALID_TRANSITION', `the letter of ticket ${ticket.id} was already handed over to ${ticket.handedOverTo ?? 'the supervisor'}`);
      const to = command.to.trim();
      if (to === '') throw new TicketError('TICKET_ASSIGNEE_REQUIRED', 'hand-over needs the supervisor it goes to');
      data.to = to;
      data.late = ticket.letterDueAt !== null && now > ticket.letterDueAt;
      next = { ...ticket, handedOverAt: now, handedOverTo: to, ...(ticket.status === 'open' && { status: 'assigned' as const, assignee: to }) };
      break;
    }
    case 'reply':
      if (ticket.kind !== 'reception') throw new TicketError('TICKET_INVALID_TRANSITION', `ticket ${ticket.id} is not a reception ticket; replies are for residents' enquiries`);
      note = requireNote(command.note, 'reply');
      next = { ...ticket, reply: note, repliedBy: actor.username, repliedAt: now };
      break;
  }
  return commit(ticket, next, command.action, actor.username, now, note, data);
}

function reopened(ticket: Ticket): Ticket {
  return {
    ...ticket,
    status: ticket.assignee === null ? 'open' : 'assigned',
    resolvedAt: null, closedAt: null, reopenCount: ticket.reopenCount + 1,
  };
}

/** The fault of an alarm ticket came back: a resolved or recently closed ticket reopens instead of a new one being made. */
export function faultReturned(ticket: Ticket, alarmId: string, now: number): Change {
  if (ticket.status !== 'resolved' && ticket.status !== 'closed') {
    throw new TicketError('TICKET_INVALID_TRANSITION', `ticket ${ticket.id} is ${ticket.status}: only a resolved or closed ticket reopens`);
  }
  return commit(ticket, reopened(ticket), 'fault-returned', 'system', now, `alarm ${alarmId} active again`, { alarmId });
}

/** Another alarm of the same root cause (or a repeat) joins the ticket. */
export function alarmLinked(ticket: Ticket, alarmId: string, now: number): TicketEvent {
  return eventOf(ticket, ticket, 'link-alarm', 'system', now, '', { alarmId });
}

export function escalate(ticket: Ticket, escalation: Escalation): Change {
  const next: Ticket = { ...ticket, escalations: [...ticket.escalations, escalation] };
  const note = [escalation.toSpot && `${escalation.toSpot} called to the spot`, escalation.notify.length > 0 && `reported to ${escalation.notify.join(', ')}`]
    .filter(Boolean).join('; ');
  return commit(ticket, next, 'escalate', 'system', escalation.at, note, { reason: escalation.reason, toSpot: escalation.toSpot, notify: escalation.notify });
}

function commit(before: Ticket, after: Ticket, action: TicketAction, by: string, now: number, note: string, data: Record<string, unknown>): Change {
  const ticket: Ticket = { ...after, updatedAt: now, version: before.version + 1 };
  return { ticket, event: eventOf(before, ticket, action, by, now, note, data) };
}

function eventOf(before: Ticket, after: Ticket, action: TicketAction, by: string, at: number, note: string, data: Record<string, unknown>): TicketEvent {
  return { ticketId: before.id, at, by, action, from: before.status, to: after.status, note, data };
}

/** The ticket lifecycle: every command from every status, valid and invalid, and the rules around them. */
import { describe, expect, it } from 'vitest';
import { TICKET_STATUSES, TicketError, type Actor, type Ticket, type TicketStatus } from '../../server/src/domain/tickets/model.ts';
import { dueTimes } from '../../server/src/domain/tickets/sla.ts';
import { ALLOWED_FROM, alarmLinked, applyCommand, faultReturned, type TicketCommand } from '../../server/src/domain/tickets/state-machine.ts';

const T0 = Date.UTC(2025, 4, 6, 2, 0);
const MIN = 60_000;
const policy = { verifyAfterMs: 15 * MIN };
const operator: Actor = { username: 'wang.haitao', role: 'operator' };

function ticket(over: Partial<Ticket> = {}): Ticket {
  return {
    id: 7, kind: 'maintenance', priority: 2, status: 'open', source: 'manual', major: false, confidential: false,
    title: 'Pump noisy', description: '', plotId: 'A', buildingId: null, unitId: null, deviceId: 'BP-A-1', location: '',
    rootCauseKey: null, assignee: null, createdBy: 'wang.haitao', createdAt: T0, updatedAt: T0,
    acknowledgedAt: null, onSiteAt: null, resolvedAt: null, closedAt: null, ...dueTimes(2, T0),
    neededBy: null, callbackPhone: null, letterDueAt: null, handedOverAt: null, handedOverTo: null,
    reply: null, repliedBy: null, repliedAt: null, escalations: [], reopenCount: 0, version: 3, ...over,
  };
}

/** A ticket in the given status that satisfies every other precondition of the command. */
function ready(status: TicketStatus, command: TicketCommand): Ticket {
  return ticket({
    status, assignee: status === 'open' ? null : 'zhao.gang', resolvedAt: status === 'resolved' || status === 'closed' ? T0 : null,
    ...(command.action === 'hand-over' || command.action === 'reply' ? { kind: 'reception', source: 'letter', letterDueAt: T0 + 10 * MIN } : {}),
  });
}

const COMMANDS: TicketCommand[] = [
  { action: 'assign', assignee: 'zhao.gang' },
  { action: 'accept' },
  { action: 'start' },
  { action: 'resolve', note: 'replaced the bearing' },
  { action: 'verify' },
  { action: 'cancel', note: 'duplicate' },
  { action: 'reopen', note: 'still noisy' },
  { action: 'comment', note: 'parts ordered' },
  { action: 'hand-over', to: 'zhou.min' },
  { action: 'reply', note: 'We will repair it on Monday.' },
];

const EXPECTED_STATUS: Record<TicketCommand['action'], (from: TicketStatus) => TicketStatus> = {
  assign: () => 'assigned', accept: (f) => f, start: () => 'in-progress', resolve: () => 'resolved', verify: () => 'closed',
  cancel: () => 'cancelled', reopen: () => 'assigned', comment: (f) => f, 'hand-over': (f) => (f === 'open' ? 'assigned' : f), reply: (f) => f,
};

describe('every command from every status', () => {
  const cases = COMMANDS.flatMap((command) => TICKET_STATUSES.map((status) => [command.action, status, ALLOWED_FROM[command.action].includes(status), command] as const));
  it.each(cases)('%s from %s → allowed: %s', (action, status, allowed, command) => {
    const before = ready(status, command);
    if (!allowed) {
      expect(() => applyCommand(before, command, operator, T0 + MIN, policy)).toThrow(expect.objectContaining({ code: 'TICKET_INVALID_TRANSITION' }));
      return;
    }
    const { ticket: after, event } = applyCommand(before, command, operator, T0 + MIN, policy);
    expect(after.status).toBe(EXPECTED_STATUS[action](status));
    expect(event).toMatchObject({ ticketId: 7, at: T0 + MIN, by: 'wang.haitao', action, from: status, to: after.status });
    // Comments never make another person's action stale.
    expect(after.version).toBe(action === 'comment' ? before.version : before.version + 1);
  });
});

describe('rules of the lifecycle', () => {
  const at = T0 + 5 * MIN;

  it('resolve, cancel, reopen and comment need a note', () => {
    for (const [status, command] of [['in-progress', { action: 'resolve', note: ' ' }], ['open', { action: 'cancel', note: '' }], ['closed', { action: 'reopen', note: '' }], ['open', { action: 'comment', note: '' }]] as const) {
      expect(() => applyCommand(ticket({ status, assignee: 'zhao.gang' }), command, operator, at, policy)).toThrow(expect.objectContaining({ code: 'TICKET_NOTE_REQUIRED' }));
    }
  });

  it('technicians accept, start and resolve only their own tickets', () => {
    const other: Actor = { username: 'wu.hao', role: 'technician' };
    const own: Actor = { username: 'zhao.gang', role: 'technician' };
    const assigned = ticket({ status: 'assigned', assignee: 'zhao.gang' });
    expect(() => applyCommand(assigned, { action: 'start' }, other, at, policy)).toThrow(expect.objectContaining({ code: 'TICKET_NOT_ASSIGNEE' }));
    const started = applyCommand(assigned, { action: 'start' }, own, at, policy).ticket;
    expect(started).toMatchObject({ status: 'in-progress', acknowledgedAt: at, onSiteAt: at });
    expect(() => applyCommand(ticket({ status: 'resolved', assignee: 'zhao.gang', resolvedAt: at }), { action: 'verify' }, own, at, policy)).toThrow(expect.objectContaining({ code: 'TICKET_FORBIDDEN' }));
  });

  it('accept acknowledges once; reassigning asks the new person to acknowledge again', () => {
    const accepted = applyCommand(ticket({ status: 'assigned', assignee: 'zhao.gang' }), { action: 'accept' }, operator, at, policy).ticket;
    expect(accepted.acknowledgedAt).toBe(at);
    expect(() => applyCommand(accepted, { action: 'accept' }, operator, at, policy)).toThrow(expect.objectContaining({ code: 'TICKET_INVALID_TRANSITION' }));
    const reassigned = applyCommand(accepted, { action: 'assign', assignee: 'wu.hao' }, operator, at, policy);
    expect(reassigned.ticket).toMatchObject({ assignee: 'wu.hao', acknowledgedAt: null });
    expect(reassigned.event.data).toMatchObject({ assignee: 'wu.hao', previous: 'zhao.gang' });
    expect(() => applyCommand(accepted, { action: 'assign', assignee: ' ' }, operator, at, policy)).toThrow(expect.objectContaining({ code: 'TICKET_ASSIGNEE_REQUIRED' }));
  });

  it('an alarm ticket is verified only after its alarms stayed normal for the set time since the fix', () => {
    const resolved = ticket({ status: 'resolved', source: 'alarm', assignee: 'zhao.gang', resolvedAt: T0 });
    const verify = (alarmsNormalSince: number | null, now: number) => applyCommand(resolved, { action: 'verify', alarmsNormalSince }, operator, now, policy);
    expect(() => verify(null, T0 + 60 * MIN)).toThrow(expect.objectContaining({ code: 'TICKET_NOT_VERIFIED' }));
    // Normal since before the fix: the clock starts at the fix.
    expect(() => verify(T0 - 30 * MIN, T0 + 14 * MIN)).toThrow(expect.objectContaining({ code: 'TICKET_NOT_VERIFIED' }));
    expect(() => verify(T0 + 5 * MIN, T0 + 19 * MIN)).toThrow(expect.objectContaining({ code: 'TICKET_NOT_VERIFIED' }));
    expect(verify(T0 + 5 * MIN, T0 + 20 * MIN).ticket).toMatchObject({ status: 'closed', closedAt: T0 + 20 * MIN });
  });

  it('a letter is resolved only after the supervisor\'s written reply; it is handed over once', () => {
    const letter = ticket({ kind: 'reception', source: 'letter', status: 'in-progress', assignee: 'zhou.min', letterDueAt: T0 + 10 * MIN });
    expect(() => applyCommand(letter, { action: 'resolve', note: 'done' }, operator, at, policy)).toThrow(expect.objectContaining({ code: 'TICKET_REPLY_REQUIRED' }));
    const replied = applyCommand(letter, { action: 'reply', note: 'Dear resident, …' }, { username: 'zhou.min', role: 'cs-supervisor' }, at, policy).ticket;
    expect(replied).toMatchObject({ reply: 'Dear resident, …', repliedBy: 'zhou.min', repliedAt: at });
    expect(applyCommand(replied, { action: 'resolve', note: 'answered' }, operator, at, policy).ticket.status).toBe('resolved');

    const open = ticket({ kind: 'reception', source: 'letter', letterDueAt: T0 + 10 * MIN });
    const late = applyCommand(open, { action: 'hand-over', to: 'zhou.min' }, operator, T0 + 11 * MIN, policy);
    expect(late.ticket).toMatchObject({ status: 'assigned', assignee: 'zhou.min', handedOverAt: T0 + 11 * MIN });
    expect(late.event.data).toMatchObject({ late: true });
    expect(() => applyCommand(late.ticket, { action: 'hand-over', to: 'he.jing' }, operator, at, policy)).toThrow(expect.objectContaining({ code: 'TICKET_INVALID_TRANSITION' }));
    expect(() => applyCommand(ticket({ kind: 'reception', source: 'phone' }), { action: 'hand-over', to: 'zhou.min' }, operator, at, policy)).toThrow(expect.objectContaining({ code: 'TICKET_NOT_A_LETTER' }));
  });

  it('a returning fault reopens a resolved or closed ticket, keeping its assignee; an open one only links the alarm', () => {
    const closed = ticket({ status: 'closed', source: 'alarm', assignee: 'zhao.gang', resolvedAt: T0, closedAt: T0 + MIN });
    const { ticket: reopened, event } = faultReturned(closed, 'BP-A-1:pump.vibration-high', at);
    expect(reopened).toMatchObject({ status: 'assigned', reopenCount: 1, resolvedAt: null, closedAt: null, version: closed.version + 1 });
    expect(event).toMatchObject({ action: 'fault-returned', by: 'system', from: 'closed', to: 'assigned' });
    expect(() => faultReturned(ticket({ status: 'in-progress' }), 'x', at)).toThrow(TicketError);
    expect(alarmLinked(ticket({ status: 'in-progress' }), 'x', at)).toMatchObject({ action: 'link-alarm', from: 'in-progress', to: 'in-progress', data: { alarmId: 'x' } });
  });
});

import fp from 'fastify-plugin';
import { AuthRepository } from '../adapters/sql/auth-repository.ts';
import { TicketRepository } from '../adapters/sql/ticket-repository.ts';
import { rooms, type Role } from '../auth/roles.ts';
import { demoPlotOf, demoUsername, isEmbeddedDemo } from '../auth/auth-service.ts';
import { loadStaff, withDemoStaff } from '../catalogue/staff.ts';
import { CONFIDENTIAL_READERS, redactTicket, type Ticket } from '../domain/tickets/model.ts';
import { ticketTitles } from '../domain/tickets/titles.ts';
import type { PushedTicket } from '../push/events.ts';
import { TicketService, type TicketNotice } from '../services/tickets.ts';

/** SLA breaches, late letters, verification and patrol rounds are checked this often (wall clock). */
const CHECK_EVERY_MS = 15_000;

declare module 'fastify' {
  interface FastifyInstance { tickets: TicketService }
}

/** The control room (operators, supervisors, admin) sees every ticket; supervisors also get escalations. */
const CONTROL_ROOMS = (['operator', 'department-supervisor', 'cs-supervisor', 'admin'] as const).map((r) => rooms.role(r));
const SUPERVISOR_ROOMS = (['department-supervisor', 'cs-supervisor'] as const).map((r) => rooms.role(r));

/**
 * Tickets: the staff catalogue seeded into the store, the ticket service,
 * its periodic checks, and push of every ticket change to the assignee, the
 * plot and the control room. Confidential tickets go in full only to the
 * roles (and the assignee) that may see them; the other rooms get them blanked.
 */
export default fp(async (app) => {
  const staff = loadStaff(app.site);
  const catalogue = isEmbeddedDemo(app.config)
    ? withDemoStaff(staff, { technician: demoUsername('technician'), patrolOfficer: demoUsername('patrol-officer'), plotId: demoPlotOf(app.site.site.plots) })
    : staff;
  const repository = new TicketRepository(app.database);
  await repository.seedStaff(catalogue);

  const pushTicket = (ticket: Ticket, send: (to: string[], except: string[], pushed: PushedTicket) => void, extra: string[] = []): void => {
    const audience = [...CONTROL_ROOMS, ...extra, ...(ticket.plotId === null ? [] : [rooms.plot(ticket.plotId)])];
    const assignee = ticket.assignee === null ? [] : [rooms.user(ticket.assignee)];
    const shown: PushedTicket = { ...ticket, redacted: false, titles: ticketTitles(ticket, false) };
    if (!ticket.confidential) {
      send([...audience, ...assignee], [], shown);
      return;
    }
    const full = [...CONFIDENTIAL_READERS.map((r: Role) => rooms.role(r)), ...assignee];
    send(full, [], shown);
    send(audience, full, { ...redactTicket(ticket, { username: '', role: null }), redacted: true, titles: ticketTitles(ticket, true) });
  };

  const publish = (notice: TicketNotice): void => {
    switch (notice.type) {
      case 'changed': {
        const { event } = notice;
        pushTicket(notice.ticket, (to, except, ticket) => app.io.to(to).except(except).emit('tickets:changed', { ticket, event: ticket.redacted ? { ...event, note: '', data: {} } : event }));
        break;
      }
      case 'escalated': {
        const { escalation } = notice;
        const people = [escalation.toSpot, ...escalation.notify].filter((n): n is string => n !== null).map(rooms.user);
        pushTicket(notice.ticket, (to, except, ticket) => app.io.to(to).except(except).emit('tickets:escalated', { ticket, escalation }), [...SUPERVISOR_ROOMS, ...people]);
        break;
      }
      case 'round': {
        const zone = catalogue.zones.find((z) => z.id === notice.round.zoneId);
        const to = [...CONTROL_ROOMS, ...(zone ? [rooms.plot(zone.plotId)] : []), ...(notice.round.officer ? [rooms.user(notice.round.officer)] : [])];
        app.io.to(to).emit('patrols:round', { round: notice.round, missed: notice.missed });
        break;
      }
    }
  };

  const accounts = new AuthRepository(app.database);
  const service = new TicketService({
    repository, site: app.site, staff: catalogue, clock: app.clock, publish,
    isKnownPerson: async (username) => catalogue.staff.some((s) => s.username === username) || (await accounts.findUser(username)) !== undefined,
    onError: (error, what) => app.log.error({ err: error }, `tickets: ${what} failed`),
  });
  app.decorate('tickets', service);

  let checking: Promise<void> = Promise.resolve();
  const check = () => {
    checking = checking.then(() => service.tick()).catch((error: unknown) => app.log.error({ err: error }, 'ticket checks failed'));
  };
  const timer = setInterval(check, CHECK_EVERY_MS);
  app.addHook('onReady', async () => { check(); });
  app.addHook('preClose', async () => { clearInterval(timer); });
  app.addHook('onClose', async () => {
    await checking;
    await service.idle();
  });
}, { name: 'tickets', dependencies: ['config', 'clock', 'catalogue', 'database', 'push'] });

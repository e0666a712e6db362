import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { TICKET_SORTS } from '../adapters/sql/ticket-repository.ts';
import { ANY_ROLE, isRole, type Role } from '../auth/roles.ts';
import { parseTime } from '../domain/duration.ts';
import {
  FINISHED_STATUSES, maySeeDetails, redactEvent, redactTicket, TICKET_KINDS, TICKET_STATUSES, TicketError,
  type Actor, type Priority, type Ticket, type TicketStatus,
} from '../domain/tickets/model.ts';
import { addDays, atLocal } from '../domain/tickets/local-time.ts';
import { CHECKLIST, ROUND_STATUSES, type PatrolRound } from '../domain/tickets/patrols.ts';
import { isCallbackOverdue } from '../domain/tickets/reception.ts';
import { slaOf } from '../domain/tickets/sla.ts';
import { ticketTitles } from '../domain/tickets/titles.ts';
import { AppError } from '../errors.ts';
import type { CallbackView, Page, PatrolRecordView, PatrolRoundView, StaffView, TicketDetailView, TicketView } from './api-types.ts';

const CONTROL: Role[] = ['operator', 'department-supervisor', 'cs-supervisor', 'admin'];
const INTAKE: Role[] = ['reception', 'operator', 'cs-supervisor', 'department-supervisor', 'patrol-officer', 'admin'];
const RECEPTION_INTAKE: Role[] = ['reception', 'operator', 'cs-supervisor', 'admin'];
const FIELD: Role[] = ['technician', 'patrol-officer', ...CONTROL];
const LETTERS: Role[] = ['reception', 'cs-supervisor', 'operator', 'admin'];
const REPORTS: Role[] = [...CONTROL, 'manager'];
const PATROLLERS: Role[] = ['patrol-officer', 'department-supervisor', 'admin'];

const lit = <T extends string | number>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Id = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const PriorityT = lit<Priority>([1, 2, 3, 4]);
const Text = (max: number) => Type.String({ maxLength: max });

const ListQuery = Type.Object({
  kind: Type.Optional(lit(TICKET_KINDS)),
  status: Type.Optional(Type.String({ pattern: `^(open|${TICKET_STATUSES.join('|')})(,(open|${TICKET_STATUSES.join('|')}))*$`, description: "comma-separated statuses; 'open' means every unfinished one" })),
  priority: Type.Optional(PriorityT),
  plot: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
  assignee: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  from: Type.Optional(Type.String({ minLength: 1, description: 'created at or after: ISO-8601 or epoch ms' })),
  to: Type.Optional(Type.String({ minLength: 1, description: 'created before: ISO-8601 or epoch ms' })),
  sort: Type.Optional(lit(TICKET_SORTS)),
  order: Type.Optional(lit(['asc', 'desc'] as const)),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  offset: Type.Integer({ minimum: 0, default: 0 }),
}, { additionalProperties: false });
type ListQueryT = Static<typeof ListQuery>;

const CreateBody = Type.Object({
  kind: lit(TICKET_KINDS),
  source: Type.Optional(lit(['phone', 'walk-in', 'letter'] as const)),
  priority: Type.Optional(PriorityT),
  title: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Text(4000)),
  room: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  plot: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
  building: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  device: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  location: Type.Optional(Text(200)),
  neededBy: Type.Optional(Type.String({ minLength: 1, description: 'when the resident needs it: ISO-8601 or epoch ms' })),
  callbackPhone: Type.Optional(Type.String({ pattern: '^[0-9+() -]{3,32}$', description: 'a phone number' })),
  confidential: Type.Optional(Type.Boolean()),
  major: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

const ACTIONS = ['assign', 'accept', 'start', 'resolve', 'verify', 'cancel', 'reopen', 'hand-over', 'reply'] as const;
type Action = (typeof ACTIONS)[number];
const ActionBody = Type.Object({
  version: Type.Integer({ minimum: 1, description: 'the version the change is made from (409 when someone changed the ticket since)' }),
  note: Type.Optional(Text(4000)),
  assignee: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  to: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
}, { additionalProperties: false });
const NoteBody = Type.Object({ note: Type.String({ minLength: 1, maxLength: 4000 }) }, { additionalProperties: false });

const RoundsQuery = Type.Object({
  zone: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
  status: Type.Optional(lit(ROUND_STATUSES)),
  date: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'local date YYYY-MM-DD' })),
}, { additionalProperties: false });
const CompleteBody = Type.Object({
  results: Type.Array(Type.Object({
    item: Type.String({ minLength: 1, maxLength: 64 }),
    ok: Type.Boolean(),
    note: Type.Optional(Text(2000)),
    major: Type.Optional(Type.Boolean()),
  }, { additionalProperties: false }), { maxItems: 100 }),
}, { additionalProperties: false });

/** The logged-in user (the auth plugin rejects anonymous requests to these routes before they get here). */
export function actorOf(request: FastifyRequest): Actor {
  const user = request.principal?.user;
  return { username: user?.username ?? 'anonymous', role: isRole(user?.role) ? user.role : null };
}

function timeParam(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const t = parseTime(text);
  if (t === null) throw new AppError('BAD_REQUEST', `${name} "${text}" is neither an ISO-8601 time nor epoch ms`);
  return t;
}

function statusesOf(text: string | undefined): TicketStatus[] | undefined {
  if (text === undefined) return undefined;
  return [...new Set(text.split(',').flatMap((s) => (s === 'open' ? TICKET_STATUSES.filter((x) => !FINISHED_STATUSES.includes(x)) : [s as TicketStatus])))];
}

const CSV_COLUMNS = ['id', 'kind', 'priority', 'status', 'source', 'major', 'title', 'plot', 'building', 'room', 'device', 'assignee', 'created', 'due_resolve', 'resolved', 'closed', 'sla_breached'] as const;

/** A CSV field: quoted, and a leading formula character neutralised (spreadsheets would run it). */
function csvField(value: string | number | boolean | null): string {
  let text = value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return `"${text.replaceAll('"', '""')}"`;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

/** Tickets, callbacks, patrol rounds and staff: /api/tickets…, /api/callbacks…, /api/patrols…, /api/staff, /api/zones. */
const ticketRoutes: FastifyPluginAsync = async (app) => {
  const view = (ticket: Ticket, viewer: Actor): TicketView => {
    const redacted = !maySeeDetails(ticket, viewer);
    return { ...redactTicket(ticket, viewer), redacted, titles: ticketTitles(ticket, redacted), sla: slaOf(ticket, app.clock.now()) };
  };

  const filterOf = (q: ListQueryT) => ({
    ...(q.kind !== undefined && { kind: q.kind }),
    ...(q.status !== undefined && { status: statusesOf(q.status) }),
    ...(q.priority !== undefined && { priority: q.priority }),
    ...(q.plot !== undefined && { plotId: q.plot }),
    ...(q.assignee !== undefined && { assignee: q.assignee }),
    ...(q.from !== undefined && { from: timeParam(q.from, 'from') }),
    ...(q.to !== undefined && { to: timeParam(q.to, 'to') }),
  });

  app.get<{ Querystring: ListQueryT }>('/api/tickets', { schema: { querystring: ListQuery }, config: { allow: ANY_ROLE } }, async (request) => {
    const q = request.query;
    if (q.plot !== undefined && !app.site.plot(q.plot)) throw new AppError('BAD_REQUEST', `Unknown plot "${q.plot}"`);
    const viewer = actorOf(request);
    const { items, total } = await app.tickets.repository.list({ ...filterOf(q), ...(q.sort && { sort: q.sort }), ...(q.order && { order: q.order }), limit: q.limit, offset: q.offset });
    const page: Page<TicketView> = { items: items.map((t) => view(t, viewer)), total, limit: q.limit, offset: q.offset };
    return page;
  });

  app.get<{ Querystring: ListQueryT }>('/api/tickets/export.csv', { schema: { querystring: ListQuery }, config: { allow: REPORTS } }, async (request, reply) => {
    const viewer = actorOf(request);
    const rows = (await app.tickets.repository.all(filterOf(request.query))).map((t) => {
      const v = view(t, viewer);
      return [v.id, v.kind, v.priority, v.status, v.source, v.major, v.title, v.plotId, v.buildingId, v.unitId, v.deviceId, v.assignee,
        iso(v.createdAt), iso(v.dueResolveAt), iso(v.resolvedAt), iso(v.closedAt), v.sla.some((s) => s.breached)].map(csvField).join(',');
    });
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="tickets.csv"')
      .send(`\uFEFF${[CSV_COLUMNS.join(','), ...rows].join('\r\n')}\r\n`);
  });

  app.get('/api/tickets/summary/sla', { config: { allow: REPORTS } }, async () => app.tickets.slaSummary());
  app.get('/api/tickets/summary/workload', { config: { allow: REPORTS } }, async () => app.tickets.workload());

  app.get<{ Params: Static<typeof Id> }>('/api/tickets/:id', { schema: { params: Id }, config: { allow: ANY_ROLE } }, async (request) => {
    const viewer = actorOf(request);
    const detail = await app.tickets.detail(request.params.id);
    const details = maySeeDetails(detail.ticket, viewer);
    const body: TicketDetailView = {
      ticket: view(detail.ticket, viewer),
      events: detail.events.map((e) => redactEvent(e, detail.ticket, viewer)),
      alarms: detail.alarms,
      callbacks: details ? detail.callbacks : [],
    };
    return body;
  });

  app.post<{ Body: Static<typeof CreateBody> }>('/api/tickets', { schema: { body: CreateBody }, config: { allow: INTAKE } }, async (request, reply) => {
    const actor = actorOf(request);
    const b = request.body;
    if (actor.role !== null && !(b.kind === 'reception' ? RECEPTION_INTAKE : INTAKE.filter((r) => r !== 'reception')).includes(actor.role)) {
      throw new TicketError('TICKET_FORBIDDEN', `a ${actor.role} may not open ${b.kind} tickets`);
    }
    const neededBy = timeParam(b.neededBy, 'neededBy');
    const { neededBy: _raw, ...rest } = b;
    const ticket = await app.tickets.create({ ...rest, ...(neededBy !== undefined && { neededBy }) }, actor);
    return reply.code(201).send(view(ticket, actor));
  });

  const ACTION_ROLES: Record<Action, Role[]> = {
    assign: CONTROL, accept: FIELD, start: FIELD, resolve: FIELD, verify: CONTROL, cancel: CONTROL, reopen: CONTROL,
    'hand-over': LETTERS, reply: ['cs-supervisor', 'admin'],
  };
  for (const action of ACTIONS) {
    app.post<{ Params: Static<typeof Id>; Body: Static<typeof ActionBody> }>(`/api/tickets/:id/${action}`, {
      schema: { params: Id, body: ActionBody }, config: { allow: ACTION_ROLES[action] },
    }, async (request) => {
      const actor = actorOf(request);
      const { id } = request.params;
      const { version, note, assignee, to } = request.body;
      let ticket: Ticket;
      switch (action) {
        case 'assign':
          if (assignee === undefined) throw new TicketError('TICKET_ASSIGNEE_REQUIRED', 'assign needs "assignee"');
          ticket = await app.tickets.command(id, { action, assignee, ...(note !== undefined && { note }) }, version, actor);
          break;
        case 'hand-over':
          ticket = await app.tickets.handOver(id, to, version, actor, note);
          break;
        case 'resolve': case 'cancel': case 'reopen': case 'reply':
          ticket = await app.tickets.command(id, { action, note: note ?? '' }, version, actor);
          break;
        default:
          ticket = await app.tickets.command(id, { action, ...(note !== undefined && { note }) }, version, actor);
      }
      return view(ticket, actor);
    });
  }

  app.post<{ Params: Static<typeof Id>; Body: Static<typeof NoteBody> }>('/api/tickets/:id/comments', {
    schema: { params: Id, body: NoteBody }, config: { allow: ANY_ROLE },
  }, async (request, reply) => reply.code(201).send(await app.tickets.comment(request.params.id, request.body.note, actorOf(request))));

  // ── Callbacks ──
  app.get<{ Querystring: { status?: 'open' | 'done' } }>('/api/callbacks', {
    schema: { querystring: Type.Object({ status: Type.Optional(lit(['open', 'done'] as const)) }, { additionalProperties: false }) },
    config: { allow: LETTERS },
  }, async (request) => {
    const viewer = actorOf(request);
    const now = app.clock.now();
    const status = request.query.status ?? 'open';
    const list = await app.tickets.repository.callbacks({ open: status === 'open' });
    const views: CallbackView[] = [];
    for (const cb of list) {
      const ticket = await app.tickets.repository.require(cb.ticketId);
      const visible = maySeeDetails(ticket, viewer);
      views.push({
        ...cb, phone: visible ? cb.phone : '', note: visible ? cb.note : '', overdue: isCallbackOverdue(cb, now),
        ticketTitle: redactTicket(ticket, viewer).title, ticketTitles: ticketTitles(ticket, !visible),
      });
    }
    return views;
  });

  app.post<{ Params: Static<typeof Id>; Body: Static<typeof NoteBody> }>('/api/callbacks/:id/complete', {
    schema: { params: Id, body: NoteBody }, config: { allow: LETTERS },
  }, async (request) => app.tickets.completeCallback(request.params.id, request.body.note, actorOf(request)));

  // ── Patrols ──
  const zoneById = (id: string) => app.tickets.catalogue.zones.find((z) => z.id === id);
  const roundView = (round: PatrolRound): PatrolRoundView => {
    const zone = zoneById(round.zoneId);
    return { ...round, zoneName: zone?.name ?? round.zoneId, zoneNameZh: zone?.nameZh ?? round.zoneId, plotId: zone?.plotId ?? '' };
  };

  app.get('/api/patrols/checklist', { config: { allow: ANY_ROLE } }, async () => CHECKLIST);

  app.get<{ Querystring: Static<typeof RoundsQuery> }>('/api/patrols/rounds', { schema: { querystring: RoundsQuery }, config: { allow: ANY_ROLE } }, async (request) => {
    const { zone, status, date } = request.query;
    if (zone !== undefined && !zoneById(zone)) throw new AppError('BAD_REQUEST', `Unknown patrol zone "${zone}"`);
    const tz = app.site.site.timezone;
    const range = date === undefined ? {} : { from: atLocal(date, 0, tz), to: atLocal(addDays(date, 1), 0, tz) };
    const rounds = await app.tickets.repository.rounds({ ...(zone && { zoneId: zone }), ...(status && { status }), ...range });
    return rounds.map(({ version: _version, ...round }) => roundView(round));
  });

  app.post<{ Params: Static<typeof Id> }>('/api/patrols/rounds/:id/start', { schema: { params: Id }, config: { allow: PATROLLERS } },
    async (request) => roundView(await app.tickets.startRound(request.params.id, actorOf(request))));

  app.post<{ Params: Static<typeof Id>; Body: Static<typeof CompleteBody> }>('/api/patrols/rounds/:id/complete', {
    schema: { params: Id, body: CompleteBody }, config: { allow: PATROLLERS },
  }, async (request) => {
    const actor = actorOf(request);
    const { round, tickets } = await app.tickets.completeRound(request.params.id, request.body.results, actor);
    return { round: roundView(round), tickets: tickets.map((t) => view(t, actor)) };
  });

  app.get<{ Querystring: { zone?: string; round?: number } }>('/api/patrols/records', {
    schema: { querystring: Type.Object({ zone: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })), round: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false }) },
    config: { allow: ANY_ROLE },
  }, async (request): Promise<PatrolRecordView[]> => app.tickets.repository.records({
    ...(request.query.zone !== undefined && { zoneId: request.query.zone }), ...(request.query.round !== undefined && { roundId: request.query.round }),
  }));

  // ── Staff and zones ──
  app.get('/api/staff', { config: { allow: ANY_ROLE } }, async (): Promise<StaffView[]> => {
    const onDuty = app.tickets.onDuty();
    return app.tickets.catalogue.staff.map((s) => ({ ...s, onDuty: onDuty.has(s.username) }));
  });
  app.get('/api/zones', { config: { allow: ANY_ROLE } }, async () => app.tickets.catalogue.zones);
};

export default ticketRoutes;

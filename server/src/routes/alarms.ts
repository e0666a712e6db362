import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { DEVICE_KINDS } from '../catalogue/kinds.ts';
import { ANY_ROLE, type Role } from '../auth/roles.ts';
import type { ActionResult } from '../domain/alarms/engine.ts';
import { computeKpis } from '../domain/alarms/kpis.ts';
import { parseTime } from '../domain/duration.ts';
import { AppError } from '../errors.ts';
import { alarmView } from '../plugins/alarms.ts';
import type { AlarmDetailView, AlarmKpisView, AlarmView, Page } from './api-types.ts';

/** Who may acknowledge and shelve: the control room, the supervisors and admin. */
const OPERATORS: readonly Role[] = ['operator', 'department-supervisor', 'cs-supervisor', 'admin'];
const MAX_PAGE = 500;
const RECENT_EVENTS = 50;
const DAY_MS = 86_400_000;
const MAX_KPI_RANGE_MS = 31 * DAY_MS;

const ListQuery = Type.Object({
  state: Type.Optional(Type.Union([Type.Literal('normal'), Type.Literal('unack'), Type.Literal('ack'), Type.Literal('rtn-unack')])),
  priority: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3), Type.Literal(4)])),
  plot: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
  kind: Type.Optional(Type.Union(DEVICE_KINDS.map((k) => Type.Literal(k)))),
  device: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  activeOnly: Type.Boolean({ default: true, description: 'only alarms that are not normal' }),
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 100 }),
  offset: Type.Integer({ minimum: 0, default: 0 }),
}, { additionalProperties: false });

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 160 }) });

const AckBody = Type.Object({
  comment: Type.Optional(Type.String({ maxLength: 1000 })),
}, { additionalProperties: false });

const ShelveBody = Type.Object({
  until: Type.Optional(Type.String({ minLength: 1, description: 'ISO-8601 time or epoch ms' })),
  minutes: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  // Blank reasons reach the domain, which answers SHELVE_REASON_REQUIRED.
  reason: Type.String({ maxLength: 500 }),
}, { additionalProperties: false });

const KpiQuery = Type.Object({
  from: Type.Optional(Type.String({ minLength: 1, description: 'ISO-8601 time or epoch ms; default: 24 h before `to`' })),
  to: Type.Optional(Type.String({ minLength: 1, description: 'ISO-8601 time or epoch ms; default: now' })),
}, { additionalProperties: false });

/** The logged-in user (the auth plugin sets request.principal); 'operator' where no one is. */
const actor = (request: FastifyRequest): string => request.principal?.user.username ?? 'operator';

/** The alarm after an action, or the domain's refusal as an API error. */
function outcome(id: string, result: ActionResult, current: () => AlarmView | undefined): AlarmView {
  if (!result.ok) throw new AppError(result.error.code, result.error.message);
  const view = current();
  if (!view) throw new AppError('ALARM_NOT_FOUND', `No alarm "${id}"`);
  return view;
}

/**
 * GET /api/alarms, /api/alarms/:id and /api/alarms/kpis; POST /api/alarms/:id/ack,
 * /shelve and /unshelve. Lists read the alarms table (after the pending
 * writes), actions go through the engine and are stored before the answer.
 */
const alarmRoutes: FastifyPluginAsync = async (app) => {
  const current = (id: string) => () => {
    const alarm = app.alarms.engine.alarm(id);
    return alarm && alarmView(alarm);
  };

  app.get<{ Querystring: Static<typeof ListQuery> }>('/api/alarms', { schema: { querystring: ListQuery }, config: { allow: ANY_ROLE } }, async (request) => {
    const { state, priority, plot, kind, device, activeOnly, limit, offset } = request.query;
    if (plot !== undefined && !app.site.plot(plot)) throw new AppError('BAD_REQUEST', `Unknown plot "${plot}"`);
    await app.alarms.flush();
    const { items, total } = await app.alarms.repository.list(
      {
        activeOnly,
        ...(state !== undefined && { state }),
        ...(priority !== undefined && { priority }),
        ...(plot !== undefined && { plotId: plot }),
        ...(kind !== undefined && { kind }),
        ...(device !== undefined && { deviceId: device }),
      },
      { limit, offset },
    );
    const page: Page<AlarmView> = { items: items.map(alarmView), total, limit, offset };
    return page;
  });

  app.get<{ Querystring: Static<typeof KpiQuery> }>('/api/alarms/kpis', { schema: { querystring: KpiQuery }, config: { allow: ANY_ROLE } }, async (request) => {
    const now = app.clock.now();
    const to = request.query.to === undefined ? now : parseTime(request.query.to);
    if (to === null) throw new AppError('BAD_REQUEST', `"to" must be an ISO-8601 time or epoch milliseconds, not "${request.query.to}"`);
    const from = request.query.from === undefined ? to - DAY_MS : parseTime(request.query.from);
    if (from === null) throw new AppError('BAD_REQUEST', `"from" must be an ISO-8601 time or epoch milliseconds, not "${request.query.from}"`);
    if (from >= to) throw new AppError('BAD_REQUEST', '"from" must be before "to"');
    if (to - from > MAX_KPI_RANGE_MS) throw new AppError('RANGE_TOO_LARGE', `KPIs cover at most ${MAX_KPI_RANGE_MS / DAY_MS} days at a time`);
    await app.alarms.flush();
    const [history, active] = await Promise.all([app.alarms.repository.raisedBetween(from, to), app.alarms.repository.active()]);
    const kpis: AlarmKpisView = computeKpis(history, active, { from, to, now });
    return kpis;
  });

  app.get<{ Params: Static<typeof IdParams> }>('/api/alarms/:id', { schema: { params: IdParams }, config: { allow: ANY_ROLE } }, async (request) => {
    const { id } = request.params;
    await app.alarms.flush();
    const alarm = await app.alarms.repository.get(id);
    if (!alarm) throw new AppError('ALARM_NOT_FOUND', `No alarm "${id}"`);
    const events = await app.alarms.repository.events(id, RECENT_EVENTS);
    const detail: AlarmDetailView = {
      ...alarmView(alarm),
      events: events.map((e) => ({
        id: e.id, type: e.type, at: e.at, by: e.by,
        state: 'alarm' in e.effect ? e.effect.alarm.state : null,
        value: 'alarm' in e.effect ? e.effect.alarm.value : null,
      })),
    };
    return detail;
  });

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof AckBody> }>(
    '/api/alarms/:id/ack',
    {
      schema: { params: IdParams, body: AckBody },
      config: { allow: OPERATORS },
      // The comment is optional, and so is the body that carries it.
      preValidation: async (request) => { request.body ??= {}; },
    },
    async (request) => {
      const { id } = request.params;
      const { comment } = request.body;
      const result = await app.alarms.acknowledge(id, { by: actor(request), ...(comment !== undefined && { comment }) });
      return outcome(id, result, current(id));
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof ShelveBody> }>(
    '/api/alarms/:id/shelve',
    { schema: { params: IdParams, body: ShelveBody }, config: { allow: OPERATORS } },
    async (request) => {
      const { id } = request.params;
      const { until, minutes, reason } = request.body;
      if (until !== undefined && minutes !== undefined) throw new AppError('BAD_REQUEST', 'Give either "until" or "minutes", not both');
      let untilMs: number | null = null;
      if (until !== undefined) {
        untilMs = parseTime(until);
        if (untilMs === null) throw new AppError('BAD_REQUEST', `"until" must be an ISO-8601 time or epoch milliseconds, not "${until}"`);
      } else if (minutes !== undefined) {
        untilMs = app.clock.now() + Math.round(minutes * 60_000);
      }
      const result = await app.alarms.shelve(id, { by: actor(request), until: untilMs, reason });
      return outcome(id, result, current(id));
    },
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/api/alarms/:id/unshelve',
    { schema: { params: IdParams }, config: { allow: OPERATORS } },
    async (request) => {
      const { id } = request.params;
      const result = await app.alarms.unshelve(id, { by: actor(request) });
      return outcome(id, result, current(id));
    },
  );
};

export default alarmRoutes;

import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Role } from '../auth/roles.ts';
import { buildReport, REPORT_PERIODS, ReportError, resolveRange, type ReportRange } from '../domain/reports.ts';
import { AppError } from '../errors.ts';
import type { ReportView } from './api-types.ts';

/** Managers, the supervisors who answer for the work, and admin. */
export const REPORT_ROLES: readonly Role[] = ['manager', 'department-supervisor', 'cs-supervisor', 'admin'];
/** Tickets are judged in memory: more than this in one report asks for a shorter range instead. */
const MAX_REPORT_TICKETS = 50_000;

const time = Type.String({ minLength: 1, maxLength: 40, description: 'ISO-8601 time or epoch ms' });
const ReportQuery = Type.Object({
  period: Type.Optional(Type.Union(REPORT_PERIODS.map((p) => Type.Literal(p)), { description: 'the calendar day, ISO week or month (site time) holding `date`; default week' })),
  date: Type.Optional(Type.String({ minLength: 1, maxLength: 10, description: 'a local date YYYY-MM-DD in the period; default today' })),
  from: Type.Optional(time),
  to: Type.Optional(time),
  plot: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
}, { additionalProperties: false });

/** GET /api/reports: tickets and alarms of a period, for managers. */
const reportRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Querystring: Static<typeof ReportQuery> }>('/api/reports', { schema: { querystring: ReportQuery }, config: { allow: REPORT_ROLES } }, async (request) => {
    const { plot, ...rangeQuery } = request.query;
    const now = app.clock.now();
    const timezone = app.site.site.timezone;
    if (plot !== undefined && !app.site.plot(plot)) {
      throw new AppError('UNKNOWN_PLOT', `Unknown plot "${plot}"; plots: ${app.site.site.plots.map((p) => p.id).join(', ')}`);
    }
    let range: ReportRange;
    try {
      range = resolveRange(rangeQuery, now, timezone);
    } catch (error) {
      if (error instanceof ReportError) throw new AppError(error.code, error.message);
      throw error;
    }
    const where = { from: range.from, to: range.to, ...(plot !== undefined && { plotId: plot }) };
    await app.alarms.flush();
    const [tickets, alarms] = await Promise.all([
      app.tickets.repository.forReport(where, MAX_REPORT_TICKETS + 1),
      app.alarms.repository.reportAggregates({ ...where, bucketStarts: range.buckets }),
    ]);
    if (tickets.length > MAX_REPORT_TICKETS) {
      throw new AppError('REPORT_TOO_MANY_TICKETS', `More than ${MAX_REPORT_TICKETS} tickets in that range; choose a shorter period or one plot`);
    }
    const { staff, shifts } = app.tickets.catalogue;
    const view: ReportView = buildReport({
      range, timezone, plotId: plot ?? null, now, tickets, alarms,
      roster: { shifts, operators: staff.filter((s) => s.role === 'operator').map((s) => s.username) },
    });
    return view;
  });
};

export default reportRoutes;

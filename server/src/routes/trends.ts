import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Role } from '../auth/roles.ts';
import { parseDuration, parseTime } from '../domain/duration.ts';
import {
  nightFlow, parseScope, previousPeriod, resolveScope, SCOPE_PATTERN, ScopeError, total, UTILITIES, UTILITY_METER,
  type ResolvedScope, type Utility,
} from '../domain/trends.ts';
import { AppError } from '../errors.ts';
import type { TopConsumersView, TrendsView } from './api-types.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAX_BUCKETS = 10_000;
/** Managers, and those who answer for the estate's running: supervisors and the control room. */
export const TREND_ROLES: readonly Role[] = ['manager', 'admin', 'operator', 'department-supervisor', 'cs-supervisor'];

const time = Type.String({ minLength: 1, maxLength: 40, description: 'ISO-8601 time or epoch ms' });
const ScopeQuery = {
  scope: Type.String({ pattern: SCOPE_PATTERN, default: 'site', description: 'site, plot:A, building:A-03, unit:A-03-0502 or device:WM-A-03-0502' }),
  utility: Type.Union(UTILITIES.map((u) => Type.Literal(u))),
  from: Type.Optional(time),
  to: Type.Optional(time),
};
const TrendsQuery = Type.Object({
  ...ScopeQuery,
  every: Type.Optional(Type.String({ minLength: 1, maxLength: 16, description: "bucket width: '15m', '1h', '1d' or ms" })),
}, { additionalProperties: false });
const TopQuery = Type.Object({
  ...ScopeQuery,
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 20 }),
}, { additionalProperties: false });

/** GET /api/trends and /api/trends/top: meter consumption per scope for managers. */
const trendRoutes: FastifyPluginAsync = async (app) => {
  const store = () => app.telemetry.store;

  function scopeOf(text: string, utility: Utility): ResolvedScope {
    try {
      return resolveScope(app.site, parseScope(text), utility);
    } catch (error) {
      if (error instanceof ScopeError) throw new AppError(error.code, error.message);
      throw error;
    }
  }

  /** [from, to) from the query: the last 7 days by default. */
  function rangeOf(q: { from?: string; to?: string }): { from: number; to: number } {
    const to = q.to === undefined ? app.clock.now() : parseTime(q.to);
    if (to === null) throw new AppError('BAD_REQUEST', `"to" must be an ISO-8601 time or epoch milliseconds, not "${q.to}"`);
    const from = q.from === undefined ? to - 7 * DAY : parseTime(q.from);
    if (from === null) throw new AppError('BAD_REQUEST', `"from" must be an ISO-8601 time or epoch milliseconds, not "${q.from}"`);
    if (from >= to) throw new AppError('BAD_REQUEST', '"from" must be before "to"');
    return { from, to };
  }

  app.get<{ Querystring: Static<typeof TrendsQuery> }>('/api/trends', { schema: { querystring: TrendsQuery }, config: { allow: TREND_ROLES } }, async (request) => {
    const q = request.query;
    const scope = scopeOf(q.scope, q.utility);
    const { from, to } = rangeOf(q);
    const everyMs = q.every === undefined ? (to - from <= 62 * DAY ? HOUR : DAY) : parseDuration(q.every);
    if (everyMs === null || everyMs <= 0) throw new AppError('BAD_REQUEST', `"every" must be a duration such as 15m, 1h or 1d, not "${q.every}"`);
    const buckets = Math.ceil((to - from) / everyMs);
    if (buckets > MAX_BUCKETS) throw new AppError('RANGE_TOO_LARGE', `That range is ${buckets} buckets of ${q.every ?? everyMs + 'ms'}; at most ${MAX_BUCKETS}. Use a wider "every".`);

    const { metric, unit } = UTILITY_METER[q.utility];
    const deviceIds = scope.consumers.map((d) => d.id);
    const inletIds = scope.inlets.map((d) => d.id);
    const before = previousPeriod(from, to);
    const totalOf = (ids: string[], range: { from: number; to: number }, every = everyMs) =>
      store().rangeTotal({ deviceIds: ids, metric, agg: 'delta', from: range.from, to: range.to, everyMs: every });

    const [series, previous, inlet, inletHourly] = await Promise.all([
      totalOf(deviceIds, { from, to }),
      totalOf(deviceIds, before),
      inletIds.length > 0 ? totalOf(inletIds, { from, to }) : null,
      inletIds.length > 0 && everyMs !== HOUR ? totalOf(inletIds, { from, to }, HOUR) : null,
    ]);
    const consumersTotal = total(series);
    let balance: TrendsView['balance'] = null;
    if (inlet) {
      const inletTotal = total(inlet);
      const loss = inletTotal === null || consumersTotal === null ? null : inletTotal - consumersTotal;
      balance = { inlet, inletTotal, consumersTotal, loss, lossPct: loss === null || !inletTotal ? null : (loss / inletTotal) * 100 };
    }
    const hourly = inletHourly ?? inlet;
    const view: TrendsView = {
      scope: { kind: scope.kind, id: scope.id },
      utility: q.utility, metric, unit, from, to, everyMs,
      meters: deviceIds.length,
      series, previous,
      total: consumersTotal,
      previousTotal: total(previous),
      balance,
      nightFlow: hourly ? nightFlow(hourly, app.site.site.timezone) : null,
    };
    return view;
  });

  app.get<{ Querystring: Static<typeof TopQuery> }>('/api/trends/top', { schema: { querystring: TopQuery }, config: { allow: TREND_ROLES } }, async (request) => {
    const q = request.query;
    const scope = scopeOf(q.scope, q.utility);
    const { from, to } = rangeOf(q);
    const { metric, unit } = UTILITY_METER[q.utility];
    const totals = await store().deviceTotals({ deviceIds: scope.consumers.map((d) => d.id), metric, agg: 'delta', from, to });
    const items = totals
      .filter((t): t is { deviceId: string; value: number } => t.value !== null)
      .sort((a, b) => b.value - a.value || a.deviceId.localeCompare(b.deviceId))
      .slice(0, q.limit)
      .map(({ deviceId, value }) => {
        const device = app.site.device(deviceId)!;
        return { deviceId, unitId: device.unitId, buildingId: device.buildingId, plotId: device.plotId, role: device.role, value };
      });
    const view: TopConsumersView = { utility: q.utility, unit, from, to, meters: scope.consumers.length, items };
    return view;
  });
};

export default trendRoutes;

import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { DEVICE_KINDS, KINDS } from '../catalogue/kinds.ts';
import type { Device } from '../catalogue/types.ts';
import { parseDuration, parseTime } from '../domain/duration.ts';
import { ANY_ROLE } from '../auth/roles.ts';
import { AppError } from '../errors.ts';
import { AGGREGATES, type Aggregate } from '../ports/time-series.ts';
import type { DeviceView, Page, ReadingsView } from './api-types.ts';

const MAX_PAGE = 10_000;
const MAX_BUCKETS = 10_000;
const DEFAULT_RANGE_MS = 86_400_000;
/** Without `every`, a range is cut into about this many buckets (rounded to a whole minute). */
const DEFAULT_BUCKETS = 288;

const ListQuery = Type.Object({
  plot: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
  building: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  kind: Type.Optional(Type.Union(DEVICE_KINDS.map((k) => Type.Literal(k)))),
  status: Type.Optional(Type.Union([Type.Literal('online'), Type.Literal('offline'), Type.Literal('unknown')])),
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 100 }),
  offset: Type.Integer({ minimum: 0, default: 0 }),
}, { additionalProperties: false });

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

const ReadingsQuery = Type.Object({
  metric: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  from: Type.Optional(Type.String({ minLength: 1, description: 'ISO-8601 time or epoch ms' })),
  to: Type.Optional(Type.String({ minLength: 1, description: 'ISO-8601 time or epoch ms' })),
  every: Type.Optional(Type.String({ minLength: 1, description: "bucket width: '15m', '1h', '1d' or ms" })),
  agg: Type.Optional(Type.Union(AGGREGATES.map((a) => Type.Literal(a)))),
}, { additionalProperties: false });

function numericMetrics(device: Device): string[] {
  return Object.entries(KINDS[device.kind].metrics).filter(([, def]) => def.type !== 'string').map(([name]) => name);
}

/** GET /api/devices, /api/devices/:id and /api/devices/:id/readings. */
const deviceRoutes: FastifyPluginAsync = async (app) => {
  const stateOf = (device: Device) =>
    app.ingest.live.get(device.id) ?? { id: device.id, kind: device.kind, status: 'unknown' as const, ts: null, seenAt: null, values: {} };
  const view = (device: Device): DeviceView => ({ ...device, state: stateOf(device) });

  const find = (id: string): Device => {
    const device = app.site.device(id);
    if (!device) throw new AppError('DEVICE_NOT_FOUND', `No device "${id}" in site ${app.site.site.id}`);
    return device;
  };

  app.get<{ Querystring: Static<typeof ListQuery> }>('/api/devices', { schema: { querystring: ListQuery }, config: { allow: ANY_ROLE } }, async (request) => {
    const { plot, building, kind, status, limit, offset } = request.query;
    if (plot !== undefined && !app.site.plot(plot)) throw new AppError('BAD_REQUEST', `Unknown plot "${plot}"`);
    if (building !== undefined && !app.site.building(building)) throw new AppError('BAD_REQUEST', `Unknown building "${building}"`);
    const matching = app.site.site.devices.filter((d) =>
      (plot === undefined || d.plotId === plot)
      && (building === undefined || d.buildingId === building)
      && (kind === undefined || d.kind === kind)
      && (status === undefined || stateOf(d).status === status));
    const page: Page<DeviceView> = { items: matching.slice(offset, offset + limit).map(view), total: matching.length, limit, offset };
    return page;
  });

  app.get<{ Params: Static<typeof IdParams> }>('/api/devices/:id', { schema: { params: IdParams }, config: { allow: ANY_ROLE } }, async (request) => view(find(request.params.id)));

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ReadingsQuery> }>(
    '/api/devices/:id/readings',
    { schema: { params: IdParams, querystring: ReadingsQuery }, config: { allow: ANY_ROLE } },
    async (request) => {
      const device = find(request.params.id);
      const q = request.query;
      const metrics = numericMetrics(device);
      const metric = q.metric ?? metrics[0];
      const def = metric === undefined ? undefined : KINDS[device.kind].metrics[metric];
      if (metric === undefined || def === undefined) {
        throw new AppError('UNKNOWN_METRIC', `A ${device.kind} has no metric "${q.metric}"; it has ${Object.keys(KINDS[device.kind].metrics).join(', ')}`);
      }
      if (def.type === 'string') {
        throw new AppError('METRIC_NOT_NUMERIC', `"${metric}" holds text, which cannot be aggregated; numeric metrics: ${metrics.join(', ')}`);
      }
      const to = q.to === undefined ? app.clock.now() : parseTime(q.to);
      if (to === null) throw new AppError('BAD_REQUEST', `"to" must be an ISO-8601 time or epoch milliseconds, not "${q.to}"`);
      const from = q.from === undefined ? to - DEFAULT_RANGE_MS : parseTime(q.from);
      if (from === null) throw new AppError('BAD_REQUEST', `"from" must be an ISO-8601 time or epoch milliseconds, not "${q.from}"`);
      if (from >= to) throw new AppError('BAD_REQUEST', '"from" must be before "to"');
      const everyMs = q.every === undefined ? Math.max(60_000, Math.ceil((to - from) / DEFAULT_BUCKETS / 60_000) * 60_000) : parseDuration(q.every);
      if (everyMs === null || everyMs <= 0) throw new AppError('BAD_REQUEST', `"every" must be a duration such as 15m, 1h or 1d, not "${q.every}"`);
      const buckets = Math.ceil((to - from) / everyMs);
      if (buckets > MAX_BUCKETS) {
        throw new AppError('RANGE_TOO_LARGE', `That range in ${q.every ?? everyMs + 'ms'} buckets is ${buckets} buckets; at most ${MAX_BUCKETS}. Use a wider "every" or a shorter range.`);
      }
      const agg: Aggregate = q.agg ?? (def.cumulative ? 'delta' : 'mean');
      const result: ReadingsView = {
        deviceId: device.id, metric, agg, everyMs, from, to,
        buckets: await app.telemetry.store.range({ deviceId: device.id, metric, from, to, everyMs, agg }),
      };
      return result;
    },
  );
};

export default deviceRoutes;

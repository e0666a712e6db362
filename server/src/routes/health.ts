import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Role } from '../auth/roles.ts';
import { SESSION_COOKIE } from '../plugins/auth.ts';
import type { ComponentHealth, HealthView } from './api-types.ts';

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Who sees the broker's address, this instance's host name and the error texts. */
const DETAIL_ROLES: readonly Role[] = ['operator', 'admin'];

/** Without the fields that name this machine or its services, and without error texts. */
function withoutDetails(view: HealthView): HealthView {
  const { url: _url, detail: _broker, ...broker } = view.broker;
  const { detail: _database, ...database } = view.database;
  const { detail: _timeSeries, ...timeSeries } = view.timeSeries;
  const { instance: _instance, ...rest } = view;
  return { ...rest, details: false, broker, database, timeSeries };
}

/**
 * GET /api/health: broker, database and time-series status, the ingest counters, and which
 * partitions this instance owns. 503 when degraded.
 */
const healthRoutes: FastifyPluginAsync = async (app) => {
  const startedAt = Date.now();

  /** An operator's or administrator's session; a health probe never fails for want of one (the database may be down). */
  const seesDetails = async (request: FastifyRequest): Promise<boolean> => {
    const token = request.cookies[SESSION_COOKIE];
    if (token === undefined) return false;
    const principal = await app.auth.service.authenticate(token).catch(() => null);
    return principal !== null && principal !== 'expired' && DETAIL_ROLES.includes(principal.user.role);
  };

  // Public: load balancers and compose healthchecks probe it without a session.
  app.get('/api/health', { config: { allow: 'public' } }, async (request, reply) => {
    const database: ComponentHealth = await app.database.ping().then(
      () => ({ ok: true }),
      (error: unknown) => ({ ok: false, detail: errorText(error) }),
    );
    const store = await app.telemetry.store.health().catch((error: unknown) => ({ ok: false, engine: 'unknown', detail: errorText(error) }));
    const writer = app.telemetry.writer.stats;
    const timeSeries = {
      ok: store.ok && writer.lastError === null,
      engine: store.engine,
      ...(store.detail !== undefined && { detail: store.detail }),
      ...(writer.lastError !== null && { detail: `writes failing (${writer.pending} pending): ${writer.lastError}` }),
      writer: { pending: writer.pending, written: writer.written, dropped: writer.dropped, failedFlushes: writer.failedFlushes },
      acks: app.ingest.acks.stats,
    };
    const brokerOk = app.ingest.subscriber.connected();
    const view: HealthView = {
      status: database.ok && timeSeries.ok && brokerOk ? 'ok' : 'degraded',
      details: true,
      broker: {
        ok: brokerOk, url: app.broker.url, embedded: app.broker.embedded,
        ...(!brokerOk && { detail: 'not connected; reconnecting' }),
        ...(app.broker.refused && { refused: { ...app.broker.refused } }),
      },
      database: { ...database, engine: app.database.engine },
      timeSeries,
      ingest: app.ingest.counters,
      uptimeS: Math.round((Date.now() - startedAt) / 1000),
      instance: app.cluster.instance,
      partitions: {
        total: app.partitions.all.length,
        owned: app.partitions.leases()
          .map(({ partition, epoch, expiresAt }) => ({ id: partition.id, plotId: partition.plotId, epoch, expiresAt: new Date(expiresAt).toISOString() }))
          .sort((a, b) => (a.id < b.id ? -1 : 1)),
      },
    };
    return reply.code(view.status === 'ok' ? 200 : 503).send(await seesDetails(request) ? view : withoutDetails(view));
  });
};

export default healthRoutes;

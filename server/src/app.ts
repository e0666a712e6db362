/**
 * Composition: builds the EstateWatch Fastify instance from a Config. main.ts
 * runs it as a process; tests build it here and use app.inject().
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from './config/config.ts';
import { systemClock, type Clock } from './ports/clock.ts';
import alarmTicketsPlugin from './plugins/alarm-tickets.ts';
import alarmsPlugin from './plugins/alarms.ts';
import authPlugin from './plugins/auth.ts';
import brokerPlugin from './plugins/broker.ts';
import cataloguePlugin from './plugins/catalogue.ts';
import { clockPlugin, configPlugin } from './plugins/core.ts';
import databasePlugin from './plugins/database.ts';
import errorsPlugin from './plugins/errors.ts';
import ingestPlugin from './plugins/ingest.ts';
import partitionsPlugin from './plugins/partitions.ts';
import pushPlugin from './plugins/push.ts';
import historyPlugin from './plugins/history.ts';
import simulatorsPlugin from './plugins/simulators.ts';
import telemetryPlugin from './plugins/telemetry.ts';
import ticketsPlugin from './plugins/tickets.ts';
import webPlugin from './plugins/web.ts';
import alarmRoutes from './routes/alarms.ts';
import authRoutes from './routes/auth.ts';
import deadLetterRoutes from './routes/dead-letters.ts';
import deviceRoutes from './routes/devices.ts';
import healthRoutes from './routes/health.ts';
import reportRoutes from './routes/reports.ts';
import siteRoutes from './routes/site.ts';
import ticketRoutes from './routes/tickets.ts';
import trendRoutes from './routes/trends.ts';
import userRoutes from './routes/users.ts';

export interface BuildOptions {
  clock?: Clock;
  logger?: FastifyServerOptions['logger'];
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? { level: config.logLevel },
    // Let the hooks close socket.io clients and MQTT before the HTTP server waits on keep-alive connections.
    forceCloseConnections: true,
    // Behind a reverse proxy: client address (login limits) and protocol (Secure cookie) from X-Forwarded-*.
    trustProxy: config.auth.trustProxy,
    // A first start creates the PGlite cluster and applies every migration: seconds, more on a busy machine.
    pluginTimeout: 60_000,
  });

  await app.register(configPlugin, { config });
  await app.register(clockPlugin, { clock: options.clock ?? systemClock });
  await app.register(errorsPlugin);
  await app.register(cataloguePlugin);
  await app.register(databasePlugin);
  // Before every route: it vets each route's declared access as it is registered.
  await app.register(authPlugin);
  await app.register(telemetryPlugin);
  await app.register(brokerPlugin);
  await app.register(ingestPlugin);
  await app.register(pushPlugin);
  await app.register(alarmsPlugin);
  await app.register(ticketsPlugin);
  await app.register(alarmTicketsPlugin);
  // After the alarms: a partition's messages flow only once its engine is restored.
  await app.register(partitionsPlugin);
  // Before the simulators: it looks for existing readings before they write any.
  await app.register(historyPlugin);
  await app.register(simulatorsPlugin);

  await app.register(healthRoutes);
  await app.register(authRoutes);
  await app.register(userRoutes);
  await app.register(siteRoutes);
  await app.register(deviceRoutes);
  await app.register(deadLetterRoutes);
  await app.register(alarmRoutes);
  await app.register(ticketRoutes);
  await app.register(trendRoutes);
  await app.register(reportRoutes);
  await app.register(webPlugin);
  return app;
}

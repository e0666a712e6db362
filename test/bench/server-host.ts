/**
 * The server under test, alone in its own process: built with buildApp exactly
 * as main.ts builds it (simulation off, HTTP and embedded broker on port 0),
 * plus the measurement the bench needs, taken from outside the product code:
 * CPU time, RSS, event-loop delay, the telemetry writer's stats and a row count.
 *
 * The configuration comes as JSON in BENCH_SERVER_ENV (product variable names),
 * never from the inherited environment, so a stray SIMULATE=1 cannot skew a run.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../server/src/adapters/sql/database.ts';
import { buildApp } from '../../server/src/app.ts';
import { loadConfig } from '../../server/src/config/config.ts';
import { serve } from './ipc.ts';

export interface ServerInfo {
  baseUrl: string;
  brokerUrl: string;
  embeddedBroker: boolean;
  engine: string;
  siteId: string;
  /** Which optional capabilities this build of the server has (other helpers are adding them). */
  features: { alarms: boolean; tickets: boolean };
}

export interface ServerStats {
  /** process.cpuUsage() user + system, µs, and the wall clock it was read at, ms. */
  cpuUs: number;
  wallMs: number;
  rssMb: number;
  heapUsedMb: number;
  /** Event-loop delay since the last reset, ms. */
  loopDelay: { p50: number; p99: number; max: number; samples: number };
  accepted: number;
  rejected: number;
  writer: { pending: number; written: number; dropped: number; failedFlushes: number; lastError: string | null };
  /** When `accepted` and `writer.written` last grew (performance.now(), 10 ms resolution): where a step's work ended, whenever it is polled. */
  lastAcceptedAtMs: number;
  lastWrittenAtMs: number;
}

const env = JSON.parse(process.env.BENCH_SERVER_ENV ?? '{}') as Record<string, string>;
const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', MQTT_PORT: '0', SIMULATE: 'false', LOG_LEVEL: 'warn', ...env });
const app = await buildApp(config);
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
if (address === null || typeof address === 'string') throw new Error('server has no TCP address');

// 5 ms resolution: stalls of a few ms are what the target (p99 ≤ 20 ms) is about.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
const ms = (ns: number) => Math.round((ns / 1e6) * 100) / 100;

let profiler: Session | null = null;

// A poll after the fact would stretch a short step by the polling interval (250 ms of a 3 s step is 8 %).
let lastAccepted = { count: 0, atMs: performance.now() };
let lastWritten = { count: 0, atMs: performance.now() };
setInterval(() => {
  const accepted = app.ingest.counters.accepted;
  const written = app.telemetry.writer.stats.written;
  if (accepted !== lastAccepted.count) lastAccepted = { count: accepted, atMs: performance.now() };
  if (written !== lastWritten.count) lastWritten = { count: written, atMs: performance.now() };
}, 10).unref();

const info: ServerInfo = {
  baseUrl: `http://127.0.0.1:${address.port}`,
  brokerUrl: app.broker.url,
  embeddedBroker: app.broker.embedded,
  engine: app.database.engine,
  siteId: app.site.site.id,
  features: { alarms: app.hasDecorator('alarms'), tickets: app.hasDecorator('tickets') },
};

serve({
  info: () => info,
  stats: (): ServerStats => {
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    const writer = app.telemetry.writer.stats;
    return {
      cpuUs: cpu.user + cpu.system,
      wallMs: performance.now(),
      rssMb: memory.rss / 2 ** 20,
      heapUsedMb: memory.heapUsed / 2 ** 20,
      loopDelay: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max), samples: loopDelay.count },
      accepted: app.ingest.counters.accepted,
      rejected: app.ingest.counters.rejected,
      writer: { ...writer },
      lastAcceptedAtMs: lastAccepted.atMs,
      lastWrittenAtMs: lastWritten.atMs,
    };
  },
  resetLoopDelay: () => { loopDelay.reset(); },
  /** Writes whatever the batching writer still holds. */
  drain: () => app.telemetry.writer.drain(),
  /**
   * Waits until the alarms and tickets of what has arrived are stored and
   * handled (a fleet that starts or stops brings thousands of status changes),
   * so that a measurement sees the steady state, not the aftermath.
   */
  settle: async () => {
    if (info.features.alarms) await app.alarms.flush();
    if (info.features.tickets) await app.tickets.idle();
  },
  countRows: async () => {
    const rows = await queryRows<{ n: string | number }>(app.database.db, sql`select count(*) as n from readings`);
    return Number(rows[0]?.n ?? 0);
  },
  /** CPU profile of this process (V8's sampling profiler, as node --cpu-prof), just for the span being measured. */
  profileStart: async () => {
    profiler ??= new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  },
  profileStop: async ({ file }: { file: string }) => {
    if (!profiler) throw new Error('profileStart was not called');
    const { profile } = await profiler.post('Profiler.stop');
    profiler.disconnect();
    profiler = null;
    await writeFile(file, JSON.stringify(profile));
    return file;
  },
  exit: async () => {
    loopDelay.disable();
    await app.close();
    setImmediate(() => process.exit(0));
  },
});

/**
 * Ingest: sustained end-to-end messages per second. The load generator offers
 * a rising rate in steps; each step is followed by a drain, so every step is
 * accounted on its own: sent (PUBACKed by the broker) = accepted by the
 * server's validation (/api/health counters) = rows handed to the store by
 * the telemetry writer; at the end the table's row count must equal the sum.
 */
import mqtt from 'mqtt';
import { io as connectSocket } from 'socket.io-client';
import type { Child } from './ipc.ts';
import type { LoadProgress } from './load-generator.ts';
import type { ServerStats } from './server-host.ts';
import { startGenerator, startServer, type Stack } from './stack.ts';
import { round1, sleep, slope } from './stats.ts';

export interface IngestStep {
  offered: number;
  /** Achieved rates, messages/s: sent over the step; accepted and written over the step plus the time to catch up. */
  sent: number;
  accepted: number;
  written: number;
  /** The largest backlog seen (sent − written), messages, and its growth over the step, messages/s. */
  backlogMax: number;
  backlogGrowth: number;
  /** Messages the broker had not yet PUBACKed when the generator's window was full (generator-side backpressure). */
  windowFull: number;
  serverCpuPercent: number;
  generatorCpuPercent: number;
  rssMb: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** socket.io 'devices:update' frames and device states received during the step. */
  pushFrames: number;
  pushStates: number;
  drainMs: number;
  /** After the drain: sent messages the server never accepted, and accepted ones never written. */
  lost: number;
  unwritten: number;
  dropped: number;
  /** QoS-1 messages Mosquitto dropped over the step and its drain (its queue limit per session); null: aedes, or not known. */
  brokerDropped: number | null;
  sustained: boolean;
  verdict: string;
}

export interface IngestResult {
  engine: string;
  steps: IngestStep[];
  /** The highest offered rate sustained with nothing lost and no growing backlog; null when none was. */
  saturationOffered: number | null;
  /** Rows/s written at that step. */
  ingestMsgsPerS: number;
  /**
   * nothingLost: every message the broker acknowledged was accepted and stored. brokerDropped: what
   * Mosquitto dropped at its queue limit (null on aedes).
   */
  totals: { sent: number; accepted: number; rowsInTable: number; nothingLost: boolean; brokerDropped: number | null };
  cpuProfile: string | null;
}

export interface IngestOptions {
  rates: readonly number[];
  stepMs: number;
  drainTimeoutMs: number;
  /** Where to write a CPU profile of the server covering the ramp (not its start-up). */
  cpuProfileFile?: string;
}

const SAMPLE_MS = 250;
const DROPPED_TOPIC = '$SYS/broker/publish/messages/dropped';

/**
 * Mosquitto's count of dropped QoS-1 messages (over its max_queued_messages), from $SYS: so that
 * a loss past saturation is attributed to the broker's bound, not guessed at. Mosquitto 2 publishes
 * it only once it changes (none: 0), every sys_interval (1 s on the bench's own Mosquitto).
 */
async function openDropCounter(url: string): Promise<{ settled(): Promise<number>; close(): Promise<void> }> {
  const client = await mqtt.connectAsync(url, { clientId: `bench-sys-${process.pid}`, reconnectPeriod: 0 });
  let latest = 0;
  client.on('message', (_topic, payload) => {
    const value = Number(payload.toString());
    if (Number.isFinite(value)) latest = value;
  });
  await client.subscribeAsync(DROPPED_TOPIC);
  return {
    // After one more $SYS interval, so that drops up to now are counted.
    settled: async () => {
      await sleep(1_100);
      return latest;
    },
    close: async () => { await client.endAsync(); },
  };
}

export async function runIngest(stack: Stack, options: IngestOptions, log: (line: string) => void): Promise<IngestResult> {
  const server = await startServer(stack);
  let generator: Child | null = null;
  const drops = server.info.embeddedBroker ? null : await openDropCounter(server.info.brokerUrl).catch(() => null);
  const socket = connectSocket(server.info.baseUrl, { transports: ['websocket'], reconnection: false, extraHeaders: { cookie: server.cookie } });
  try {
    generator = await startGenerator(stack, server.info.brokerUrl);
    let pushFrames = 0;
    let pushStates = 0;
    socket.on('devices:update', (states: unknown[]) => { pushFrames += 1; pushStates += states.length; });
    if (!socket.connected) {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
    }

    const steps: IngestStep[] = [];
    let totalSent = 0;
    let brokerDroppedTotal = 0;
    if (options.cpuProfileFile) await server.child.call('profileStart');
    for (const rate of options.rates) {
      const brokerDropped0 = await drops?.settled() ?? null;
      const before = await server.child.call<ServerStats>('stats');
      await server.child.call('resetLoopDelay');
      const frames0 = pushFrames;
      const states0 = pushStates;
      await generator.call('startLoad', { rate, durationMs: options.stepMs });
      const backlog: [number, number][] = [];
      let progress: LoadProgress;
      let now: ServerStats;
      do {
        await sleep(SAMPLE_MS);
        [progress, now] = await Promise.all([generator.call<LoadProgress>('progress'), server.child.call<ServerStats>('stats')]);
        const stepWritten = now.writer.written - before.writer.written;
        backlog.push([progress.elapsedMs / 1000, progress.sent - stepWritten]);
      } while (progress.running);
      const stepEnd = now;
      const final = await generator.call<LoadProgress>('stopLoad', { ackTimeoutMs: options.drainTimeoutMs });
      totalSent += final.acked;

      // Drain: wait until the server has accepted everything the broker took, then flush the writer.
      const drainStart = performance.now();
      let drained = await server.child.call<ServerStats>('stats');
      while (drained.accepted < totalSent && performance.now() - drainStart < options.drainTimeoutMs) {
        await sleep(20);
        drained = await server.child.call<ServerStats>('stats');
      }
      const allAcceptedAt = drained.lastAcceptedAtMs;
      await server.child.call('drain', undefined, options.drainTimeoutMs);
      const health = await fetch(`${server.info.baseUrl}/api/health`).then((r) => r.json() as Promise<{ ingest: { accepted: number } }>);
      drained = await server.child.call<ServerStats>('stats');
      const drainMs = performance.now() - drainStart;
      const brokerDropped1 = await drops?.settled() ?? null;
      const brokerDropped = brokerDropped0 === null || brokerDropped1 === null ? null : brokerDropped1 - brokerDropped0;
      brokerDroppedTotal += brokerDropped ?? 0;

      // Rates over the step AND its catch-up: a server that lags and catches up later is credited only with what it did in time.
      const stepMessages = final.acked;
      const acceptedRate = stepMessages / ((allAcceptedAt - before.wallMs) / 1000);
      const writtenRate = stepMessages / ((drained.lastWrittenAtMs - before.wallMs) / 1000);
      const growth = slope(backlog.filter(([t]) => t >= 1));
      const sentRate = progress.sent / (Math.min(progress.elapsedMs, options.stepMs) / 1000);
      const lost = totalSent - health.ingest.accepted;
      const unwritten = health.ingest.accepted - drained.writer.written;
      const dropped = drained.writer.dropped - before.writer.dropped;
      const reasons: string[] = [];
      if (final.failed > 0) reasons.push(`${final.failed} publishes failed`);
      if (final.acked < final.sent) reasons.push(`${final.sent - final.acked} not PUBACKed`);
      if (sentRate < 0.95 * rate) reasons.push(`only ${Math.round(sentRate)}/s could be offered`);
      if (writtenRate < 0.95 * rate) reasons.push(`written ${Math.round(writtenRate)}/s incl. catch-up`);
      if (lost !== 0) reasons.push(`${lost} not accepted after ${Math.round(drainMs)} ms drain${brokerDropped ? ` (Mosquitto dropped ${brokerDropped} at its queue limit)` : ''}`);
      if (unwritten !== 0) reasons.push(`${unwritten} not written`);
      if (dropped !== 0) reasons.push(`${dropped} dropped by the writer`);
      const cpuPercent = ((stepEnd.cpuUs - before.cpuUs) / 1000 / (stepEnd.wallMs - before.wallMs)) * 100;
      const step: IngestStep = {
        offered: rate,
        sent: Math.round(sentRate),
        accepted: Math.round(acceptedRate),
        written: Math.round(writtenRate),
        backlogMax: Math.max(0, ...backlog.map(([, b]) => b)),
        backlogGrowth: Math.round(growth),
        windowFull: final.windowFull,
        serverCpuPercent: Math.round(cpuPercent),
        generatorCpuPercent: Math.round(final.cpuPercent),
        rssMb: Math.round(stepEnd.rssMb),
        loopDelayP99Ms: stepEnd.loopDelay.p99,
        loopDelayMaxMs: stepEnd.loopDelay.max,
        pushFrames: pushFrames - frames0,
        pushStates: pushStates - states0,
        drainMs: Math.round(drainMs),
        lost,
        unwritten,
        dropped,
        brokerDropped,
        sustained: reasons.length === 0,
        verdict: reasons.length === 0 ? 'sustained' : reasons.join('; '),
      };
      steps.push(step);
      log(`  ingest ${rate}/s: sent ${step.sent}/s, accepted ${step.accepted}/s, written ${step.written}/s, backlog max ${step.backlogMax} (${step.backlogGrowth}/s), server CPU ${step.serverCpuPercent}%, loop p99 ${step.loopDelayP99Ms} ms, drain ${step.drainMs} ms: ${step.verdict}`);
      // Beyond the first step that is not sustained, higher rates only pile up backlog.
      if (!step.sustained) break;
    }

    const cpuProfile = options.cpuProfileFile ? await server.child.call<string>('profileStop', { file: options.cpuProfileFile }) : null;
    const [rowsInTable, last] = await Promise.all([
      server.child.call<number>('countRows', undefined, 300_000),
      server.child.call<ServerStats>('stats'),
    ]);
    const saturation = [...steps].reverse().find((s) => s.sustained) ?? null;
    return {
      engine: `${server.info.embeddedBroker ? 'aedes' : 'mosquitto'} + ${server.info.engine}`,
      steps,
      saturationOffered: saturation?.offered ?? null,
      ingestMsgsPerS: saturation?.written ?? 0,
      totals: {
        sent: totalSent, accepted: last.accepted, rowsInTable, nothingLost: totalSent === last.accepted && rowsInTable === totalSent,
        brokerDropped: drops === null ? null : brokerDroppedTotal,
      },
      cpuProfile,
    };
  } finally {
    socket.close();
    await drops?.close();
    await generator?.stop();
    await server.child.stop(120_000);
  }
}

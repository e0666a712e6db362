/**
 * The server under the estate's own traffic: the simulated fleet (every device,
 * its real report intervals and payloads, over its own MQTT connections) at a
 * given speed. Used for event-loop stalls at normal load and the memory soak.
 */
import type { Child } from './ipc.ts';
import type { ServerStats } from './server-host.ts';
import { round1, sleep, slope } from './stats.ts';

export interface NormalLoadResult {
  speed: number;
  seconds: number;
  /** Messages per second the fleet published while measured. */
  msgsPerS: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  serverCpuPercent: number;
  /** How far the fleet fell behind its simulated clock, simulated ms (0: it kept up). */
  fleetLagMs: number;
  /** A CPU profile of the server over the measured span (--profile). */
  cpuProfile: string | null;
}

export interface SoakResult {
  speed: number;
  seconds: number;
  msgsPerS: number;
  rssMb: { start: number; end: number; max: number; slopeMbPerMin: number };
  heapUsedMb: { start: number; end: number; slopeMbPerMin: number };
  samples: number;
}

interface FleetCounters { published: number; lagMs: number }

/** Lets the connection burst and the first reports pass before anything is measured. */
const WARM_UP_MS = 3_000;
/** The whole estate coming online (or, from the phase before, going offline) is thousands of alarm changes. */
const SETTLE_TIMEOUT_MS = 120_000;

export async function measureNormalLoad(server: Child, generator: Child, speed: number, durationMs: number, cpuProfileFile?: string): Promise<NormalLoadResult> {
  await generator.call('fleetStart', { speed });
  try {
    await sleep(WARM_UP_MS);
    await server.call('settle', undefined, SETTLE_TIMEOUT_MS);
    await server.call('resetLoopDelay');
    if (cpuProfileFile) await server.call('profileStart');
    const [s0, c0] = await Promise.all([server.call<ServerStats>('stats'), generator.call<FleetCounters>('fleetCounters')]);
    await sleep(durationMs);
    const [s1, c1] = await Promise.all([server.call<ServerStats>('stats'), generator.call<FleetCounters>('fleetCounters')]);
    const cpuProfile = cpuProfileFile ? await server.call<string>('profileStop', { file: cpuProfileFile }) : null;
    const seconds = (s1.wallMs - s0.wallMs) / 1000;
    return {
      speed,
      seconds: round1(seconds),
      msgsPerS: Math.round((c1.published - c0.published) / seconds),
      loopDelayP99Ms: s1.loopDelay.p99,
      loopDelayMaxMs: s1.loopDelay.max,
      serverCpuPercent: Math.round(((s1.cpuUs - s0.cpuUs) / 1000 / (s1.wallMs - s0.wallMs)) * 100),
      fleetLagMs: Math.round(c1.lagMs),
      cpuProfile,
    };
  } finally {
    await generator.call('fleetStop');
  }
}

export async function soak(server: Child, generator: Child, speed: number, durationMs: number, sampleMs: number, log: (line: string) => void): Promise<SoakResult> {
  await generator.call('fleetStart', { speed });
  try {
    await sleep(WARM_UP_MS);
    await server.call('settle', undefined, SETTLE_TIMEOUT_MS);
    const c0 = await generator.call<FleetCounters>('fleetCounters');
    const samples: ServerStats[] = [];
    const started = performance.now();
    let lastLog = started;
    while (performance.now() - started < durationMs) {
      samples.push(await server.call<ServerStats>('stats'));
      if (performance.now() - lastLog > 60_000) {
        lastLog = performance.now();
        log(`  soak: ${Math.round((lastLog - started) / 1000)} s, RSS ${Math.round(samples.at(-1)!.rssMb)} MB`);
      }
      await sleep(sampleMs);
    }
    samples.push(await server.call<ServerStats>('stats'));
    const c1 = await generator.call<FleetCounters>('fleetCounters');
    const first = samples[0]!;
    const last = samples.at(-1)!;
    const minutes = (s: ServerStats) => (s.wallMs - first.wallMs) / 60_000;
    const seconds = (last.wallMs - first.wallMs) / 1000;
    return {
      speed,
      seconds: Math.round(seconds),
      msgsPerS: Math.round((c1.published - c0.published) / seconds),
      rssMb: {
        start: round1(first.rssMb),
        end: round1(last.rssMb),
        max: round1(Math.max(...samples.map((s) => s.rssMb))),
        slopeMbPerMin: round1(slope(samples.map((s) => [minutes(s), s.rssMb]))),
      },
      heapUsedMb: {
        start: round1(first.heapUsedMb),
        end: round1(last.heapUsedMb),
        slopeMbPerMin: round1(slope(samples.map((s) => [minutes(s), s.heapUsedMb]))),
      },
      samples: samples.length,
    };
  } finally {
    await generator.call('fleetStop');
  }
}

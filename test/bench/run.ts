/**
 * `npm run bench [-- --quick] [-- --json] [-- --engine embedded|real|both] [-- --profile] [-- --only ingest,latency,load,browser,soak,trends,engine]`
 *
 * Measures the product as built (see README "Benchmarks"): ingest, alarm (or
 * push) latency, trend queries, event-loop stalls at normal load and memory
 * over a soak, the control room in Chromium (time to first map, frame cost
 * while every device reports), and the alarm engine's own cost per reading
 * (in process, once for both engines). Prints a table (or, with --json, one JSON object on stdout) and
 * saves the JSON to bench-results/<timestamp>.json. Progress goes to stderr.
 * Every phase is bounded; children are killed on the way out, whatever happens.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureWebBuild, runBrowser, type BrowserResult } from './browser.ts';
import { summariseProfileFile, type ProfileSummary } from './cpu-profile.ts';
import { measureEngineCost, type EngineCostResult } from './engine-cost.ts';
import { measureNormalLoad, soak, type NormalLoadResult, type SoakResult } from './fleet-load.ts';
import { runIngest, type IngestResult } from './ingest.ts';
import { openProber, type LatencyResult } from './latency.ts';
import { openStack, startGenerator, startServer, type EngineName, type Stack } from './stack.ts';
import type { Child } from './ipc.ts';
import { round1, sleep, type Percentiles } from './stats.ts';
import { formatReport } from './report.ts';
import { runTrends, type TrendResult } from './trends.ts';

const PHASES = ['ingest', 'latency', 'load', 'browser', 'soak', 'trends', 'engine'] as const;
type Phase = (typeof PHASES)[number];

export interface BenchOptions {
  quick: boolean;
  json: boolean;
  engines: EngineName[];
  profile: boolean;
  phases: Phase[];
}

export function parseArgs(argv: readonly string[]): BenchOptions {
  const options: BenchOptions = { quick: false, json: false, engines: ['embedded'], profile: false, phases: [...PHASES] };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i] ?? '';
    switch (flag) {
      case '--quick': options.quick = true; break;
      case '--json': options.json = true; break;
      case '--profile': options.profile = true; break;
      case '--engine': {
        const v = value();
        if (v === 'both') options.engines = ['embedded', 'real'];
        else if (v === 'embedded' || v === 'real') options.engines = [v];
        else throw new UsageError(`--engine must be embedded, real or both, got "${v}"`);
        break;
      }
      case '--only': {
        const wanted = value().split(',').filter(Boolean);
        const unknown = wanted.filter((p) => !(PHASES as readonly string[]).includes(p));
        if (unknown.length > 0 || wanted.length === 0) throw new UsageError(`--only takes a comma-separated list of ${PHASES.join(', ')}`);
        options.phases = wanted as Phase[];
        break;
      }
      default: throw new UsageError(`unknown option ${argv[i]}`);
    }
  }
  return options;
}

class UsageError extends Error {}

/** How long and how much of each figure; quick keeps the whole run of one engine under two minutes. */
export function planFor(quick: boolean) {
  return quick
    ? {
      // Up to the first rate past the targets' (the full run looks further for saturation).
      ingest: { rates: [2_000, 5_000, 10_000, 20_000, 40_000, 60_000], stepMs: 3_000, drainTimeoutMs: 15_000 },
      probes: 25,
      // The estate's own load only (the target's): each fleet start and stop costs ~10 s.
      normalLoad: { speeds: [1], durationMs: 5_000 },
      soak: { speed: 10, durationMs: 10_000, sampleMs: 1_000 },
      browser: { firstMapRuns: 3, frameWindowMs: 3_000 },
      trends: { days: 2, deviceRuns: 50, plotRuns: 20 },
      engineHours: 3,
      limitMs: 12 * 60_000,
    }
    : {
      ingest: { rates: [2_000, 5_000, 10_000, 20_000, 40_000, 60_000, 80_000], stepMs: 10_000, drainTimeoutMs: 60_000 },
      probes: 150,
      normalLoad: { speeds: [1, 60], durationMs: 30_000 },
      soak: { speed: 10, durationMs: 10 * 60_000, sampleMs: 5_000 },
      browser: { firstMapRuns: 5, frameWindowMs: 10_000 },
      trends: { days: 90, deviceRuns: 50, plotRuns: 20 },
      engineHours: 48,
      limitMs: 90 * 60_000,
    };
}

/** The issue's own load figure: 5,000 messages/s of normal traffic while alarms are timed. */
const LATENCY_BACKGROUND_RATE = 5_000;

export interface EngineResult {
  engine: EngineName;
  broker: string;
  ingest?: IngestResult & { profile?: ProfileSummary };
  latency?: { idle: LatencyResult; underLoad: LatencyResult & { backgroundRate: number; backgroundAccepted: number } };
  normalLoad?: (NormalLoadResult & { profile?: ProfileSummary })[];
  soak?: SoakResult;
  browser?: BrowserResult;
  trends?: TrendResult;
  errors: Record<string, string>;
}

async function runEngine(engine: EngineName, options: BenchOptions, runId: string, log: (line: string) => void): Promise<EngineResult> {
  const plan = planFor(options.quick);
  const stack = await openStack(engine);
  const result: EngineResult = { engine, broker: stack.broker, errors: {} };
  /** Where a phase's CPU profile goes with --profile; undefined without. */
  const profileFile = async (name: string): Promise<string | undefined> => {
    if (!options.profile) return undefined;
    const dir = path.join(RESULTS_DIR, 'profiles');
    await mkdir(dir, { recursive: true });
    return path.join(dir, `${runId}-${engine}-${name}.cpuprofile`);
  };
  const phase = async (name: Phase, body: () => Promise<void>) => {
    if (!options.phases.includes(name)) return;
    const began = performance.now();
    log(`[${engine}] ${name}…`);
    try {
      await body();
    } catch (error) {
      result.errors[name] = error instanceof Error ? error.message : String(error);
      log(`[${engine}] ${name} FAILED: ${result.errors[name]}`);
    }
    log(`[${engine}] ${name} done in ${round1((performance.now() - began) / 1000)} s`);
  };
  try {
    await phase('ingest', async () => {
      const cpuProfileFile = await profileFile('ingest');
      const ingest: EngineResult['ingest'] = await runIngest(stack, { ...plan.ingest, ...(cpuProfileFile && { cpuProfileFile }) }, log);
      if (ingest.cpuProfile) ingest.profile = await summariseProfileFile(ingest.cpuProfile);
      result.ingest = ingest;
    });
    if (options.phases.some((p) => p === 'latency' || p === 'load')) {
      await liveServerPhases(stack, plan, result, phase, profileFile, log);
    }
    await phase('browser', async () => {
      await ensureWebBuild(log);
      // A server of its own, with none of the previous phases' alarms or retained statuses.
      await stack.clearRetained();
      const server = await startServer(stack);
      let generator: Child | null = null;
      try {
        generator = await startGenerator(stack, server.info.brokerUrl);
        await mkdir(RESULTS_DIR, { recursive: true });
        const screenshotFile = path.join(RESULTS_DIR, `${runId}-${engine}-browser.png`);
        result.browser = await runBrowser(stack, server, generator, plan.browser, { screenshotFile }, log);
      } finally {
        // The server first: the fleet's stop (every device offline) then goes to no server.
        await server.child.stop(60_000);
        await generator?.stop(5_000);
      }
    });
    await phase('soak', async () => {
      // A server of its own: the fleet that the load phase stopped took the whole estate
      // offline (thousands of alarms), which is not the steady state a soak is about.
      await stack.clearRetained();
      const server = await startServer(stack);
      let generator: Child | null = null;
      try {
        generator = await startGenerator(stack, server.info.brokerUrl);
        result.soak = await soak(server.child, generator, plan.soak.speed, plan.soak.durationMs, plan.soak.sampleMs, log);
        log(`  soak: RSS ${JSON.stringify(result.soak.rssMb)}`);
      } finally {
        await generator?.stop();
        await server.child.stop(60_000);
      }
    });
    await phase('trends', async () => { result.trends = await runTrends(stack, plan.trends, log); });
  } finally {
    await stack.cleanup().catch((error: unknown) => log(`[${engine}] cleanup failed: ${(error as Error).message}`));
  }
  return result;
}

/** Latency and normal load share one fresh server (not the one the ingest ramp filled). */
async function liveServerPhases(
  stack: Stack, plan: ReturnType<typeof planFor>, result: EngineResult,
  phase: (name: Phase, body: () => Promise<void>) => Promise<void>,
  profileFile: (name: string) => Promise<string | undefined>, log: (line: string) => void,
): Promise<void> {
  const server = await startServer(stack);
  const prober = await openProber(stack.site, { ...server.info, cookie: server.cookie, deviceSecret: stack.deviceSecret });
  const generator = await startGenerator(stack, server.info.brokerUrl, prober.deviceIds);
  try {
    await phase('latency', async () => {
      const idle = await prober.run(plan.probes, 0);
      log(`  ${idle.kind} latency idle: ${JSON.stringify(idle.first)}`);
      const before = await server.child.call<{ accepted: number }>('stats');
      await generator.call('startLoad', { rate: LATENCY_BACKGROUND_RATE, durationMs: null });
      let underLoad: LatencyResult;
      let loadSeconds: number;
      try {
        await sleep(1_000);
        const began = performance.now();
        underLoad = await prober.run(plan.probes, 1);
        loadSeconds = (performance.now() - began) / 1000 + 1;
      } finally {
        await generator.call('stopLoad', { ackTimeoutMs: 10_000 });
      }
      const after = await server.child.call<{ accepted: number }>('stats');
      const backgroundAccepted = Math.round((after.accepted - before.accepted) / loadSeconds);
      log(`  ${underLoad.kind} latency under ${LATENCY_BACKGROUND_RATE}/s (server accepted ≈${backgroundAccepted}/s): ${JSON.stringify(underLoad.first)}`);
      result.latency = { idle, underLoad: { ...underLoad, backgroundRate: LATENCY_BACKGROUND_RATE, backgroundAccepted } };
    });
    await phase('load', async () => {
      result.normalLoad = [];
      for (const speed of plan.normalLoad.speeds) {
        const r: NormalLoadResult & { profile?: ProfileSummary } = await measureNormalLoad(server.child, generator, speed, plan.normalLoad.durationMs, await profileFile(`load-${speed}x`));
        log(`  fleet at ${speed}x: ${r.msgsPerS} msgs/s, loop p99 ${r.loopDelayP99Ms} ms (max ${r.loopDelayMaxMs}), server CPU ${r.serverCpuPercent}%`);
        if (r.cpuProfile) r.profile = await summariseProfileFile(r.cpuProfile);
        result.normalLoad.push(r);
      }
    });
  } finally {
    await prober.close().catch(() => {});
    await generator.stop();
    await server.child.stop(60_000);
  }
}

/** The figures the issue names, from one engine's result. */
export function headline(r: EngineResult) {
  const lat = r.latency;
  const pick = (p: LatencyResult['first']) => (p ? { p50: p.p50, p95: p.p95, p99: p.p99, n: p.n } : null);
  const isAlarm = lat?.idle.kind === 'alarm';
  const latency = lat ? { ...pick(lat.underLoad.first), under_load_msgs_per_s: lat.underLoad.backgroundRate, idle: pick(lat.idle.first), timeouts: lat.idle.timeouts + lat.underLoad.timeouts, measures: lat.idle.measures } : null;
  const t = r.trends;
  return {
    ingest_msgs_per_s: r.ingest ? r.ingest.ingestMsgsPerS : null,
    ingest_saturation_offered: r.ingest?.saturationOffered ?? null,
    ingest_nothing_lost: r.ingest?.totals.nothingLost ?? null,
    ingest_broker_dropped: r.ingest?.totals.brokerDropped ?? null,
    alarm_latency_ms: isAlarm ? latency : null,
    ...(isAlarm ? { ticket_latency_ms: lat?.underLoad.ticket ? pick(lat.underLoad.ticket) : null } : { push_latency_ms: latency }),
    trend_query_ms: t ? {
      days_loaded: t.days,
      device_week_hourly: t.deviceWeekHourly && { p50: t.deviceWeekHourly.p50, p95: t.deviceWeekHourly.p95, n: t.deviceWeekHourly.n },
      device_year_daily: t.deviceYearDaily && { p50: t.deviceYearDaily.p50, p95: t.deviceYearDaily.p95, n: t.deviceYearDaily.n },
      plot_month_hourly: t.plotMonthHourly && { p50: t.plotMonthHourly.p50, p95: t.plotMonthHourly.p95, max: t.plotMonthHourly.max, n: t.plotMonthHourly.n },
      plot_year_daily: t.plotYearDaily && { p50: t.plotYearDaily.p50, p95: t.plotYearDaily.p95, max: t.plotYearDaily.max, n: t.plotYearDaily.n },
      plot_month_hourly_live: t.plotMonthHourlyLive && { p50: t.plotMonthHourlyLive.p50, p95: t.plotMonthHourlyLive.p95, max: t.plotMonthHourlyLive.max, n: t.plotMonthHourlyLive.n },
      rollup_seconds: t.rollup.seconds,
      plot_method: t.plotMethod,
      load_rows_per_s: t.load.rowsPerS,
    } : null,
    event_loop_p99_ms: r.normalLoad ? Object.fromEntries(r.normalLoad.map((n) => [`speed_${n.speed}x_${n.msgsPerS}_msgs_per_s`, n.loopDelayP99Ms])) : null,
    rss_mb: r.soak ? { ...r.soak.rssMb, soak_s: r.soak.seconds, msgs_per_s: r.soak.msgsPerS } : null,
    ...browserHeadline(r.browser),
  };
}

/** The browser figures: first map and frames while every device reports (the targets'), with the idle page's beside them. */
function browserHeadline(b: BrowserResult | undefined) {
  const pick = (p: Percentiles | null) => (p ? { p50: p.p50, p95: p.p95, p99: p.p99, max: p.max, n: p.n } : null);
  if (!b) return { browser_first_map_ms: null, browser_frame_ms: null, browser_long_tasks: null, browser_main_thread_ms_per_s: null };
  const { idle, everyDevice: every } = b;
  return {
    browser_first_map_ms: { ...pick(every.firstMap.ms), page_cpu_ms: pick(every.firstMap.mainThreadCpuMs), idle: pick(idle.firstMap.ms), idle_page_cpu_ms: pick(idle.firstMap.mainThreadCpuMs) },
    browser_frame_ms: { ...pick(every.frames.frameMs), dropped: every.frames.droppedFrames, msgs_per_s: every.server.acceptedPerS, idle: pick(idle.frames.frameMs) },
    browser_long_tasks: { ...every.frames.longTasks, idle: idle.frames.longTasks },
    browser_main_thread_ms_per_s: { ...every.frames.mainThreadMsPerS, idle: idle.frames.mainThreadMsPerS },
  };
}

const RESULTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench-results');

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`npm run bench: ${error.message}\nusage: npm run bench -- [--quick] [--json] [--engine embedded|real|both] [--profile] [--only ${PHASES.join(',')}]`);
    process.exit(2);
  }
  const plan = planFor(options.quick);
  // A hard bound on the whole run: past it, exit (the exit hook kills every child).
  const limitMs = plan.limitMs * options.engines.length;
  setTimeout(() => {
    console.error(`npm run bench: exceeded its time limit of ${limitMs / 60_000} min; stopping`);
    process.exit(1);
  }, limitMs).unref();
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));

  const log = (line: string) => console.error(line);
  const startedAt = new Date();
  // Other work on this machine skews every figure: the load averages are saved with them.
  const loadAtStart = os.loadavg().map(round1);
  const runId = startedAt.toISOString().replace(/[:.]/g, '-');
  let engineCost: EngineCostResult | null = null;
  let engineCostError: string | null = null;
  if (options.phases.includes('engine')) {
    log(`alarm engine cost over ${plan.engineHours} simulated hours of the estate…`);
    try {
      engineCost = measureEngineCost({ hours: plan.engineHours }, log);
      log(`  engine: ${engineCost.usPerMessage} µs a message (worst hour ${engineCost.usPerMessageWorstHour})`);
    } catch (error) {
      engineCostError = error instanceof Error ? error.message : String(error);
      log(`engine FAILED: ${engineCostError}`);
    }
  }
  const results: EngineResult[] = [];
  if (options.phases.some((p) => p !== 'engine')) {
    for (const engine of options.engines) results.push(await runEngine(engine, options, runId, log));
  }

  const primary = results.find((r) => r.engine === 'real') ?? results[0];
  const output = {
    started_at: startedAt.toISOString(),
    mode: options.quick ? 'quick' : 'full',
    engine: primary?.engine ?? null,
    ...(primary && headline(primary)),
    alarm_engine_us_per_reading: engineCost && { mean: engineCost.usPerMessage, worst_hour: engineCost.usPerMessageWorstHour, messages: engineCost.readings + engineCost.statuses, simulated_hours: engineCost.simulatedHours, snapshot_mb: engineCost.snapshotMb },
    by_engine: Object.fromEntries(results.map((r) => [r.engine, { headline: headline(r), details: r }])),
    machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? 'unknown', node: process.version, load_avg_at_start: loadAtStart, load_avg_at_end: os.loadavg().map(round1) },
  };
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${runId}.json`);
  await writeFile(file, `${JSON.stringify(output, null, 2)}\n`);
  const table = [
    formatReport(results, options.quick),
    ...(engineCost ? [`\nAlarm engine (in process, whole estate, ${engineCost.simulatedHours} simulated hours): ${engineCost.usPerMessage} µs a message on average, ` +
      `${engineCost.usPerMessageWorstHour} µs in the slowest hour; ${engineCost.readings} readings + ${engineCost.statuses} statuses, ${engineCost.alarmsRaised} alarms raised, snapshot ${engineCost.snapshotMb} MB`] : []),
    ...(engineCostError ? [`!! engine failed: ${engineCostError}`] : []),
  ].join('\n');
  if (options.json) {
    console.error(table);
    console.error(`saved ${path.relative(process.cwd(), file)}`);
    process.stdout.write(`${JSON.stringify(output)}\n`);
  } else {
    console.log(table);
    console.log(`saved ${path.relative(process.cwd(), file)}`);
  }
  const failed = engineCostError !== null || results.some((r) => Object.keys(r.errors).length > 0);
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();

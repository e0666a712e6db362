/**
 * The control room in a real browser (Debian's Chromium through playwright-core)
 * against a bench server, logged in as an operator, at 1920×1080, in two
 * stages: idle (before any device reports) and while every device reports;
 * in each, frames on the page already open, then the first map.
 *
 * - Time to first map: from navigation start (performance.timeOrigin) to the
 *   end of the main thread's work on the first frame whose DOM holds every
 *   building and every device marker of the estate. The catalogue and each
 *   device's live state come in one response and are applied together, so
 *   that frame shows every marker in its live status. Found by a
 *   requestAnimationFrame probe installed before the page's own scripts; the
 *   time is taken in a user-blocking task posted from that frame's callback,
 *   i.e. after its style, layout and paint. Each navigation is a reload with
 *   the browser cache off (cold). Beside it: Navigation Timing (TTFB, DCL),
 *   first contentful paint, when /api/devices ended, and the page's own
 *   main-thread CPU time up to the first map (thread ticks: what the page
 *   cost, whatever else the machine was doing).
 * - Frame cost: over a window, the deltas between animation frames
 *   (p50/p95/p99/max; a delta over one 60 Hz frame means frames were dropped),
 *   long tasks (PerformanceObserver 'longtask', > 50 ms), long animation frames
 *   with the scripts that took the time, and main-thread CPU time per second
 *   (CDP Performance.getMetrics in thread ticks: all tasks, script, layout, style).
 * - The server over each stage: telemetry accepted a second, event-loop delay, CPU.
 *
 * "Every device reports": the simulated fleet (every device of the estate on
 * its own or its concentrator's MQTT connection, online births, realistic
 * values) at real time with every kind's report interval set to 5 s: ≈1,200
 * telemetry messages a second (50 times the estate's own rate, about the
 * fleet at 60×), so each of the server's live frames (4 a second) carries
 * ≈300 changed devices and every device changes within each 5 s; the frame
 * window is at least that long. Once a second (≈6,000 msgs/s) the server on
 * this 2-core box fell behind with Chromium beside it (its writer 350,000
 * readings behind, a reload not answered within 60 s), which measures the
 * server, not the page.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { DEVICE_KINDS } from '../../server/src/catalogue/kinds.ts';
import { MARKER_KINDS } from '../../web/src/lib/site-model.ts';
import type { Child } from './ipc.ts';
import type { ServerStats } from './server-host.ts';
import type { RunningServer, Stack } from './stack.ts';
import { percentiles, round1, sleep, type Percentiles } from './stats.ts';

const CHROMIUM = process.env.TEST_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const VIEWPORT = { width: 1920, height: 1080 };
const FRAME_MS = 1000 / 60;
const FIRST_MAP_TIMEOUT_MS = 60_000;
/** The fleet's start (every device's birth, thousands of status changes) passes before anything is measured. */
const WARM_UP_MS = 3_000;
const SETTLE_TIMEOUT_MS = 120_000;
/** After the login, the page's own start-up work passes before frames are recorded. */
const SETTLE_PAGE_MS = 2_000;

const repoDir = fileURLToPath(new URL('../..', import.meta.url));

/** Every device reports every EVERY_DEVICE_INTERVAL_S (simulated seconds, at speed 1: wall seconds). */
const EVERY_DEVICE_INTERVAL_S = 5;
const EVERY_DEVICE_INTERVALS_S = Object.fromEntries(DEVICE_KINDS.map((kind) => [kind, EVERY_DEVICE_INTERVAL_S]));

export interface BrowserPlan {
  /** Cold navigations timed per load level. */
  firstMapRuns: number;
  /** How long frames are recorded per load level: at least EVERY_DEVICE_INTERVAL_S, so that every device reports in it. */
  frameWindowMs: number;
}

export interface FirstMapRun {
  /** Navigation start → the first frame with the whole estate drawn. */
  mapMs: number;
  responseStartMs: number;
  domContentLoadedMs: number;
  firstContentfulPaintMs: number | null;
  /** GET /api/devices (the catalogue with every device's state): request start → response end, and its size. */
  devicesApiMs: number | null;
  devicesApiKb: number | null;
  /** Navigation start → the last byte of /api/devices: after it, the first map is the page's own work (parse, model, render). */
  devicesApiEndMs: number | null;
  /** The page's main-thread CPU time (thread ticks) up to the first map, all of it and in script: its own work, whatever the machine's load. */
  mainThreadCpuMs: number;
  scriptCpuMs: number;
}

export interface FirstMapResult {
  ms: Percentiles | null;
  mainThreadCpuMs: Percentiles | null;
  runs: FirstMapRun[];
}

export interface FrameResult {
  seconds: number;
  frameMs: Percentiles | null;
  /** 60 Hz frames that were not produced: for each delta, how many frame periods it spans beyond one. */
  droppedFrames: number;
  longTasks: { count: number; totalMs: number; maxMs: number };
  /** Animation frames over 50 ms, and the scripts that spent the most of that time (invoker, total ms). */
  longAnimationFrames: { count: number; maxMs: number; topScripts: { script: string; ms: number }[] };
  /** Main-thread CPU time per second of the window, ms (CDP Performance.getMetrics in thread ticks). */
  mainThreadMsPerS: { task: number; script: number; layout: number; style: number };
  jsHeapMb: number;
}

/** One load level: the first map, then frames, and what the server did meanwhile. */
export interface BrowserStage {
  firstMap: FirstMapResult;
  frames: FrameResult;
  /** Over the whole stage: telemetry accepted a second, the server's event-loop delay and CPU. */
  server: { acceptedPerS: number; loopP99Ms: number; loopMaxMs: number; cpuPercent: number };
}

export interface BrowserResult {
  chromium: string;
  viewport: string;
  /** What "the whole estate drawn" waits for. */
  expected: { buildings: number; markers: number };
  /** The fleet while every device reports: messages published a second over that stage, and how far it fell behind real time. */
  fleet: { devices: number; intervalS: number; publishedPerS: number; lagMs: number };
  /** Before any device reports, and while every device reports. */
  idle: BrowserStage;
  everyDevice: BrowserStage;
  pageErrors: string[];
  screenshot: string | null;
}

/**
 * The server serves web/dist: builds it when it is missing or older than its
 * sources (web/build-if-stale.ts, as `npm start` does), saying so.
 */
export async function ensureWebBuild(log: (line: string) => void): Promise<void> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(repoDir, 'web/build-if-stale.ts')], { cwd: repoDir, timeout: 300_000 });
  for (const line of stdout.trim().split('\n')) log(`  ${line}`);
  if (!existsSync(path.join(repoDir, 'web/dist/index.html'))) throw new Error('web/dist/index.html is missing after the build: run `npm run build`');
}

/**
 * Installed before the page's own scripts on every navigation: the first-map
 * probe and the long-task observers. Page code, as text: this file is compiled
 * without the DOM types.
 */
function pageProbe(expected: { buildings: number; markers: number }): string {
  return `(() => {
    const probe = window.__ewBench = { firstMapMs: null, longTasks: [], loafs: [] };
    const whole = () => document.querySelectorAll('svg.map g.building').length === ${expected.buildings}
      && document.querySelectorAll('svg.map g.marker').length === ${expected.markers};
    // A task posted from the frame's rAF callback runs once that frame's style, layout and paint are done;
    // at user-blocking priority it goes ahead of whatever network task (a socket.io frame) is waiting.
    const look = () => {
      if (whole()) scheduler.postTask(() => { probe.firstMapMs = performance.now(); }, { priority: 'user-blocking' });
      else requestAnimationFrame(look);
    };
    requestAnimationFrame(look);
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) probe.longTasks.push({ start: e.startTime, ms: e.duration });
    }).observe({ type: 'longtask', buffered: true });
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        probe.loafs.push({ start: e.startTime, ms: e.duration, scripts: e.scripts.map((s) => ({ script: (s.invoker || s.invokerType) + (s.sourceFunctionName ? ' ' + s.sourceFunctionName : ''), ms: s.duration })) });
      }
    }).observe({ type: 'long-animation-frame', buffered: true });
  })();`;
}

/** In the page: records animation-frame deltas for windowMs; returns them with the long tasks and frames that fell in the window. */
function recordFrames(windowMs: number): string {
  return `new Promise((resolve) => {
    const probe = window.__ewBench;
    const deltas = [];
    let first = null;
    let last = null;
    const tick = (t) => {
      if (first === null) first = t;
      if (last !== null) deltas.push(t - last);
      last = t;
      if (t - first < ${windowMs}) requestAnimationFrame(tick);
      else {
        const inWindow = (e) => e.start >= first && e.start < last;
        resolve({ deltas, longTasks: probe.longTasks.filter(inWindow), loafs: probe.loafs.filter(inWindow) });
      }
    };
    requestAnimationFrame(tick);
  })`;
}

interface PageGlobals { __ewBench: { firstMapMs: number | null } }

interface RawFrames {
  deltas: number[];
  longTasks: { start: number; ms: number }[];
  loafs: { start: number; ms: number; scripts: { script: string; ms: number }[] }[];
}

const FIRST_MAP_FIGURES = `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const devices = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/devices'));
  return {
    mapMs: window.__ewBench.firstMapMs,
    responseStartMs: nav.responseStart,
    domContentLoadedMs: nav.domContentLoadedEventEnd,
    firstContentfulPaintMs: fcp ? fcp.startTime : null,
    devicesApiMs: devices ? devices.responseEnd - devices.requestStart : null,
    devicesApiKb: devices ? devices.encodedBodySize / 1024 : null,
    devicesApiEndMs: devices ? devices.responseEnd : null,
  };
})()`;

async function timeFirstMap(page: Page, cdp: CDPSession, runs: number): Promise<FirstMapResult> {
  const results: FirstMapRun[] = [];
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  try {
    for (let i = 0; i < runs; i++) {
      // Not until 'load': the probe needs no more than the page's own scripts, and a busy server must not fail the run.
      await page.reload({ waitUntil: 'commit', timeout: FIRST_MAP_TIMEOUT_MS });
      // A function, not a string: the app's CSP forbids eval.
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__ewBench.firstMapMs !== null, undefined, { timeout: FIRST_MAP_TIMEOUT_MS, polling: 'raf' });
      // Performance metrics start again with each document: this is the new page's main-thread CPU so far.
      const cpu = await metrics(cdp);
      const run = await page.evaluate(FIRST_MAP_FIGURES) as FirstMapRun;
      const r1 = (x: number | null) => (x === null ? null : round1(x));
      results.push({
        mapMs: round1(run.mapMs), responseStartMs: round1(run.responseStartMs), domContentLoadedMs: round1(run.domContentLoadedMs),
        firstContentfulPaintMs: r1(run.firstContentfulPaintMs), devicesApiMs: r1(run.devicesApiMs), devicesApiKb: r1(run.devicesApiKb), devicesApiEndMs: r1(run.devicesApiEndMs),
        mainThreadCpuMs: round1(cpu.TaskDuration! * 1000), scriptCpuMs: round1(cpu.ScriptDuration! * 1000),
      });
    }
  } finally {
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
    await cdp.send('Network.disable');
  }
  return { ms: percentiles(results.map((r) => r.mapMs)), mainThreadCpuMs: percentiles(results.map((r) => r.mainThreadCpuMs)), runs: results };
}

type Metrics = Record<string, number>;
async function metrics(cdp: CDPSession): Promise<Metrics> {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(list.map((m) => [m.name, m.value]));
}

async function measureFrames(page: Page, cdp: CDPSession, windowMs: number): Promise<FrameResult> {
  const m0 = await metrics(cdp);
  const raw = await page.evaluate(recordFrames(windowMs)) as RawFrames;
  const m1 = await metrics(cdp);
  const seconds = m1.Timestamp! - m0.Timestamp!;
  const perS = (name: string) => round1(((m1[name]! - m0[name]!) * 1000) / seconds);
  const byScript = new Map<string, number>();
  for (const frame of raw.loafs) for (const s of frame.scripts) byScript.set(s.script, (byScript.get(s.script) ?? 0) + s.ms);
  return {
    seconds: round1(seconds),
    frameMs: percentiles(raw.deltas),
    droppedFrames: raw.deltas.reduce((sum, d) => sum + Math.max(0, Math.round(d / FRAME_MS) - 1), 0),
    longTasks: {
      count: raw.longTasks.length,
      totalMs: round1(raw.longTasks.reduce((sum, t) => sum + t.ms, 0)),
      maxMs: round1(Math.max(0, ...raw.longTasks.map((t) => t.ms))),
    },
    longAnimationFrames: {
      count: raw.loafs.length,
      maxMs: round1(Math.max(0, ...raw.loafs.map((f) => f.ms))),
      topScripts: [...byScript].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([script, ms]) => ({ script, ms: round1(ms) })),
    },
    mainThreadMsPerS: { task: perS('TaskDuration'), script: perS('ScriptDuration'), layout: perS('LayoutDuration'), style: perS('RecalcStyleDuration') },
    jsHeapMb: round1(m1.JSHeapUsedSize! / 2 ** 20),
  };
}

/**
 * Frames over the window on the page as it is (loaded before, so that no reload's snapshot lands in the
 * window), then the first map (cold reloads); the server's figures over both.
 */
async function measureStage(page: Page, cdp: CDPSession, server: Child, plan: BrowserPlan, say: (line: string) => void): Promise<BrowserStage> {
  await server.call('resetLoopDelay');
  const s0 = await server.call<ServerStats>('stats');
  const frames = await measureFrames(page, cdp, plan.frameWindowMs);
  const firstMap = await timeFirstMap(page, cdp, plan.firstMapRuns);
  const s1 = await server.call<ServerStats>('stats');
  const wallMs = s1.wallMs - s0.wallMs;
  const stage = {
    firstMap,
    frames,
    server: { acceptedPerS: Math.round(((s1.accepted - s0.accepted) * 1000) / wallMs), loopP99Ms: s1.loopDelay.p99, loopMaxMs: s1.loopDelay.max, cpuPercent: Math.round(((s1.cpuUs - s0.cpuUs) / 1000 / wallMs) * 100) },
  };
  say(`frames ${JSON.stringify(frames.frameMs)}, ${frames.droppedFrames} dropped, ${frames.longTasks.count} long tasks, main thread ${frames.mainThreadMsPerS.task} ms/s; ` +
    `first map ${JSON.stringify(firstMap.ms)}; server ${JSON.stringify(stage.server)}`);
  return stage;
}

/** An operator (a control-room user) of the bench's own, created through the admin's API. */
async function createOperator(server: RunningServer): Promise<{ username: string; password: string }> {
  const account = { username: 'bench-operator', password: `bench operator ${process.pid} ${Date.now()}` };
  const response = await fetch(`${server.info.baseUrl}/api/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: server.cookie, 'x-csrf-token': server.csrfToken },
    body: JSON.stringify({ ...account, displayName: 'Bench operator', role: 'operator' }),
  });
  if (!response.ok) throw new Error(`creating the bench's operator failed: ${response.status} ${await response.text()}`);
  return account;
}

export async function runBrowser(
  stack: Stack, server: RunningServer, generator: Child, plan: BrowserPlan,
  options: { screenshotFile?: string }, log: (line: string) => void,
): Promise<BrowserResult> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (set TEST_CHROMIUM to one)`);
  const markerKinds = new Set(MARKER_KINDS);
  const expected = { buildings: stack.site.buildings.length, markers: stack.site.devices.filter((d) => markerKinds.has(d.kind)).length };
  const began = performance.now();
  const say = (line: string) => log(`  browser (${round1((performance.now() - began) / 1000)} s): ${line}`);
  const operator = await createOperator(server);
  const profileDir = await mkdtemp(path.join(os.tmpdir(), 'ew-bench-chromium-'));
  let context: BrowserContext | null = null;
  const pageErrors: string[] = [];
  try {
    context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, viewport: VIEWPORT });
    const page = context.pages()[0] ?? await context.newPage();
    page.on('pageerror', (error) => { if (pageErrors.length < 10) pageErrors.push(error.message); });
    await page.addInitScript(pageProbe(expected));
    const cdp = await context.newCDPSession(page);
    // Main-thread time as CPU time (thread ticks), not wall time: other work on the machine does not inflate it.
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });

    await page.goto(`${server.info.baseUrl}/#/`);
    await page.locator('input[name=username]').fill(operator.username);
    await page.locator('input[name=password]').fill(operator.password);
    await page.locator('button[type=submit]').click();
    await page.locator('svg.map').waitFor();
    await sleep(SETTLE_PAGE_MS);

    say(`before any device reports: frames for ${plan.frameWindowMs / 1000} s, then ${plan.firstMapRuns} cold reloads (each waits for ${expected.buildings} buildings and ${expected.markers} markers)`);
    const idle = await measureStage(page, cdp, server.child, plan, say);

    const { devices } = await generator.call<{ devices: number }>('fleetStart', { speed: 1, intervalsS: EVERY_DEVICE_INTERVALS_S });
    say(`the fleet's ${devices} devices report, each every ${EVERY_DEVICE_INTERVAL_S} s`);
    await sleep(WARM_UP_MS);
    await server.child.call('settle', undefined, SETTLE_TIMEOUT_MS);
    const c0 = await generator.call<FleetCounters>('fleetCounters');
    const t0 = performance.now();
    const everyDevice = await measureStage(page, cdp, server.child, plan, say);
    const c1 = await generator.call<FleetCounters>('fleetCounters');
    const fleet = { devices, intervalS: EVERY_DEVICE_INTERVAL_S, publishedPerS: Math.round(((c1.published - c0.published) * 1000) / (performance.now() - t0)), lagMs: Math.round(c1.lagMs) };
    say(`fleet ${fleet.publishedPerS} msgs/s, lag ${fleet.lagMs} ms`);
    if (options.screenshotFile) await page.screenshot({ path: options.screenshotFile });
    return {
      chromium: (await cdp.send('Browser.getVersion')).product,
      viewport: `${VIEWPORT.width}x${VIEWPORT.height}`,
      expected,
      fleet,
      idle,
      everyDevice,
      pageErrors,
      screenshot: options.screenshotFile ?? null,
    };
  } finally {
    // The fleet is left running: the caller stops the server first, so that its stop (every device
    // offline, thousands of alarms) costs the server nothing.
    await context?.close().catch(() => {});
    await rm(profileDir, { recursive: true, force: true });
  }
}

interface FleetCounters { published: number; lagMs: number }

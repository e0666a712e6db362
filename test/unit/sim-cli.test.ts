import { spawn } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSite } from '../../server/src/catalogue/load.ts';
import { deviceTopic } from '../../server/src/contract.ts';
import { HELP, parseCliArgs, parseDuration } from '../../simulators/src/cli-args.ts';
import { SCENARIOS } from '../../simulators/src/scenarios.ts';

const CLI = fileURLToPath(new URL('../../simulators/src/cli.ts', import.meta.url));

describe('parseCliArgs', () => {
  it('has defaults for everything', () => {
    expect(parseCliArgs([])).toEqual({
      help: false, brokerUrl: 'mqtt://127.0.0.1:1883', speed: 60, seed: 1, filter: {},
      durationMs: null, startMs: null, intervalsS: {}, siteFile: null, scenarios: [], list: false, siteId: null, sites: 1, rate: null, deviceSecretFile: null,
    });
  });

  it('reads every flag', () => {
    const options = parseCliArgs([
      '--broker', 'mqtt://broker:1884', '--speed', '3600', '--seed', '7', '--plot', 'A', '--building', 'A-03', '--kind', 'elevator',
      '--duration', '90s', '--start', '2025-06-21T00:00:00+08:00', '--interval', 'water-meter=60', '--interval', 'elevator=2.5',
      '--site-file', 'site.json', '--scenario', 'leak-A-03-0502', '--scenario', 'pipe-burst-A', '--site-id', 'load-test-1', '--sites', '3',
      '--device-secret-file', 'data/device-secret',
    ]);
    expect(options).toEqual({
      help: false, brokerUrl: 'mqtt://broker:1884', speed: 3600, seed: 7, filter: { plot: 'A', building: 'A-03', kind: 'elevator' },
      durationMs: 90_000, startMs: Date.parse('2025-06-20T16:00:00Z'), intervalsS: { 'water-meter': 60, elevator: 2.5 }, siteFile: 'site.json',
      scenarios: ['leak-A-03-0502', 'pipe-burst-A'], list: false, siteId: 'load-test-1', sites: 3, rate: null, deviceSecretFile: 'data/device-secret',
    });
    expect(parseCliArgs(['--rate', '5000', '--list'])).toMatchObject({ rate: 5000, list: true, speed: 60 });
    expect(parseCliArgs(['-h']).help).toBe(true);
  });

  it('documents every flag in --help', () => {
    for (const flag of ['--broker', '--speed', '--seed', '--plot', '--building', '--kind', '--duration', '--start', '--interval', '--site-file', '--scenario', '--list', '--site-id', '--sites', '--rate', '--device-secret-file', '--help']) {
      expect(HELP).toContain(flag);
    }
  });

  it.each([
    [['--bogus']],
    [['--speed', 'fast']],
    [['--speed', '0']],
    [['--seed', '1.5']],
    [['--kind', 'lamp']],
    [['--duration', '10 minutes']],
    [['--start', 'yesterday']],
    [['--interval', 'elevator']],
    [['--interval', 'lamp=5']],
    [['--broker', 'http://x']],
    [['positional']],
    [['--sites', '0']],
    [['--rate', '-1']],
    [['--rate', '100', '--speed', '60']],
    [['--site-id', 'Blue Valley']],
  ])('rejects %j with SIM_BAD_OPTION', (argv) => {
    expect(() => parseCliArgs(argv)).toThrow(expect.objectContaining({ code: 'SIM_BAD_OPTION' }));
  });

  it('reads durations in ms, s, m, h and d', () => {
    expect([parseDuration('250ms'), parseDuration('1.5s'), parseDuration('5m'), parseDuration('2h'), parseDuration('1d')]).toEqual([250, 1500, 300_000, 7_200_000, 86_400_000]);
  });
});

/** Waits until the command has printed `text` (it is running, its signal handlers in place); a loaded machine may take a while to start it. */
async function printed(child: ReturnType<typeof run>, text: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!child.stdout().includes(text)) {
    if (Date.now() > deadline) throw new Error(`the command did not print "${text}": ${child.stdout()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function run(args: string[]): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; kill(signal: NodeJS.Signals): void; stdout(): string } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return {
    done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr }))),
    kill: (signal) => child.kill(signal),
    stdout: () => stdout,
  };
}

describe('the sim command', () => {
  let url: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const { Aedes } = await import('aedes');
    const broker = await Aedes.createBroker();
    const server = net.createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => broker.close(() => resolve())));
  });
  afterAll(async () => close?.());

  it('exits 2 with a clear message on a bad flag', async () => {
    const { code, stderr } = await run(['--speed', 'fast']).done;
    expect(code).toBe(2);
    expect(stderr).toContain('--speed "fast" is not a number');
  });

  it('exits 2 when the filter selects nothing', async () => {
    const { code, stderr } = await run(['--broker', url, '--building', 'Z-99']).done;
    expect(code).toBe(2);
    expect(stderr).toContain('building "Z-99"');
  });

  it('runs for --duration, then sends its devices offline and exits 0', async () => {
    const watcher = await connectAsync(url);
    const seen: string[] = [];
    watcher.on('message', (topic, payload) => seen.push(`${topic} ${topic.endsWith('/status') ? payload.toString() : 'telemetry'}`));
    await watcher.subscribeAsync('estate/blue-valley/+/generator/#');
    const { code } = await run(['--broker', url, '--kind', 'generator', '--speed', '600', '--duration', '1500ms', '--seed', '3']).done;
    await watcher.endAsync();
    expect(code).toBe(0);
    const gen = loadSite(null).devices.find((d) => d.id === 'GEN-1')!;
    const topic = (channel: 'status' | 'telemetry') => deviceTopic('blue-valley', gen.plotId, 'generator', 'GEN-1', channel);
    expect(seen[0]).toBe(`${topic('status')} online`);
    expect(seen).toContain(`${topic('telemetry')} telemetry`);
    expect(seen.at(-1)).toBe(`${topic('status')} offline`);
  });

  it('stops cleanly on SIGTERM', { timeout: 90_000 }, async () => {
    const child = run(['--broker', url, '--kind', 'substation', '--speed', '60']);
    await printed(child, 'simulating 3 devices');
    child.kill('SIGTERM');
    const { code, stdout } = await child.done;
    expect(code).toBe(0);
    expect(stdout).toContain('SIGTERM: stopping');
    expect(stdout).toContain('simulators stopped');
  });
});

describe('Ctrl-C', () => {
  let url: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const { Aedes } = await import('aedes');
    const broker = await Aedes.createBroker();
    const server = net.createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => broker.close(() => resolve())));
  });
  afterAll(async () => close?.());

  it('on SIGINT sends every device offline (retained), then exits 0', { timeout: 90_000 }, async () => {
    const watcher = await connectAsync(url);
    const statuses: string[] = [];
    watcher.on('message', (topic, payload) => topic.endsWith('/status') && statuses.push(`${topic.split('/').at(-2)} ${payload.toString()}`));
    await watcher.subscribeAsync('estate/ctrl-c-test/#', { qos: 1 });
    const child = run(['--broker', url, '--site-id', 'ctrl-c-test', '--building', 'A-01', '--kind', 'elevator', '--speed', '60']);
    await printed(child, 'simulating 2 devices');
    child.kill('SIGINT');
    const { code, stdout } = await child.done;
    expect(code).toBe(0);
    expect(stdout).toContain('SIGINT: stopping, devices go offline');
    expect(stdout).toContain('simulators stopped');
    // A new subscriber gets the retained status: offline, for both lifts.
    const late = await connectAsync(url);
    const retained: string[] = [];
    late.on('message', (topic, payload, packet) => packet.retain && retained.push(`${topic.split('/').at(-2)} ${payload.toString()}`));
    await late.subscribeAsync('estate/ctrl-c-test/+/elevator/+/status', { qos: 1 });
    for (const until = Date.now() + 5_000; retained.length < 2 && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
    await late.endAsync();
    await watcher.endAsync();
    expect(retained.sort()).toEqual(['EL-A-01-1 offline', 'EL-A-01-2 offline']);
    expect(statuses.filter((s) => s.endsWith('online')).sort()).toEqual(['EL-A-01-1 online', 'EL-A-01-2 online']);
  });
});

describe('sim --list', () => {
  it('prints every scenario with what it must raise', { timeout: 60_000 }, async () => {
    const { code, stdout } = await run(['--list']).done;
    expect(code).toBe(0);
    for (const s of SCENARIOS) expect(stdout).toContain(`${s.id}\n`);
    expect(stdout).toContain('expect: water-meter.continuous-flow on WM-A-03-0502 within 25 h');
    expect(stdout).toContain('expect: booster-pump.standby-not-started on BP-A-3 within 60 s');
  });
});

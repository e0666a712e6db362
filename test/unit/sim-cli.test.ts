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

/** A message as a subscriber heard it: `text` is a status's payload, or `telemetry`. */
interface Heard { topic: string; deviceId: string; text: string }

/** A subscriber to `filter` (with `retained`, hearing only retained messages) and what it heard so far. */
async function listen(url: string, filter: string, { retained = false } = {}): Promise<{ heard: Heard[]; end(): Promise<void> }> {
  const client = await connectAsync(url);
  const heard: Heard[] = [];
  client.on('message', (topic, payload, packet) => {
    if (retained && !packet.retain) return;
    heard.push({ topic, deviceId: topic.split('/').at(-2)!, text: topic.endsWith('/status') ? payload.toString() : 'telemetry' });
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return { heard, end: () => client.endAsync() };
}

const statuses = (heard: readonly Heard[]) => heard.filter((h) => h.text !== 'telemetry').map((h) => `${h.deviceId} ${h.text}`);

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

  /** Starts the command against the test broker, with a subscriber to `filter` listening from before its first message. */
  async function runListened(filter: string, args: string[]) {
    const listener = await listen(url, filter);
    return { child: run(['--broker', url, ...args]), ...listener };
  }

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
    const { child, heard, end } = await runListened('estate/blue-valley/+/generator/#', ['--kind', 'generator', '--speed', '600', '--duration', '1500ms', '--seed', '3']);
    const { code } = await child.done;
    await end();
    expect(code).toBe(0);
    const gen = loadSite(null).devices.find((d) => d.id === 'GEN-1')!;
    const topic = (channel: 'status' | 'telemetry') => deviceTopic('blue-valley', gen.plotId, 'generator', 'GEN-1', channel);
    expect(heard[0]).toMatchObject({ topic: topic('status'), text: 'online' });
    expect(heard).toContainEqual(expect.objectContaining({ topic: topic('telemetry'), text: 'telemetry' }));
    expect(heard.at(-1)).toMatchObject({ topic: topic('status'), text: 'offline' });
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

  it('stops cleanly on SIGTERM during start-up, while its broker does not answer', { timeout: 90_000 }, async () => {
    // A broker that takes the connection and never answers holds the simulator in its start-up.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => { sockets.add(socket); });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const child = run(['--broker', `mqtt://127.0.0.1:${(silent.address() as AddressInfo).port}`, '--kind', 'substation', '--speed', '60']);
      while (sockets.size === 0) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGTERM');
      const { code, stdout } = await child.done;
      expect(code).toBe(0);
      expect(stdout).toContain('SIGTERM: stopping');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('on SIGINT (Ctrl-C) sends every device offline (retained), then exits 0', { timeout: 90_000 }, async () => {
    const { child, heard, end } = await runListened('estate/ctrl-c-test/#', ['--site-id', 'ctrl-c-test', '--building', 'A-01', '--kind', 'elevator', '--speed', '60']);
    await printed(child, 'simulating 2 devices');
    child.kill('SIGINT');
    const { code, stdout } = await child.done;
    expect(code).toBe(0);
    expect(stdout).toContain('SIGINT: stopping, devices go offline');
    expect(stdout).toContain('simulators stopped');
    // A new subscriber gets the retained status: offline, for both lifts.
    const late = await listen(url, 'estate/ctrl-c-test/+/elevator/+/status', { retained: true });
    for (const until = Date.now() + 5_000; late.heard.length < 2 && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
    await late.end();
    await end();
    expect(statuses(late.heard).sort()).toEqual(['EL-A-01-1 offline', 'EL-A-01-2 offline']);
    expect(statuses(heard).filter((s) => s.endsWith('online')).sort()).toEqual(['EL-A-01-1 online', 'EL-A-01-2 online']);
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

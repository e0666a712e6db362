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
      durationMs: null, startMs: null, intervalsS: {}, siteFile: null, scenarios: [], list: false, sites: 1, rate: null, deviceSecretFile: null,
    });
  });

  it('reads every flag', () => {
    const options = parseCliArgs([
      '--broker', 'mqtt://broker:1884', '--speed', '3600', '--seed', '7', '--plot', 'A', '--building', 'A-03', '--kind', 'elevator',
      '--duration', '90s', '--start', '2025-06-21T00:00:00+08:00', '--interval', 'water-meter=60', '--interval', 'elevator=2.5',
      '--site-file', 'site.json', '--scenario', 'leak-A-03-0502', '--scenario', 'pipe-burst-A', '--sites', '3',
      '--device-secret-file', 'data/device-secret',
    ]);
    expect(options).toEqual({
      help: false, brokerUrl: 'mqtt://broker:1884', speed: 3600, seed: 7, filter: { plot: 'A', building: 'A-03', kind: 'elevator' },
      durationMs: 90_000, startMs: Date.parse('2025-06-20T16:00:00Z'), intervalsS: { 'water-meter': 60, elevator: 2.5 }, siteFile: 'site.json',
      scenarios: ['leak-A-03-0502', 'pipe-burst-A'], list: false, sites: 3, rate: null, deviceSecretFile: 'data/device-secret',
    });
    expect(parseCliArgs(['--rate', '5000', '--list'])).toMatchObject({ rate: 5000, list: true, speed: 60 });
    expect(parseCliArgs(['-h']).help).toBe(true);
  });

  it('documents every flag in --help', () => {
    for (const flag of ['--broker', '--speed', '--seed', '--plot', '--building', '--kind', '--duration', '--start', '--interval', '--site-file', '--help']) {
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
  ])('rejects %j with SIM_BAD_OPTION', (argv) => {
    expect(() => parseCliArgs(argv)).toThrow(expect.objectContaining({ code: 'SIM_BAD_OPTION' }));
  });

  it('reads durations in ms, s, m, h and d', () => {
    expect([parseDuration('250ms'), parseDuration('1.5s'), parseDuration('5m'), parseDuration('2h'), parseDuration('1d')]).toEqual([250, 1500, 300_000, 7_200_000, 86_400_000]);
  });
});

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

  it('stops cleanly on SIGTERM', async () => {
    const child = run(['--broker', url, '--kind', 'substation', '--speed', '60']);
    const deadline = Date.now() + 15_000;
    while (!child.stdout().includes('simulating 3 devices') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    const { code, stdout } = await child.done;
    expect(code).toBe(0);
    expect(stdout).toContain('SIGTERM: stopping');
    expect(stdout).toContain('simulators stopped');
  });
});

describe('sim --list', () => {
  it('prints every scenario with what it must raise', { timeout: 60_000 }, async () => {
    const { code, stdout } = await run(['--list']).done;
    expect(code).toBe(0);
    for (const s of SCENARIOS) expect(stdout).toContain(`${s.id}\n`);
    expect(stdout).toContain('expect: water-meter.continuous-flow on WM-A-03-0502 within 25 h');
    expect(stdout).toContain('expect: nothing yet (rule water-meter.water-balance pending)');
  });
});

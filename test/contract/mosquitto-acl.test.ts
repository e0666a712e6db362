/**
 * The production broker's rules (deploy/mosquitto/mosquitto.conf and the files
 * of `npm run broker:accounts`) against the real Mosquitto installed on this
 * machine: a separate broker process on free ports, for the tiny test site.
 * Runs when the `mosquitto` binary is found.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectTcp, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSite } from '../../server/src/catalogue/load.ts';
import type { Device } from '../../server/src/catalogue/types.ts';
import { deviceTopic } from '../../server/src/contract.ts';
import { aclFile, deviceCredentials, passwordFile, type DeviceCredential } from '../../server/src/deploy/mosquitto-accounts.ts';

function findMosquitto(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    try {
      accessSync(join(dir, 'mosquitto'), constants.X_OK);
      return join(dir, 'mosquitto');
    } catch {
      // not in this folder
    }
  }
  return null;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The production config with its container paths and ports swapped for this test's; fails if the config changed shape. */
function localConfig(production: string, dir: string, port: number, healthPort: number): string {
  const swaps: [RegExp, string][] = [
    [/\/mosquitto\/config\//g, `${dir}/`],
    [/\/mosquitto\/data\//g, `${dir}/data/`],
    [/^listener 1883$/m, `listener ${port} 127.0.0.1`],
    [/^listener 1884 127\.0\.0\.1$/m, `listener ${healthPort} 127.0.0.1`],
  ];
  return swaps.reduce((text, [pattern, replacement]) => {
    if (!pattern.test(text)) throw new Error(`mosquitto.conf no longer contains ${pattern}`);
    pattern.lastIndex = 0;
    return text.replace(pattern, replacement);
  }, production);
}

/** Resolves when the port accepts connections; rejects if the broker exits first (its log tells why). */
async function waitForBroker(child: ChildProcess, port: number, output: () => string): Promise<void> {
  let exited: number | null | undefined = child.exitCode ?? undefined;
  child.once('exit', (code) => (exited = code));
  for (let attempt = 0; attempt < 100; attempt++) {
    if (exited !== undefined) throw new Error(`mosquitto exited (${exited}):\n${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connectTcp(port, '127.0.0.1', () => resolve(true));
      socket.once('error', () => resolve(false));
      socket.once('connect', () => socket.end());
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`mosquitto did not listen on ${port} within 5 s:\n${output()}`);
}

const mosquitto = findMosquitto();

describe.skipIf(mosquitto === null)('production Mosquitto ACL and passwords (real mosquitto)', () => {
  const site = loadSite(new URL('../fixtures/tiny-site.json', import.meta.url).pathname);
  const server = { username: 'estatewatch-server', password: 'server-secret' };
  const simulator = { username: 'estatewatch-sim', password: 'sim-secret' };
  const credentials = deviceCredentials(site);
  const devicesByKind = (kind: Device['kind']) => site.devices.filter((d) => d.kind === kind);
  const pump = devicesByKind('booster-pump')[0]!;
  const meter = devicesByKind('water-meter')[0]!;
  const credentialOf = (d: Device): DeviceCredential => credentials.find((c) => c.deviceId === d.id)!;
  const topicOf = (d: Device, channel: 'telemetry' | 'status' = 'telemetry') => deviceTopic(site.id, d.plotId, d.kind, d.id, channel);

  let dir: string;
  let broker: ChildProcess | undefined;
  let brokerOutput = '';
  let url: string;
  let healthUrl: string;
  const clients: MqttClient[] = [];
  /** Everything the server account receives, in order. */
  const received: { topic: string; payload: string }[] = [];

  async function connect(options: IClientOptions, to = url): Promise<MqttClient> {
    const client = await mqtt.connectAsync(to, { reconnectPeriod: 0, connectTimeout: 5_000, protocolVersion: 5, ...options });
    clients.push(client);
    return client;
  }
  const asDevice = (d: Device, options: IClientOptions = {}) => connect({ username: credentialOf(d).username, password: credentialOf(d).password, ...options });

  /** Resolves once the server has received a message on `topic` carrying `payload`. */
  function serverReceives(topic: string, payload: string): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (received.some((m) => m.topic === topic && m.payload === payload)) resolve();
        else setTimeout(check, 10);
      };
      check();
    });
  }

  /** Publishes a marker under the pump's own topic and waits for the server: whatever was published before it has arrived by then. */
  async function afterEverythingBefore(): Promise<void> {
    const marker = `marker-${Math.random()}`;
    const pumpClient = await asDevice(pump);
    await pumpClient.publishAsync(topicOf(pump), marker, { qos: 1 });
    await serverReceives(topicOf(pump), marker);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'estatewatch-mosquitto-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'passwd'), passwordFile(credentials, { server, simulator }));
    writeFileSync(join(dir, 'acl'), aclFile(site, credentials, { server, simulator }));
    copyFileSync(new URL('../../deploy/mosquitto/health.acl', import.meta.url), join(dir, 'health.acl'));
    const [port, healthPort] = [await freePort(), await freePort()];
    const production = readFileSync(new URL('../../deploy/mosquitto/mosquitto.conf', import.meta.url), 'utf8');
    writeFileSync(join(dir, 'mosquitto.conf'), localConfig(production, dir, port, healthPort));
    // Started as root, mosquitto drops to its own user before it reads these files.
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'data'), 0o777);
    for (const file of ['passwd', 'acl', 'health.acl', 'mosquitto.conf']) chmodSync(join(dir, file), 0o644);

    broker = spawn(mosquitto!, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    broker.stdout!.on('data', (chunk: Buffer) => (brokerOutput += chunk.toString()));
    broker.stderr!.on('data', (chunk: Buffer) => (brokerOutput += chunk.toString()));
    await waitForBroker(broker, port, () => brokerOutput);
    await waitForBroker(broker, healthPort, () => brokerOutput);
    url = `mqtt://127.0.0.1:${port}`;
    healthUrl = `mqtt://127.0.0.1:${healthPort}`;

    const serverClient = await connect({ username: server.username, password: server.password });
    serverClient.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
    const granted = await serverClient.subscribeAsync('$share/estatewatch/estate/#', { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1]);
  });

  afterAll(async () => {
    for (const client of clients) client.end(true);
    if (broker && broker.exitCode === null) {
      const exited = new Promise((resolve) => broker!.once('exit', resolve));
      broker.kill('SIGTERM');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers what a device publishes under its own topic to the server account', async () => {
    const client = await asDevice(meter);
    const payload = JSON.stringify({ v: 1, ts: Date.now(), seq: 1, m: { total_m3: 12.5 } });
    await client.publishAsync(topicOf(meter), payload, { qos: 1 });
    await serverReceives(topicOf(meter), payload);
  });

  it('refuses a device publishing under another device\'s topic: PUBACK 0x87 on MQTT 5, silently dropped on 3.1.1', async () => {
    const v5 = await asDevice(meter);
    await expect(v5.publishAsync(topicOf(pump), 'spoofed-v5', { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
    const v311 = await asDevice(meter, { protocolVersion: 4 });
    await v311.publishAsync(topicOf(pump), 'spoofed-v311', { qos: 1 }); // 3.1.1 has no reason code: PUBACK, then dropped
    await v311.publishAsync(topicOf(pump, 'status'), 'offline', { qos: 0, retain: true });
    await afterEverythingBefore();
    expect(received.filter((m) => m.payload.startsWith('spoofed') || m.payload === 'offline')).toEqual([]);
  });

  it('refuses a device publishing its own id under another plot or kind', async () => {
    const client = await asDevice(meter);
    const elsewhere = `estate/${site.id}/${meter.plotId}/booster-pump/${meter.id}/telemetry`;
    await expect(client.publishAsync(elsewhere, 'wrong-kind', { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
    await expect(client.publishAsync(`estate/other-site/${meter.plotId}/${meter.kind}/${meter.id}/telemetry`, 'wrong-site', { qos: 1 }))
      .rejects.toMatchObject({ code: 0x87 });
  });

  it('refuses a wrong password and an anonymous client at CONNACK', async () => {
    const { username } = credentialOf(meter);
    // Mosquitto 2.0 answers 0x87 (not authorized) on MQTT 5 and 5 (not authorised) on 3.1.1, for either.
    await expect(connect({ username, password: 'wrong' })).rejects.toMatchObject({ code: 0x87 });
    await expect(connect({ username, password: 'wrong', protocolVersion: 4 })).rejects.toMatchObject({ code: 5 });
    await expect(connect({ username: 'nobody-at-all', password: 'x' })).rejects.toMatchObject({ code: 0x87 });
    await expect(connect({})).rejects.toMatchObject({ code: 0x87 });
    await expect(connect({ protocolVersion: 4 })).rejects.toMatchObject({ code: 5 });
  });

  it('lets a device read nothing, not even its own topic', async () => {
    const spy = await asDevice(meter);
    const seen: string[] = [];
    spy.on('message', (topic) => seen.push(topic));
    // Mosquitto 2.0's acl_file does not check subscriptions: the SUBACK grants them and each delivery is refused.
    const granted = await spy.subscribeAsync(['estate/#', topicOf(meter)], { qos: 0 });
    expect(granted.map((g) => g.qos)).toEqual([0, 0]);
    await (await asDevice(pump)).publishAsync(topicOf(pump), 'for-the-server-only', { qos: 1 });
    await spy.publishAsync(topicOf(meter), 'own-reading', { qos: 1 });
    await serverReceives(topicOf(meter), 'own-reading');
    // Any delivery would have been queued to the spy before the broker answers its next SUBSCRIBE.
    await spy.subscribeAsync('estate/nothing', { qos: 0 });
    expect(seen).toEqual([]);
  });

  it('keeps the server account read-only', async () => {
    const client = await connect({ username: server.username, password: server.password });
    await expect(client.publishAsync(topicOf(pump), 'server-spoof', { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
  });

  it('lets the demo simulator account publish for every device', async () => {
    const client = await connect({ username: simulator.username, password: simulator.password });
    await client.publishAsync(topicOf(meter), 'from-sim-meter', { qos: 1 });
    await client.publishAsync(topicOf(pump), 'from-sim-pump', { qos: 1 });
    await serverReceives(topicOf(meter), 'from-sim-meter');
    await serverReceives(topicOf(pump), 'from-sim-pump');
  });

  it('lets the loopback health listener read the uptime anonymously and nothing else', async () => {
    const health = await connect({}, healthUrl);
    const uptime = new Promise<string>((resolve) => health.once('message', (topic) => resolve(topic)));
    await health.subscribeAsync('$SYS/broker/uptime', { qos: 0 });
    expect(await uptime).toBe('$SYS/broker/uptime');
    await expect(health.publishAsync(topicOf(pump), 'via-health', { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
  });
});

/**
 * The fleet on a real broker: an embedded aedes always, and Mosquitto when
 * TEST_MQTT_URL is set. Each run has its own site id, so parallel runs on a
 * shared broker never see each other, and clears its retained statuses after.
 */
import { randomUUID } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceTopic } from '../../server/src/contract.ts';
import { startFleet, type Fleet } from '../../simulators/src/fleet.ts';
import { speedForRate } from '../../simulators/src/rate.ts';
import { SIM_DEVICES, at, simSite, simulate } from '../support/sim-site.ts';

interface Broker { url: string; dropClient?(clientIdSuffix: string): void; close(): Promise<void> }

async function startAedes(): Promise<Broker> {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const clients = new Map<string, { conn: { destroy(): void } }>();
  broker.on('client', (client) => clients.set(client.id, client as unknown as { conn: { destroy(): void } }));
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    dropClient(suffix) {
      for (const [id, client] of clients) if (id.endsWith(suffix)) client.conn.destroy();
    },
    close: () => new Promise((resolve) => server.close(() => broker.close(() => resolve()))),
  };
}

const targets: { name: string; start(): Promise<Broker> }[] = [{ name: 'embedded aedes', start: startAedes }];
const mosquittoUrl = process.env.TEST_MQTT_URL;
if (mosquittoUrl) targets.push({ name: `mosquitto (${mosquittoUrl})`, start: async () => ({ url: mosquittoUrl, close: async () => {} }) });

/** Subscribes to one site's topics and keeps what arrives, retained or not. */
async function listen(url: string, filter: string): Promise<{ client: MqttClient; messages: { topic: string; payload: string; retain: boolean }[] }> {
  const client = await connectAsync(url, { clientId: `sim-test-${randomUUID().slice(0, 8)}` });
  const messages: { topic: string; payload: string; retain: boolean }[] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, payload: payload.toString(), retain: packet.retain }));
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, messages };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(targets)('fleet on $name', (target) => {
  const siteId = `sim-fleet-${randomUUID().slice(0, 8)}`;
  const site = simSite(siteId);
  const startMs = at(2025, 6, 16, 8);
  const statusTopics = SIM_DEVICES.map((d) => deviceTopic(siteId, d.plotId, d.kind, d.id, 'status'));
  let broker: Broker;
  let fleet: Fleet;
  let live: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    broker = await target.start();
    live = await listen(broker.url, `estate/${siteId}/#`);
    fleet = await startFleet({ brokerUrl: broker.url, site, speed: 600, seed: 5, startMs, tickMs: 20 });
  });

  afterAll(async () => {
    await fleet?.stop();
    if (live) {
      for (const topic of statusTopics) await live.client.publishAsync(topic, '', { qos: 1, retain: true }); // clear retained
      await live.client.endAsync();
    }
    await broker?.close();
  });

  it('publishes each device\'s telemetry on its topic, as the contract and the simulation say', async () => {
    await sleep(2_000); // 20 simulated minutes at 600x
    const devices = new Map(SIM_DEVICES.map((d) => [deviceTopic(siteId, d.plotId, d.kind, d.id, 'telemetry'), d]));
    const telemetry = live.messages.filter((m) => m.topic.endsWith('/telemetry'));
    expect(telemetry.length).toBeGreaterThan(200);
    expect(telemetry.filter((m) => !devices.has(m.topic))).toEqual([]);

    // Every payload is the simulation's own message for that device, in order: same seed, same readings.
    const expected = new Map<string, string[]>();
    for (const m of simulate(site, 5, startMs, startMs + 30 * 60_000)) {
      if (m.channel !== 'telemetry') continue;
      const topic = deviceTopic(siteId, m.device.plotId, m.device.kind, m.device.id, 'telemetry');
      expected.set(topic, [...(expected.get(topic) ?? []), JSON.stringify(m.payload)]);
    }
    const received = new Map<string, string[]>();
    for (const m of telemetry) received.set(m.topic, [...(received.get(m.topic) ?? []), m.payload]);
    for (const [topic, payloads] of received) {
      expect(payloads, topic).toEqual(expected.get(topic)!.slice(0, payloads.length));
      const first = JSON.parse(payloads[0]!) as { v: number; ts: number; seq: number; m: object };
      expect(first).toMatchObject({ v: 1, seq: 1 });
      expect(first.ts).toBeGreaterThanOrEqual(startMs);
    }
    expect(received.size).toBe(SIM_DEVICES.length); // even 15-minute meters have reported once by now
    expect(fleet.counters.telemetry).toBeGreaterThanOrEqual(telemetry.length);
    expect(fleet.simTime()).toBeGreaterThan(startMs + 15 * 60_000);
  });

  it('marks every device online with a retained status, over one connection per device or meter concentrator', async () => {
    const late = await listen(broker.url, `estate/${siteId}/+/+/+/status`);
    await until(() => late.messages.length >= SIM_DEVICES.length, 'retained statuses');
    await late.client.endAsync();
    expect(new Set(late.messages.map((m) => m.topic))).toEqual(new Set(statusTopics));
    expect(late.messages.every((m) => m.retain && m.payload === 'online')).toBe(true);
    const meters = SIM_DEVICES.filter((d) => d.kind.endsWith('-meter'));
    expect(fleet.connections).toBe(SIM_DEVICES.length - meters.length + 2); // building A-01, and plot A for its shops and plant meters
  });

  it.runIf(target.name === 'embedded aedes')('leaves a last will: a device whose connection drops goes offline', async () => {
    const topic = deviceTopic(siteId, 'A', 'fire-pump', 'FP-JOCKEY', 'status');
    const before = live.messages.length;
    broker.dropClient!('-FP-JOCKEY');
    await until(() => live.messages.slice(before).some((m) => m.topic === topic && m.payload === 'offline'), 'the last will');
    await until(() => live.messages.slice(before).some((m) => m.topic === topic && m.payload === 'online'), 'the device back online', 15_000);
  });

  it('sends every device offline, retained, when stopped', async () => {
    await fleet.stop();
    const late = await listen(broker.url, `estate/${siteId}/+/+/+/status`);
    await until(() => late.messages.length >= SIM_DEVICES.length, 'retained statuses');
    await late.client.endAsync();
    expect(new Set(late.messages.map((m) => m.topic))).toEqual(new Set(statusTopics));
    expect(late.messages.every((m) => m.payload === 'offline')).toBe(true);
    const published = fleet.counters.published;
    await sleep(200);
    expect(fleet.counters.published).toBe(published); // nothing after stop
    await fleet.stop(); // a second stop is harmless
  });

  it('reaches a --rate target: a simulated half hour holds rate × its wall-clock length in messages, all delivered', { timeout: 60_000 }, async () => {
    const rateSiteId = `sim-rate-${randomUUID().slice(0, 8)}`;
    const rateSite = simSite(rateSiteId);
    const rate = 600;
    const speed = speedForRate(rate, rateSite.devices);
    const received = await listen(broker.url, `estate/${rateSiteId}/+/+/+/telemetry`);
    const start = at(2025, 6, 16, 8);
    const rateFleet = await startFleet({ brokerUrl: broker.url, site: rateSite, speed, seed: 9, startMs: start, tickMs: 20 });
    // Every report interval (5 s … 900 s) divides the half hour: each device reports a whole number of times in it.
    const from = start + 15 * 60_000;
    const spanMs = 30 * 60_000;
    try {
      await until(() => rateFleet.simTime() >= from + spanMs + 60_000, 'the simulated span', 45_000);
      const inSpan = () => received.messages.filter((m) => {
        const ts = (JSON.parse(m.payload) as { ts: number }).ts;
        return ts >= from && ts < from + spanMs;
      }).length;
      const wallSeconds = spanMs / speed / 1000;
      const expected = Math.round(rate * wallSeconds);
      await until(() => inSpan() >= expected, `${expected} messages`, 5_000).catch(() => {});
      expect(inSpan()).toBe(expected);
    } finally {
      await rateFleet.stop();
      for (const d of rateSite.devices) await received.client.publishAsync(deviceTopic(rateSiteId, d.plotId, d.kind, d.id, 'status'), '', { qos: 1, retain: true });
      await received.client.endAsync();
    }
  });
});

describe('fleet start-up errors', () => {
  it('says clearly when the broker cannot be reached', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    await expect(startFleet({ brokerUrl: `mqtt://127.0.0.1:${port}`, site: simSite(), speed: 60, seed: 1 }))
      .rejects.toMatchObject({ code: 'SIM_BROKER_UNREACHABLE' });
  });

  it('rejects a bad speed before connecting', async () => {
    await expect(startFleet({ brokerUrl: 'mqtt://127.0.0.1:1', site: simSite(), speed: -1, seed: 1 }))
      .rejects.toMatchObject({ code: 'SIM_BAD_OPTION' });
  });
});

/**
 * The MQTT path, device → broker → ingest subscriber, against every broker we
 * ship with: the embedded aedes (always, port 0) and a real Mosquitto when
 * TEST_MQTT_URL is set. Each run uses its own site id (and share group), so
 * parallel test files and other helpers' tests on the same Mosquitto never see
 * each other's messages.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { MqttPortInUseError, startEmbeddedBroker, type EmbeddedBroker } from '../../server/src/adapters/aedes/embedded-broker.ts';
import { connectIngest, type IngestSubscriber, type IngestSubscriberOptions } from '../../server/src/adapters/mqtt/ingest-subscriber.ts';
import { deviceTopic } from '../../server/src/contract.ts';

interface Received { topic: string; payload: string }

/** Collects the messages of one site and lets a test wait for the ones it expects. */
class Inbox {
  readonly messages: Received[] = [];
  private waiters: { match: (m: Received) => boolean; resolve: (m: Received) => void }[] = [];

  constructor(private readonly siteId: string) {}

  readonly onMessage = (topic: string, payload: Buffer): void => {
    if (topic.split('/')[1] !== this.siteId) return; // another test's traffic on a shared broker
    const m = { topic, payload: payload.toString() };
    this.messages.push(m);
    this.waiters = this.waiters.filter((w) => (w.match(m) ? (w.resolve(m), false) : true));
  };

  waitFor(match: (m: Received) => boolean, what: string, timeoutMs = 5000): Promise<Received> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message ${what} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ match, resolve: (m) => { clearTimeout(timer); resolve(m); } });
    });
  }
}

interface Target {
  name: string;
  /** MQTT 5 (Mosquitto 2 yes, aedes 1.x no): a session taken over is told so. */
  mqtt5: boolean;
  start(): Promise<{ url: string; close(): Promise<void> }>;
}

const targets: Target[] = [
  {
    name: 'embedded aedes',
    mqtt5: false,
    start: async () => startEmbeddedBroker({ port: 0, host: '127.0.0.1' }),
  },
];
const mosquittoUrl = process.env.TEST_MQTT_URL;
if (mosquittoUrl) {
  targets.push({ name: `mosquitto (${mosquittoUrl})`, mqtt5: true, start: async () => ({ url: mosquittoUrl, close: async () => {} }) });
}

describe.each(targets)('MQTT broker path: $name', (target) => {
  const siteId = `test-${randomUUID().slice(0, 8)}`;
  const run = siteId.slice(5);
  const topic = (deviceId: string, channel: 'telemetry' | 'status' | 'event') => deviceTopic(siteId, 'A', 'booster-pump', deviceId, channel);
  let url: string;
  let closeBroker: () => Promise<void>;
  const subscribers: IngestSubscriber[] = [];
  const devices: MqttClient[] = [];
  const retainedTopics: string[] = [];

  beforeAll(async () => {
    ({ url, close: closeBroker } = await target.start());
  });

  afterAll(async () => {
    // Leave nothing behind on a shared broker: retained messages and persistent sessions.
    if (retainedTopics.length > 0) {
      const cleaner = await connectAsync(url);
      for (const t of retainedTopics) await cleaner.publishAsync(t, '', { retain: true, qos: 1 });
      await cleaner.endAsync();
    }
    await Promise.all(devices.map((d) => d.endAsync(true)));
    await Promise.all(subscribers.map((s) => s.close()));
    for (const s of subscribers) await (await connectAsync(url, { clientId: s.clientId, clean: true })).endAsync();
    await closeBroker();
  });

  async function subscriber(inbox: Inbox, opts: Partial<IngestSubscriberOptions> = {}): Promise<IngestSubscriber> {
    const s = await connectIngest({
      url, topic: `estate/${siteId}/#`, clientId: `ingest-${run}-${subscribers.length}`, protocolVersion: target.mqtt5 ? 5 : 4, onMessage: inbox.onMessage, ...opts,
    });
    subscribers.push(s);
    return s;
  }

  async function device(opts: IClientOptions = {}): Promise<MqttClient> {
    const d = await connectAsync(url, { reconnectPeriod: 0, ...opts });
    devices.push(d);
    return d;
  }

  it('delivers a device\'s telemetry to the ingest subscriber', async () => {
    const inbox = new Inbox(siteId);
    const s = await subscriber(inbox);
    expect(s.connected()).toBe(true);
    expect(s.topic).toBe(`estate/${siteId}/#`);
    const d = await device();
    const payload = JSON.stringify({ v: 1, ts: Date.now(), seq: 1, m: { running: true, pressure_mpa: 0.42 } });
    await d.publishAsync(topic('BP-A-1', 'telemetry'), payload, { qos: 1 });
    const m = await inbox.waitFor((x) => x.topic === topic('BP-A-1', 'telemetry'), 'on the telemetry topic');
    expect(JSON.parse(m.payload)).toEqual(JSON.parse(payload));
  });

  it('delivers a retained status to a subscriber that connects later', async () => {
    const statusTopic = topic('BP-A-2', 'status');
    retainedTopics.push(statusTopic);
    const d = await device();
    await d.publishAsync(statusTopic, 'online', { qos: 1, retain: true });
    const inbox = new Inbox(siteId);
    await subscriber(inbox);
    const m = await inbox.waitFor((x) => x.topic === statusTopic, 'with the retained status');
    expect(m.payload).toBe('online');
  });

  it('publishes the last will "offline" when a device connection dies uncleanly', async () => {
    const statusTopic = topic('BP-A-3', 'status');
    retainedTopics.push(statusTopic);
    const inbox = new Inbox(siteId);
    await subscriber(inbox);
    const d = await device({ will: { topic: statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true } });
    await d.publishAsync(statusTopic, 'online', { qos: 1, retain: true });
    await inbox.waitFor((x) => x.topic === statusTopic && x.payload === 'online', 'online');
    d.stream.destroy();
    await inbox.waitFor((x) => x.topic === statusTopic && x.payload === 'offline', 'with the last will');
  });

  it('queues for a partition\'s persistent session while no one is connected, and hands it over', async () => {
    const inbox = new Inbox(siteId);
    const clientId = `partition-${run}`;
    const first = await subscriber(inbox, { clientId });
    await first.close();
    const d = await device();
    for (let seq = 0; seq < 20; seq++) {
      await d.publishAsync(topic('BP-A-4', 'telemetry'), JSON.stringify({ v: 1, ts: Date.now(), seq, m: { running: true } }), { qos: 1 });
    }
    // Published while the session had no connection: the next one with its client id receives them all.
    await subscriber(inbox, { clientId });
    const seqOf = (m: Received): number => (JSON.parse(m.payload) as { seq: number }).seq;
    await inbox.waitFor((m) => m.topic === topic('BP-A-4', 'telemetry') && seqOf(m) === 19, 'with the last seq');
    const seqs = inbox.messages.filter((m) => m.topic === topic('BP-A-4', 'telemetry')).map(seqOf);
    expect(new Set(seqs)).toEqual(new Set(Array.from({ length: 20 }, (_, i) => i)));
  });

  it('a second connection with a partition\'s client id takes the session over; the first asks, is told no, and stays away', async () => {
    const clientId = `takeover-${run}`;
    const inboxes = [new Inbox(siteId), new Inbox(siteId)];
    let fenced = 0;
    let asked = 0;
    // The lease answers: the partition has another owner now.
    const mayReconnect = async () => { asked += 1; return false; };
    const first = await subscriber(inboxes[0]!, { clientId, mayReconnect, onFenced: () => { fenced += 1; } });
    const second = await subscriber(inboxes[1]!, { clientId });
    await expect.poll(() => fenced, { timeout: 5_000 }).toBe(1);
    expect(asked).toBe(1);
    expect(first.connected()).toBe(false);
    const d = await device();
    await d.publishAsync(topic('BP-A-5', 'telemetry'), JSON.stringify({ v: 1, ts: Date.now(), seq: 1, m: { running: true } }), { qos: 1 });
    await inboxes[1]!.waitFor((m) => m.topic === topic('BP-A-5', 'telemetry'), 'at the new owner');
    // Past mqtt.js's reconnect period: the fenced one did not come back to take the session again.
    await new Promise((r) => setTimeout(r, 1500));
    expect(second.connected()).toBe(true);
    expect(first.connected()).toBe(false);
    expect(inboxes[0]!.messages.filter((m) => m.topic.includes('/BP-A-5/'))).toEqual([]);
  });
});

describe('embedded broker and subscriber: failures', () => {
  it('refuses a port in use with MQTT_PORT_IN_USE, naming MQTT_PORT and MQTT_URL', async () => {
    const first = await startEmbeddedBroker({ port: 0, host: '127.0.0.1' });
    try {
      const err = await startEmbeddedBroker({ port: first.port, host: '127.0.0.1' }).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(MqttPortInUseError);
      expect(err).toMatchObject({ code: 'MQTT_PORT_IN_USE' });
      expect((err as Error).message).toMatch(new RegExp(`Port ${first.port} is already in use.*MQTT_PORT.*MQTT_URL`));
    } finally {
      await first.close();
    }
  });

  it('connectIngest rejects with MQTT_CONNECT_FAILED, naming the URL, when no broker answers', async () => {
    const gone = await startEmbeddedBroker({ port: 0, host: '127.0.0.1' });
    await gone.close();
    const err = await connectIngest({ url: gone.url, topic: 'estate/#', clientId: 'gone', onMessage: () => {}, connectTimeoutMs: 1500 }).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'MQTT_CONNECT_FAILED' });
    expect((err as Error).message).toContain(gone.url);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('reconnects and re-subscribes after the broker restarts, and reports the outage', async () => {
    let broker: EmbeddedBroker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1' });
    const port = broker.port;
    const siteId = `test-${randomUUID().slice(0, 8)}`;
    const inbox = new Inbox(siteId);
    const warnings: string[] = [];
    const log = { info: () => {}, warn: (_: object, msg?: string) => warnings.push(msg ?? ''), error: () => {} };
    const s = await connectIngest({ url: broker.url, topic: 'estate/#', clientId: `restart-${siteId}`, onMessage: inbox.onMessage, log });
    try {
      await broker.close();
      await expect.poll(() => s.connected()).toBe(false);
      broker = await startEmbeddedBroker({ port, host: '127.0.0.1' });
      await expect.poll(() => s.connected(), { timeout: 10_000 }).toBe(true);
      expect(warnings.some((w) => /connection lost/.test(w))).toBe(true);

      // The new broker has no session: the message arrives only if the subscriber subscribed again.
      const t = deviceTopic(siteId, 'A', 'booster-pump', 'BP-A-1', 'status');
      const d = await connectAsync(broker.url);
      await expect.poll(async () => {
        await d.publishAsync(t, 'online', { qos: 1 });
        return inbox.messages.length;
      }, { timeout: 10_000, interval: 200 }).toBeGreaterThan(0);
      await d.endAsync();
    } finally {
      await s.close();
      await broker.close();
    }
  });
});

/**
 * The ingest subscriber acknowledges a message only once what it carried is
 * stored. This pins what that relies on, against the real Mosquitto (a private
 * one with the production limits) and mqtt.js as installed (5.16: the PUBACK
 * is taken from its private `_sendPacket`, ingest-subscriber.ts holdPubacks):
 * mqtt.js goes on handling messages while their PUBACKs are held; the broker
 * sends a session more than its max_inflight_messages once the subscriber asks
 * for a larger Receive Maximum; held PUBACKs that were never sent leave the
 * messages with the broker for the next consumer, released ones do not; after
 * a dropped connection, the messages sent again are acknowledged but not
 * handled twice. Runs when TEST_MQTT_URL is set (Mosquitto is installed).
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectIngest } from '../../server/src/adapters/mqtt/ingest-subscriber.ts';
import type { AckGate, AckMark } from '../../server/src/ports/ack-gate.ts';
import { eventually } from '../support/app.ts';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

const REAL = Boolean(process.env.TEST_MQTT_URL);
/** More than the broker's max_inflight_messages (1,000, as deploy/mosquitto/mosquitto.conf). */
const N = 3_000;

/** A store that a test writes by hand: a mark (messages handed over so far) is reached once `stored` passes it. */
class TestStore implements AckGate {
  handed = 0;
  stored = 0;
  readonly acknowledgedAfterWrite: number[] = [];
  private readonly listeners = new Set<() => void>();
  holding = () => true;
  mark = (): AckMark => [this.handed];
  reached = (mark: AckMark) => this.stored >= mark[0]!;
  onProgress = (listener: () => void) => {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  };
  acknowledged = (count: number, stored: boolean) => { if (stored && count > 0) this.acknowledgedAfterWrite.push(count); };
  write(upTo: number): void {
    this.stored = upTo;
    for (const listener of this.listeners) listener();
  }
}

describe.runIf(REAL)('acknowledging after the write: mqtt.js and Mosquitto', () => {
  const run = randomBytes(3).toString('hex');
  const topic = `acks-${run}/#`;
  let broker: TestMosquitto;
  let proxy: TcpProxy;
  let publisher: MqttClient;

  beforeAll(async () => {
    broker = await startMosquitto();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: broker.port });
    publisher = await mqtt.connectAsync(broker.url, { clientId: `acks-pub-${run}` });
  });

  afterAll(async () => {
    await publisher?.endAsync();
    await proxy?.close();
    await broker?.close();
  });

  const publish = (from: number, count: number) =>
    Promise.all(Array.from({ length: count }, (_, i) => publisher.publishAsync(`acks-${run}/m`, String(from + i), { qos: 1 })));

  /** A subscriber whose messages are handed to `store` (one position each). */
  async function subscriber(clientId: string, store: TestStore, url: string, handled: number[]) {
    return connectIngest({
      url, topic, clientId, protocolVersion: 5, acks: store,
      onMessage: (_t, payload) => {
        handled.push(Number(payload));
        store.handed += 1;
      },
      // Cut off, it stays away, as a killed process would.
      mayReconnect: async () => false,
    });
  }

  /**
   * The broker has read everything a closed subscriber sent through the proxy (it closes its end
   * after the DISCONNECT): a consumer connecting sooner could take the session over first.
   */
  const brokerDoneWithProxiedConnections = () => eventually(() => (proxy.connections() === 0 ? true : undefined), 20_000, 'the proxied connections closed');

  /** A plain consumer of the session: what the broker still has for it, in order, and whether each was sent before. */
  async function consumeSession(clientId: string, expected: number): Promise<{ payload: number; dup: boolean }[]> {
    const received: { payload: number; dup: boolean }[] = [];
    const client = mqtt.connect(broker.url, { clientId, clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 60, receiveMaximum: 65_535 } });
    client.on('message', (_t, payload, packet) => received.push({ payload: Number(payload), dup: packet.dup }));
    try {
      await eventually(() => (received.length >= expected ? true : undefined), 20_000, `${expected} messages for ${clientId}`);
      // Anything beyond what is expected comes right behind it: one more round trip lets it show.
      await client.subscribeAsync(`acks-${run}/none`, { qos: 1 });
    } finally {
      await client.endAsync();
    }
    return received;
  }

  it('handles every message while their PUBACKs are held, past max_inflight_messages; killed, it leaves them all to the next consumer', async () => {
    const store = new TestStore();
    const handled: number[] = [];
    const clientId = `acks-kill-${run}`;
    await subscriber(clientId, store, `mqtt://127.0.0.1:${proxy.port}`, handled);
    await publish(0, N);
    await eventually(() => (handled.length === N ? true : undefined), 20_000, 'every message handled with no PUBACK sent');
    expect(store.acknowledgedAfterWrite).toEqual([]);

    proxy.cut();
    const again = await consumeSession(clientId, N);
    proxy.restore();
    expect(again.map((m) => m.payload)).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(again.every((m) => m.dup)).toBe(true);
  }, 60_000);

  it('acknowledges what is stored, in order; closing waits for the rest and leaves what arrives meanwhile to the next consumer', async () => {
    const store = new TestStore();
    const handled: number[] = [];
    const clientId = `acks-close-${run}`;
    const first = await subscriber(clientId, store, `mqtt://127.0.0.1:${proxy.port}`, handled);
    // In two halves, so that no read of the socket holds messages of both.
    await publish(0, N / 2);
    await eventually(() => (handled.length === N / 2 ? true : undefined), 20_000, 'the first half handled');
    await publish(N / 2, N / 2);
    await eventually(() => (handled.length === N ? true : undefined), 20_000, 'every message handled');

    store.write(N / 2);
    expect(store.acknowledgedAfterWrite.reduce((a, b) => a + b, 0)).toBe(N / 2);

    const closing = first.close();
    await publish(N, 100);
    store.write(N);
    await closing;
    await brokerDoneWithProxiedConnections();
    expect(store.acknowledgedAfterWrite.reduce((a, b) => a + b, 0)).toBe(N);
    expect(handled).toEqual(Array.from({ length: N }, (_, i) => i));

    const left = await consumeSession(clientId, 100);
    expect(left.map((m) => m.payload)).toEqual(Array.from({ length: 100 }, (_, i) => N + i));
  }, 60_000);

  it('after a dropped connection, acknowledges the messages sent again without handling them twice', async () => {
    const store = new TestStore();
    const handled: number[] = [];
    const clientId = `acks-drop-${run}`;
    const s = await connectIngest({
      url: `mqtt://127.0.0.1:${proxy.port}`, topic, clientId, protocolVersion: 5, acks: store,
      onMessage: (_t, payload) => {
        handled.push(Number(payload));
        store.handed += 1;
      },
    });
    try {
      await publish(0, 500);
      await eventually(() => (handled.length === 500 ? true : undefined), 20_000, 'every message handled');
      proxy.cut();
      await eventually(() => (s.connected() ? undefined : true), 20_000, 'the subscriber cut off');
      proxy.restore();
      await eventually(() => (s.connected() ? true : undefined), 20_000, 'the subscriber reconnected');
      // Handled before the drop, so stored as far as this process knows: what comes again is acknowledged
      // as it arrives (a message handled twice would move the mark past 500 and hold it).
      store.write(500);
      await eventually(() => (store.acknowledgedAfterWrite.reduce((a, b) => a + b, 0) === 500 ? true : undefined), 20_000, 'the messages sent again acknowledged');
      expect(handled).toHaveLength(500);
      await publish(500, 10);
      store.write(510);
      await eventually(() => (handled.length >= 510 ? true : undefined), 20_000, 'the new messages handled');
      expect(handled).toEqual(Array.from({ length: 510 }, (_, i) => i));
    } finally {
      await s.close();
    }
    await brokerDoneWithProxiedConnections();
    expect(await consumeSession(clientId, 0)).toEqual([]);
  }, 60_000);
});

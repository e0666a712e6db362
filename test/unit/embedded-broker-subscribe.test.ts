/**
 * The embedded broker's in-process subscription (what ingest uses instead of an
 * MQTT connection to its own broker): matching messages arrive with their
 * topic and payload, retained ones first, a device's QoS 1 publish is
 * acknowledged once the function has taken it, and unsubscribing stops it.
 */
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../server/src/adapters/aedes/embedded-broker.ts';

describe('EmbeddedBroker.subscribe (in process)', () => {
  let broker: EmbeddedBroker | undefined;
  let client: mqtt.MqttClient | undefined;
  afterEach(async () => {
    await client?.endAsync();
    await broker?.close();
  });

  it('delivers retained and live messages under the filter, acknowledged after delivery, until unsubscribed', async () => {
    broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1' });
    client = await mqtt.connectAsync(broker.url, { clientId: 'device-1' });
    await client.publishAsync('estate/s/A/elevator/E-1/status', 'online', { qos: 1, retain: true });
    await client.publishAsync('estate/s/B/elevator/E-2/status', 'online', { qos: 1, retain: true });

    const got: string[] = [];
    const unsubscribe = await broker.subscribe('estate/s/A/#', (topic, payload) => {
      expect(Buffer.isBuffer(payload)).toBe(true);
      got.push(`${topic} ${payload.toString()}`);
    });
    expect(got).toEqual(['estate/s/A/elevator/E-1/status online']);

    // publishAsync resolves on the PUBACK, which the broker sends once the subscriber has the message.
    await client.publishAsync('estate/s/A/elevator/E-1/telemetry', '{"v":1}', { qos: 1 });
    await client.publishAsync('estate/s/B/elevator/E-2/telemetry', '{"v":1}', { qos: 1 });
    expect(got).toEqual(['estate/s/A/elevator/E-1/status online', 'estate/s/A/elevator/E-1/telemetry {"v":1}']);

    await unsubscribe();
    await client.publishAsync('estate/s/A/elevator/E-1/telemetry', '{"v":2}', { qos: 1 });
    expect(got).toHaveLength(2);
  });
});

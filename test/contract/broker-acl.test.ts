/**
 * The embedded broker's device accounts and ACL, through the whole server
 * (aedes as `npm start` runs it): devices and concentrators log in with their
 * derived passwords and publish under their own topics only; spoofed topics are
 * refused and counted in /api/health; the simulators' fleet gets in with its
 * accounts. (The production Mosquitto's ACL: test/contract/mosquitto-acl.test.ts.)
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concentratorOf, isMeter } from '../../server/src/auth/broker-accounts.ts';
import type { Device } from '../../server/src/catalogue/types.ts';
import { deviceTopic } from '../../server/src/contract.ts';
import type { DeviceView, HealthView } from '../../server/src/routes/api-types.ts';
import { eventually, startTestServer, type TestServer } from '../support/app.ts';

const TINY_SITE = new URL('../fixtures/tiny-site.json', import.meta.url).pathname;

describe('embedded broker: device accounts and ACL', () => {
  let server: TestServer;
  const clients: MqttClient[] = [];
  let devices: readonly Device[];

  beforeAll(async () => {
    server = await startTestServer({ SITE_FILE: TINY_SITE });
    devices = server.app.site.site.devices;
  });
  afterAll(async () => {
    for (const client of clients) client.end(true);
    await server?.close();
  });

  async function connect(options: IClientOptions): Promise<MqttClient> {
    const client = await mqtt.connectAsync(server.app.broker.url, { clientId: `acl-${randomBytes(4).toString('hex')}`, reconnectPeriod: 0, connectTimeout: 5_000, ...options });
    clients.push(client);
    return client;
  }
  const asAccount = (username: string) => connect(server.mqttCredentials(username));
  const topicOf = (d: Device, channel: 'telemetry' | 'status' = 'telemetry') => deviceTopic(server.app.site.site.id, d.plotId, d.kind, d.id, channel);
  const reading = (m: Record<string, number | boolean>) => JSON.stringify({ v: 1, ts: Date.now(), seq: 1, m });
  const health = async () => (await server.request({ url: '/api/health', as: null })).json() as HealthView;
  const stateOf = async (id: string) => ((await server.request({ url: `/api/devices/${id}` })).json() as DeviceView).state;
  /** Resolves when the broker has closed the client's connection. */
  const closed = (client: MqttClient) => new Promise<void>((resolve) => (client.disconnected || !client.connected ? resolve() : client.once('close', () => resolve())));

  it('takes a device\'s reading under its own topic', async () => {
    const pump = devices.find((d) => d.kind === 'booster-pump')!;
    const client = await asAccount(pump.id);
    await client.publishAsync(topicOf(pump), reading({ running: true, pressure_mpa: 0.45, current_a: 30 }), { qos: 1 });
    await eventually(async () => ((await stateOf(pump.id)).values.pressure_mpa === 0.45 ? true : undefined), 5_000, 'the pump reading');
  });

  it('refuses and counts a device publishing under another device\'s topic, and disconnects it', async () => {
    const [pump, other] = devices.filter((d) => d.kind === 'booster-pump');
    const before = (await health()).broker.refused!.publish;
    const spoofer = await asAccount(pump!.id);
    const gone = closed(spoofer);
    spoofer.publish(topicOf(other!), reading({ running: false, pressure_mpa: 0.01, current_a: 0 }), { qos: 1 });
    await gone;
    const after = await health();
    expect(after.broker.refused!.publish).toBe(before + 1);
    expect((await stateOf(other!.id)).values.pressure_mpa).toBeUndefined();
  });

  it('refuses a wrong password, an unknown device and an anonymous client at CONNACK, and counts them', async () => {
    const pump = devices.find((d) => d.kind === 'booster-pump')!;
    const before = (await health()).broker.refused!.connect;
    await expect(connect({ username: pump.id, password: 'guess' })).rejects.toMatchObject({ code: 4 });
    await expect(connect({ ...server.mqttCredentials('NOT-IN-CATALOGUE') })).rejects.toMatchObject({ code: 4 });
    await expect(connect({})).rejects.toMatchObject({ code: 4 });
    expect((await health()).broker.refused!.connect).toBe(before + 3);
  });

  it('lets a device subscribe to nothing, not even its own topic', async () => {
    const pump = devices.find((d) => d.kind === 'booster-pump')!;
    const client = await asAccount(pump.id);
    const before = (await health()).broker.refused!.subscribe;
    // SUBACK 0x80 (failure) for each filter; mqtt.js rejects on it.
    await expect(client.subscribeAsync(['estate/#', topicOf(pump)], { qos: 0 })).rejects.toThrow(/Subscribe error/);
    expect((await health()).broker.refused!.subscribe).toBe(before + 2);
  });

  it('lets a concentrator publish for its building\'s meters only', async () => {
    const meters = devices.filter(isMeter);
    const own = meters.find((m) => m.buildingId === 'T-01' && m.kind === 'water-meter')!;
    const foreign = meters.find((m) => m.buildingId === 'T-02')!;
    const concentrator = await asAccount(concentratorOf(own));
    await concentrator.publishAsync(topicOf(own), reading({ volume_m3: 12.5 }), { qos: 1 });
    await eventually(async () => ((await stateOf(own.id)).values.volume_m3 === 12.5 ? true : undefined), 5_000, 'the meter reading');
    const gone = closed(concentrator);
    concentrator.publish(topicOf(foreign), reading({ volume_m3: 99 }), { qos: 1 });
    await gone;
    expect((await stateOf(foreign.id)).values.volume_m3).toBeUndefined();
  });
});

describe('embedded broker: the simulators log in with their accounts', () => {
  it('runs the fleet with per-device and concentrator accounts and no refusals', async () => {
    const server = await startTestServer({ SITE_FILE: TINY_SITE, SIMULATE: 'true', SIM_SPEED: '600' });
    try {
      const health = await eventually(async () => {
        const view = (await server.request({ url: '/api/health', as: null })).json() as HealthView;
        return view.ingest.accepted > 50 ? view : undefined;
      }, 15_000, 'simulated readings');
      expect(health.broker.refused).toEqual({ connect: 0, publish: 0, subscribe: 0 });
      expect(health.ingest.rejected).toBe(0);
    } finally {
      await server.close();
    }
  });
});

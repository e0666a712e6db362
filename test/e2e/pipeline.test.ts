/**
 * One honest path through every layer: a device publishes over MQTT → ingest
 * validates it → the API shows the latest value and the stored series → a
 * socket.io client receives the coalesced push. Runs on the embedded engines
 * (aedes + PGlite) always, and on real Mosquitto + PostgreSQL when
 * TEST_MQTT_URL and TEST_DATABASE_URL are set.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blueValleySpec } from '../../server/src/catalogue/load.ts';
import type { ClientToServerEvents, DeviceState, ServerToClientEvents } from '../../server/src/push/events.ts';
import type { CursorPage, DeadLetterView, DeviceView, HealthView, ReadingsView } from '../../server/src/routes/api-types.ts';
import { eventually, startTestServer, type TestServer } from '../support/app.ts';
import { createTempDatabase, type TempDatabase } from '../support/postgres.ts';

interface Variant { name: string; real: boolean }
const variants: Variant[] = [{ name: 'embedded (aedes + PGlite)', real: false }];
if (process.env.TEST_MQTT_URL && process.env.TEST_DATABASE_URL) variants.push({ name: 'real (Mosquitto + PostgreSQL)', real: true });

describe.each(variants)('ingest → store → API → push, $name', ({ real }) => {
  let server: TestServer;
  /** One MQTT connection per device, each with its own broker account (the embedded broker's ACL; the test Mosquitto is anonymous). */
  const devices = new Map<string, MqttClient>();
  const device = async (id: string): Promise<MqttClient> => {
    let client = devices.get(id);
    if (!client) {
      client = await mqtt.connectAsync(server.app.broker.url, { clientId: `e2e-${id}-${randomBytes(4).toString('hex')}`, ...server.mqttCredentials(id) });
      devices.set(id, client);
    }
    return client;
  };
  let socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  let siteId = 'blue-valley';
  let tempDir: string | undefined;
  let database: TempDatabase | undefined;
  const pushed: DeviceState[] = [];
  let headers: Record<string, string> = {};

  beforeAll(async () => {
    const env: Record<string, string> = {};
    if (real) {
      // A site id and share group of our own, so parallel runs on the shared broker never see each other's traffic.
      const suffix = randomBytes(4).toString('hex');
      siteId = `bv-e2e-${suffix}`;
      const spec = blueValleySpec();
      tempDir = await mkdtemp(path.join(tmpdir(), 'ew-e2e-'));
      const siteFile = path.join(tempDir, 'site.json');
      await writeFile(siteFile, JSON.stringify({ ...spec, site: { ...spec.site, id: siteId } }));
      database = await createTempDatabase(process.env.TEST_DATABASE_URL!);
      Object.assign(env, { SITE_FILE: siteFile, MQTT_URL: process.env.TEST_MQTT_URL!, MQTT_SHARE_GROUP: `e2e${suffix}`, DATABASE_URL: database.url });
    }
    server = await startTestServer(env);
    headers = await server.headersFor('operator');
    socket = connectSocket(server.baseUrl, { transports: ['websocket'], extraHeaders: headers });
    socket.on('devices:update', (states) => pushed.push(...states));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
  });

  afterAll(async () => {
    socket?.disconnect();
    await Promise.all([...devices.values()].map((client) => client.endAsync()));
    await server?.close();
    await database?.drop();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  });

  const topic = (plot: string, kind: string, id: string, channel: string) => `estate/${siteId}/${plot}/${kind}/${id}/${channel}`;

  it('shows a published reading in the API, in the stored series and in a push', async () => {
    const ts = Date.now() - 60_000;
    await (await device('BP-A-1')).publishAsync(topic('A', 'booster-pump', 'BP-A-1', 'status'), 'online', { qos: 1, retain: true });
    await (await device('BP-A-1')).publishAsync(
      topic('A', 'booster-pump', 'BP-A-1', 'telemetry'),
      JSON.stringify({ v: 1, ts: new Date(ts).toISOString(), seq: 1, m: { running: true, pressure_mpa: 0.46, current_a: 31.5 } }),
      { qos: 1 },
    );

    const view = await eventually(async () => {
      const response = await fetch(`${server.baseUrl}/api/devices/BP-A-1`, { headers });
      const body = (await response.json()) as DeviceView;
      return body.state.values.pressure_mpa === 0.46 ? body : undefined;
    }, 10_000, 'the reading in /api/devices/BP-A-1');
    expect(view.state).toMatchObject({ status: 'online', ts, values: { running: true, pressure_mpa: 0.46, current_a: 31.5 } });

    const pushedState = await eventually(() => pushed.find((s) => s.id === 'BP-A-1' && s.values.pressure_mpa === 0.46), 5_000, 'the socket.io push');
    expect(pushedState.status).toBe('online');

    const hour = 3_600_000;
    const from = Math.floor(ts / hour) * hour;
    const series = await eventually(async () => {
      const response = await fetch(`${server.baseUrl}/api/devices/BP-A-1/readings?metric=pressure_mpa&from=${from}&to=${from + 2 * hour}&every=1h&agg=max`, { headers });
      expect(response.status).toBe(200);
      const body = (await response.json()) as ReadingsView;
      return body.buckets.some((b) => b.value === 0.46) ? body : undefined;
    }, 10_000, 'the stored reading');
    expect(series.buckets.map((b) => b.value)).toEqual([0.46, null]);
  });

  it('turns bad messages into counted dead letters with specific reasons, and keeps ingesting', async () => {
    await (await device('BP-A-1')).publishAsync(topic('A', 'booster-pump', 'BP-A-1', 'telemetry'), 'not json at all', { qos: 1 });
    // A device missing from the catalogue has no account on the embedded broker (test/contract/broker-acl.test.ts); the anonymous test Mosquitto lets it in.
    if (real) await (await device('BP-NOPE')).publishAsync(topic('A', 'booster-pump', 'BP-NOPE', 'telemetry'), JSON.stringify({ v: 1, ts: Date.now(), seq: 1, m: { pressure_mpa: 0.4 } }), { qos: 1 });
    await (await device('BP-A-2')).publishAsync(topic('A', 'booster-pump', 'BP-A-2', 'telemetry'), JSON.stringify({ v: 1, ts: Date.now(), seq: 1, m: { pressure_mpa: 9.9 } }), { qos: 1 });
    await (await device('BP-A-3')).publishAsync(topic('A', 'booster-pump', 'BP-A-3', 'telemetry'), JSON.stringify({ v: 1, ts: Date.now(), seq: 1, m: { pressure_mpa: 0.44 } }), { qos: 1 });
    const reasons = real ? ['not-json', 'out-of-range', 'unknown-device'] : ['not-json', 'out-of-range'];

    const letters = await eventually(async () => {
      const body = (await (await fetch(`${server.baseUrl}/api/ingest/dead-letters?limit=10`, { headers })).json()) as CursorPage<DeadLetterView>;
      return body.items.length >= reasons.length ? body : undefined;
    }, 10_000, 'the dead letters');
    expect(letters.items.map((l) => l.reason).sort()).toEqual(reasons);
    expect(letters.items.find((l) => l.reason === 'out-of-range')?.detail).toMatch(/pressure_mpa/);

    const good = await eventually(async () => {
      const body = (await (await fetch(`${server.baseUrl}/api/devices/BP-A-3`, { headers })).json()) as DeviceView;
      return body.state.values.pressure_mpa === 0.44 ? body : undefined;
    }, 10_000, 'the good reading after the bad ones');
    expect(good.id).toBe('BP-A-3');

    const health = (await (await fetch(`${server.baseUrl}/api/health`, { headers })).json()) as HealthView;
    expect(health.status).toBe('ok');
    expect(health.ingest.byReason).toMatchObject(Object.fromEntries(reasons.map((r) => [r, 1])));
    expect(health.broker).toMatchObject({ ok: true, embedded: !real });
    expect(health.database.engine).toBe(real ? 'postgres' : 'pglite');
  });
});

/**
 * Fault: a flood of 10,000 malformed messages (not JSON, unknown devices) on
 * the same partitions as valid telemetry. Every malformed one becomes a
 * counted dead letter, every valid reading is stored, and the valid ones are
 * delayed only by the time it takes to reject what is ahead of them. The
 * delay is measured and printed (not asserted: no timed assertions).
 *
 * A private Mosquitto and real PostgreSQL; runs when TEST_MQTT_URL and TEST_DATABASE_URL are set.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestServer, type TestServer } from '../support/app.ts';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.ts';
import { createTempDatabase, type TempDatabase } from '../support/postgres.ts';
import { uniqueSiteFile } from '../support/server-process.ts';

const REAL = Boolean(process.env.TEST_MQTT_URL && process.env.TEST_DATABASE_URL);
const FLOOD = 10_000;
const PUMPS = ['A', 'B', 'C'].map((plot) => ({ id: `BP-${plot}-1`, plot }));

const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

describe.runIf(REAL)('a flood of 10,000 malformed messages', () => {
  const siteId = `bv-flood-${randomBytes(3).toString('hex')}`;
  let broker: TestMosquitto;
  let database: TempDatabase;
  let site: Awaited<ReturnType<typeof uniqueSiteFile>>;
  let server: TestServer;
  let valid: MqttClient;
  let flooder: MqttClient;
  /** Per `${device}/${seq}`: when it was published and when the server accepted it. */
  const sentAt = new Map<string, number>();
  const acceptedAt = new Map<string, number>();
  let seq = 0;

  beforeAll(async () => {
    broker = await startMosquitto();
    database = await createTempDatabase(process.env.TEST_DATABASE_URL!);
    site = await uniqueSiteFile(siteId);
    server = await startTestServer({ MQTT_URL: broker.url, DATABASE_URL: database.url, SITE_FILE: site.file, MQTT_SHARE_GROUP: `flood${siteId.slice(-6)}` });
    server.app.ingest.onAccepted((m) => { if (m.kind === 'telemetry') acceptedAt.set(`${m.device.id}/${m.reading.seq}`, Date.now()); });
    valid = await mqtt.connectAsync(broker.url, { clientId: `valid-${siteId}` });
    flooder = await mqtt.connectAsync(broker.url, { clientId: `flooder-${siteId}` });
  }, 90_000);

  afterAll(async () => {
    await valid?.endAsync();
    await flooder?.endAsync();
    await server?.close();
    await broker?.close();
    await database?.drop();
    await site?.remove();
  });

  /** Publishes one valid reading per pump every 20 ms until `until` resolves; returns the keys sent. */
  async function validTraffic(until: Promise<unknown>): Promise<string[]> {
    const keys: string[] = [];
    let done = false;
    void until.then(() => { done = true; });
    const t0 = Date.now() - 3_600_000;
    while (!done) {
      seq += 1;
      for (const pump of PUMPS) {
        const key = `${pump.id}/${seq}`;
        sentAt.set(key, Date.now());
        keys.push(key);
        void valid.publishAsync(`estate/${siteId}/${pump.plot}/booster-pump/${pump.id}/telemetry`, JSON.stringify({ v: 1, ts: t0 + seq * 1000, seq, m: { running: true, pressure_mpa: 0.42 } }), { qos: 1 });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return keys;
  }

  const delays = (keys: readonly string[]) => keys.map((k) => acceptedAt.get(k)! - sentAt.get(k)!).sort((a, b) => a - b);

  it('rejects and records every malformed one, stores every valid one, and says how long the valid ones waited', async () => {
    const quietKeys = await validTraffic(new Promise((r) => setTimeout(r, 2_000)));
    await eventually(() => (quietKeys.every((k) => acceptedAt.has(k)) ? true : undefined), 20_000, 'the valid readings before the flood');

    const flood = (async () => {
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < FLOOD; i++) {
        const pump = PUMPS[i % PUMPS.length]!;
        sends.push(i % 2 === 0
          ? flooder.publishAsync(`estate/${siteId}/${pump.plot}/booster-pump/${pump.id}/telemetry`, `{"v":1,"ts":${i},"seq":`, { qos: 1 })
          : flooder.publishAsync(`estate/${siteId}/${pump.plot}/booster-pump/BP-NOPE-${i}/telemetry`, JSON.stringify({ v: 1, ts: Date.now(), seq: i, m: { running: true } }), { qos: 1 }));
      }
      await Promise.all(sends);
      await eventually(() => (server.app.ingest.counters.rejected >= FLOOD ? true : undefined), 60_000, 'every malformed message rejected');
    })();
    const floodKeys = await validTraffic(flood);
    await eventually(() => (floodKeys.every((k) => acceptedAt.has(k)) ? true : undefined), 30_000, 'the valid readings during the flood');

    expect(server.app.ingest.counters.rejected).toBe(FLOOD);
    expect(server.app.ingest.counters.byReason).toMatchObject({ 'not-json': FLOOD / 2, 'unknown-device': FLOOD / 2 });
    await server.app.ingest.deadLetterWriter.drain();
    await server.app.telemetry.writer.drain();
    const sql = postgres(database.url, { onnotice: () => {}, max: 1 });
    try {
      expect((await sql`select count(*)::int as n from dead_letters`)[0]!.n).toBe(FLOOD);
      const stored = (await sql`select device_id, seq::int as seq from readings where device_id in ${sql(PUMPS.map((p) => p.id))}`).map((r) => `${r.device_id}/${r.seq}`);
      expect(new Set(stored)).toEqual(new Set([...quietKeys, ...floodKeys]));
    } finally {
      await sql.end({ timeout: 5 });
    }

    const quiet = delays(quietKeys);
    const flooded = delays(floodKeys);
    console.info(`malformed flood: ${FLOOD} rejected; valid readings publish→accepted without flood p50 ${quantile(quiet, 0.5)} ms, max ${quiet.at(-1)} ms; ` +
      `during the flood (${floodKeys.length} readings) p50 ${quantile(flooded, 0.5)} ms, p99 ${quantile(flooded, 0.99)} ms, max ${flooded.at(-1)} ms`);
  }, 120_000);
});

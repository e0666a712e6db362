/**
 * Fault: the MQTT broker restarts mid-stream. The server's partitions hold
 * persistent sessions (clean: false, stable client ids) and the devices
 * publish QoS 1, so counted by each device's seq nothing is lost: what the
 * broker held for the server survives in its persistence file, what the
 * devices had not got acknowledged they send again.
 *
 * A Mosquitto of the test's own (the machine's is shared and must not be
 * restarted), real PostgreSQL. Runs when TEST_MQTT_URL and TEST_DATABASE_URL are set.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestServer, type TestServer } from '../support/app.ts';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.ts';
import { createTempDatabase, type TempDatabase } from '../support/postgres.ts';
import { uniqueSiteFile } from '../support/server-process.ts';
import { PUMPS, SeqStream, seqProblems, storedSeqs } from '../support/seq-stream.ts';

const REAL = Boolean(process.env.TEST_MQTT_URL && process.env.TEST_DATABASE_URL);

describe.runIf(REAL)('the broker restarts mid-stream', () => {
  const siteId = `bv-restart-${randomBytes(3).toString('hex')}`;
  let broker: TestMosquitto;
  let database: TempDatabase;
  let site: Awaited<ReturnType<typeof uniqueSiteFile>>;
  let server: TestServer;
  let stream: SeqStream;

  beforeAll(async () => {
    broker = await startMosquitto();
    database = await createTempDatabase(process.env.TEST_DATABASE_URL!);
    site = await uniqueSiteFile(siteId);
    server = await startTestServer({ MQTT_URL: broker.url, DATABASE_URL: database.url, SITE_FILE: site.file, MQTT_SHARE_GROUP: `restart${siteId.slice(-6)}` });
    stream = new SeqStream(broker.url, siteId, PUMPS, `devices-${siteId}`);
    await stream.connect();
  }, 90_000);

  afterAll(async () => {
    await stream?.close().catch(() => {});
    await server?.close();
    await broker?.close();
    await database?.drop();
    await site?.remove();
  });

  it('loses no reading, counted by each device\'s seq', async () => {
    stream.start(400);
    await new Promise((r) => setTimeout(r, 2_000));
    const before = stream.total();
    await broker.restart(2_000);
    await new Promise((r) => setTimeout(r, 2_000));
    await stream.stop();
    const sent = stream.total();
    expect(sent).toBeGreaterThan(before);

    await eventually(async () => (server.app.ingest.counters.accepted >= sent ? true : undefined), 30_000, 'every message at the server');
    await server.app.telemetry.writer.drain();
    const problems = seqProblems(stream.sent, await storedSeqs(database.url, PUMPS.map((p) => p.id)));
    expect(problems).toEqual({});
    // Each message once: a QoS 1 redelivery may arrive twice, but is stored once (the readings key).
    console.info(`broker restart: ${sent} readings sent (${before} before the restart), all stored; ${server.app.ingest.counters.accepted} deliveries`);
  }, 90_000);
});

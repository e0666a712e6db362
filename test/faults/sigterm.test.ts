/**
 * Graceful shutdown: SIGTERM in the middle of a stream flushes every buffer —
 * readings, dead letters, alarms, each partition's engine snapshot — and
 * gives the partition leases back, before the process exits 0. The messages
 * the broker still held for the server's sessions are delivered to the next
 * start, so counted by seq nothing is lost across the stop; a lost buffer
 * would show as missing seqs.
 *
 * The server runs as its own process; a private Mosquitto and real
 * PostgreSQL. Runs when TEST_MQTT_URL and TEST_DATABASE_URL are set.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/app.ts';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.ts';
import { createTempDatabase, type TempDatabase } from '../support/postgres.ts';
import { startServerProcess, uniqueSiteFile, type ServerProcess } from '../support/server-process.ts';
import { PUMPS, SeqStream, seqProblems, storedSeqs } from '../support/seq-stream.ts';

const REAL = Boolean(process.env.TEST_MQTT_URL && process.env.TEST_DATABASE_URL);
const ELEVATOR = 'EL-C-01-1';
const FAULT = `${ELEVATOR}:elevator.fault`;
const MALFORMED = 300;

describe.runIf(REAL)('SIGTERM mid-stream', () => {
  const siteId = `bv-term-${randomBytes(3).toString('hex')}`;
  let broker: TestMosquitto;
  let database: TempDatabase;
  let site: Awaited<ReturnType<typeof uniqueSiteFile>>;
  let env: Record<string, string>;
  let server: ServerProcess | undefined;
  let stream: SeqStream;
  let other: MqttClient;
  let sql: postgres.Sql;

  beforeAll(async () => {
    broker = await startMosquitto();
    database = await createTempDatabase(process.env.TEST_DATABASE_URL!);
    site = await uniqueSiteFile(siteId);
    env = { MQTT_URL: broker.url, DATABASE_URL: database.url, SITE_FILE: site.file, MQTT_SHARE_GROUP: `term${siteId.slice(-6)}`, LOG_LEVEL: 'info' };
    stream = new SeqStream(broker.url, siteId, PUMPS, `devices-${siteId}`);
    await stream.connect();
    other = await mqtt.connectAsync(broker.url, { clientId: `other-${siteId}` });
    sql = postgres(database.url, { onnotice: () => {}, max: 2 });
  }, 60_000);

  afterAll(async () => {
    await server?.kill('SIGTERM');
    await stream?.close().catch(() => {});
    await other?.endAsync();
    await sql?.end({ timeout: 5 });
    await broker?.close();
    await database?.drop();
    await site?.remove();
  });

  it('flushes every buffer and gives the leases back; the next start receives the rest, and nothing is lost', async () => {
    server = await startServerProcess(env);
    stream.start(1_500);
    await new Promise((r) => setTimeout(r, 1_500));
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < MALFORMED; i++) sends.push(other.publishAsync(`estate/${siteId}/A/booster-pump/BP-A-1/telemetry`, `not json ${i}`, { qos: 1 }));
    sends.push(other.publishAsync(`estate/${siteId}/C/elevator/${ELEVATOR}/telemetry`,
      JSON.stringify({ v: 1, ts: Date.now() - 1_000, seq: 1, m: { fault_code: 17, floor: 4, door: 'closed' } }), { qos: 1 }));
    await Promise.all(sends);
    await new Promise((r) => setTimeout(r, 300));

    const exit = await server.kill('SIGTERM');
    const firstOutput = server.output();
    expect(exit, firstOutput).toEqual({ code: 0, signal: null });
    // Given back, not left to expire: another instance could take them at once.
    const leases = await sql`select partition, expires_at <= now() as ended from partition_leases where partition like ${`${siteId}/%`} order by partition`;
    expect(leases.map((l) => [l.partition, l.ended])).toEqual(['A', 'B', 'C'].map((p) => [`${siteId}/${p}`, true]));
    const snapshots = await sql`select site_id from alarm_engine_state where site_id like ${`${siteId}/%`} order by site_id`;
    expect(snapshots.map((s) => s.site_id)).toEqual(['A', 'B', 'C'].map((p) => `${siteId}/${p}`));
    const storedAtStop = (await sql`select count(*)::int as n from readings`)[0]!.n as number;
    const deadAtStop = (await sql`select count(*)::int as n from dead_letters`)[0]!.n as number;
    const alarmAtStop = (await sql`select count(*)::int as n from alarms where id = ${FAULT}`)[0]!.n as number;

    server = await startServerProcess(env);
    await new Promise((r) => setTimeout(r, 1_000));
    await stream.stop();
    const sent = stream.total();
    await eventually(async () => (Object.keys(seqProblems(stream.sent, await storedSeqs(database.url, PUMPS.map((p) => p.id)))).length === 0 ? true : undefined),
      30_000, 'every reading stored').catch(async (error: unknown) => {
      console.error(seqProblems(stream.sent, await storedSeqs(database.url, PUMPS.map((p) => p.id))));
      throw error;
    });
    await eventually(async () => ((await sql`select count(*)::int as n from dead_letters`)[0]!.n === MALFORMED ? true : undefined), 20_000, 'every dead letter stored');
    expect((await sql`select count(*)::int as n from alarm_events where alarm_id = ${FAULT} and type = 'alarm-raised'`)[0]!.n).toBe(1);
    console.info(`SIGTERM: ${sent} readings sent, ${storedAtStop} stored by the first process (its buffers flushed at exit), ` +
      `${deadAtStop}/${MALFORMED} dead letters and ${alarmAtStop} alarm row at exit; the rest delivered to the next start; nothing lost`);
  }, 120_000);
});

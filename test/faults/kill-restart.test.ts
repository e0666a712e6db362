/**
 * Fault: the server process is killed (SIGKILL: no shutdown hook runs) and
 * started again. Its alarms and tickets are as they were — the acknowledged
 * alarm still acknowledged, one ticket — and the fault returning afterwards
 * attaches to that ticket instead of raising a second one. Killed while
 * devices stream, it loses no reading: messages are acknowledged to the broker
 * only once stored, so what it had not written comes again to the restarted
 * server, and the readings' primary key stores each seq once.
 *
 * The server runs as its own process (node --import tsx server/src/main.ts)
 * on a private Mosquitto and real PostgreSQL; runs when TEST_MQTT_URL and TEST_DATABASE_URL are set.
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
import type { HealthView } from '../../server/src/routes/api-types.ts';

const REAL = Boolean(process.env.TEST_MQTT_URL && process.env.TEST_DATABASE_URL);
const ELEVATOR = 'EL-B-01-1';
const FAULT = `${ELEVATOR}:elevator.fault`;

describe.runIf(REAL)('the server is killed and restarted', () => {
  const siteId = `bv-kill-${randomBytes(3).toString('hex')}`;
  let broker: TestMosquitto;
  let database: TempDatabase;
  let site: Awaited<ReturnType<typeof uniqueSiteFile>>;
  let env: Record<string, string>;
  let server: ServerProcess | undefined;
  let device: MqttClient;
  let sql: postgres.Sql;
  let stream: SeqStream | undefined;
  let seq = 0;

  const fault = (code: number, agoMs: number) => device.publishAsync(`estate/${siteId}/B/elevator/${ELEVATOR}/telemetry`,
    JSON.stringify({ v: 1, ts: Date.now() - agoMs, seq: ++seq, m: { fault_code: code, floor: 4, door: 'closed' } }), { qos: 1 });
  const ticketsOfFault = async () => (await sql`select distinct ta.ticket_id from ticket_alarms ta where ta.alarm_id = ${FAULT}`).map((r) => Number(r.ticket_id));
  const raisedEvents = async () => (await sql`select count(*)::int as n from alarm_events where alarm_id = ${FAULT} and type = 'alarm-raised'`)[0]!.n as number;

  beforeAll(async () => {
    broker = await startMosquitto();
    database = await createTempDatabase(process.env.TEST_DATABASE_URL!);
    site = await uniqueSiteFile(siteId);
    env = { MQTT_URL: broker.url, DATABASE_URL: database.url, SITE_FILE: site.file, MQTT_SHARE_GROUP: `kill${siteId.slice(-6)}`, PARTITION_LEASE_S: '2' };
    sql = postgres(database.url, { onnotice: () => {}, max: 2 });
    device = await mqtt.connectAsync(broker.url, { clientId: `elevator-${siteId}` });
  }, 60_000);

  afterAll(async () => {
    await server?.kill('SIGTERM');
    await stream?.close().catch(() => {});
    await device?.endAsync();
    await sql?.end({ timeout: 5 });
    await broker?.close();
    await database?.drop();
    await site?.remove();
  });

  it('keeps the acknowledged alarm and its one ticket through a SIGKILL, and a returning fault attaches to that ticket', async () => {
    server = await startServerProcess(env);
    await fault(17, 60_000);
    await eventually(async () => ((await ticketsOfFault()).length > 0 ? true : undefined), 20_000, 'the ticket of the fault');
    const acked = await server.request('POST', `/api/alarms/${encodeURIComponent(FAULT)}/ack`, { comment: 'on it' });
    expect(acked.status).toBe(200);
    expect(acked.body).toMatchObject({ state: 'ack', count: 1 });
    const before = { alarm: (await sql`select state, count, ack_by from alarms where id = ${FAULT}`)[0], tickets: await ticketsOfFault(), raised: await raisedEvents() };

    expect(await server.kill('SIGKILL')).toMatchObject({ signal: 'SIGKILL' });
    server = await startServerProcess(env);
    const after = await server.request('GET', `/api/alarms/${encodeURIComponent(FAULT)}`);
    expect(after.body).toMatchObject({ state: 'ack', count: 1, acknowledged: { by: 'admin' } });
    expect((await sql`select state, count, ack_by from alarms where id = ${FAULT}`)[0]).toEqual(before.alarm);
    expect(await ticketsOfFault()).toEqual(before.tickets);
    expect(before.tickets).toHaveLength(1);
    expect(await raisedEvents()).toBe(1);

    // The restarted server owns the partition again and judges the same alarm: clear, then the fault returns.
    await fault(0, 40_000);
    await fault(17, 20_000);
    await eventually(async () => ((await sql`select count from alarms where id = ${FAULT}`)[0]?.count === 2 ? true : undefined), 20_000, 'the second activation');
    // The ticket service handles the stored activation right after it is written; give it a moment.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await ticketsOfFault()).toEqual(before.tickets);
    expect((await sql`select count(*)::int as n from tickets where device_id = ${ELEVATOR}`)[0]!.n).toBe(1);
    expect(await raisedEvents()).toBe(2);
  }, 150_000);

  it('loses no reading when killed mid-stream: after the restart every seq sent is stored, once', async () => {
    server ??= await startServerProcess(env);
    stream = new SeqStream(broker.url, siteId, PUMPS, `devices-${siteId}`);
    await stream.connect();
    stream.start(600);
    await eventually(async () => ((await storedSeqs(database.url, PUMPS.map((p) => p.id))).get(PUMPS[0]!.id)!.length > 100 ? true : undefined), 20_000, 'readings being stored');
    const health = (await (await fetch(`${server.baseUrl}/api/health`)).json()) as HealthView;
    // Acknowledging after the write, as it should with the database up: else this test would prove nothing.
    expect(health.timeSeries.acks).toMatchObject({ mode: 'after-write', onReceipt: 0 });
    expect(health.timeSeries.acks.afterWrite).toBeGreaterThan(0);

    expect(await server.kill('SIGKILL')).toMatchObject({ signal: 'SIGKILL' });
    const sentAtKill = stream.total();
    server = await startServerProcess(env);
    await new Promise((r) => setTimeout(r, 1_000));
    await stream.stop();

    const ids = PUMPS.map((p) => p.id);
    await eventually(async () => (Object.keys(seqProblems(stream!.sent, await storedSeqs(database.url, ids))).length === 0 ? true : undefined), 30_000, 'every reading stored')
      .catch(async (error: unknown) => { console.error(seqProblems(stream!.sent, await storedSeqs(database.url, ids))); throw error; });
    expect(seqProblems(stream.sent, await storedSeqs(database.url, ids))).toEqual({});
    console.info(`SIGKILL mid-stream: ${stream.total()} readings sent (${sentAtKill} before the kill), every one stored once`);
  }, 150_000);
});

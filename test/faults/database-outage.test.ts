/**
 * Fault: PostgreSQL is unreachable for 30 s (a TCP proxy in front of it is
 * cut: open connections die, new ones are refused). Readings keep arriving
 * and are buffered; an elevator fault during the outage is still raised and
 * pushed to the control room; when the database returns, every reading, the
 * alarm and its ticket are written. Meanwhile MQTT messages are acknowledged
 * on receipt (holding them would stop the broker, and the alarms with it), and
 * after the write again once the writes succeed.
 *
 * Real Mosquitto (a private one) and PostgreSQL; runs when TEST_MQTT_URL and TEST_DATABASE_URL are set.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import postgres from 'postgres';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmView, ClientToServerEvents, ServerToClientEvents } from '../../server/src/push/events.ts';
import { eventually, startTestServer, type TestServer } from '../support/app.ts';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.ts';
import { createTempDatabase, type TempDatabase } from '../support/postgres.ts';
import { uniqueSiteFile } from '../support/server-process.ts';
import { PUMPS, SeqStream, seqProblems, storedSeqs } from '../support/seq-stream.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

const REAL = Boolean(process.env.TEST_MQTT_URL && process.env.TEST_DATABASE_URL);
const OUTAGE_MS = 30_000;
const ELEVATOR = 'EL-A-01-1';
const FAULT = `${ELEVATOR}:elevator.fault`;

describe.runIf(REAL)('PostgreSQL unreachable for 30 s', () => {
  const siteId = `bv-dbout-${randomBytes(3).toString('hex')}`;
  let broker: TestMosquitto;
  let database: TempDatabase;
  let proxy: TcpProxy;
  let site: Awaited<ReturnType<typeof uniqueSiteFile>>;
  let server: TestServer;
  let stream: SeqStream;
  let device: MqttClient;
  let socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  const pushed: { at: number; alarm: AlarmView }[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
    database = await createTempDatabase(process.env.TEST_DATABASE_URL!);
    const direct = new URL(database.url);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const viaProxy = new URL(database.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    site = await uniqueSiteFile(siteId);
    server = await startTestServer({ MQTT_URL: broker.url, DATABASE_URL: viaProxy.toString(), SITE_FILE: site.file, MQTT_SHARE_GROUP: `dbout${siteId.slice(-6)}` });
    socket = connectSocket(server.baseUrl, { transports: ['websocket'], extraHeaders: await server.headersFor('operator') });
    socket.on('alarms:changed', (alarms) => { for (const alarm of alarms) pushed.push({ at: Date.now(), alarm }); });
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('connect_error', reject); });
    stream = new SeqStream(broker.url, siteId, PUMPS, `devices-${siteId}`);
    await stream.connect();
    device = await mqtt.connectAsync(broker.url, { clientId: `elevator-${siteId}` });
  }, 90_000);

  afterAll(async () => {
    socket?.disconnect();
    await device?.endAsync();
    await stream?.close().catch(() => {});
    await server?.close();
    await proxy?.close();
    await broker?.close();
    await database?.drop();
    await site?.remove();
  });

  it('buffers the readings, still raises and pushes the alarm, and writes everything when it returns', async () => {
    stream.start(200);
    await new Promise((r) => setTimeout(r, 1_000));
    proxy.cut();
    const cutAt = Date.now();
    await new Promise((r) => setTimeout(r, 2_000));

    await device.publishAsync(`estate/${siteId}/A/elevator/${ELEVATOR}/telemetry`,
      JSON.stringify({ v: 1, ts: Date.now() - 1_000, seq: 1, m: { fault_code: 17, floor: 4, door: 'closed' } }), { qos: 1 });
    // Raised by the engine and pushed while the database is still away.
    await eventually(() => (server.app.alarms.engine.alarm(FAULT)?.state === 'unack' ? true : undefined), 10_000, 'the alarm in the engine');
    const early = await eventually(() => pushed.find((p) => p.alarm.id === FAULT), 10_000, 'the alarm pushed during the outage');
    expect(early.at - cutAt).toBeLessThan(OUTAGE_MS);
    expect(server.app.telemetry.writer.stats.pending).toBeGreaterThan(0);
    expect(server.app.telemetry.writer.stats.lastError).not.toBeNull();
    expect(server.app.ingest.acks.stats.mode).toBe('on-receipt');
    await eventually(() => (server.app.ingest.acks.stats.onReceipt > 0 ? true : undefined), 10_000, 'messages acknowledged on receipt');

    await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - cutAt)));
    const buffered = server.app.telemetry.writer.stats.pending;
    proxy.restore();
    const restoredAt = Date.now();
    await stream.stop();
    const sent = stream.total();

    await eventually(async () => (server.app.ingest.counters.accepted >= sent + 1 ? true : undefined), 30_000, 'every message at the server');
    await eventually(async () => (server.app.telemetry.writer.stats.pending === 0 && server.app.telemetry.writer.stats.lastError === null ? true : undefined), 30_000, 'the readings written');
    await server.app.telemetry.writer.drain();
    expect(seqProblems(stream.sent, await storedSeqs(database.url, PUMPS.map((p) => p.id)))).toEqual({});
    const writtenAfterMs = Date.now() - restoredAt;
    // Acknowledged after the write again, once every writer (the alarms' too, in back-off up to 5 s) succeeds.
    await eventually(() => (server.app.ingest.acks.stats.mode === 'after-write' ? true : undefined), 15_000, 'acknowledging after the write again');
    const afterWrite = server.app.ingest.acks.stats.afterWrite;
    stream.start(100);
    await eventually(() => (server.app.ingest.acks.stats.afterWrite >= afterWrite + PUMPS.length ? true : undefined), 10_000, 'new messages acknowledged after the write');
    await stream.stop();

    const sql = postgres(database.url, { onnotice: () => {}, max: 1 });
    try {
      const ticket = await eventually(async () => {
        const rows = await sql`select t.id from tickets t join ticket_alarms ta on ta.ticket_id = t.id where ta.alarm_id = ${FAULT}`;
        return rows.length > 0 ? rows : undefined;
      }, 30_000, 'the ticket of the alarm');
      expect(ticket).toHaveLength(1);
      const [alarm] = await sql`select state, count from alarms where id = ${FAULT}`;
      expect(alarm).toMatchObject({ state: 'unack', count: 1 });
      const raised = await sql`select count(*)::int as n from alarm_events where alarm_id = ${FAULT} and type = 'alarm-raised'`;
      expect(raised[0]!.n).toBe(1);
    } finally {
      await sql.end({ timeout: 5 });
    }
    console.info(`database outage ${OUTAGE_MS / 1000} s: ${sent} readings sent, ${buffered} buffered at the end of the outage, all written ${writtenAfterMs} ms after it; alarm pushed ${early.at - cutAt} ms into the outage`);
  }, 150_000);
});

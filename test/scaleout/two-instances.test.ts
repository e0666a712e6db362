/**
 * Scale-out: two server processes, one Mosquitto, one PostgreSQL. The site's
 * three partitions (plots) are split between them by leases; each reading is
 * processed once and stored once; a fault raises one alarm and one ticket,
 * pushed to a socket.io client of the other instance, which can acknowledge
 * it there; an instance stopped or killed mid-stream hands its partitions to
 * the other, which goes on without losing a reading or opening a second ticket.
 *
 * A private Mosquitto (production queue limits) and real PostgreSQL; runs
 * when TEST_MQTT_URL and TEST_DATABASE_URL are set.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import postgres from 'postgres';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmView, ClientToServerEvents, PushedTicket, ServerToClientEvents } from '../../server/src/push/events.ts';
import type { HealthView } from '../../server/src/routes/api-types.ts';
import { eventually } from '../support/app.ts';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.ts';
import { createTempDatabase, type TempDatabase } from '../support/postgres.ts';
import { startServerProcess, uniqueSiteFile, type ServerProcess } from '../support/server-process.ts';
import { PUMPS, SeqStream, seqProblems, storedSeqs } from '../support/seq-stream.ts';

const REAL = Boolean(process.env.TEST_MQTT_URL && process.env.TEST_DATABASE_URL);
const LEASE_S = 2;

describe.runIf(REAL)('two instances, one broker, one database', () => {
  const siteId = `bv-scale-${randomBytes(3).toString('hex')}`;
  let broker: TestMosquitto;
  let database: TempDatabase;
  let site: Awaited<ReturnType<typeof uniqueSiteFile>>;
  let env: Record<string, string>;
  const servers: ServerProcess[] = [];
  let stream: SeqStream;
  let device: MqttClient;
  let sql: postgres.Sql;
  let socket: Socket<ServerToClientEvents, ClientToServerEvents> | undefined;
  let faultSeq = 0;

  /** Live lease owners by partition: the owner id carries the process id (`host-pid-random`). */
  const owners = async (): Promise<Map<string, number>> => {
    const rows = await sql`select partition, owner from partition_leases where partition like ${`${siteId}/%`} and expires_at > now()`;
    return new Map(rows.map((r) => [String(r.partition).split('/')[1]!, Number(String(r.owner).split('-').at(-2))]));
  };
  const split = async (pids: number[]) => {
    const byPlot = await owners();
    if (byPlot.size !== 3) return undefined;
    const used = new Set(byPlot.values());
    return pids.every((pid) => used.has(pid)) && [...used].every((pid) => pids.includes(pid)) ? byPlot : undefined;
  };
  const fault = (plot: string, code: number, agoMs: number) => device.publishAsync(`estate/${siteId}/${plot}/elevator/EL-${plot}-01-1/telemetry`,
    JSON.stringify({ v: 1, ts: Date.now() - agoMs, seq: ++faultSeq, m: { fault_code: code, floor: 2, door: 'closed' } }), { qos: 1 });
  const accepted = async (server: ServerProcess) => ((await (await fetch(`${server.baseUrl}/api/health`)).json()) as { ingest: { accepted: number } }).ingest.accepted;

  beforeAll(async () => {
    broker = await startMosquitto();
    database = await createTempDatabase(process.env.TEST_DATABASE_URL!);
    site = await uniqueSiteFile(siteId);
    env = { MQTT_URL: broker.url, DATABASE_URL: database.url, SITE_FILE: site.file, MQTT_SHARE_GROUP: `scale${siteId.slice(-6)}`, PARTITION_LEASE_S: String(LEASE_S) };
    sql = postgres(database.url, { onnotice: () => {}, max: 2 });
    // One after the other: the first migrates the database.
    servers.push(await startServerProcess(env));
    servers.push(await startServerProcess(env));
    stream = new SeqStream(broker.url, siteId, PUMPS, `devices-${siteId}`);
    await stream.connect();
    device = await mqtt.connectAsync(broker.url, { clientId: `elevators-${siteId}` });
  }, 120_000);

  afterAll(async () => {
    socket?.disconnect();
    await Promise.all(servers.map((s) => s.kill('SIGTERM')));
    await device?.endAsync();
    await stream?.close().catch(() => {});
    await sql?.end({ timeout: 5 });
    await broker?.close();
    await database?.drop();
    await site?.remove();
  });

  it('splits the three partitions between the two instances', async () => {
    const byPlot = await eventually(() => split(servers.map((s) => s.pid)), 20_000, 'both instances owning partitions');
    const counts = [...new Set(byPlot.values())].map((pid) => [...byPlot.values()].filter((p) => p === pid).length).sort();
    expect(counts).toEqual([1, 2]);
  });

  it('each instance\'s health names it and the partitions it owns, with the epoch and expiry of their leases', async () => {
    const healths = await Promise.all(servers.map(async (s) => (await (await fetch(`${s.baseUrl}/api/health`, { headers: await s.headers() })).json()) as HealthView));
    const rows = await sql`select partition, owner, epoch::int as epoch, (date_part('epoch', expires_at) * 1000)::float8 as expires_at
      from partition_leases where partition like ${`${siteId}/%`}`;
    const owned = healths.flatMap((h) => h.partitions.owned.map((lease) => ({ instance: h.instance, lease })));
    expect(owned.map((o) => o.lease.plotId).sort()).toEqual(['A', 'B', 'C']);
    healths.forEach((h, i) => {
      expect(h.instance?.split('-').at(-2)).toBe(String(servers[i]!.pid));
      expect(h.partitions.total).toBe(3);
    });
    for (const { instance, lease } of owned) {
      const row = rows.find((r) => r.partition === lease.id);
      expect(row, lease.id).toMatchObject({ owner: instance, epoch: lease.epoch });
      // The row may have been renewed again since the health was read, never shortened.
      expect(Number(row!.expires_at)).toBeGreaterThanOrEqual(Date.parse(lease.expiresAt));
    }
  });

  it('processes each reading once and stores it once', async () => {
    const before = (await accepted(servers[0]!)) + (await accepted(servers[1]!));
    await stream.publish(200, 900);
    const sent = stream.total();
    await eventually(async () => (Object.keys(seqProblems(stream.sent, await storedSeqs(database.url, PUMPS.map((p) => p.id)))).length === 0 ? true : undefined), 30_000, 'every reading stored');
    await eventually(async () => ((await accepted(servers[0]!)) + (await accepted(servers[1]!)) - before >= sent ? true : undefined), 10_000, 'the counters');
    const processed = [await accepted(servers[0]!), await accepted(servers[1]!)];
    // Each message went to the one owner of its plot: the two instances' counts add up to what was sent, no more.
    expect(processed[0]! + processed[1]! - before).toBe(sent);
    expect(processed.every((n) => n > 0)).toBe(true);
    console.info(`scale-out: ${sent} readings, processed ${processed.join(' + ')} by the two instances, each stored once`);
  }, 60_000);

  it('raises one alarm and one ticket for a fault, pushes them to a client of the other instance, and takes its acknowledgement there', async () => {
    const byPlot = await owners();
    const [first, second] = servers as [ServerProcess, ServerProcess];
    // A plot the second instance owns; the client and the operator's request go to the first.
    const plot = [...byPlot].find(([, pid]) => pid === second.pid)![0];
    const id = `EL-${plot}-01-1:elevator.fault`;
    const alarms: AlarmView[] = [];
    const tickets: PushedTicket[] = [];
    socket = connectSocket(first.baseUrl, { transports: ['websocket'], extraHeaders: await first.headers() });
    socket.on('alarms:changed', (changed) => alarms.push(...changed));
    socket.on('tickets:changed', ({ ticket }) => tickets.push(ticket));
    await new Promise<void>((resolve, reject) => { socket!.once('connect', resolve); socket!.once('connect_error', reject); });

    await fault(plot, 23, 30_000);
    await eventually(() => alarms.find((a) => a.id === id && a.state === 'unack'), 15_000, 'the alarm at the other instance\'s client');
    const ticket = await eventually(() => tickets.find((t) => t.deviceId === `EL-${plot}-01-1`), 15_000, 'the ticket at the other instance\'s client');
    expect((await sql`select count(*)::int as n from alarm_events where alarm_id = ${id} and type = 'alarm-raised'`)[0]!.n).toBe(1);
    expect((await sql`select count(*)::int as n from tickets where device_id = ${`EL-${plot}-01-1`}`)[0]!.n).toBe(1);
    expect(ticket.source).toBe('alarm');

    // The open alarm list of the first instance includes the second's partitions.
    const open = await new Promise<{ alarms: AlarmView[] }>((resolve) => socket!.emit('alarms:snapshot', resolve));
    expect(open.alarms.map((a) => a.id)).toContain(id);

    const acked = await first.request('POST', `/api/alarms/${encodeURIComponent(id)}/ack`, { comment: 'seen from instance 1' });
    expect(acked.status, JSON.stringify(acked.body)).toBe(200);
    expect(acked.body).toMatchObject({ id, state: 'ack', acknowledged: { by: 'admin' } });
    expect((await sql`select state, ack_by from alarms where id = ${id}`)[0]).toEqual({ state: 'ack', ack_by: 'admin' });
  }, 60_000);

  it('an instance stopped mid-stream (SIGTERM) hands its partitions over: no reading lost, no ticket twice', async () => {
    const leaving = servers[1]!;
    stream.start(600);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await leaving.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    servers.pop();
    await eventually(() => split([servers[0]!.pid]), 10_000, 'the other instance owning all three');
    await new Promise((r) => setTimeout(r, 1_000));
    await stream.stop();
    await eventually(async () => (Object.keys(seqProblems(stream.sent, await storedSeqs(database.url, PUMPS.map((p) => p.id)))).length === 0 ? true : undefined), 30_000, 'every reading stored')
      .catch(async (error: unknown) => { console.error(seqProblems(stream.sent, await storedSeqs(database.url, PUMPS.map((p) => p.id)))); throw error; });
  }, 60_000);

  it('an instance killed mid-stream (SIGKILL): its partitions move within the lease, no reading is lost, the fault it was judging raises no second ticket', async () => {
    servers.push(await startServerProcess(env));
    const byPlot = await eventually(() => split(servers.map((s) => s.pid)), 20_000, 'the partitions split again');
    const victim = servers[0]!;
    const survivor = servers[1]!;
    const plot = [...byPlot].find(([, pid]) => pid === victim.pid)![0];
    const elevator = `EL-${plot}-01-1`;
    await fault(plot, 31, 25_000);
    await eventually(async () => ((await sql`select count(*)::int as n from tickets where device_id = ${elevator}`)[0]!.n > 0 ? true : undefined), 15_000, 'the ticket');

    stream.start(600);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await victim.kill('SIGKILL')).toMatchObject({ signal: 'SIGKILL' });
    const killedAt = Date.now();
    const sentAtKill = stream.total();
    servers.shift();
    await eventually(() => split([survivor.pid]), (LEASE_S + 5) * 1000, 'the survivor owning all three');
    const movedAfterMs = Date.now() - killedAt;
    await new Promise((r) => setTimeout(r, 1_000));
    await stream.stop();

    // Every reading is stored, once: what the killed instance had not written it had not acknowledged
    // either, so the broker gave it to the survivor, with what was published after the kill.
    await eventually(async () => (Object.keys(seqProblems(stream.sent, await storedSeqs(database.url, PUMPS.map((p) => p.id)))).length === 0 ? true : undefined), 30_000, 'every reading stored')
      .catch(async (error: unknown) => { console.error(seqProblems(stream.sent, await storedSeqs(database.url, PUMPS.map((p) => p.id)))); throw error; });

    // The fault returns on the survivor, which restored the partition's alarms: the same ticket, no second one.
    const id = `${elevator}:elevator.fault`;
    await fault(plot, 0, 15_000);
    await fault(plot, 31, 5_000);
    await eventually(async () => ((await sql`select count from alarms where id = ${id}`)[0]?.count === 2 ? true : undefined), 15_000, 'the second activation');
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await sql`select count(*)::int as n from tickets where device_id = ${elevator}`)[0]!.n).toBe(1);
    expect((await sql`select count(*)::int as n from alarm_events where alarm_id = ${id} and type = 'alarm-raised'`)[0]!.n).toBe(2);
    console.info(`scale-out SIGKILL: partitions moved ${movedAfterMs} ms after the kill (lease ${LEASE_S} s); ` +
      `${stream.total()} readings sent (${sentAtKill} before the kill), none lost`);
  }, 90_000);
});

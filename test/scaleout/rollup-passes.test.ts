/**
 * Scale-out: with two server processes on one PostgreSQL, the roll-up passes
 * run on one of them, the holder of the `rollups` lease (rollup-lease.ts);
 * when it is killed, the other takes the lease over and rolls up what
 * arrives next.
 *
 * A private Mosquitto and real PostgreSQL; runs when TEST_MQTT_URL and
 * TEST_DATABASE_URL are set.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceTopic } from '../../server/src/contract.ts';
import { eventually } from '../support/app.ts';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.ts';
import { createTempDatabase, type TempDatabase } from '../support/postgres.ts';
import { startServerProcess, uniqueSiteFile, type ServerProcess } from '../support/server-process.ts';

const REAL = Boolean(process.env.TEST_MQTT_URL && process.env.TEST_DATABASE_URL);
const HOUR = 3_600_000;

describe.runIf(REAL)('roll-up passes with two instances', () => {
  const siteId = `bv-rollup-${randomBytes(3).toString('hex')}`;
  let broker: TestMosquitto;
  let database: TempDatabase;
  let site: Awaited<ReturnType<typeof uniqueSiteFile>>;
  const servers: ServerProcess[] = [];
  let device: MqttClient;
  let sql: postgres.Sql;

  /** The process id of the lease's live holder (its owner is `host-pid-random`). */
  const holderPid = async (): Promise<number | undefined> => {
    const [row] = await sql`select owner from partition_leases where partition = 'rollups' and expires_at > now()`;
    return row ? Number(String(row.owner).split('-').at(-2)) : undefined;
  };
  /** A meter reading from hours ago: its hour is closed, so the next pass rolls it up. */
  const meterReading = (meter: string, hoursAgo: number, kwh: number) => device.publishAsync(
    deviceTopic(siteId, 'A', 'electric-meter', meter, 'telemetry'),
    JSON.stringify({ v: 1, ts: Date.now() - hoursAgo * HOUR, seq: hoursAgo, m: { energy_kwh: kwh, power_kw: 1, voltage_v: 230 } }), { qos: 1 });
  const rolledUp = async (meter: string) => {
    const [row] = await sql`select count(*)::int as n from readings_hourly where device_id = ${meter} and metric = 'energy_kwh'`;
    const [marks] = await sql`select (select count(*) from rollup_dirty where device_id = ${meter}) + (select count(*) from rollup_dirty_hours where hour < now() - interval '1 hour') as n`;
    return row!.n > 0 && Number(marks!.n) === 0 ? true : undefined;
  };

  beforeAll(async () => {
    broker = await startMosquitto();
    database = await createTempDatabase(process.env.TEST_DATABASE_URL!);
    site = await uniqueSiteFile(siteId);
    const env = { MQTT_URL: broker.url, DATABASE_URL: database.url, SITE_FILE: site.file, MQTT_SHARE_GROUP: `rollup${siteId.slice(-6)}`, PARTITION_LEASE_S: '2' };
    sql = postgres(database.url, { onnotice: () => {}, max: 2 });
    // One after the other: the first migrates the database.
    servers.push(await startServerProcess(env));
    servers.push(await startServerProcess(env));
    device = await mqtt.connectAsync(broker.url, { clientId: `meters-${siteId}` });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.kill('SIGTERM')));
    await device?.endAsync();
    await sql?.end({ timeout: 5 });
    await broker?.close();
    await database?.drop();
    await site?.remove();
  });

  it('one instance holds the lease and rolls up a late reading', async () => {
    const pid = await eventually(holderPid, 20_000, 'a holder of the roll-up lease');
    expect(servers.map((s) => s.pid)).toContain(pid);
    await meterReading('EM-A-01-0101', 3, 100);
    await eventually(() => rolledUp('EM-A-01-0101'), 30_000, 'the reading rolled up');
  }, 60_000);

  it('when the holder is killed, the other takes the lease over and rolls up what comes next', async () => {
    const pid = (await holderPid())!;
    const holder = servers.find((s) => s.pid === pid)!;
    const survivor = servers.find((s) => s.pid !== pid)!;
    await holder.kill('SIGKILL');
    servers.splice(servers.indexOf(holder), 1);
    await eventually(async () => ((await holderPid()) === survivor.pid ? true : undefined), 20_000, 'the lease taken over');
    await meterReading('EM-A-01-0102', 4, 200);
    await eventually(() => rolledUp('EM-A-01-0102'), 30_000, 'the reading rolled up by the survivor');
  }, 60_000);
});

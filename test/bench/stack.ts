/**
 * The two stacks the bench runs on, each isolated from everything else on the
 * machine:
 * - embedded: aedes inside the server process, PGlite in a throwaway folder;
 * - real: Mosquitto and PostgreSQL (TEST_DATABASE_URL or the local default)
 *   with a throwaway database per server. The broker is a Mosquitto of the
 *   bench's own with the production queue limits (mosquitto.ts) when the
 *   binary is installed, else the one at TEST_MQTT_URL (or 127.0.0.1:1883);
 *   a site id and a share group of our own keep other tests on a shared
 *   broker from seeing our messages or sending us theirs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { blueValleySpec, loadSite } from '../../server/src/catalogue/load.ts';
import type { Site } from '../../server/src/catalogue/types.ts';
import { deviceTopic } from '../../server/src/contract.ts';
import { createTempDatabase, type TempDatabase } from '../support/postgres.ts';
import { forkChild, type Child } from './ipc.ts';
import type { GeneratorInit } from './load-generator.ts';
import { findMosquitto, startPrivateMosquitto, type PrivateBroker } from './mosquitto.ts';
import type { ServerInfo } from './server-host.ts';

export type EngineName = 'embedded' | 'real';

export const SHARED_MQTT_URL = process.env.TEST_MQTT_URL || 'mqtt://127.0.0.1:1883';
export const REAL_DATABASE_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

export interface Stack {
  readonly engine: EngineName;
  /** null: the built-in Blue Valley. */
  readonly siteFile: string | null;
  readonly site: Site;
  /** A fresh, empty database for one server or one trend load: DATABASE_URL or DATA_DIR. */
  freshDatabase(): Promise<{ url: string | null; dataDir: string }>;
  /** Derives the embedded broker's device passwords (DEVICE_SECRET); null on the real broker, which is anonymous here. */
  readonly deviceSecret: string | null;
  /** The broker, in words, for the report. */
  readonly broker: string;
  /**
   * Removes the device statuses a stopped fleet left retained on a broker that
   * outlives its server (the real stack's), so that the next server does not
   * start with the whole estate offline.
   */
  clearRetained(): Promise<void>;
  /** Environment (product variable names) for a server on this stack. */
  serverEnv(database: { url: string | null; dataDir: string }): Record<string, string>;
  cleanup(): Promise<void>;
}

export async function openStack(engine: EngineName): Promise<Stack> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), `ew-bench-${engine}-`));
  const databases: TempDatabase[] = [];
  let siteFile: string | null = null;
  const shareGroup = `bench_${randomBytes(4).toString('hex')}`;
  if (engine === 'real') {
    const spec = blueValleySpec();
    const unique = { ...spec, site: { ...spec.site, id: `bench-${randomBytes(4).toString('hex')}` } };
    siteFile = path.join(workDir, 'site.json');
    await writeFile(siteFile, JSON.stringify(unique));
  }
  const site = loadSite(siteFile);
  const deviceSecret = randomBytes(24).toString('base64url');
  let folders = 0;
  let groups = 0;
  let privateBroker: PrivateBroker | null = null;
  const mosquitto = engine === 'real' ? findMosquitto() : null;
  if (mosquitto) privateBroker = await startPrivateMosquitto(mosquitto);
  const mqttUrl = privateBroker?.url ?? SHARED_MQTT_URL;
  return {
    engine,
    siteFile,
    site,
    deviceSecret: engine === 'embedded' ? deviceSecret : null,
    broker: engine === 'embedded' ? 'aedes (in the server)'
      : privateBroker ? `mosquitto of the bench's own (max_queued_messages ${privateBroker.limits.maxQueuedMessages}, max_inflight_messages ${privateBroker.limits.maxInflightMessages}, as deploy/mosquitto/mosquitto.conf)`
      : `mosquitto at ${SHARED_MQTT_URL} (its own queue limits: no mosquitto binary here to start one with the production limits)`,
    async freshDatabase() {
      if (engine === 'embedded') return { url: null, dataDir: path.join(workDir, `db-${++folders}`) };
      const temp = await createTempDatabase(REAL_DATABASE_URL, 'ew_bench');
      databases.push(temp);
      return { url: temp.url, dataDir: path.join(workDir, 'unused') };
    },
    serverEnv(database) {
      const env: Record<string, string> = { DATA_DIR: database.dataDir, ADMIN_PASSWORD, DEVICE_SECRET: deviceSecret };
      if (database.url) env.DATABASE_URL = database.url;
      // A group per server: its partitions' persistent sessions are its own, not the previous server's with what queued for it.
      if (engine === 'real') Object.assign(env, { MQTT_URL: mqttUrl, MQTT_SHARE_GROUP: `${shareGroup}_${++groups}`, SITE_FILE: siteFile! });
      return env;
    },
    clearRetained: () => (engine === 'real' ? clearRetained(site, mqttUrl) : Promise.resolve()),
    async cleanup() {
      if (privateBroker) await privateBroker.stop();
      else if (engine === 'real') await clearRetained(site, mqttUrl);
      await Promise.allSettled(databases.map((d) => d.drop()));
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

/** The fleet leaves retained `offline` statuses on the shared broker; they are removed with empty retained messages. */
async function clearRetained(site: Site, url: string): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId: `bench-cleanup-${process.pid}`, reconnectPeriod: 0 });
  try {
    await Promise.all(site.devices.map((d) => client.publishAsync(deviceTopic(site.id, d.plotId, d.kind, d.id, 'status'), '', { qos: 1, retain: true })));
  } finally {
    await client.endAsync();
  }
}

export interface RunningServer {
  readonly child: Child;
  readonly info: ServerInfo;
  /** The admin's session cookie, for socket.io clients. */
  readonly cookie: string;
  /** That session's CSRF token, for the admin's state-changing API calls (x-csrf-token). */
  readonly csrfToken: string;
}

/** The first admin's password on every bench server (the server creates the account at first start). */
const ADMIN_PASSWORD = `bench-${randomBytes(12).toString('base64url')}`;

async function login(baseUrl: string): Promise<{ cookie: string; csrfToken: string }> {
  const response = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  const session = response.headers.getSetCookie().find((c) => c.startsWith('ew_session='));
  if (!response.ok || !session) throw new Error(`bench login as admin failed: ${response.status} ${await response.text()}`);
  const { csrfToken } = await response.json() as { csrfToken: string };
  return { cookie: session.split(';')[0]!, csrfToken };
}

export async function startServer(stack: Stack): Promise<RunningServer> {
  const database = await stack.freshDatabase();
  const child = await forkChild('./server-host.ts', { env: { BENCH_SERVER_ENV: JSON.stringify(stack.serverEnv(database)) } });
  try {
    const info = await child.call<ServerInfo>('info');
    return { child, info, ...await login(info.baseUrl) };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

export async function startGenerator(stack: Stack, brokerUrl: string, exclude: readonly string[] = []): Promise<Child> {
  const child = await forkChild('./load-generator.ts');
  await child.call('init', { brokerUrl, siteFile: stack.siteFile, deviceSecret: stack.deviceSecret, exclude } satisfies GeneratorInit, 60_000);
  return child;
}

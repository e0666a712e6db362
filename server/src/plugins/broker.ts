import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fp from 'fastify-plugin';
import { startEmbeddedBroker, type BrokerRefusals, type EmbeddedBroker } from '../adapters/aedes/embedded-broker.ts';
import { IN_MEMORY } from '../adapters/sql/database.ts';
import { BrokerAccessPolicy, devicePassword, type BrokerCredentials } from '../auth/broker-accounts.ts';
import type { Config } from '../config/config.ts';

export interface BrokerInfo {
  /** Where devices and the server connect. */
  url: string;
  embedded: boolean;
  /** Embedded broker only: the server's own (ingest) account, read-only. */
  serverAccount?: BrokerCredentials;
  /** Embedded broker only: a device's or concentrator's credentials (username = device id or concentrator-…). */
  credentialsFor?: (username: string) => BrokerCredentials;
  /** Embedded broker only: refused connections, publishes (spoofed topics) and subscriptions. */
  refused?: Readonly<BrokerRefusals>;
  /** Embedded broker only: a subscription inside the process, without an MQTT connection (EmbeddedBroker.subscribe). */
  subscribeInProcess?: EmbeddedBroker['subscribe'];
}

declare module 'fastify' {
  interface FastifyInstance { broker: BrokerInfo }
}

const SERVER_USERNAME = 'estatewatch-server';

/**
 * DEVICE_SECRET, or one generated at first start and kept in DATA_DIR (device
 * passwords must survive a restart); per process for an in-memory data folder.
 */
async function deviceSecret(config: Config): Promise<string> {
  if (config.auth.deviceSecret !== null) return config.auth.deviceSecret;
  if (config.database.dataDir === IN_MEMORY) return randomBytes(32).toString('base64url');
  const file = path.resolve(config.database.dataDir, 'device-secret');
  const existing = await readFile(file, 'utf8').catch(() => null);
  if (existing !== null && existing.trim().length >= 16) return existing.trim();
  const secret = randomBytes(32).toString('base64url');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return secret;
}

/** The MQTT broker: the one at MQTT_URL, or an embedded aedes on MQTT_PORT with device accounts and an ACL. */
export default fp(async (app) => {
  const { url, embeddedPort } = app.config.mqtt;
  if (url) {
    app.decorate('broker', { url, embedded: false });
    return;
  }
  const secret = await deviceSecret(app.config);
  const serverAccount = { username: SERVER_USERNAME, password: randomBytes(24).toString('base64url') };
  const access = new BrokerAccessPolicy(app.site.site, secret, serverAccount);
  const broker = await startEmbeddedBroker({
    port: embeddedPort,
    host: '0.0.0.0',
    access,
    onRefused: (what, detail) => app.log.warn({ ...detail, refused: what }, `MQTT ${what} refused`),
  });
  app.decorate('broker', {
    url: broker.url,
    embedded: true,
    serverAccount,
    credentialsFor: (username: string) => ({ username, password: devicePassword(secret, username) }),
    refused: broker.refused,
    subscribeInProcess: broker.subscribe,
  });
  // Registered before the ingest plugin, so it closes after ingest has disconnected.
  app.addHook('onClose', async () => broker.close());
  app.log.info({ url: broker.url }, 'embedded MQTT broker listening (device accounts: username = device id, password from DEVICE_SECRET)');
}, { name: 'broker', dependencies: ['config', 'catalogue'] });

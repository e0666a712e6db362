/**
 * `npm run broker:accounts`: writes the production Mosquitto's password file,
 * ACL and the device credentials list from the site catalogue and `.env`.
 * Re-running keeps every device's password (read back from the credentials
 * list), adds new devices and drops removed ones.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, parseEnv } from 'node:util';
import { SiteFileError, loadSite } from '../catalogue/load.ts';
import {
  BrokerAccountsError, aclFile, deviceCredentials, formatCredentialsCsv, parseCredentialsCsv, passwordFile,
  type BrokerAccount, type ServiceAccounts,
} from './mosquitto-accounts.ts';

const HELP = `Usage: npm run broker:accounts -- [options]

Writes, for the production broker (docker-compose.yml):
  <out>/passwd                  Mosquitto password file (hashes only)
  <out>/acl                     Mosquitto ACL: each device publishes under its own topic only
  <out>/device-credentials.csv  every device's username, password and topic: SECRET, hand it to the installers

Accounts: the server (MQTT_USERNAME / MQTT_PASSWORD), the demo simulators if
SIM_MQTT_PASSWORD is set (SIM_MQTT_USERNAME), and one per catalogue device
(username = device id). Existing device passwords are kept.

Options:
  --env PATH        where the accounts' variables are (default .env)
  --out DIR         output folder (default deploy/mosquitto)
  --site-file PATH  site file (default: the built-in Blue Valley)
  -h, --help        show this help

Then: docker compose up -d (or docker compose restart mosquitto if it runs).`;

function fail(message: string): never {
  process.stderr.write(`broker:accounts: ${message}\n`);
  process.exit(2);
}

function readEnvFile(path: string): Record<string, string | undefined> {
  if (!existsSync(path)) fail(`${path} not found: cp .env.example .env and set the passwords first`);
  return parseEnv(readFileSync(path, 'utf8'));
}

function account(env: Record<string, string | undefined>, userKey: string, passwordKey: string): BrokerAccount {
  const username = env[userKey];
  const password = env[passwordKey];
  if (!username || !password) fail(`set ${userKey} and ${passwordKey} in the env file`);
  return { username, password };
}

function writeFile(path: string, text: string, mode: number): void {
  writeFileSync(path, text, { mode });
  chmodSync(path, mode); // writeFileSync's mode applies only to a new file
}

function main(): void {
  const { values } = parseArgs({
    options: {
      env: { type: 'string', default: '.env' },
      out: { type: 'string', default: 'deploy/mosquitto' },
      'site-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }

  const env = readEnvFile(values.env);
  const server = account(env, 'MQTT_USERNAME', 'MQTT_PASSWORD');
  // The demo simulators get an account only when their password is set.
  const simulator = env.SIM_MQTT_PASSWORD ? account(env, 'SIM_MQTT_USERNAME', 'SIM_MQTT_PASSWORD') : undefined;
  // The simulators' password travels inside their broker URL (docker-compose.yml).
  if (simulator && encodeURIComponent(simulator.password) !== simulator.password) {
    fail('SIM_MQTT_PASSWORD may only contain letters, digits and - _ . ! ~ * \' ( )');
  }
  const services: ServiceAccounts = { server, ...(simulator && { simulator }) };

  const site = loadSite(values['site-file'] ?? null);
  const out = values.out;
  mkdirSync(out, { recursive: true });
  const csvPath = join(out, 'device-credentials.csv');
  const previous = existsSync(csvPath) ? parseCredentialsCsv(readFileSync(csvPath, 'utf8'), csvPath) : new Map<string, string>();
  const devices = deviceCredentials(site, previous);

  writeFile(join(out, 'passwd'), passwordFile(devices, services), 0o600);
  writeFile(join(out, 'acl'), aclFile(site, devices, services), 0o644);
  writeFile(csvPath, formatCredentialsCsv(devices), 0o600);

  const kept = devices.filter((d) => previous.has(d.deviceId)).length;
  process.stdout.write(
    `Wrote ${out}/passwd, ${out}/acl and ${csvPath} for site ${site.id}: ` +
    `server account ${server.username}${simulator ? `, simulator account ${simulator.username}` : ''}, ` +
    `${devices.length} devices (${kept} passwords kept, ${devices.length - kept} new).\n` +
    `${csvPath} holds the device passwords in plain text: keep it secret.\n`,
  );
}

try {
  main();
} catch (err) {
  if (err instanceof BrokerAccountsError || err instanceof SiteFileError) fail(err.message);
  if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) fail(`${(err as Error).message} (see --help)`);
  throw err;
}

/**
 * Broker accounts for the production Mosquitto (docker-compose.yml): the
 * password file, the ACL and the device credentials, all derived from the site
 * catalogue. Pure apart from the random salts and passwords.
 *
 *   devices     username = device id; may publish only to
 *               estate/{site}/{plot}/{kind}/{deviceId}/{channel} and read nothing
 *   server      reads estate/# (plain or $share/...), publishes nothing
 *   simulator   (demo only) publishes for every device, like a meter concentrator; reads nothing
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import type { Site } from '../catalogue/types.ts';
import { TOPIC_ROOT } from '../contract.ts';

export class BrokerAccountsError extends Error {
  readonly code = 'BROKER_ACCOUNTS_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'BrokerAccountsError';
  }
}

export interface BrokerAccount {
  readonly username: string;
  readonly password: string;
}

export interface DeviceCredential extends BrokerAccount {
  readonly deviceId: string;
  /** The only topic filter the device may publish to. */
  readonly publishTopic: string;
}

export interface ServiceAccounts {
  readonly server: BrokerAccount;
  readonly simulator?: BrokerAccount;
}

// Mosquitto's own defaults (mosquitto_passwd 2.0): PBKDF2-SHA512, 101 rounds, 12-byte salt.
const HASH_ITERATIONS = 101;
const SALT_BYTES = 12;
const HASH_BYTES = 64;

/** A password hash in Mosquitto's `$7$` format, as mosquitto_passwd writes it. */
export function mosquittoPasswordHash(password: string, salt: Buffer = randomBytes(SALT_BYTES), iterations = HASH_ITERATIONS): string {
  const hash = pbkdf2Sync(password, salt, iterations, HASH_BYTES, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** A device password: 128 random bits, URL- and shell-safe. */
export function newDevicePassword(): string {
  return randomBytes(16).toString('base64url');
}

/** One credential per device; passwords in `previous` (by device id) are kept, so re-running rotates nothing. */
export function deviceCredentials(site: Site, previous: ReadonlyMap<string, string> = new Map(), newPassword = newDevicePassword): DeviceCredential[] {
  return site.devices.map((d) => ({
    deviceId: d.id,
    username: d.id,
    password: previous.get(d.id) ?? newPassword(),
    publishTopic: `${TOPIC_ROOT}/${site.id}/${d.plotId}/${d.kind}/${d.id}/+`,
  }));
}

// A username ends at the first ':' in the password file and at the end of the line in the ACL.
function checkUsername(username: string): void {
  if (!/^[A-Za-z0-9._-]+$/.test(username)) {
    throw new BrokerAccountsError(`broker username "${username}" may only contain letters, digits, '.', '_' and '-'`);
  }
}

function checkAccounts(devices: readonly DeviceCredential[], services: ServiceAccounts): void {
  const seen = new Set<string>();
  for (const account of [services.server, ...(services.simulator ? [services.simulator] : []), ...devices]) {
    checkUsername(account.username);
    if (account.password === '') throw new BrokerAccountsError(`broker account ${account.username} has an empty password`);
    if (seen.has(account.username)) throw new BrokerAccountsError(`broker username ${account.username} is used twice (a service account may not share a device id)`);
    seen.add(account.username);
  }
}

/** Mosquitto's password_file: one `username:$7$...` line per account. */
export function passwordFile(devices: readonly DeviceCredential[], services: ServiceAccounts, hash = mosquittoPasswordHash): string {
  checkAccounts(devices, services);
  const accounts = [services.server, ...(services.simulator ? [services.simulator] : []), ...devices];
  return accounts.map((a) => `${a.username}:${hash(a.password)}\n`).join('');
}

/** Mosquitto's acl_file. Without a matching line, Mosquitto denies: nothing else is allowed. */
export function aclFile(site: Site, devices: readonly DeviceCredential[], services: ServiceAccounts): string {
  checkAccounts(devices, services);
  const lines = [
    `# Generated from the catalogue of site ${site.id} by server/src/deploy/broker-accounts.ts: do not edit.`,
    '',
    '# The server reads every device (also through $share/<group>/estate/#) and publishes nothing.',
    `user ${services.server.username}`,
    `topic read ${TOPIC_ROOT}/#`,
    '',
  ];
  if (services.simulator) {
    lines.push('# Demo simulators publish for every device, like a meter concentrator.', `user ${services.simulator.username}`, `topic write ${TOPIC_ROOT}/#`, '');
  }
  lines.push('# Each device publishes under its own topic only and reads nothing.');
  for (const d of devices) lines.push(`user ${d.username}`, `topic write ${d.publishTopic}`);
  return `${lines.join('\n')}\n`;
}

const CSV_HEADER = 'device_id,username,password,publish_topic';

/** The secret hand-over list for installing devices: plain passwords, never committed. */
export function formatCredentialsCsv(devices: readonly DeviceCredential[]): string {
  return `${CSV_HEADER}\n${devices.map((d) => `${d.deviceId},${d.username},${d.password},${d.publishTopic}`).join('\n')}\n`;
}

/** Device id -> password from a file written by formatCredentialsCsv. */
export function parseCredentialsCsv(text: string, source: string): Map<string, string> {
  const [header, ...rows] = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (header !== CSV_HEADER) throw new BrokerAccountsError(`${source}: first line must be "${CSV_HEADER}"`);
  const passwords = new Map<string, string>();
  rows.forEach((row, i) => {
    const [deviceId, , password] = row.split(',');
    if (!deviceId || !password) throw new BrokerAccountsError(`${source} line ${i + 2}: expected ${CSV_HEADER}`);
    passwords.set(deviceId, password);
  });
  return passwords;
}

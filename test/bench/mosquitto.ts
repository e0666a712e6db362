/**
 * A Mosquitto of the bench's own for the real stack: the installed binary on a
 * free loopback port, anonymous, without persistence, and with the PRODUCTION
 * queue limits read from deploy/mosquitto/mosquitto.conf. A shared broker with
 * Mosquitto's defaults (20 in flight, 1,000 queued per client) drops QoS-1
 * messages as soon as the server lags a little, so it would measure the
 * broker's configuration rather than EstateWatch.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../support/mosquitto.ts';

export interface PrivateBroker {
  readonly url: string;
  /** The production limits it runs with, for the report. */
  readonly limits: { maxQueuedMessages: number; maxInflightMessages: number };
  stop(): Promise<void>;
}

const PRODUCTION_CONF = new URL('../../deploy/mosquitto/mosquitto.conf', import.meta.url);

export function findMosquitto(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    try {
      accessSync(path.join(dir, 'mosquitto'), constants.X_OK);
      return path.join(dir, 'mosquitto');
    } catch {
      // not in this folder
    }
  }
  return null;
}

/** A setting of the production config; the bench refuses to guess one that is missing. */
function setting(conf: string, name: string): number {
  const match = new RegExp(`^${name}\\s+(\\d+)\\s*$`, 'm').exec(conf);
  if (!match) throw new Error(`deploy/mosquitto/mosquitto.conf has no "${name}" line`);
  return Number(match[1]);
}

const live = new Set<ChildProcess>();
process.once('exit', () => { for (const child of live) child.kill('SIGKILL'); });

export async function startPrivateMosquitto(binary: string): Promise<PrivateBroker> {
  const production = await readFile(PRODUCTION_CONF, 'utf8');
  const limits = { maxQueuedMessages: setting(production, 'max_queued_messages'), maxInflightMessages: setting(production, 'max_inflight_messages') };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ew-bench-mosquitto-'));
  const port = await freePort();
  const file = path.join(dir, 'mosquitto.conf');
  await writeFile(file, [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'log_dest stderr',
    'log_type error',
    `max_queued_messages ${limits.maxQueuedMessages}`,
    `max_inflight_messages ${limits.maxInflightMessages}`,
    // $SYS every second: the ingest phase reads the dropped-message count from it.
    'sys_interval 1',
    '',
  ].join('\n'));
  // Started as root, mosquitto drops to its own user.
  await chmod(dir, 0o755);
  await chmod(file, 0o644);
  const child = spawn(binary, ['-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => { log = (log + chunk.toString()).slice(-4_000); });
  let exited: number | null | undefined;
  child.once('exit', (code) => { exited = code; live.delete(child); });
  const stop = async () => {
    if (exited === undefined) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; ; attempt++) {
    if (exited !== undefined || attempt === 200) {
      await stop();
      throw new Error(`the bench's mosquitto did not listen on ${port}: ${exited !== undefined ? `exited (${exited})` : 'timed out'}\n${log}`);
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = connectTcp(port, '127.0.0.1', () => { socket.end(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `mqtt://127.0.0.1:${port}`, limits, stop };
}

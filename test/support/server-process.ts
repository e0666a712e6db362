/**
 * The EstateWatch server as its own process (`node --import tsx server/src/main.ts`),
 * for tests that kill it, send it SIGTERM or run several instances: the way
 * `npm start` runs it, on port 0, with the environment the test gives.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { blueValleySpec } from '../../server/src/catalogue/load.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PROCESS_ADMIN_PASSWORD = 'process-admin-password';

export interface ServerProcess {
  baseUrl: string;
  pid: number;
  /** Session cookie and CSRF token of the admin (cached). */
  headers(): Promise<Record<string, string>>;
  request(method: string, url: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** Sends the signal and resolves with how the process ended. */
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it wrote, stdout and stderr. */
  output(): string;
}

/** Blue Valley under a site id of its own (3 plots, so 3 partitions), written to a temp file. */
export async function uniqueSiteFile(siteId: string): Promise<{ file: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ew-site-'));
  const spec = blueValleySpec();
  const file = path.join(dir, 'site.json');
  await writeFile(file, JSON.stringify({ ...spec, site: { ...spec.site, id: siteId } }));
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function startServerProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME,
      PORT: '0', HOST: '127.0.0.1', SIMULATE: 'false', SIM_HISTORY_DAYS: '0', LOG_LEVEL: 'warn',
      ADMIN_PASSWORD: PROCESS_ADMIN_PASSWORD, ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });

  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const look = () => {
      const found = /EstateWatch: open (http:\/\/[^\s]+)/.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]!);
      }
    };
    child.stdout!.on('data', look);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}) before it listened:\n${output}`));
    });
  });

  let session: Promise<Record<string, string>> | undefined;
  const login = async () => {
    const response = await fetch(`${baseUrl}/api/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PROCESS_ADMIN_PASSWORD }),
    });
    if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
    const cookie = /ew_session=[^;]+/.exec(response.headers.get('set-cookie') ?? '')?.[0];
    const { csrfToken } = (await response.json()) as { csrfToken: string };
    return { cookie: cookie!, 'x-csrf-token': csrfToken };
  };
  const headers = () => (session ??= login());
  return {
    baseUrl,
    pid: child.pid!,
    headers,
    request: async (method, url, body) => {
      const response = await fetch(`${baseUrl}${url}`, {
        method,
        headers: { ...(await headers()), ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text.length > 0 ? JSON.parse(text) as unknown : null };
    },
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    output: () => output,
  };
}


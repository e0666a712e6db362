/**
 * Request/response over a forked child's IPC channel, so the orchestrator can
 * ask the server host and the load generator for work and figures without
 * sharing their event loops.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Request { id: number; op: string; args: unknown }
type Response = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export type Handlers = Record<string, (args: never) => unknown>;

/** Child side: answers requests with the named handler; a failing handler's message goes back as the error. */
export function serve(handlers: Handlers): void {
  if (!process.send) throw new Error('this module must run as a forked child of test/bench/run.ts');
  process.on('message', (message: Request) => {
    const handler = handlers[message.op];
    void (async () => {
      try {
        if (!handler) throw new Error(`unknown op ${message.op}`);
        const result = await handler(message.args as never);
        process.send!({ id: message.id, ok: true, result } satisfies Response);
      } catch (error) {
        process.send!({ id: message.id, ok: false, error: error instanceof Error ? error.stack ?? error.message : String(error) } satisfies Response);
      }
    })();
  });
  // The orchestrator going away (crash, Ctrl-C) ends the child too: nothing is left behind.
  process.on('disconnect', () => process.exit(0));
  // Messages sent before a listener exists are lost, so the parent waits for this.
  process.send({ id: 0, ok: true, result: 'ready' } satisfies Response);
}

export interface Child {
  readonly pid: number;
  call<T>(op: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** Asks the child to exit (op 'exit'), then kills it if it has not gone within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface ForkOptions {
  env?: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
}

const live = new Set<ChildProcess>();
/** Last resort: whatever happens to the orchestrator, its children die with it. */
process.once('exit', () => { for (const child of live) child.kill('SIGKILL'); });

export async function forkChild(modulePath: string, options: ForkOptions = {}): Promise<Child> {
  const child = fork(fileURLToPath(new URL(modulePath, import.meta.url)), [], {
    execArgv: ['--import', 'tsx', ...(options.nodeFlags ?? [])],
    env: { ...process.env, ...options.env },
    // The child's stdout goes to our stderr, so that `--json` keeps stdout to one JSON object.
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  live.add(child);
  child.stdout!.pipe(process.stderr);
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 0;
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    exited = true;
    live.delete(child);
    for (const p of pending.values()) p.reject(new Error(`${modulePath} exited (${signal ?? code}) before answering`));
    pending.clear();
    resolve();
  }));
  child.on('message', (message: Response) => {
    const p = pending.get(message.id);
    if (!p) return;
    pending.delete(message.id);
    if (message.ok) p.resolve(message.result);
    else p.reject(new Error(`${modulePath}: ${message.error}`));
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${modulePath} did not start within 120 s`)); }, 120_000);
    child.once('error', (error) => { clearTimeout(timer); reject(error); });
    void exitedPromise.then(() => { clearTimeout(timer); reject(new Error(`${modulePath} exited during start-up`)); });
    pending.set(0, { resolve: () => { clearTimeout(timer); resolve(); }, reject });
  });

  return {
    pid: child.pid!,
    call<T>(op: string, args?: unknown, timeoutMs = 120_000): Promise<T> {
      if (exited) return Promise.reject(new Error(`${modulePath} has exited`));
      const id = ++nextId;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${modulePath}: ${op} took longer than ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => { clearTimeout(timer); resolve(v as T); },
          reject: (e) => { clearTimeout(timer); reject(e); },
        });
        child.send({ id, op, args } satisfies Request);
      });
    },
    async stop(graceMs = 20_000) {
      if (exited) return;
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.send({ id: ++nextId, op: 'exit', args: null } satisfies Request, () => {});
      await exitedPromise;
      clearTimeout(killer);
    },
  };
}

/**
 * PGlite behind a worker thread (pglite-worker.mjs), with the part of PGlite's
 * interface that drizzle's PGlite driver uses: query, exec and transaction.
 * The main thread only sends statements and receives rows, so a statement no
 * longer stalls the event loop, and PostgreSQL's work runs on the other core.
 *
 * Results and errors come back by structured clone: rows as PGlite parses
 * them, errors as Errors with PostgreSQL's fields (code, constraint, detail…),
 * so callers cannot tell the difference from an in-process PGlite.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { QueryOptions, Results, Transaction } from '@electric-sql/pglite';

type Request =
  | { op: 'query'; tx?: number; sql: string; params: unknown[]; rowMode: 'array' | 'object' | undefined; rawTypes: number[] }
  | { op: 'bulk'; sql: string; params: unknown[] }
  | { op: 'exec'; tx?: number; sql: string }
  | { op: 'begin'; tx: number }
  | { op: 'commit' | 'rollback'; tx: number }
  | { op: 'dump' }
  | { op: 'close' };

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: PlainError };
type Lifecycle = { op: 'ready' } | { op: 'failed'; error: PlainError };
interface PlainError { name: string; message: string; [field: string]: unknown }

/** Turns the worker's plain error back into an Error that carries the same fields. */
function revive(plain: PlainError): Error {
  const { name, message, ...fields } = plain;
  return Object.assign(new Error(message), fields, { name });
}

/** The part of PGlite's transaction interface drizzle calls. */
type TxClient = Pick<Transaction, 'query' | 'exec'>;

/** PGlite's WebAssembly and file-system bundle, as its options name them. */
interface Artifacts { pgliteWasmModule: object; initdbWasmModule: object; fsBundle: Blob }
/** The global WebAssembly (the project's typings, without the DOM's, only declare its types). */
const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<object> } }).WebAssembly;
let artifacts: Promise<Artifacts> | undefined;

/**
 * Compiled once per process and shared with every worker: in a fresh thread
 * PGlite would compile its 9 MB of WebAssembly again each time (seconds on a
 * busy machine), where in one thread it reuses the module.
 */
function pgliteArtifacts(): Promise<Artifacts> {
  artifacts ??= (async () => {
    const dist = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
    const [pglite, initdb, bundle] = await Promise.all(['pglite.wasm', 'initdb.wasm', 'pglite.data'].map((file) => readFile(path.join(dist, file))));
    const [pgliteWasmModule, initdbWasmModule] = await Promise.all([wasm.compile(pglite!), wasm.compile(initdb!)]);
    return { pgliteWasmModule, initdbWasmModule, fsBundle: new Blob([bundle!]) };
  })();
  return artifacts;
}

interface Waiter { resolve(value: unknown): void; reject(error: Error): void }

export class PgliteThread {
  private readonly pending = new Map<number, Waiter & { bulk: boolean }>();
  private nextId = 0;
  private nextTx = 0;
  /**
   * Bulk statements give way (see bulk()): they wait here while any other
   * statement is unanswered or a transaction is open, and go one at a time.
   */
  private readonly bulkQueue: { sql: string; params: unknown[]; waiter: Waiter }[] = [];
  private bulkInFlight = false;
  private othersInFlight = 0;
  private openTransactions = 0;
  private exited: Error | null = null;
  closed = false;

  private constructor(private readonly worker: Worker) {
    worker.unref();
    worker.on('message', (message: Reply) => {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.settled(message.id);
      if (waiter.bulk) this.bulkInFlight = false;
      else this.othersInFlight -= 1;
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(revive(message.error));
      // What the answer's caller sends next (a ticket's insert once its alarm is stored) goes out
      // in the microtasks that follow: the next bulk statement waits until they have run.
      if (waiter.bulk) this.pumpBulk();
      else setImmediate(() => this.pumpBulk());
    });
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`the PGlite worker exited (code ${code})`)));
  }

  /** Starts the worker and resolves once PGlite has opened `dataDir` (or the in-memory 'memory://'). */
  static async start(dataDir: string, loadDataDir?: Blob): Promise<PgliteThread> {
    const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), {
      workerData: { dataDir, options: { ...await pgliteArtifacts(), ...(loadDataDir && { loadDataDir }) } },
      // No TypeScript loader is needed in there (see pglite-worker.mjs), and none is inherited.
      execArgv: [],
    });
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`the PGlite worker exited (code ${code}) before PGlite opened`));
      const onMessage = (message: Lifecycle) => {
        worker.off('message', onMessage);
        worker.off('error', reject);
        worker.off('exit', onExit);
        if (message.op === 'ready') resolve();
        else reject(revive(message.error));
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.once('exit', onExit);
    });
    return new PgliteThread(worker);
  }

  query<T>(sql: string, params: unknown[] = [], options?: QueryOptions): Promise<Results<T>> {
    return this.queryIn(undefined, sql, params, options);
  }

  /**
   * A bulk statement (its result is dropped). It is sent only when no other
   * statement is unanswered and no transaction is open, one at a time: an
   * alarm or a ticket waits at most for the one bulk statement PGlite is
   * running, never for a queue of them.
   */
  bulk(sql: string, params: readonly unknown[]): Promise<void> {
    return new Promise<unknown>((resolve, reject) => {
      this.bulkQueue.push({ sql, params: [...params], waiter: { resolve, reject } });
      this.pumpBulk();
    }).then(() => undefined);
  }

  private pumpBulk(): void {
    if (this.bulkInFlight || this.othersInFlight > 0 || this.openTransactions > 0) return;
    const next = this.bulkQueue.shift();
    if (!next) return;
    this.bulkInFlight = true;
    this.send({ op: 'bulk', sql: next.sql, params: next.params }, next.waiter, true);
  }

  exec(sql: string): Promise<Results[]> {
    return this.call({ op: 'exec', sql }) as Promise<Results[]>;
  }

  /**
   * Runs `callback` in one transaction: COMMIT when it resolves, ROLLBACK when
   * it throws. Statements outside it wait, as PGlite makes them.
   */
  async transaction<T>(callback: (tx: TxClient) => Promise<T>): Promise<T> {
    this.openTransactions += 1;
    try {
      return await this.inTransaction(++this.nextTx, callback);
    } finally {
      this.openTransactions -= 1;
      this.pumpBulk();
    }
  }

  private async inTransaction<T>(tx: number, callback: (tx: TxClient) => Promise<T>): Promise<T> {
    // Not awaited before the first statement (the worker makes it wait): one round trip less.
    // A failed BEGIN fails the statements, and the commit.
    const began = this.call({ op: 'begin', tx });
    began.catch(() => {});
    const client: TxClient = {
      query: <R>(sql: string, params?: unknown[], options?: QueryOptions) => this.queryIn<R>(tx, sql, params ?? [], options),
      exec: (sql: string) => this.call({ op: 'exec', tx, sql }) as Promise<Results[]>,
    };
    let result: T;
    try {
      result = await callback(client);
    } catch (error) {
      await began.then(() => this.call({ op: 'rollback', tx }), () => {});
      throw error;
    }
    await began;
    await this.call({ op: 'commit', tx });
    return result;
  }

  /** The data folder as a tarball (PGlite's dumpDataDir). */
  dumpDataDir(): Promise<Blob> {
    return this.call({ op: 'dump' }) as Promise<Blob>;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A worker that died has nothing left to close.
    if (this.exited) return;
    try {
      await this.call({ op: 'close' });
    } finally {
      await this.worker.terminate();
    }
  }

  private queryIn<T>(tx: number | undefined, sql: string, params: unknown[], options: QueryOptions | undefined): Promise<Results<T>> {
    // Parsers are functions, which cannot cross threads. Drizzle's only keep some types as raw
    // text (identity parsers), so the types are sent and the worker parses them that way.
    const rawTypes = options?.parsers ? Object.keys(options.parsers).map(Number) : [];
    return this.call({ op: 'query', ...(tx !== undefined && { tx }), sql, params, rowMode: options?.rowMode, rawTypes }) as Promise<Results<T>>;
  }

  private call(request: Request): Promise<unknown> {
    return new Promise((resolve, reject) => this.send(request, { resolve, reject }, false));
  }

  private send(request: Request, waiter: Waiter, bulk: boolean): void {
    if (this.exited) {
      if (bulk) this.bulkInFlight = false;
      waiter.reject(this.exited);
      return;
    }
    const id = ++this.nextId;
    if (this.pending.size === 0) this.worker.ref();
    if (!bulk) this.othersInFlight += 1;
    this.pending.set(id, { ...waiter, bulk });
    this.worker.postMessage({ id, ...request });
  }

  private fail(error: Error): void {
    this.exited ??= error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
    for (const { waiter } of this.bulkQueue.splice(0)) waiter.reject(error);
    this.othersInFlight = 0;
    this.bulkInFlight = false;
  }

  /** Like an in-process PGlite, an idle worker does not keep the process alive; a statement in flight does. */
  private settled(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }
}

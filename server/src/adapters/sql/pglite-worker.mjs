/**
 * PGlite on its own thread (see pglite-thread.ts, which starts it and speaks
 * to it). PGlite runs PostgreSQL as synchronous WebAssembly: on the server's
 * main thread every statement stalls the event loop, MQTT acks and socket.io
 * frames alike. Here it stalls only this thread.
 *
 * Plain JavaScript, so that the worker starts in any host (node, tsx, vitest)
 * without a TypeScript loader; it imports nothing but PGlite.
 *
 * Requests are handled as they arrive, without waiting for earlier ones:
 * PGlite itself runs one statement at a time and holds plain queries back
 * while a transaction is open, which lets the transaction's own statements in.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

/** dataDir, and PGlite's options: the compiled WebAssembly, the file-system bundle, a data-folder dump to start from. */
const { dataDir, options } = workerData;
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

/**
 * Open transactions by the id the main thread gave them: PGlite's transaction
 * object once BEGIN has run (`ready`), and how to end it. The main thread does
 * not wait for BEGIN before sending the transaction's first statement, which
 * saves a round trip; the statement waits here instead.
 */
const transactions = new Map();
/** Rejects a transaction's callback so that PGlite rolls it back; not an error. */
const ROLLBACK = Symbol('rollback');

/** Only what structured clone carries and callers read: the message, and PostgreSQL's fields (code, constraint, …). */
function plainError(error) {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const out = { name: error.name, message: error.message };
  for (const [key, value] of Object.entries(error)) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) out[key] = value;
  }
  return out;
}

/** Drizzle asks for some types as raw text; it names them, and here they get the identity parser. */
const rawParsers = (oids) => Object.fromEntries((oids ?? []).map((oid) => [oid, (value) => value]));

let pg;
try {
  pg = await PGlite.create(dataDir, options);
} catch (error) {
  port.postMessage({ op: 'failed', error: plainError(error) });
  process.exit(1);
}

/** PGlite itself, or the open transaction a statement belongs to. */
async function target(tx) {
  if (tx === undefined) return pg;
  const open = transactions.get(tx);
  if (!open) throw new Error(`transaction ${tx} is not open`);
  return open.ready;
}

const handlers = {
  query: async ({ tx, sql, params, rowMode, rawTypes }) => (await target(tx)).query(sql, params, { rowMode, parsers: rawParsers(rawTypes) }),
  exec: async ({ tx, sql }) => (await target(tx)).exec(sql),
  /** A statement whose result the caller drops. */
  bulk: async ({ sql, params }) => { await pg.query(sql, params); return null; },
  /** Resolves once BEGIN has run; the transaction stays open until commit or rollback. */
  begin: ({ tx: id }) => {
    const open = { ready: null, end: null, done: null };
    open.ready = new Promise((began, failedToBegin) => {
      pg.transaction((tx) => {
        began(tx);
        return new Promise((commit, rollback) => { open.end = { commit, rollback }; });
      }).then(
        () => open.done?.resolve(),
        (error) => {
          if (open.end === null) failedToBegin(error);
          else if (error === ROLLBACK) open.done?.resolve();
          else open.done?.reject(error);
        },
      ).finally(() => transactions.delete(id));
    });
    transactions.set(id, open);
    return open.ready.then(() => null);
  },
  /** Resolve when PGlite has run COMMIT (or ROLLBACK). */
  commit: ({ tx }) => finish(tx, (end) => end.commit()),
  rollback: ({ tx }) => finish(tx, (end) => end.rollback(ROLLBACK)),
  dump: () => pg.dumpDataDir('none'),
  close: async () => { if (!pg.closed) await pg.close(); },
};

async function finish(id, end) {
  const open = transactions.get(id);
  if (!open) throw new Error(`transaction ${id} is not open`);
  await open.ready;
  return new Promise((resolve, reject) => {
    open.done = { resolve, reject };
    end(open.end);
  });
}

port.on('message', (message) => {
  const { id, op } = message;
  let result;
  try {
    result = Promise.resolve(handlers[op](message));
  } catch (error) {
    result = Promise.reject(error);
  }
  result.then(
    (value) => port.postMessage({ id, ok: true, result: value }),
    (error) => port.postMessage({ id, ok: false, error: plainError(error) }),
  );
});

port.postMessage({ op: 'ready' });

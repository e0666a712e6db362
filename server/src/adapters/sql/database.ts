/**
 * Opens the relational store: PGlite in the data folder when no DATABASE_URL is
 * set, PostgreSQL (postgres-js) otherwise, and brings the schema up to date
 * with the generated migrations in drizzle/.
 */
import { mkdir } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { PgliteThread } from './pglite-thread.ts';
import * as schema from './schema.ts';

/** The drizzle database, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  readonly db: Db;
  readonly engine: 'pglite' | 'postgres';
  /**
   * Runs one raw, parameterised statement ($1, $2, …) and drops its result:
   * for bulk work where building the query with drizzle costs too much. Array
   * parameters are passed as PostgreSQL array literals (strings), which both
   * drivers hand over untouched. On PGlite (one connection) these statements
   * give way to every other one: alarms and tickets never queue behind them.
   */
  execute(sql: string, params: readonly unknown[]): Promise<void>;
  /**
   * PostgreSQL only: runs `COPY … FROM STDIN` (`statement`) with `rows`, in
   * COPY's text format, as its data. All or nothing: a row that breaks a
   * constraint (a key already stored) rejects the lot and stores none.
   * PGlite has none: there COPY got slower as the table grew (18 → 50–100 µs
   * a row over 60,000 rows, where INSERT stays near 40), PostgreSQL's does not.
   */
  copy?(statement: string, rows: string): Promise<void>;
  /** Throws when the store does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** A postgres:// URL, or null for the embedded PGlite. */
  url: string | null;
  /**
   * PGlite keeps its files in `${dataDir}/pglite`. The special value
   * IN_MEMORY ('memory://') keeps everything in memory (tests).
   */
  dataDir: string;
  /** PGlite only: start from a data-folder dump (see dumpPgliteTemplate) instead of an empty cluster. */
  pgliteTemplate?: Blob;
}

export const IN_MEMORY = 'memory://';

export class DatabaseError extends Error {
  constructor(readonly code: 'DB_UNREACHABLE' | 'DB_MIGRATION_FAILED', message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export const MIGRATIONS_FOLDER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../drizzle');

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  return opts.url === null ? openPglite(opts.dataDir, opts.pgliteTemplate) : openPostgres(opts.url);
}

async function openPglite(dataDir: string, template: Blob | undefined): Promise<Database> {
  let folder: string = IN_MEMORY;
  if (dataDir !== IN_MEMORY) {
    folder = path.resolve(dataDir, 'pglite');
    await mkdir(path.dirname(folder), { recursive: true });
  }
  // On its own thread: a statement must not stall the event loop (ingest, acks, pushes).
  const client = await PgliteThread.start(folder, template);
  // Drizzle's PGlite driver calls only what PgliteThread has (query, exec, transaction).
  const db = drizzlePglite({ client: client as unknown as PGlite, schema });
  try {
    await migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER });
  } catch (error) {
    await client.close();
    throw migrationError(error);
  }
  return {
    db,
    engine: 'pglite',
    execute: (sql, params) => client.bulk(sql, params),
    ping: async () => { await client.query('select 1'); },
    close: () => client.close(),
  };
}

async function openPostgres(url: string): Promise<Database> {
  const client = postgres(url, { onnotice: () => {}, connect_timeout: 10 });
  try {
    await client`select 1`;
  } catch (error) {
    await client.end({ timeout: 0 });
    throw new DatabaseError('DB_UNREACHABLE', `PostgreSQL at ${redactUrl(url)} is unreachable: ${errorMessage(error)}`, { cause: error });
  }
  const db = drizzlePostgres({ client, schema });
  try {
    await migratePostgres(db, { migrationsFolder: MIGRATIONS_FOLDER });
  } catch (error) {
    await client.end({ timeout: 5 });
    throw migrationError(error);
  }
  return {
    db,
    engine: 'postgres',
    execute: async (sql, params) => { await client.unsafe(sql, params as postgres.ParameterOrJSON<never>[]); },
    copy: (statement, rows) => copyIn(client, statement, rows),
    ping: async () => { await client`select 1`; },
    close: () => client.end({ timeout: 5 }),
  };
}

/**
 * COPY … FROM STDIN through postgres.js, whose pool would pipeline other
 * statements onto the connection, which fail in the middle of a COPY: the
 * statement's `onexecute` returning false marks the connection full until
 * the COPY ends (as postgres.js's own `begin` does; `reserve()` is no use: a
 * reserved connection that dies is handed back to the pool as open, and the
 * next statement on it throws inside postgres.js). postgres.js 3.4 never
 * settles the stream of a COPY the server rejects once the data is sent
 * (porsager/postgres#1173), but it still passes the error to the query's
 * `reject`, which is wrapped here to hear it. Both are internals, pinned by
 * test/unit/sql-database.test.ts against PostgreSQL: run it when upgrading postgres.
 */
async function copyIn(client: postgres.Sql, statement: string, rows: string): Promise<void> {
  const options = { onexecute: () => false } as postgres.UnsafeQueryOptions;
  const query = client.unsafe(statement, [], options) as unknown as postgres.PendingQuery<postgres.Row[]> & { reject?: (error: unknown) => void };
  const reject = query.reject;
  if (typeof reject !== 'function') throw new Error('postgres.js queries have no reject any more: database.ts cannot hear a failed COPY');
  const rejected = new Promise<never>((_, fail) => {
    query.reject = (error) => {
      reject(error);
      fail(error);
    };
  });
  // Also rejected when the statement itself fails, which writable() reports.
  rejected.catch(() => {});
  const stream = await query.writable();
  await Promise.race([finished(stream.end(rows)), rejected]);
}

/**
 * An empty PGlite cluster with the migrations applied, as a dump that
 * `openDatabase({ url: null, dataDir: IN_MEMORY, pgliteTemplate })` starts from;
 * used by tests to skip initdb and the migrations.
 */
export async function dumpPgliteTemplate(): Promise<Blob> {
  const database = await openPglite(IN_MEMORY, undefined);
  try {
    return await (database.db as unknown as { $client: PgliteThread }).$client.dumpDataDir();
  } finally {
    await database.close();
  }
}

/**
 * Runs a raw query and returns its rows: postgres-js gives an array, PGlite
 * an object with `rows`.
 */
export async function queryRows<Row>(db: Db, query: SQL): Promise<Row[]> {
  const result: unknown = await db.execute(query);
  return (Array.isArray(result) ? result : (result as { rows: Row[] }).rows) as Row[];
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

function migrationError(error: unknown): DatabaseError {
  return new DatabaseError('DB_MIGRATION_FAILED', `Applying migrations from ${MIGRATIONS_FOLDER} failed: ${errorMessage(error)}`, { cause: error });
}

function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return errorMessage(error.errors[0]);
  return error instanceof Error ? error.message || error.constructor.name : String(error);
}

/**
 * Throwaway, migrated databases for tests.
 *
 * - freshPglite(): in-memory PGlite. A new cluster plus migrations takes ~3 s,
 *   so the first call on the machine dumps a migrated cluster to a template file
 *   in the OS temp folder (keyed by the migrations' contents); later calls, from
 *   any test process, load it in well under a second.
 * - freshPostgres(): a uniquely named database (ew_t_<random>) on the server of
 *   TEST_DATABASE_URL, migrated, and dropped again by cleanup().
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dumpPgliteTemplate, IN_MEMORY, MIGRATIONS_FOLDER, openDatabase, type Database } from '../../server/src/adapters/sql/database.ts';
import { createTempDatabase } from './postgres.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || null;

export interface TestDatabase {
  database: Database;
  /** Closes the database (and drops it, for PostgreSQL). */
  cleanup(): Promise<void>;
}

export async function freshPglite(): Promise<TestDatabase> {
  const database = await openDatabase({ url: null, dataDir: IN_MEMORY, pgliteTemplate: await pgliteTemplate() });
  return { database, cleanup: () => database.close() };
}

export async function freshPostgres(baseUrl: string | null = TEST_DATABASE_URL): Promise<TestDatabase> {
  if (!baseUrl) throw new Error('freshPostgres() needs TEST_DATABASE_URL; guard the suite with describe.runIf(TEST_DATABASE_URL)');
  const temp = await createTempDatabase(baseUrl);
  try {
    const database = await openDatabase({ url: temp.url, dataDir: IN_MEMORY });
    return { database, cleanup: async () => { await database.close(); await temp.drop(); } };
  } catch (error) {
    await temp.drop();
    throw error;
  }
}

/** Both engines where available: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const TEST_ENGINES: ReadonlyArray<{ engine: 'pglite' | 'postgres'; open: () => Promise<TestDatabase> }> = [
  { engine: 'pglite', open: freshPglite },
  ...(TEST_DATABASE_URL ? [{ engine: 'postgres' as const, open: () => freshPostgres() }] : []),
];

let template: Promise<Blob> | undefined;

/** A migrated, empty PGlite cluster as a dump (for PGlite's loadDataDir). */
export function pgliteTemplate(): Promise<Blob> {
  template ??= loadOrMakeTemplate();
  return template;
}

async function loadOrMakeTemplate(): Promise<Blob> {
  const file = path.join(os.tmpdir(), `estatewatch-pglite-${await migrationsHash()}.tar`);
  try {
    return new Blob([await readFile(file)]);
  } catch {
    const blob = await dumpPgliteTemplate();
    // Write then rename, so that parallel test processes never read half a file.
    const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(partial, Buffer.from(await blob.arrayBuffer()));
    await rename(partial, file);
    return blob;
  }
}

async function migrationsHash(): Promise<string> {
  const hash = createHash('sha256');
  const pending = [MIGRATIONS_FOLDER];
  const files: string[] = [];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else files.push(full);
    }
  }
  for (const file of files.sort()) hash.update(path.relative(MIGRATIONS_FOLDER, file)).update(await readFile(file));
  // A dump only loads into the PGlite version that made it.
  hash.update(await readFile(path.resolve(MIGRATIONS_FOLDER, '../node_modules/@electric-sql/pglite/package.json')));
  return hash.digest('hex').slice(0, 16);
}

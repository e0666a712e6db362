/** Opening the relational store: PGlite on disk across restarts, and clear errors for PostgreSQL. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, redactUrl } from '../../server/src/adapters/sql/database.ts';
import { SqlTimeSeriesStore } from '../../server/src/adapters/sql/time-series-store.ts';

describe('openDatabase', () => {
  const folders: string[] = [];
  afterAll(async () => {
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  it('keeps PGlite data in <dataDir>/pglite across a restart, creating the folders', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'ew-pglite-'));
    folders.push(root);
    const dataDir = path.join(root, 'not', 'yet', 'there');
    const reading = { deviceId: 'persist', ts: Date.UTC(2025, 0, 1), seq: 1, values: { kw: 1 } };

    const first = await openDatabase({ url: null, dataDir });
    expect(first.engine).toBe('pglite');
    await new SqlTimeSeriesStore(first).write([reading]);
    await first.close();

    const second = await openDatabase({ url: null, dataDir }); // migrations already applied: a no-op
    try {
      expect(await new SqlTimeSeriesStore(second).latest()).toEqual([reading]);
    } finally {
      await second.close();
    }
  }, 60_000);

  it('names the unreachable PostgreSQL without its password', async () => {
    const error = await openDatabase({ url: 'postgres://estate:s3cret@127.0.0.1:1/estatewatch', dataDir: 'unused' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DB_UNREACHABLE' });
    expect((error as Error).message).toContain('127.0.0.1:1/estatewatch');
    expect((error as Error).message).not.toContain('s3cret');
  });
});

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('postgres://estate:pw@db:5432/ew')).toBe('postgres://estate:***@db:5432/ew');
    expect(redactUrl('postgres://db/ew')).toBe('postgres://db/ew');
    expect(redactUrl('not a url')).toBe('(unparseable URL)');
  });
});

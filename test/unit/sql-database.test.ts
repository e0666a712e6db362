/** Opening the relational store: PGlite on disk across restarts, and clear errors for PostgreSQL. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, queryRows, redactUrl } from '../../server/src/adapters/sql/database.ts';
import { SqlTimeSeriesStore } from '../../server/src/adapters/sql/time-series-store.ts';
import { freshPostgres, TEST_DATABASE_URL, type TestDatabase } from '../support/databases.ts';

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

describe.runIf(TEST_DATABASE_URL)('Database.copy on PostgreSQL', () => {
  let test: TestDatabase;
  beforeAll(async () => { test = await freshPostgres(); });
  afterAll(() => test?.cleanup());
  const COPY = `copy readings (device_id, ts, seq, "values") from stdin`;
  const stored = async (deviceId: string) => queryRows<{ seq: number; values: unknown }>(test.database.db,
    sql`select seq, "values" from readings where device_id = ${deviceId} order by seq`);

  it('stores the rows of COPY\'s text format, escapes included', async () => {
    await test.database.copy!(COPY, 'copy-a\t2025-01-01T00:00:00.000Z\t1\t{"note":"a\\\\"b"}\ncopy-a\t2025-01-01T00:00:01.000Z\t2\t{"kw":2}\n');
    expect(await stored('copy-a')).toEqual([{ seq: 1, values: { note: 'a"b' } }, { seq: 2, values: { kw: 2 } }]);
  });

  it('rejects the lot on a key already stored, and the database goes on', async () => {
    await test.database.copy!(COPY, 'copy-b\t2025-01-01T00:00:00.000Z\t1\t{"kw":1}\n');
    const error = await test.database.copy!(COPY, 'copy-b\t2025-01-01T00:00:01.000Z\t2\t{"kw":2}\ncopy-b\t2025-01-01T00:00:00.000Z\t1\t{"kw":9}\n')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: '23505' });
    expect(await stored('copy-b')).toEqual([{ seq: 1, values: { kw: 1 } }]);
    // More failures than a pool has connections: none is left behind.
    for (let i = 0; i < 12; i++) await expect(test.database.copy!(COPY, 'copy-b\t2025-01-01T00:00:00.000Z\t1\t{"kw":1}\n')).rejects.toMatchObject({ code: '23505' });
    await test.database.copy!(COPY, 'copy-b\t2025-01-01T00:00:02.000Z\t3\t{"kw":3}\n');
    expect((await stored('copy-b')).map((r) => r.seq)).toEqual([1, 3]);
  });

  it('keeps other statements off its connection: with every connection busy, they queue behind it', async () => {
    const busy = Array.from({ length: 20 }, () => test.database.execute('select pg_sleep(0.1)', []));
    const copies = [0, 1, 2].map((i) => test.database.copy!(COPY, `copy-c\t2025-01-01T00:00:0${i}.000Z\t${i}\t{"kw":${i}}\n`));
    const after = Array.from({ length: 40 }, () => test.database.execute('select 1', []));
    await Promise.all([...busy, ...copies, ...after]);
    expect((await stored('copy-c')).map((r) => r.seq)).toEqual([0, 1, 2]);
  });

  it('rejects when its connection dies, and the next ones get a new connection', async () => {
    const [database] = await queryRows<{ name: string }>(test.database.db, sql`select current_database() as name`);
    const url = new URL(TEST_DATABASE_URL!);
    url.pathname = `/${database!.name}`;
    const admin = postgres(url.toString(), { onnotice: () => {}, max: 1 });
    let copying: Promise<unknown> | undefined;
    try {
      // The table locked, the COPY waits for it: its connection is killed while it surely runs.
      await admin.begin(async (tx) => {
        await tx`lock table readings in access exclusive mode`;
        copying = test.database.copy!(COPY, 'copy-d\t2025-01-01T00:00:00.000Z\t1\t{"kw":1}\n').then(() => 'stored', (error: unknown) => error);
        const waiting = () => tx<{ pid: number }[]>`select pid from pg_stat_activity
          where datname = ${database!.name} and wait_event_type = 'Lock' and query ilike 'copy readings%'`;
        const deadline = Date.now() + 20_000;
        let pids = await waiting();
        while (pids.length === 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
          pids = await waiting();
        }
        expect(pids).toHaveLength(1);
        await tx`select pg_terminate_backend(${pids[0]!.pid})`;
      });
    } finally {
      await admin.end();
    }
    expect(await copying).toBeInstanceOf(Error);
    expect(await stored('copy-d')).toEqual([]);
    for (let i = 0; i < 12; i++) await test.database.copy!(COPY, `copy-e\t2025-01-01T00:00:00.000Z\t${i}\t{"kw":1}\n`);
    expect(await stored('copy-e')).toHaveLength(12);
  });
});

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('postgres://estate:pw@db:5432/ew')).toBe('postgres://estate:***@db:5432/ew');
    expect(redactUrl('postgres://db/ew')).toBe('postgres://db/ew');
    expect(redactUrl('not a url')).toBe('(unparseable URL)');
  });
});

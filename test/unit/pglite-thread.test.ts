/**
 * PGlite on a worker thread behaves like PGlite in the process: rows, errors
 * with PostgreSQL's fields, transactions that commit or roll back and keep
 * other statements out while open; and a long statement leaves the event loop free.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { IN_MEMORY, queryRows } from '../../server/src/adapters/sql/database.ts';
import { PgliteThread } from '../../server/src/adapters/sql/pglite-thread.ts';
import { freshPglite, pgliteTemplate } from '../support/databases.ts';

describe('PgliteThread', () => {
  const open: PgliteThread[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
  });
  // From the migrated template: a new cluster takes seconds.
  const start = async (from?: Blob) => {
    const thread = await PgliteThread.start(IN_MEMORY, from ?? await pgliteTemplate());
    open.push(thread);
    if (from) return thread;
    await thread.query('create table t (id int primary key, at timestamptz, doc jsonb)');
    return thread;
  };

  it('returns rows as PGlite parses them, and keeps the types it is asked to as raw text', async () => {
    const thread = await start();
    await thread.query('insert into t values ($1, $2, $3)', [1, '2025-01-01T00:00:00Z', JSON.stringify({ a: [1, 2] })]);
    const parsed = await thread.query<{ id: number; at: Date; doc: unknown }>('select * from t');
    expect(parsed.rows).toEqual([{ id: 1, at: new Date('2025-01-01T00:00:00Z'), doc: { a: [1, 2] } }]);
    const raw = await thread.query<unknown[]>('select at from t', [], { rowMode: 'array', parsers: { 1184: (v: string) => v } });
    expect(raw.rows).toEqual([['2025-01-01 00:00:00+00']]);
  });

  it('rejects with an Error carrying the PostgreSQL error fields', async () => {
    const thread = await start();
    await thread.query('insert into t (id) values (1)');
    const error = await thread.query('insert into t (id) values (1)').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: '23505', constraint: 't_pkey' });
    expect((error as Error).message).toContain('duplicate key');
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    const thread = await start();
    await thread.transaction(async (tx) => {
      await tx.query('insert into t (id) values (1)');
      await tx.query('insert into t (id) values (2)');
    });
    const failed = await thread.transaction(async (tx) => {
      await tx.query('insert into t (id) values (3)');
      throw new Error('changed my mind');
    }).catch((e: unknown) => e);
    expect(failed).toMatchObject({ message: 'changed my mind' });
    const violated = await thread.transaction(async (tx) => {
      await tx.query('insert into t (id) values (4)');
      await tx.query('insert into t (id) values (1)');
    }).catch((e: unknown) => e);
    expect(violated).toMatchObject({ code: '23505' });
    const { rows } = await thread.query<{ id: number }>('select id from t order by id');
    expect(rows.map((r) => r.id)).toEqual([1, 2]);
  });

  it('holds other statements back while a transaction is open', async () => {
    const thread = await start();
    const seen: string[] = [];
    let outside: Promise<unknown> | undefined;
    await thread.transaction(async (tx) => {
      await tx.query('insert into t (id) values (1)');
      outside = thread.query<{ n: number }>('select count(*)::int as n from t').then((r) => seen.push(`outside saw ${r.rows[0]!.n}`));
      await tx.query('insert into t (id) values (2)');
      seen.push('committing');
    });
    await outside;
    expect(seen).toEqual(['committing', 'outside saw 2']);
  });

  it('runs bulk statements only when no other statement waits: one sent later goes first', async () => {
    const thread = await start();
    const done: string[] = [];
    const slow = "insert into t (id) select g from generate_series(1, 200000) as g";
    const bulk = [1, 2, 3].map((n) => thread.bulk(n === 1 ? slow : `insert into t (id) values (${1_000_000 + n})`, []).then(() => done.push(`bulk ${n}`)));
    // Sent after all three bulk statements: it waits only for the one already running.
    const other = thread.query<{ n: number }>('select count(*)::int as n from t').then((r) => done.push(`other saw ${r.rows[0]!.n}`));
    await Promise.all([...bulk, other]);
    expect(done).toEqual(['bulk 1', 'other saw 200000', 'bulk 2', 'bulk 3']);
  });

  it('sends what a caller sends on an answer before the bulk statement that waited for that answer', async () => {
    const thread = await start();
    const done: string[] = [];
    const stored = thread.query('insert into t (id) values (1)');
    const bulk = thread.bulk('insert into t (id) values (2)', []).then(() => done.push('bulk'));
    // As a ticket's insert follows its alarm's write: sent in the microtasks after the answer.
    const next = stored
      .then(() => thread.query<{ n: number }>('select count(*)::int as n from t'))
      .then((r) => done.push(`next saw ${r.rows[0]!.n}`));
    await Promise.all([bulk, next]);
    expect(done).toEqual(['next saw 1', 'bulk']);
  });

  it('keeps bulk statements out of an open transaction', async () => {
    const thread = await start();
    let bulk: Promise<void> | undefined;
    const seen = await thread.transaction(async (tx) => {
      await tx.query('insert into t (id) values (1)');
      bulk = thread.bulk('insert into t (id) values (2)', []);
      return (await tx.query<{ n: number }>('select count(*)::int as n from t')).rows[0]!.n;
    });
    await bulk;
    expect(seen).toBe(1);
    expect((await thread.query<{ n: number }>('select count(*)::int as n from t')).rows[0]!.n).toBe(2);
  });

  it('leaves the event loop free while a statement runs', async () => {
    const thread = await start();
    const order: string[] = [];
    const statement = thread.query('select count(*) from generate_series(1, 3000000)').then(() => order.push('statement'));
    await new Promise<void>((resolve) => setTimeout(() => { order.push('timer'); resolve(); }, 1));
    await statement;
    expect(order).toEqual(['timer', 'statement']);
  });

  it('dumps its data folder, and starts from such a dump', async () => {
    const thread = await start();
    await thread.query('insert into t (id) values (7)');
    const copy = await start(await thread.dumpDataDir());
    expect((await copy.query<{ id: number }>('select id from t')).rows).toEqual([{ id: 7 }]);
  });

  it('rejects every call once closed', async () => {
    const thread = await start();
    await thread.close();
    await expect(thread.query('select 1')).rejects.toThrow(/PGlite worker exited/);
  });
});

describe('openDatabase on PGlite (worker thread)', () => {
  it('runs drizzle queries and transactions on the migrated schema', async () => {
    const { database, cleanup } = await freshPglite();
    try {
      await database.db.transaction(async (tx) => {
        await tx.execute(sql`create table probe (n int)`);
        await tx.execute(sql`insert into probe values (${41}), (${42})`);
      });
      expect(await queryRows<{ n: number }>(database.db, sql`select max(n) as n from probe`)).toEqual([{ n: 42 }]);
      const rolledBack = await database.db.transaction(async (tx) => {
        await tx.execute(sql`insert into probe values (${43})`);
        tx.rollback();
      }).catch((e: unknown) => e);
      expect(rolledBack).toBeInstanceOf(Error);
      expect(await queryRows<{ n: number }>(database.db, sql`select max(n) as n from probe`)).toEqual([{ n: 42 }]);
      expect(await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from information_schema.tables where table_name = 'readings'`)).toEqual([{ n: 1 }]);
    } finally {
      await cleanup();
    }
  });
});

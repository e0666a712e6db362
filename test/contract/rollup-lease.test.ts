/**
 * The roll-up passes' lease on both relational engines: one holder at a
 * time, handed over at once when the holder stops and taken over when it
 * stops renewing. (Two server processes on PostgreSQL: test/scaleout/rollup-passes.test.ts.)
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../server/src/adapters/sql/database.ts';
import { ROLLUP_LEASE, RollupLease } from '../../server/src/adapters/sql/rollup-lease.ts';
import { TEST_ENGINES, type TestDatabase } from '../support/databases.ts';

describe.each(TEST_ENGINES)('roll-up lease on $engine', ({ open }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await open();
  });
  afterAll(async () => db?.cleanup());
  const holder = async () => (await queryRows<{ owner: string }>(db.database.db,
    sql`select owner from partition_leases where partition = ${ROLLUP_LEASE} and expires_at > now()`))[0]?.owner ?? null;

  it('has one holder; a stopped holder hands it over at once', async () => {
    const first = new RollupLease(db.database, 60_000);
    const second = new RollupLease(db.database, 60_000);
    await first.renew();
    await second.renew();
    expect([first.held, second.held]).toEqual([true, false]);
    await first.renew();
    expect(await holder()).toBe(first.owner);
    await first.stop();
    expect(first.held).toBe(false);
    await second.renew();
    expect([first.held, second.held]).toEqual([false, true]);
    await first.renew();
    expect(first.held).toBe(false);
    await second.stop();
    expect(await holder()).toBeNull();
  });

  it('is taken over once its holder stops renewing it', async () => {
    const gone = new RollupLease(db.database, 1);
    const next = new RollupLease(db.database, 60_000);
    await gone.renew();
    expect(gone.held).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await next.renew();
    expect(next.held).toBe(true);
    await gone.renew();
    expect(gone.held).toBe(false);
    expect(await holder()).toBe(next.owner);
    await next.stop();
  });
});

/**
 * The TimeSeriesStore contract on the relational store's tables: on PGlite
 * always, and on PostgreSQL when TEST_DATABASE_URL is set. Each engine runs it
 * twice: as written (closed hours roll up only where a test calls refresh()),
 * and with every write followed by refresh(), so that every hour-wide answer
 * comes from roll-ups wherever they can give it.
 */
import { describe } from 'vitest';
import { SqlTimeSeriesStore } from '../../server/src/adapters/sql/time-series-store.ts';
import type { TimeSeriesStore } from '../../server/src/ports/time-series.ts';
import { freshPglite, freshPostgres, TEST_DATABASE_URL, type TestDatabase } from '../support/databases.ts';
import { describeTimeSeriesStoreContract } from './time-series.contract.ts';

const storeOn = (open: () => Promise<TestDatabase>, rollUpEveryWrite = false) => async () => {
  const { database, cleanup } = await open();
  const sql = new SqlTimeSeriesStore(database);
  const store: TimeSeriesStore = rollUpEveryWrite ? refreshingAfterWrites(sql) : sql;
  return { store, cleanup: async () => { await sql.close(); await cleanup(); } };
};

function refreshingAfterWrites(inner: SqlTimeSeriesStore): TimeSeriesStore {
  return {
    write: async (batch) => { await inner.write(batch); await inner.refresh(); },
    latest: (ids) => inner.latest(ids),
    range: (q) => inner.range(q),
    rangeTotal: (q) => inner.rangeTotal(q),
    deviceTotals: (q) => inner.deviceTotals(q),
    refresh: () => inner.refresh(),
    health: () => inner.health(),
    close: () => inner.close(),
  };
}

describeTimeSeriesStoreContract('SqlTimeSeriesStore on PGlite', storeOn(freshPglite));
describeTimeSeriesStoreContract('SqlTimeSeriesStore on PGlite, rolled up after every write', storeOn(freshPglite, true));

describe.runIf(TEST_DATABASE_URL)('PostgreSQL (TEST_DATABASE_URL)', () => {
  describeTimeSeriesStoreContract('SqlTimeSeriesStore on PostgreSQL', storeOn(() => freshPostgres()));
  describeTimeSeriesStoreContract('SqlTimeSeriesStore on PostgreSQL, rolled up after every write', storeOn(() => freshPostgres(), true));
});

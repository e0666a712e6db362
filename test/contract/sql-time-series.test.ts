/**
 * The TimeSeriesStore contract on the relational store's tables: on PGlite
 * always, and on PostgreSQL when TEST_DATABASE_URL is set.
 */
import { describe } from 'vitest';
import { SqlTimeSeriesStore } from '../../server/src/adapters/sql/time-series-store.ts';
import { freshPglite, freshPostgres, TEST_DATABASE_URL, type TestDatabase } from '../support/databases.ts';
import { describeTimeSeriesStoreContract } from './time-series.contract.ts';

const storeOn = (open: () => Promise<TestDatabase>) => async () => {
  const { database, cleanup } = await open();
  return { store: new SqlTimeSeriesStore(database), cleanup };
};

describeTimeSeriesStoreContract('SqlTimeSeriesStore on PGlite', storeOn(freshPglite));

describe.runIf(TEST_DATABASE_URL)('PostgreSQL (TEST_DATABASE_URL)', () => {
  describeTimeSeriesStoreContract('SqlTimeSeriesStore on PostgreSQL', storeOn(() => freshPostgres()));
});

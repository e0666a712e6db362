/**
 * The TimeSeriesStore contract against a real InfluxDB 2, when one is given:
 *   TEST_INFLUX_URL, TEST_INFLUX_TOKEN, TEST_INFLUX_ORG, TEST_INFLUX_BUCKET
 * (for example the compose stack's influxdb). InfluxDB cannot run on the
 * development and CI machines, so this suite is skipped there.
 *
 * Every store gets its own site tag, and every query filters on it, so runs
 * and parallel files never see each other's points; what a run wrote is
 * deleted afterwards through /api/v2/delete.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe } from 'vitest';
import { InfluxTimeSeriesStore } from '../../server/src/adapters/influx/influx-time-series-store.ts';
import { describeTimeSeriesStoreContract } from './time-series.contract.ts';

const env = process.env;
const connection = env.TEST_INFLUX_URL && env.TEST_INFLUX_TOKEN && env.TEST_INFLUX_ORG && env.TEST_INFLUX_BUCKET
  ? { url: env.TEST_INFLUX_URL, token: env.TEST_INFLUX_TOKEN, org: env.TEST_INFLUX_ORG, bucket: env.TEST_INFLUX_BUCKET }
  : null;

describe.runIf(connection)('InfluxDB time series (TEST_INFLUX_URL)', () => {
  const sites: string[] = [];
  const stores: InfluxTimeSeriesStore[] = [];

  describeTimeSeriesStoreContract('InfluxTimeSeriesStore', async () => {
    const site = `contract-${randomUUID()}`;
    sites.push(site);
    // Contract device ids are not in the catalogue: their points go to the "unknown" measurement.
    const store = new InfluxTimeSeriesStore(connection!, { site, device: () => undefined, write: { flushIntervalMs: 50 } });
    stores.push(store);
    return { store, cleanup: async () => {} }; // afterAll closes the stores and deletes what they wrote
  });

  afterAll(async () => {
    for (const store of stores) await store.close();
    const { url, token, org, bucket } = connection!;
    const query = new URLSearchParams({ org, bucket });
    for (const site of sites) {
      await fetch(`${url.replace(/\/+$/, '')}/api/v2/delete?${query}`, {
        method: 'POST',
        headers: { Authorization: `Token ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ start: '1970-01-01T00:00:00Z', stop: '2262-04-11T00:00:00Z', predicate: `site="${site}"` }),
      });
    }
  });
});

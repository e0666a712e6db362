import fp from 'fastify-plugin';
import { selectTimeSeriesStore } from '../adapters/select-time-series.ts';
import type { Reading, TimeSeriesStore } from '../ports/time-series.ts';
import { BatchingWriter } from '../services/batching-writer.ts';

export interface Telemetry {
  store: TimeSeriesStore;
  /** Readings are queued here and written in batches. */
  writer: BatchingWriter<Reading>;
}

declare module 'fastify' {
  interface FastifyInstance { telemetry: Telemetry }
}

/** Time-series storage: the selected store behind a batching writer that is flushed on close. */
export default fp(async (app) => {
  const store = await selectTimeSeriesStore(app.config, app.database, app.site, app.clock);
  const writer = new BatchingWriter<Reading>({
    flush: (batch) => store.write(batch),
    maxBatch: 2_000,
    maxDelayMs: 200,
    maxPending: 500_000,
    // Two writes overlap their round trips and commits (PostgreSQL: +35 % rows/s); readings carry
    // their own time, so their order of arrival in the store does not matter. PGlite still runs
    // one at a time (its bulk lane), the next one ready.
    concurrency: 2,
    onError: (error, size) => app.log.warn({ err: error, size }, 'telemetry write failed; will retry'),
  });
  app.decorate('telemetry', { store, writer });
  app.addHook('onClose', async () => {
    await writer.close();
    await store.close();
  });
}, { name: 'telemetry', dependencies: ['config', 'clock', 'catalogue', 'database'] });

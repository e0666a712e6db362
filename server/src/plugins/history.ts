import fp from 'fastify-plugin';
import { fillHistory, historyRows, progressBar } from '../../../simulators/src/history.ts';
import { liveStartMs } from '../../../simulators/src/sim-clock.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The simulated history: `written` settles once it is in the store (at once when none is to be written). */
    simHistory: { readonly filling: boolean; readonly written: Promise<void> };
  }
}

/**
 * With SIMULATE on and an empty time series, fills the last SIM_HISTORY_DAYS (14) days of
 * simulated readings so that the trends have a past. It runs in the
 * background once the server is ready (never delaying listen), with a text
 * progress bar on stderr; shutdown stops it between batches. The live
 * simulators start once it is written, from its last readings.
 */
export default fp(async (app) => {
  const days = app.config.simHistoryDays;
  let settle!: () => void;
  const written = new Promise<void>((resolve) => (settle = resolve));
  const store = app.telemetry.store;
  // Checked before the live simulators write anything: any reading of the first device means history exists.
  const probe = app.site.site.devices[0];
  const filling = app.config.simulate && days > 0 && probe !== undefined && (await store.latest([probe.id])).length === 0;
  app.decorate('simHistory', { filling, written });
  if (!filling) return settle();

  let stopping = false;
  let running: Promise<void> = Promise.resolve();
  app.addHook('onReady', async () => {
    // Up to where the live simulators take over: now, or faster than real time the recent past they catch up from.
    const toMs = liveStartMs(app.clock.now(), app.config.simSpeed);
    const fromMs = toMs - days * 86_400_000;
    const started = Date.now();
    app.log.info({ days, readings: historyRows(app.site.site, fromMs, toMs) }, 'filling simulated history in the background; the simulators start when it is written');
    running = (async () => {
      try {
        const fill = () => fillHistory({
          site: app.site.site, seed: app.config.simSeed, store, fromMs, toMs,
          onProgress: progressBar((text) => process.stderr.write(text), process.stderr.isTTY),
          cancelled: () => stopping,
        });
        const rows = await (store.bulkLoad ? store.bulkLoad(fill) : fill());
        const seconds = (Date.now() - started) / 1000;
        app.log.info({ rows, seconds: Math.round(seconds * 10) / 10, rowsPerSecond: Math.round(rows / seconds), complete: !stopping }, 'simulated history written');
      } catch (err) {
        app.log.warn({ err }, 'simulated history failed');
      } finally {
        settle();
      }
      // The store's own roll-ups (trend totals) catch up with the bulk load, while the live devices run.
      if (stopping || !store.refresh) return;
      const refreshing = Date.now();
      await store.refresh().then(
        () => app.log.info({ seconds: Math.round((Date.now() - refreshing) / 100) / 10 }, 'roll-ups of the simulated history up to date'),
        (err: unknown) => app.log.warn({ err }, 'roll-ups of the simulated history failed'),
      );
    })();
  });
  app.addHook('onClose', async () => {
    stopping = true;
    await running;
  });
}, { name: 'history', dependencies: ['config', 'clock', 'catalogue', 'telemetry'] });

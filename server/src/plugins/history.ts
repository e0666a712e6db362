import fp from 'fastify-plugin';
import { fillHistory, historyRows, progressBar } from '../../../simulators/src/history.ts';

/**
 * With SIMULATE on and an empty time series, fills the last SIM_HISTORY_DAYS (14) days of
 * simulated readings so that the trends have a past. It runs in the
 * background once the server is ready (never delaying listen), with a text
 * progress bar on stderr; shutdown stops it between batches.
 */
export default fp(async (app) => {
  const days = app.config.simHistoryDays;
  if (!app.config.simulate || days === 0) return;
  const store = app.telemetry.store;
  // Checked before the live simulators write anything: any reading of the first device means history exists.
  const probe = app.site.site.devices[0];
  if (probe === undefined || (await store.latest([probe.id])).length > 0) return;

  let stopping = false;
  let running: Promise<void> = Promise.resolve();
  app.addHook('onReady', async () => {
    const toMs = app.clock.now();
    const fromMs = toMs - days * 86_400_000;
    const started = Date.now();
    app.log.info({ days, readings: historyRows(app.site.site, fromMs, toMs) }, 'filling simulated history in the background');
    running = fillHistory({
      // Small batches: the server keeps ingesting live readings in between.
      site: app.site.site, seed: app.config.simSeed, store, fromMs, toMs, batchSize: 5_000,
      onProgress: progressBar((text) => process.stderr.write(text), process.stderr.isTTY),
      cancelled: () => stopping,
    }).then(
      (rows) => app.log.info({ rows, seconds: Math.round((Date.now() - started) / 100) / 10, complete: !stopping }, 'simulated history written'),
      (err: unknown) => app.log.warn({ err }, 'simulated history failed'),
    );
  });
  app.addHook('onClose', async () => {
    stopping = true;
    await running;
  });
}, { name: 'history', dependencies: ['config', 'clock', 'catalogue', 'telemetry'] });

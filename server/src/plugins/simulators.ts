import fp from 'fastify-plugin';
import { startFleet, type Fleet } from '../../../simulators/src/fleet.ts';
import { liveStartMs } from '../../../simulators/src/sim-clock.ts';

/**
 * With SIMULATE on, the whole site's simulated devices publish to the broker, like real ones
 * would. They start once the simulated history is written (at once when there is none to
 * write), from the store's newest readings: meter registers, run hours and counters carry on
 * from the history or from the last run instead of starting over.
 *
 * Ingest refuses readings from the future, so simulated time never passes the wall clock:
 * faster than real time (SIM_SPEED > 1), the run starts in the recent past (where the
 * history ends, or the last run's readings), catches up at that speed within about an hour
 * and then keeps real time.
 */
export default fp(async (app) => {
  if (!app.config.simulate) return;
  let fleet: Fleet | undefined;
  let starting: Promise<void> | undefined;
  let closing = false;

  const start = async () => {
    const latest = await app.telemetry.store.latest(app.site.site.devices.map((d) => d.id));
    if (closing) return;
    const newest = latest.reduce((max, r) => Math.max(max, r.ts), Number.NEGATIVE_INFINITY);
    const startMs = liveStartMs(app.clock.now(), app.config.simSpeed, newest);
    fleet = await startFleet({
      brokerUrl: app.broker.url,
      site: app.site.site,
      speed: app.config.simSpeed,
      startMs,
      live: true,
      seed: app.config.simSeed,
      log: (message: string) => app.log.info(message),
      resumeFrom: new Map(latest.map((r) => [r.deviceId, r])),
      // On the embedded broker every device (and meter concentrator) logs in with its own account.
      ...(app.broker.credentialsFor && { credentialsFor: app.broker.credentialsFor }),
    });
    app.log.info({ speed: app.config.simSpeed, seed: app.config.simSeed, resumed: latest.length, from: new Date(startMs).toISOString() }, 'simulators running');
  };

  void app.simHistory.written.then(() => {
    if (closing) return;
    starting = start().catch((err: unknown) => app.log.error({ err }, 'simulators failed to start'));
  });
  app.addHook('onClose', async () => {
    closing = true;
    await starting;
    await fleet?.stop();
  });
}, { name: 'simulators', dependencies: ['catalogue', 'broker', 'ingest', 'telemetry', 'history'] });

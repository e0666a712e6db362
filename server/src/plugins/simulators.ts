import fp from 'fastify-plugin';
import { startFleet } from '../../../simulators/src/fleet.ts';

/** With SIMULATE on, the whole site's simulated devices publish to the broker, like real ones would. */
export default fp(async (app) => {
  if (!app.config.simulate) return;
  const fleet = await startFleet({
    brokerUrl: app.broker.url,
    site: app.site.site,
    speed: app.config.simSpeed,
    seed: app.config.simSeed,
    log: (message: string) => app.log.info(message),
    // On the embedded broker every device (and meter concentrator) logs in with its own account.
    ...(app.broker.credentialsFor && { credentialsFor: app.broker.credentialsFor }),
  });
  app.log.info({ speed: app.config.simSpeed, seed: app.config.simSeed }, 'simulators running');
  app.addHook('onClose', async () => fleet.stop());
}, { name: 'simulators', dependencies: ['catalogue', 'broker', 'ingest'] });

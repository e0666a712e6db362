import fp from 'fastify-plugin';
import { startEmbeddedBroker } from '../adapters/aedes/embedded-broker.ts';

export interface BrokerInfo {
  /** Where devices and the server connect. */
  url: string;
  embedded: boolean;
}

declare module 'fastify' {
  interface FastifyInstance { broker: BrokerInfo }
}

/** The MQTT broker: the one at MQTT_URL, or an embedded aedes on MQTT_PORT. */
export default fp(async (app) => {
  const { url, embeddedPort } = app.config.mqtt;
  if (url) {
    app.decorate('broker', { url, embedded: false });
    return;
  }
  const broker = await startEmbeddedBroker({ port: embeddedPort, host: '0.0.0.0' });
  app.decorate('broker', { url: broker.url, embedded: true });
  // Registered before the ingest plugin, so it closes after ingest has disconnected.
  app.addHook('onClose', async () => broker.close());
  app.log.info({ url: broker.url }, 'embedded MQTT broker listening');
}, { name: 'broker', dependencies: ['config'] });

/**
 * The embedded MQTT broker (aedes, in process, memory persistence): what
 * `npm start` and the tests use when MQTT_URL is not set.
 *
 * aedes 1.x speaks MQTT 3.1.1 and has no shared subscriptions: a
 * `$share/group/filter` subscription is taken as a literal filter and receives
 * nothing. With one server on an embedded broker there is nothing to share,
 * so the server subscribes plainly (`shared: false`).
 */
import { createServer, type Socket } from 'node:net';
import { Aedes } from 'aedes';

export interface EmbeddedBroker {
  /** Where clients on this machine connect, e.g. mqtt://127.0.0.1:1883. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface EmbeddedBrokerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  /** Interface to listen on; all interfaces when omitted. */
  host?: string;
}

export class MqttPortInUseError extends Error {
  readonly code = 'MQTT_PORT_IN_USE';
  constructor(readonly port: number) {
    super(
      `Port ${port} is already in use, so the embedded MQTT broker cannot start. ` +
      'Set MQTT_PORT to a free port, or MQTT_URL to use the broker that is already running there.',
    );
    this.name = 'MqttPortInUseError';
  }
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

export async function startEmbeddedBroker({ port, host }: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await closeBroker(broker);
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new MqttPortInUseError(port);
    throw err;
  }

  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('embedded MQTT broker: the server has no TCP address');
  const connectHost = host === undefined || WILDCARD_HOSTS.has(host) ? '127.0.0.1' : host;
  const url = `mqtt://${connectHost.includes(':') ? `[${connectHost}]` : connectHost}:${address.port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    close: () => {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await closeBroker(broker);
        // Connections that never completed an MQTT CONNECT are not aedes clients; end them too.
        for (const socket of sockets) socket.destroy();
        await serverClosed;
      })();
      return closing;
    },
  };
}

function closeBroker(broker: Aedes): Promise<void> {
  return new Promise((resolve) => broker.close(() => resolve()));
}

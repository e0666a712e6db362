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
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';
import type { BrokerAccessPolicy, BrokerPrincipal } from '../../auth/broker-accounts.ts';

export interface EmbeddedBroker {
  /** Where clients on this machine connect, e.g. mqtt://127.0.0.1:1883. */
  readonly url: string;
  readonly port: number;
  /** What the access policy refused so far (all zero without one). Spoofed topics are `publish`. */
  readonly refused: BrokerRefusals;
  /**
   * Subscribes a function in this process: messages reach it without an MQTT
   * connection (no encoding, TCP or PUBACK per message: measured at a quarter
   * of the broker's and the server's CPU per message). A device's QoS 1
   * PUBACK goes out once the function has returned. Retained messages that
   * match are delivered first, as to a client that subscribes. Resolves with
   * the function that unsubscribes.
   */
  subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface BrokerRefusals { connect: number; publish: number; subscribe: number }

export interface EmbeddedBrokerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  /** Interface to listen on; all interfaces when omitted. */
  host?: string;
  /**
   * Who may connect, publish and subscribe. Without it the broker is open
   * (the broker's own tests); the server always passes one. A client that
   * publishes outside its topics is disconnected (MQTT 3.1.1 has no reason
   * code for a refused PUBLISH); a refused subscription gets a failure SUBACK.
   */
  access?: BrokerAccessPolicy;
  onRefused?: (what: keyof BrokerRefusals, detail: { clientId: string; username?: string; topic?: string }) => void;
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

export async function startEmbeddedBroker({ port, host, access, onRefused }: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const refused: BrokerRefusals = { connect: 0, publish: 0, subscribe: 0 };
  if (access) guard(broker, access, refused, onRefused ?? (() => {}));
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
    refused,
    subscribe: async (filter, onMessage) => {
      const deliver = (packet: AedesPublishPacket, done: () => void) => {
        onMessage(packet.topic, payloadBuffer(packet.payload));
        done();
      };
      await new Promise<void>((resolve, reject) => broker.subscribe(filter, deliver, (error?: Error) => (error ? reject(error) : resolve())));
      const { persistence } = broker as unknown as { persistence: RetainedStore };
      for await (const packet of persistence.createRetainedStreamCombi([filter])) onMessage(packet.topic, payloadBuffer(packet.payload));
      return () => new Promise<void>((resolve) => broker.unsubscribe(filter, deliver, () => resolve()));
    },
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

function guard(broker: Aedes, access: BrokerAccessPolicy, refused: BrokerRefusals, onRefused: NonNullable<EmbeddedBrokerOptions['onRefused']>): void {
  const principals = new WeakMap<Client, BrokerPrincipal>();
  const refuse = (what: keyof BrokerRefusals, client: Client | null, topic?: string) => {
    refused[what] += 1;
    const username = client ? principals.get(client)?.username : undefined;
    onRefused(what, { clientId: client?.id ?? '', ...(username !== undefined && { username }), ...(topic !== undefined && { topic }) });
  };
  broker.authenticate = (client, username, password, done) => {
    const principal = access.authenticate(username, password);
    if (principal === null) {
      refused.connect += 1;
      onRefused('connect', { clientId: client.id, ...(username !== undefined && { username }) });
      return done(Object.assign(new Error('bad username or password'), { returnCode: 4 }), false);
    }
    principals.set(client, principal);
    done(null, true);
  };
  broker.authorizePublish = (client, packet, done) => {
    const principal = client ? principals.get(client) : undefined;
    if (principal && access.mayPublish(principal, packet.topic)) return done(null);
    refuse('publish', client, packet.topic);
    done(new Error(`not allowed to publish to ${packet.topic}`));
  };
  broker.authorizeSubscribe = (client, subscription, done) => {
    const principal = principals.get(client);
    if (principal && access.maySubscribe(principal, subscription.topic)) return done(null, subscription);
    refuse('subscribe', client, subscription.topic);
    done(null, null);
  };
}

/** The part of aedes' persistence (not in its typings) that holds retained messages. */
interface RetainedStore {
  createRetainedStreamCombi(patterns: string[]): AsyncIterable<{ topic: string; payload: Buffer | string }>;
}

function payloadBuffer(payload: Buffer | string | Uint8Array): Buffer {
  return Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
}

function closeBroker(broker: Aedes): Promise<void> {
  return new Promise((resolve) => broker.close(() => resolve()));
}

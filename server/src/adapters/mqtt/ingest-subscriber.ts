/**
 * The server's MQTT subscriptions to device topics (QoS 1), one per partition
 * this instance owns (domain/partitions.ts: one per plot, `estate/{site}/{plot}/#`).
 *
 * Each subscription is a persistent session (clean: false) under the
 * partition's stable client id: while the partition has no consumer — an
 * instance restarting, the partition moving to another instance, the broker
 * restarting with persistence on — the broker queues its QoS 1 messages, and
 * whoever connects next with that client id receives them. The client id is
 * unique, so a second connection with it takes the session over and the
 * broker closes the first. The first must then stay away rather than
 * reconnect and take the session back: before every reconnection it asks
 * `mayReconnect` (the partition's lease), and an MQTT 5 broker that says the
 * session was taken over (DISCONNECT 0x8E) is believed at once; either way it
 * stops for good (`onFenced`). aedes speaks MQTT 3.1.1 only; embedded, one
 * process owns every partition.
 *
 * A broker that lost the session (restarted without persistence) is subscribed to again.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';

/** How long the broker keeps a partition's session (and its queue) with no one connected: MQTT 5 only. */
export const SESSION_EXPIRY_S = 24 * 3_600;
/** MQTT 5 DISCONNECT reason: another connection with the same client id took the session. */
const SESSION_TAKEN_OVER = 0x8e;
const RECONNECT_AFTER_MS = 1_000;

/** Pino-compatible (fastify's app.log fits). */
export interface IngestLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface BrokerConnection {
  url: string;
  username?: string;
  password?: string;
  /** 5 for an external broker (session expiry, take-over notice); 4 (3.1.1) for aedes. */
  protocolVersion?: 4 | 5;
  log?: IngestLog;
  /** How long connecting waits for the first connection before it rejects. */
  connectTimeoutMs?: number;
}

export interface IngestSubscriberOptions extends BrokerConnection {
  /** The topic filter, e.g. `estate/{site}/{plot}/#`. */
  topic: string;
  /** Stable across restarts and instances: the broker finds the persistent session by it. */
  clientId: string;
  /** Called for every message. Exceptions are logged, never thrown into the MQTT client. */
  onMessage(topic: string, payload: Buffer): void;
  /**
   * Asked before each reconnection whether this connection should still
   * consume (a rejection counts as yes: the store that knows may be down).
   */
  mayReconnect?(): Promise<boolean>;
  /** Another connection with this client id has the session; this one has stopped for good. */
  onFenced?(): void;
}

export interface IngestSubscriber {
  /** The subscribed topic filter. */
  readonly topic: string;
  readonly clientId: string;
  connected(): boolean;
  /** Disconnects; the broker keeps the session and queues for it. */
  close(): Promise<void>;
}

export class MqttConnectError extends Error {
  readonly code = 'MQTT_CONNECT_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MqttConnectError';
  }
}

export class MqttSubscribeError extends Error {
  readonly code = 'MQTT_SUBSCRIBE_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'MqttSubscribeError';
  }
}

const silentLog: IngestLog = { info() {}, warn() {}, error() {} };

export async function connectIngest(opts: IngestSubscriberOptions): Promise<IngestSubscriber> {
  const log = opts.log ?? silentLog;
  const where = redactUrl(opts.url);
  const { topic, clientId } = opts;
  const timeoutMs = opts.connectTimeoutMs ?? 10_000;
  const protocolVersion = opts.protocolVersion ?? 4;

  const clientOptions: IClientOptions = {
    clientId,
    clean: false,
    protocolVersion,
    // MQTT 5 ends a session at disconnect unless told to keep it.
    ...(protocolVersion === 5 && { properties: { sessionExpiryInterval: SESSION_EXPIRY_S } }),
    // Reconnections are this module's, after asking mayReconnect.
    reconnectPeriod: 0,
    connectTimeout: Math.min(timeoutMs, 30_000),
    ...(opts.username !== undefined && { username: opts.username }),
    ...(opts.password !== undefined && { password: opts.password }),
  };
  const client = connect(opts.url, clientOptions);

  // mqtt.js writes each PUBACK with a system call of its own. Held back until what arrived in
  // one read is handled, they go out in one write (measured: a quarter less CPU per message
  // in the subscriber, and a broker that reads fewer packets).
  let corked = false;
  client.on('packetreceive', () => {
    if (corked) return;
    corked = true;
    const stream = client.stream;
    stream.cork();
    setImmediate(() => {
      corked = false;
      stream.uncork();
    });
  });

  client.on('message', (t, payload) => {
    try {
      opts.onMessage(t, payload);
    } catch (err) {
      log.error({ err, topic: t }, 'MQTT ingest: message handler failed');
    }
  });

  // Until the first connection, errors decide whether connecting rejects; after
  // it, they are logged and mqtt.js reconnects. The same error repeats every
  // reconnect period while the broker is down, so it is logged once.
  let everConnected = false;
  let closing: Promise<void> | undefined;
  let lastError: Error | undefined;
  let lastLogged: string | null = null;
  client.on('error', (err) => {
    lastError = err;
    if (!everConnected || err.message === lastLogged) return;
    lastLogged = err.message;
    log.error({ err, url: where, clientId }, `MQTT ingest: ${err.message}`);
  });
  const stopFenced = (why: string): void => {
    log.warn({ url: where, clientId, topic }, `MQTT ingest: ${why}; this connection stops`);
    closing = client.endAsync(true);
    opts.onFenced?.();
  };
  let lostLogged = false;
  client.on('close', () => {
    if (closing) return;
    if (everConnected && !lostLogged) log.warn({ url: where, clientId }, 'MQTT ingest: connection lost, reconnecting');
    lostLogged = everConnected;
    setTimeout(() => {
      if (closing) return;
      void (opts.mayReconnect?.() ?? Promise.resolve(true)).catch(() => true).then((may) => {
        if (closing) return;
        if (may) client.reconnect();
        else stopFenced('the partition has another owner now');
      });
    }, RECONNECT_AFTER_MS);
  });
  client.on('connect', (connack) => {
    if (!everConnected) return;
    lastLogged = null;
    lostLogged = false;
    log.info({ url: where, clientId, sessionPresent: connack.sessionPresent }, 'MQTT ingest: reconnected');
    // A broker that lost the session (restarted without persistence) lost the subscription too.
    if (!connack.sessionPresent) {
      client.subscribeAsync(topic, { qos: 1 }).catch((err: unknown) => log.error({ err, url: where, clientId, topic }, 'MQTT ingest: subscribing again failed'));
    }
  });
  client.on('disconnect', (packet) => {
    if (packet.reasonCode === SESSION_TAKEN_OVER && !closing) stopFenced('another connection took this session over');
  });

  try {
    await firstConnection(client, timeoutMs, () => lastError);
  } catch (err) {
    closing = client.endAsync(true);
    const cause = (err as { cause?: Error }).cause;
    const message = err instanceof ConnectRefused
      ? `The MQTT broker at ${where} refused the connection: ${cause?.message}`
      : `Could not connect to the MQTT broker at ${where} within ${timeoutMs / 1000} s${cause ? ` (last error: ${cause.message})` : ''}. ` +
        'Check MQTT_URL, or unset it to use the embedded broker.';
    throw new MqttConnectError(message, { cause });
  }
  everConnected = true;

  try {
    const granted = await client.subscribeAsync(topic, { qos: 1 });
    if (granted.some((g) => g.qos === 128 || g.qos > 2)) {
      throw new MqttSubscribeError(`The MQTT broker at ${where} refused the subscription to ${topic}`);
    }
  } catch (err) {
    await client.endAsync(true);
    throw err instanceof MqttSubscribeError ? err : new MqttConnectError(`Subscribing to ${topic} at ${where} failed: ${(err as Error).message}`, { cause: err });
  }
  log.info({ url: where, topic, clientId }, 'MQTT ingest subscribed');

  return {
    topic,
    clientId,
    connected: () => client.connected,
    close: () => {
      closing ??= client.endAsync(!client.connected);
      return closing;
    },
  };
}

export interface PartitionSubscription {
  /** The partition's id. */
  id: string;
  topic: string;
  clientId: string;
  mayReconnect?(): Promise<boolean>;
  onFenced?(): void;
}

/**
 * The subscriptions of the partitions this instance owns, opened and closed
 * as it takes and hands them over; every message goes to one handler.
 */
export class PartitionSubscribers {
  /** Per partition: the connection being opened, and the subscriber once it is. */
  private readonly open = new Map<string, { opening: Promise<IngestSubscriber>; subscriber: IngestSubscriber | null }>();

  constructor(private readonly options: BrokerConnection & { onMessage(topic: string, payload: Buffer): void }) {}

  /** Connects the partition's persistent session and subscribes; rejects when the broker cannot be reached. */
  async subscribe(partition: PartitionSubscription): Promise<void> {
    if (this.open.has(partition.id)) return;
    const entry: { opening: Promise<IngestSubscriber>; subscriber: IngestSubscriber | null } = {
      opening: connectIngest({
        ...this.options,
        topic: partition.topic,
        clientId: partition.clientId,
        ...(partition.mayReconnect && { mayReconnect: partition.mayReconnect }),
        onFenced: () => {
          if (this.open.get(partition.id) === entry) this.open.delete(partition.id);
          partition.onFenced?.();
        },
      }),
      subscriber: null,
    };
    this.open.set(partition.id, entry);
    try {
      entry.subscriber = await entry.opening;
    } catch (error) {
      if (this.open.get(partition.id) === entry) this.open.delete(partition.id);
      throw error;
    }
  }

  /** Stops consuming the partition; the broker keeps its session and queues for the next owner. */
  async unsubscribe(partitionId: string): Promise<void> {
    const entry = this.open.get(partitionId);
    if (!entry) return;
    this.open.delete(partitionId);
    const subscriber = await entry.opening.catch(() => null);
    await subscriber?.close();
  }

  /** Whether every subscription is connected (true with none: a standby instance); one still connecting is not. */
  connected(): boolean {
    for (const { subscriber } of this.open.values()) if (!subscriber?.connected()) return false;
    return true;
  }

  async close(): Promise<void> {
    await Promise.all([...this.open.keys()].map((id) => this.unsubscribe(id)));
  }
}

class ConnectRefused extends Error {}

/**
 * Resolves on the first CONNACK. Rejects at once on a CONNACK refusal (bad
 * credentials do not fix themselves by retrying), else when the timeout passes;
 * `cause` carries the broker's or the socket's error.
 */
function firstConnection(client: MqttClient, timeoutMs: number, lastError: () => Error | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onConnect = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error & { code?: unknown }): void => {
      if (typeof err.code !== 'number') return;
      cleanup();
      reject(new ConnectRefused('refused', { cause: err }));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error('timeout', { cause: lastError() }));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      client.off('connect', onConnect);
      client.off('error', onError);
    };
    client.on('connect', onConnect);
    client.on('error', onError);
  });
}

/** The URL without its password, fit for logs and error messages. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

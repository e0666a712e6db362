/**
 * The server's MQTT subscription to every device topic (QoS 1).
 *
 * - shared: `$share/{group}/estate/#`, so that several server instances behind
 *   one broker (Mosquitto 2, EMQX, HiveMQ) split the load; clean session,
 *   random client id, because each instance is just one member of the group.
 * - not shared (the embedded aedes, which has no shared subscriptions):
 *   `estate/#` with a persistent session (clean: false, stable client id), so
 *   the broker queues QoS 1 messages while the server restarts.
 *
 * mqtt.js reconnects by itself and re-subscribes when the broker lost the session.
 */
import { randomUUID } from 'node:crypto';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { TOPIC_ROOT } from '../../contract.ts';

export const DEFAULT_SHARE_GROUP = 'estatewatch';
export const DEFAULT_CLIENT_ID = 'estatewatch-ingest';

/** Pino-compatible (fastify's app.log fits). */
export interface IngestLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface IngestSubscriberOptions {
  url: string;
  username?: string;
  password?: string;
  shared: boolean;
  /** The shared-subscription group; instances of one deployment must use the same one. */
  shareGroup?: string;
  /**
   * Subscribe to this site's topics only (estate/{siteId}/#), so that several
   * estates can share one broker; absent: every site's.
   */
  siteId?: string;
  /** Used when not shared; must be stable across restarts for the persistent session to be found again. */
  clientId?: string;
  /** Called for every message. Exceptions are logged, never thrown into the MQTT client. */
  onMessage(topic: string, payload: Buffer): void;
  log?: IngestLog;
  /** How long connectIngest waits for the first connection before it rejects. */
  connectTimeoutMs?: number;
}

export interface IngestSubscriber {
  /** The subscribed topic filter. */
  readonly topic: string;
  readonly clientId: string;
  connected(): boolean;
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

export function ingestTopic(shared: boolean, shareGroup = DEFAULT_SHARE_GROUP, siteId?: string): string {
  const filter = siteId === undefined ? `${TOPIC_ROOT}/#` : `${TOPIC_ROOT}/${siteId}/#`;
  return shared ? `$share/${shareGroup}/${filter}` : filter;
}

export async function connectIngest(opts: IngestSubscriberOptions): Promise<IngestSubscriber> {
  const log = opts.log ?? silentLog;
  const where = redactUrl(opts.url);
  const topic = ingestTopic(opts.shared, opts.shareGroup, opts.siteId);
  const clientId = opts.shared ? `${DEFAULT_CLIENT_ID}-${randomUUID().slice(0, 8)}` : (opts.clientId ?? DEFAULT_CLIENT_ID);
  const timeoutMs = opts.connectTimeoutMs ?? 10_000;

  const clientOptions: IClientOptions = {
    clientId,
    clean: opts.shared,
    reconnectPeriod: 1000,
    connectTimeout: Math.min(timeoutMs, 30_000),
    ...(opts.username !== undefined && { username: opts.username }),
    ...(opts.password !== undefined && { password: opts.password }),
  };
  const client = connect(opts.url, clientOptions);

  client.on('message', (t, payload) => {
    try {
      opts.onMessage(t, payload);
    } catch (err) {
      log.error({ err, topic: t }, 'MQTT ingest: message handler failed');
    }
  });

  // Until the first connection, errors decide whether connectIngest rejects; after
  // it, they are logged and mqtt.js reconnects. The same error repeats every
  // reconnect period while the broker is down, so it is logged once.
  let everConnected = false;
  let lastError: Error | undefined;
  let lastLogged: string | null = null;
  client.on('error', (err) => {
    lastError = err;
    if (!everConnected || err.message === lastLogged) return;
    lastLogged = err.message;
    log.error({ err, url: where }, `MQTT ingest: ${err.message}`);
  });
  client.on('offline', () => {
    if (everConnected) log.warn({ url: where }, 'MQTT ingest: connection lost, reconnecting');
  });
  client.on('connect', (connack) => {
    if (!everConnected) return;
    lastLogged = null;
    log.info({ url: where, sessionPresent: connack.sessionPresent }, 'MQTT ingest: reconnected');
  });

  try {
    await firstConnection(client, timeoutMs, () => lastError);
  } catch (err) {
    client.end(true);
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
    if (granted.some((g) => g.qos === 128)) {
      throw new MqttSubscribeError(`The MQTT broker at ${where} refused the subscription to ${topic}`);
    }
  } catch (err) {
    await client.endAsync(true);
    throw err instanceof MqttSubscribeError ? err : new MqttConnectError(`Subscribing to ${topic} at ${where} failed: ${(err as Error).message}`, { cause: err });
  }
  log.info({ url: where, topic, clientId }, 'MQTT ingest subscribed');

  let closing: Promise<void> | undefined;
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

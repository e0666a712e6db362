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
 *
 * A message is acknowledged (PUBACK) once what it carried is stored — its
 * reading, its dead letter, the alarm changes it caused — as the AckGate says,
 * not on receipt: a process killed before a write leaves those messages
 * unacknowledged, and the broker delivers them again to whoever has the
 * session next. PUBACKs go out in the order the messages came, each release
 * in one write. The in-flight window this needs is asked for with MQTT 5's
 * Receive Maximum.
 */
import { connect, type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import { ACK_ON_RECEIPT, type AckGate, type AckMark } from '../../ports/ack-gate.ts';

/** How long the broker keeps a partition's session (and its queue) with no one connected: MQTT 5 only. */
export const SESSION_EXPIRY_S = 24 * 3_600;
/** MQTT 5 DISCONNECT reason: another connection with the same client id took the session. */
const SESSION_TAKEN_OVER = 0x8e;
const RECONNECT_AFTER_MS = 1_000;
/**
 * Unacknowledged messages the broker may send one session (MQTT 5 Receive
 * Maximum; Mosquitto 2 takes it over its max_inflight_messages). Messages wait
 * for their batch's write, up to ≈0.3 s at 20,000 msgs/s: a window of 20,000
 * lets one partition alone carry more than that. Keep the writers' bounds in
 * WriteWatermark below it, or the broker stops before a lagging store is noticed.
 */
export const ACK_WINDOW = 20_000;
/** How long closing waits for the held acknowledgements' writes before leaving them to the broker. */
const CLOSE_WAIT_MS = 5_000;

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
  /** When a QoS 1 message may be acknowledged: after `onMessage` stored what it carried (default: on receipt). */
  acks?: AckGate;
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
    ...(protocolVersion === 5 && { properties: { sessionExpiryInterval: SESSION_EXPIRY_S, receiveMaximum: ACK_WINDOW } }),
    // Reconnections are this module's, after asking mayReconnect.
    reconnectPeriod: 0,
    // mqtt.js logs every packet through `debug`, which costs even when off (≈1.5 % of the server's
    // thread at 10,000 msgs/s): unless DEBUG asks for its logs, they go nowhere.
    ...(!process.env.DEBUG?.includes('mqttjs') && { log: () => {} }),
    connectTimeout: Math.min(timeoutMs, 30_000),
    ...(opts.username !== undefined && { username: opts.username }),
    ...(opts.password !== undefined && { password: opts.password }),
  };
  const client = connect(opts.url, clientOptions);

  // PUBACKs are held until what their messages carried is stored (AckGate), then sent in arrival
  // order, each release in one write (measured: a system call per PUBACK cost a quarter more CPU
  // per message in the subscriber, and the broker read more packets).
  const gate = opts.acks ?? ACK_ON_RECEIPT;
  const pubacks = new PubackQueue(gate, (messageIds) => {
    // A PUBACK of an earlier connection must not reach this one: it would acknowledge another message.
    if (!client.connected) return;
    client.stream.cork();
    for (const messageId of messageIds) sendPuback({ cmd: 'puback', messageId });
    client.stream.uncork();
  });
  // Set while closing: messages that still arrive are neither handled nor acknowledged; the broker keeps them for the session's next consumer.
  let draining = false;
  const sendPuback = holdPubacks(client, (messageId) => {
    if (!draining) pubacks.hold(messageId);
  });
  client.once('end', gate.onProgress(() => pubacks.release()));
  // mqtt.js handles every packet of one read on the next ticks; the messages' writes are queued by then.
  let readEnding = false;
  client.on('packetreceive', () => {
    if (readEnding) return;
    readEnding = true;
    setImmediate(() => {
      readEnding = false;
      pubacks.endOfRead();
    });
  });
  // Messages handled but not acknowledged when the connection dropped: the broker sends them again
  // first (same packet id, DUP set) once the session resumes; they are acknowledged, not handled twice.
  let resent = new Set<number>();

  client.on('message', (t, payload, packet) => {
    if (draining) return;
    if (packet.qos > 0 && resent.size > 0) {
      if (packet.dup && resent.delete(packet.messageId!)) return;
      if (!packet.dup) resent = new Set();
    }
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
    for (const messageId of pubacks.drop()) resent.add(messageId);
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
      resent = new Set();
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
      closing ??= (async () => {
        // What was handled is acknowledged once stored; what comes now is left to the next consumer.
        draining = true;
        if (client.connected) await pubacks.idle(CLOSE_WAIT_MS);
        await client.endAsync(!client.connected);
      })();
      return closing;
    },
  };
}

/**
 * A connection's PUBACKs, held until their messages are stored (the gate's
 * mark, taken at the end of each read, is reached) and released in the order
 * the messages arrived, as MQTT requires, whatever order the writes end in.
 * While the gate does not hold, everything goes at the next release.
 */
export class PubackQueue {
  /** The PUBACKs of the read being handled. */
  private current: number[] = [];
  /** Earlier reads' PUBACKs with the mark their messages wait for, oldest first from `head`. */
  private groups: { messageIds: number[]; mark: AckMark }[] = [];
  private head = 0;
  private count = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly gate: AckGate, private readonly send: (messageIds: readonly number[]) => void) {}

  /** PUBACKs not sent yet. */
  get held(): number {
    return this.count;
  }

  /** A message is handled; mqtt.js would acknowledge it now. */
  hold(messageId: number): void {
    this.current.push(messageId);
    this.count += 1;
  }

  /** The read's messages are handled: their PUBACKs wait for what is handed to the stores by now. */
  endOfRead(): void {
    if (this.current.length > 0) {
      this.groups.push({ messageIds: this.current, mark: this.gate.mark() });
      this.current = [];
    }
    this.release();
  }

  /** Sends, in one call, the PUBACKs of the stored prefix; of everything while the gate does not hold. */
  release(): void {
    if (this.head === this.groups.length) return;
    const holding = this.gate.holding();
    const messageIds: number[] = [];
    let stored = 0;
    while (this.head < this.groups.length) {
      const group = this.groups[this.head]!;
      const reached = this.gate.reached(group.mark);
      if (!reached && holding) break;
      for (const messageId of group.messageIds) messageIds.push(messageId);
      if (reached) stored += group.messageIds.length;
      this.head += 1;
    }
    if (this.head === this.groups.length) {
      this.groups = [];
      this.head = 0;
    } else if (this.head >= 1_024) {
      this.groups = this.groups.slice(this.head);
      this.head = 0;
    }
    if (messageIds.length === 0) return;
    this.count -= messageIds.length;
    this.send(messageIds);
    this.gate.acknowledged(stored, true);
    this.gate.acknowledged(messageIds.length - stored, false);
    if (this.count === 0) this.wakeIdle();
  }

  /** The connection is gone: nothing held is sent. Returns the held message ids, oldest first. */
  drop(): number[] {
    const messageIds = [...this.groups.slice(this.head).flatMap((g) => g.messageIds), ...this.current];
    this.groups = [];
    this.head = 0;
    this.current = [];
    this.count = 0;
    this.wakeIdle();
    return messageIds;
  }

  /** Resolves once nothing is held, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wakeIdle(): void {
    for (const wake of this.idleWaiters.splice(0)) wake();
  }
}

/**
 * Takes PUBACKs out of mqtt.js's hands. mqtt.js 5.16 (handlers/publish.js)
 * sends a QoS 1 message's PUBACK from handleMessage's callback and only then
 * handles the next packet, so delaying that callback would handle one message
 * per write. Its private `_sendPacket` is wrapped instead: a PUBACK goes to
 * `hold` and mqtt.js carries on at once; the returned function sends one.
 * Pinned against the real Mosquitto by test/contract/ingest-acks.test.ts: run
 * it when upgrading mqtt.
 */
function holdPubacks(client: MqttClient, hold: (messageId: number) => void): (puback: Packet) => void {
  type SendPacket = (packet: Packet, cb?: (error?: Error) => void, ...rest: unknown[]) => void;
  const internals = client as unknown as { _sendPacket?: SendPacket };
  const original = internals._sendPacket;
  if (typeof original !== 'function') throw new Error('mqtt.js has no _sendPacket any more: ingest-subscriber.ts cannot hold PUBACKs');
  internals._sendPacket = function (this: MqttClient, packet, cb, ...rest) {
    if (packet.cmd !== 'puback') return original.call(this, packet, cb, ...rest);
    hold(packet.messageId!);
    cb?.();
  };
  return (puback) => original.call(client, puback);
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

  constructor(private readonly options: BrokerConnection & Pick<IngestSubscriberOptions, 'onMessage' | 'acks'>) {}

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

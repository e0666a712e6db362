import type { FastifyBaseLogger } from 'fastify';
import fp from 'fastify-plugin';
import { PartitionSubscribers, type PartitionSubscription } from '../adapters/mqtt/ingest-subscriber.ts';
import type { Device } from '../catalogue/types.ts';
import type { DeviceStatus } from '../contract.ts';
import type { Reading } from '../ports/time-series.ts';
import { DeadLetterRepository, type DeadLetterInput } from '../adapters/sql/dead-letter-repository.ts';
import { validateMessage } from '../domain/ingest-validation.ts';
import { LiveState } from '../domain/live-state.ts';
import type { IngestCounters } from '../push/events.ts';
import { BatchingWriter } from '../services/batching-writer.ts';
import { WriteWatermark } from '../services/write-watermark.ts';
import type { BrokerInfo } from './broker.ts';

/** Dead letters keep at most this much of a payload; the rest is marked truncated. */
const DEAD_LETTER_PAYLOAD_BYTES = 4096;
/**
 * Pending items past which a writer counts as behind, and MQTT messages are acknowledged on
 * receipt until it catches up (services/write-watermark.ts). Below a session's in-flight window
 * (ACK_WINDOW, 20,000), so that a lagging store is noticed before the broker stops sending.
 * Readings: ≈5 of the telemetry writer's batches, well above what 20,000 msgs/s leaves pending.
 */
const READINGS_BEHIND = 10_000;
const DEAD_LETTERS_BEHIND = 5_000;

/** A message that passed validation, as other plugins receive it; `at` is its arrival (wall clock). */
export type AcceptedMessage =
  | { readonly kind: 'telemetry'; readonly device: Device; readonly reading: Reading; readonly at: number }
  | { readonly kind: 'status'; readonly device: Device; readonly status: DeviceStatus; readonly at: number };

export type AcceptedListener = (message: AcceptedMessage) => void;

export interface Ingest {
  live: LiveState;
  counters: IngestCounters;
  deadLetters: DeadLetterRepository;
  deadLetterWriter: BatchingWriter<DeadLetterInput>;
  /**
   * When MQTT messages are acknowledged: once the writers following them here (readings, dead
   * letters, and the alarm changes, tracked by the alarms plugin) have stored what they carried.
   */
  acks: WriteWatermark;
  /** One MQTT subscription per owned partition, opened and closed by the partitions plugin. */
  subscriber: Subscribers;
  /**
   * Calls `listener` with every accepted reading and status, synchronously on
   * the ingest path: keep it cheap and hand slow work to a queue. Returns the
   * function that removes it.
   */
  onAccepted(listener: AcceptedListener): () => void;
}

declare module 'fastify' {
  interface FastifyInstance { ingest: Ingest }
}

/** The partitions' subscriptions: over MQTT (PartitionSubscribers), or inside the process with the embedded broker. */
export type Subscribers = Pick<PartitionSubscribers, 'subscribe' | 'unsubscribe' | 'connected' | 'close'>;

/**
 * The embedded broker's messages without an MQTT connection to it: no
 * encoding, TCP, parsing and PUBACK per message on either side (a quarter of
 * the server's CPU per message). One process owns every partition, so there
 * is no session to persist or take over, and no point in acknowledging after the write: the
 * broker and its queues die with this process.
 */
function inProcessSubscribers(subscribe: NonNullable<BrokerInfo['subscribeInProcess']>, handle: (topic: string, payload: Buffer) => void, log: FastifyBaseLogger): Subscribers {
  // Never throws into the broker, as the MQTT subscriber never throws into its client.
  const onMessage = (topic: string, payload: Buffer) => {
    try {
      handle(topic, payload);
    } catch (err) {
      log.error({ err, topic }, 'ingest: message handler failed');
    }
  };
  const open = new Map<string, Promise<() => Promise<void>>>();
  const unsubscribe = async (partitionId: string) => {
    const subscribed = open.get(partitionId);
    open.delete(partitionId);
    await (await subscribed?.catch(() => null))?.();
  };
  return {
    subscribe: async (partition: PartitionSubscription) => {
      if (open.has(partition.id)) return;
      const subscribing = subscribe(partition.topic, onMessage);
      open.set(partition.id, subscribing);
      try {
        await subscribing;
      } catch (error) {
        open.delete(partition.id);
        throw error;
      }
    },
    unsubscribe,
    connected: () => true,
    close: async () => { await Promise.all([...open.keys()].map(unsubscribe)); },
  };
}

function deadLetter(topic: string, payload: Buffer, reason: string, detail: string, receivedAt: Date): DeadLetterInput {
  const truncated = payload.length > DEAD_LETTER_PAYLOAD_BYTES;
  return {
    receivedAt,
    topic: topic.slice(0, 512),
    payload: payload.subarray(0, DEAD_LETTER_PAYLOAD_BYTES).toString('utf8'),
    payloadTruncated: truncated,
    reason,
    detail,
  };
}

/**
 * MQTT ingest: every message is validated against the contract and the
 * catalogue; good readings update the live state and go to the time-series
 * writer, bad ones become counted dead letters. Nothing here throws into the
 * MQTT client: one bad message never stops the others.
 */
export default fp(async (app) => {
  const live = new LiveState(app.site.site.devices);
  const latest = await app.telemetry.store.latest();
  live.seed(latest, (id) => app.site.device(id));

  const counters: IngestCounters = { accepted: 0, rejected: 0, byReason: {} };
  const deadLetters = new DeadLetterRepository(app.database);
  const deadLetterWriter = new BatchingWriter<DeadLetterInput>({
    flush: (batch) => deadLetters.add(batch),
    // drizzle builds the INSERT on this thread, ≈0.1 ms a row: 500 rows at once stalled it 30–60 ms.
    maxBatch: 100,
    maxDelayMs: 500,
    maxPending: 20_000,
    onError: (error, size) => app.log.warn({ err: error, size }, 'dead-letter write failed; will retry'),
  });
  const acks = new WriteWatermark(app.log);
  acks.track('readings', app.telemetry.writer, READINGS_BEHIND);
  acks.track('dead letters', deadLetterWriter, DEAD_LETTERS_BEHIND);
  const siteId = app.site.site.id;
  const acceptedListeners = new Set<AcceptedListener>();
  const notify = (message: AcceptedMessage): void => {
    for (const listener of acceptedListeners) {
      try {
        listener(message);
      } catch (error) {
        app.log.error({ err: error, device: message.device.id }, 'an ingest listener failed; ingest goes on');
      }
    }
  };

  const onMessage = (topic: string, payload: Buffer): void => {
    const now = app.clock.now();
    const result = validateMessage(topic, payload, { site: app.site, siteId, now });
    if (!result.ok) {
      counters.rejected += 1;
      counters.byReason[result.reason] = (counters.byReason[result.reason] ?? 0) + 1;
      deadLetterWriter.add(deadLetter(topic, payload, result.reason, result.detail, new Date(now)));
      return;
    }
    counters.accepted += 1;
    switch (result.kind) {
      case 'telemetry':
        live.applyReading(result.device, result.reading, now);
        app.telemetry.writer.add(result.reading);
        if (acceptedListeners.size > 0) notify({ kind: 'telemetry', device: result.device, reading: result.reading, at: now });
        break;
      case 'status':
        live.applyStatus(result.device.id, result.device.kind, result.status, now);
        if (acceptedListeners.size > 0) notify({ kind: 'status', device: result.device, status: result.status, at: now });
        break;
      case 'event':
        app.log.debug({ device: result.deviceId, event: result.event }, 'device event');
        break;
    }
  };

  // Nothing is subscribed yet: the partitions plugin subscribes to each partition it owns, once
  // the alarm engine has restored that partition's state (plugins/partitions.ts).
  const subscriber: Subscribers = app.broker.subscribeInProcess ? inProcessSubscribers(app.broker.subscribeInProcess, onMessage, app.log) : new PartitionSubscribers({
    url: app.broker.url,
    // aedes speaks MQTT 3.1.1; an external broker MQTT 5 (session expiry, the take-over notice).
    protocolVersion: app.broker.embedded ? 4 : 5,
    // The embedded broker has its own read-only server account; an external one uses MQTT_USERNAME/MQTT_PASSWORD.
    ...(app.broker.serverAccount ?? {
      ...(app.config.mqtt.username !== undefined && { username: app.config.mqtt.username }),
      ...(app.config.mqtt.password !== undefined && { password: app.config.mqtt.password }),
    }),
    onMessage,
    acks,
    log: app.log,
  });

  const onAccepted = (listener: AcceptedListener): (() => void) => {
    acceptedListeners.add(listener);
    return () => { acceptedListeners.delete(listener); };
  };

  app.decorate('ingest', { live, counters, deadLetters, deadLetterWriter, acks, subscriber, onAccepted });
  app.addHook('onClose', async () => {
    await subscriber.close();
    await deadLetterWriter.close();
  });
}, { name: 'ingest', dependencies: ['config', 'clock', 'catalogue', 'broker', 'database', 'telemetry'] });

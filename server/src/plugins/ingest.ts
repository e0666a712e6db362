import fp from 'fastify-plugin';
import { connectIngest, type IngestSubscriber } from '../adapters/mqtt/ingest-subscriber.ts';
import type { Device } from '../catalogue/types.ts';
import type { DeviceStatus } from '../contract.ts';
import type { Reading } from '../ports/time-series.ts';
import { DeadLetterRepository, type DeadLetterInput } from '../adapters/sql/dead-letter-repository.ts';
import { validateMessage } from '../domain/ingest-validation.ts';
import { LiveState } from '../domain/live-state.ts';
import type { IngestCounters } from '../push/events.ts';
import { BatchingWriter } from '../services/batching-writer.ts';

/** Dead letters keep at most this much of a payload; the rest is marked truncated. */
const DEAD_LETTER_PAYLOAD_BYTES = 4096;

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
  subscriber: IngestSubscriber;
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
    maxBatch: 500,
    maxDelayMs: 500,
    maxPending: 20_000,
    onError: (error, size) => app.log.warn({ err: error, size }, 'dead-letter write failed; will retry'),
  });
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

  const subscriber = await connectIngest({
    url: app.broker.url,
    // aedes has no shared subscriptions; an external broker splits the site's messages among instances of one group.
    shared: !app.broker.embedded,
    shareGroup: app.config.mqtt.shareGroup,
    siteId,
    // The embedded broker has its own read-only server account; an external one uses MQTT_USERNAME/MQTT_PASSWORD.
    ...(app.broker.serverAccount ?? {
      ...(app.config.mqtt.username !== undefined && { username: app.config.mqtt.username }),
      ...(app.config.mqtt.password !== undefined && { password: app.config.mqtt.password }),
    }),
    onMessage,
    log: app.log,
  });

  const onAccepted = (listener: AcceptedListener): (() => void) => {
    acceptedListeners.add(listener);
    return () => { acceptedListeners.delete(listener); };
  };

  app.decorate('ingest', { live, counters, deadLetters, deadLetterWriter, subscriber, onAccepted });
  app.addHook('onClose', async () => {
    await subscriber.close();
    await deadLetterWriter.close();
  });
}, { name: 'ingest', dependencies: ['config', 'clock', 'catalogue', 'broker', 'database', 'telemetry'] });

import fp from 'fastify-plugin';
import { AlarmRepository, type AlarmWrite } from '../adapters/sql/alarm-repository.ts';
import { isAnnunciated, type Alarm } from '../domain/alarms/alarm-state.ts';
import { AlarmEngine, siteDetectorContext, type ActionResult, type EngineEffect, type EngineSnapshot, SNAPSHOT_VERSION } from '../domain/alarms/engine.ts';
import { isNightAt } from '../domain/sun.ts';
import type { AcceptedMessage } from './ingest.ts';
import { LIVE_DEVICE_ROOMS } from './push.ts';
import { LIVE_DEVICE_ROLES } from '../auth/roles.ts';
import type { AlarmView } from '../push/events.ts';
import { BatchingWriter } from '../services/batching-writer.ts';

/** Silence, shelve expiry, suppression release and floods are judged this often (wall clock). */
const TICK_EVERY_MS = 5_000;
/** The engine's snapshot is saved this often (and on close). */
const SNAPSHOT_EVERY_MS = 10_000;

export type AlarmListener = (effects: EngineEffect[]) => void;

export interface Alarms {
  engine: AlarmEngine;
  repository: AlarmRepository;
  /**
   * Calls `listener` with every batch of effects once it is stored (so the
   * alarms table already shows them). Returns the function that removes it.
   */
  subscribe(listener: AlarmListener): () => void;
  /** While a maintenance ticket for the device is open its alarms keep tracking but are not annunciated. */
  setOutOfService(deviceId: string, on: boolean): EngineEffect[];
  /** Operator actions: applied, stored and pushed before the promise resolves. */
  acknowledge(id: string, action: { by: string; comment?: string }): Promise<ActionResult>;
  shelve(id: string, action: { by: string; until?: number | null; reason: string }): Promise<ActionResult>;
  unshelve(id: string, action: { by: string }): Promise<ActionResult>;
  /** Resolves once every effect so far is stored and its subscribers called. */
  flush(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance { alarms: Alarms }
}

export function alarmView(alarm: Alarm): AlarmView {
  return {
    id: alarm.id, deviceId: alarm.deviceId, ruleId: alarm.ruleId, kind: alarm.kind, plotId: alarm.plotId, buildingId: alarm.buildingId,
    priority: alarm.priority, ticket: alarm.ticket, title: { en: alarm.title.en, zh: alarm.title.zh },
    state: alarm.state, value: alarm.value, message: alarm.message, count: alarm.count,
    firstActiveAt: alarm.firstActiveAt, lastActiveAt: alarm.lastActiveAt, lastClearedAt: alarm.lastClearedAt,
    acknowledged: alarm.acknowledged && { ...alarm.acknowledged },
    shelved: alarm.shelved && { ...alarm.shelved },
    suppressedBy: alarm.suppressedBy, outOfService: alarm.outOfService, chattering: alarm.chattering,
    annunciated: isAnnunciated(alarm),
  };
}

const EMPTY_SNAPSHOT: EngineSnapshot = {
  version: SNAPSHOT_VERSION, alarms: [], detectors: [], lastSeen: [], offline: [], outOfService: [], feederRoots: [], floods: [],
};

/**
 * The engine's snapshot, with each alarm replaced by its stored row where the
 * row was written after the snapshot: effects are stored within a moment,
 * the snapshot only every few seconds, so after a crash the rows are the
 * newer word on each alarm's state (detector states come from the snapshot).
 */
function mergeStored(snapshot: EngineSnapshot | null, savedAt: number, stored: readonly { alarm: Alarm; updatedAt: number }[]): EngineSnapshot | null {
  const newer = stored.filter((s) => snapshot === null || s.updatedAt >= savedAt);
  if (snapshot === null && newer.length === 0) return null;
  const alarms = new Map((snapshot?.alarms ?? []).map((a) => [a.id, a]));
  for (const { alarm } of newer) alarms.set(alarm.id, alarm);
  return { ...(snapshot ?? EMPTY_SNAPSHOT), alarms: [...alarms.values()] };
}

/**
 * The anomaly engine in the server: fed every accepted reading and status by
 * ingest, ticked by the wall clock. Its effects are stored by their own
 * batching writer (never behind telemetry), then handed to subscribers and
 * pushed to the control room. The engine's state is restored at start from
 * its snapshot and the alarms table, so a restart neither loses an alarm nor
 * raises one twice.
 */
export default fp(async (app) => {
  const siteId = app.site.site.id;
  const { latitude, longitude } = app.site.site;
  const repository = new AlarmRepository(app.database);
  const engine = new AlarmEngine({
    site: app.site,
    context: siteDetectorContext(app.site, { isNight: (ts) => isNightAt(ts, latitude, longitude) }),
  });

  const saved = await repository.loadEngineState(siteId);
  const stored = await repository.all();
  const snapshot = mergeStored(saved ? (JSON.parse(saved.snapshot) as EngineSnapshot) : null, saved?.savedAt ?? 0, stored);
  if (snapshot) {
    const restored = engine.restore(snapshot, app.clock.now());
    if (!restored.ok) {
      app.log.warn({ code: restored.error.code }, `alarm engine snapshot not used, restoring the alarms alone: ${restored.error.message}`);
      engine.restore(mergeStored(null, 0, stored) ?? EMPTY_SNAPSHOT, app.clock.now());
    }
    app.log.info({ alarms: engine.alarms().length }, 'alarm engine restored');
  }

  const listeners = new Set<AlarmListener>();
  /** The state of each alarm as last queued for writing: what differs at snapshot time is written too. */
  const queued = new Map(engine.alarms().map((a) => [a.id, a]));
  let dirty = false;
  let closing = false;

  const afterStored = (batch: readonly AlarmWrite[]): void => {
    const effects = batch.flatMap((item) => ('effect' in item ? [item.effect] : []));
    // Each stored batch is pushed at once (the writer's batch is the coalescing unit), to the
    // control-room roles only: technicians' phones get their tickets, not the alarm stream.
    const changed = new Map<string, Alarm>();
    for (const effect of effects) {
      if ('alarm' in effect) changed.set(effect.alarm.id, effect.alarm);
      else app.io.to(LIVE_DEVICE_ROOMS).emit('alarms:flood', { plotId: effect.plotId, active: effect.type === 'flood-started' });
    }
    if (changed.size > 0) app.io.to(LIVE_DEVICE_ROOMS).emit('alarms:changed', [...changed.values()].map(alarmView));
    if (effects.length === 0) return;
    for (const listener of listeners) {
      try {
        listener(effects);
      } catch (error) {
        app.log.error({ err: error }, 'an alarm listener failed');
      }
    }
  };

  const writer = new BatchingWriter<AlarmWrite>({
    flush: async (batch) => {
      await repository.write(batch);
      afterStored(batch);
    },
    maxBatch: 1_000,
    maxDelayMs: 50,
    maxPending: 200_000,
    onError: (error, size) => app.log.warn({ err: error, size }, 'alarm write failed; will retry'),
  });

  const record = (effects: readonly EngineEffect[]): void => {
    dirty = true;
    // After close the final snapshot carries whatever the engine still does.
    if (effects.length === 0 || closing) return;
    const at = app.clock.now();
    for (const effect of effects) {
      writer.add({ effect, at });
      if ('alarm' in effect) queued.set(effect.alarm.id, effect.alarm);
    }
  };

  const onAccepted = (message: AcceptedMessage): void => {
    record(message.kind === 'telemetry'
      ? engine.onReading(message.device, message.reading, message.at)
      : engine.onStatus(message.device, message.status, message.at));
  };

  // Retained statuses (last-wills) may have arrived before this plugin listened.
  for (const state of app.ingest.live.all()) {
    const device = state.status === 'offline' ? app.site.device(state.id) : undefined;
    if (device) record(engine.onStatus(device, 'offline', app.clock.now()));
  }
  const stopListening = app.ingest.onAccepted(onAccepted);

  /** Queues the alarms whose value or chatter bookkeeping moved on without an effect. */
  const queueChangedAlarms = (now: number): void => {
    for (const alarm of engine.alarms()) {
      if (queued.get(alarm.id) !== alarm) {
        writer.add({ alarm, at: now });
        queued.set(alarm.id, alarm);
      }
    }
  };
  let saving: Promise<void> | null = null;
  const saveSnapshot = async (): Promise<void> => {
    const now = app.clock.now();
    queueChangedAlarms(now);
    dirty = false;
    await repository.saveEngineState(siteId, JSON.stringify(engine.snapshot()), now);
  };
  const saveInBackground = (): void => {
    if (saving || !dirty) return;
    saving = saveSnapshot()
      .catch((error: unknown) => { dirty = true; app.log.warn({ err: error }, 'saving the alarm engine snapshot failed; will retry'); })
      .finally(() => { saving = null; });
  };

  const ticker = setInterval(() => {
    // A quiet tick changes nothing worth a new snapshot.
    const effects = engine.tick(app.clock.now());
    if (effects.length > 0) record(effects);
  }, TICK_EVERY_MS);
  const snapshots = setInterval(saveInBackground, SNAPSHOT_EVERY_MS);

  app.io.on('connection', (socket) => {
    const seesAlarms = LIVE_DEVICE_ROLES.includes(socket.data.principal.user.role);
    socket.on('alarms:snapshot', (reply) => {
      if (typeof reply !== 'function') return;
      if (!seesAlarms) return reply({ alarms: [], flooding: [] });
      reply({ alarms: engine.alarms().filter((a) => a.state !== 'normal').map(alarmView), flooding: engine.floodingPlots() });
    });
  });

  const act = async (result: ActionResult): Promise<ActionResult> => {
    if (result.ok) {
      record(result.effects);
      await writer.drain();
    }
    return result;
  };

  app.decorate('alarms', {
    engine,
    repository,
    subscribe: (listener: AlarmListener) => {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
    setOutOfService: (deviceId: string, on: boolean) => {
      const effects = engine.setOutOfService(deviceId, on, app.clock.now());
      record(effects);
      return effects;
    },
    acknowledge: (id, action) => act(engine.acknowledge(id, action, app.clock.now())),
    shelve: (id, action) => act(engine.shelve(id, action, app.clock.now())),
    unshelve: (id, action) => act(engine.unshelve(id, action, app.clock.now())),
    flush: () => writer.drain(),
  } satisfies Alarms);

  app.addHook('preClose', async () => {
    stopListening();
    clearInterval(ticker);
    clearInterval(snapshots);
  });
  app.addHook('onClose', async () => {
    await saving;
    const now = app.clock.now();
    queueChangedAlarms(now);
    closing = true;
    await writer.close();
    await repository.saveEngineState(siteId, JSON.stringify(engine.snapshot()), now)
      .catch((error: unknown) => app.log.error({ err: error }, 'saving the alarm engine snapshot on close failed'));
  });
}, { name: 'alarms', dependencies: ['config', 'clock', 'catalogue', 'database', 'ingest', 'push'] });

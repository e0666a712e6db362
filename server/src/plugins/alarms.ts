import fp from 'fastify-plugin';
import { AlarmRepository, MAX_ALARM_WRITE, type AlarmWrite } from '../adapters/sql/alarm-repository.ts';
import { PartitionLeaseRepository } from '../adapters/sql/partition-lease-repository.ts';
import { isActive, isAnnunciated, type Alarm } from '../domain/alarms/alarm-state.ts';
import { AlarmEngine, siteDetectorContext, type ActionResult, type EngineEffect, type EngineSnapshot } from '../domain/alarms/engine.ts';
import { snapshotOfPlot, type Partition } from '../domain/partitions.ts';
import { isNightAt } from '../domain/sun.ts';
import { AppError } from '../errors.ts';
import type { AcceptedMessage } from './ingest.ts';
import { LIVE_DEVICE_ROOMS } from './push.ts';
import { LIVE_DEVICE_ROLES } from '../auth/roles.ts';
import type { AlarmView } from '../push/events.ts';
import { BatchingWriter } from '../services/batching-writer.ts';

/** Silence, shelve expiry, suppression release and floods are judged this often (wall clock). */
const TICK_EVERY_MS = 5_000;
/** Each partition's engine snapshot is saved this often (and when it is handed over). */
const SNAPSHOT_EVERY_MS = 10_000;

export type AlarmListener = (effects: EngineEffect[]) => void;

/** The engines of the partitions this instance owns, read as one. */
export interface AlarmEngineView {
  /** An alarm of an owned partition, or (after an action forwarded to its owner) as the owner answered. */
  alarm(id: string): Alarm | undefined;
  alarms(): Alarm[];
  floodingPlots(): string[];
  snapshot(): EngineSnapshot;
}

/** Called by the partitions plugin as partitions come and go (plugins/partitions.ts). */
export interface AlarmPartitions {
  /** Restores the partition's engine from its snapshot and the alarms table; before its messages flow. */
  takeOver(partition: Partition, epoch: number): Promise<void>;
  /** After its messages stopped: stores its alarms and snapshot, then forgets it. */
  handOver(partition: Partition): Promise<void>;
  /** Taken over by another instance: forgets it without storing its state. */
  drop(partition: Partition): void;
}

export interface Alarms {
  engine: AlarmEngineView;
  repository: AlarmRepository;
  partitions: AlarmPartitions;
  /**
   * Calls `listener` with every batch of effects once it is stored (so the
   * alarms table already shows them). Returns the function that removes it.
   */
  subscribe(listener: AlarmListener): () => void;
  /**
   * Calls `listener` with every batch of effects as its write starts (not
   * while the store is failing): for work that may begin before the batch is
   * stored, such as look-ups, never for what must follow it.
   */
  subscribeStoring(listener: AlarmListener): () => void;
  /** While a maintenance ticket for the device is open its alarms keep tracking but are not annunciated. */
  setOutOfService(deviceId: string, on: boolean): EngineEffect[];
  /** Where a partition's new owner reads which devices are out of service (the maintenance tickets under way). */
  useOutOfServiceSource(source: () => Promise<ReadonlySet<string>>): void;
  /** Operator actions: applied by the partition's owner (this or another instance), stored and pushed before the promise resolves. */
  acknowledge(id: string, action: { by: string; comment?: string }): Promise<ActionResult>;
  shelve(id: string, action: { by: string; until?: number | null; reason: string }): Promise<ActionResult>;
  unshelve(id: string, action: { by: string }): Promise<ActionResult>;
  /** Resolves once every effect so far is stored and its subscribers called. */
  flush(): Promise<void>;
}

/** An operator action on an alarm, as it travels to the instance that owns the alarm's partition. */
type AlarmAction =
  | { id: string; action: 'acknowledge'; by: string; comment?: string }
  | { id: string; action: 'shelve'; by: string; until?: number | null; reason: string }
  | { id: string; action: 'unshelve'; by: string };

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

const EMPTY_SNAPSHOT: EngineSnapshot = AlarmEngine.merge([]);

/**
 * The engine's snapshot, with each alarm replaced by its stored row where the
 * row was written after the snapshot: effects are stored within a moment,
 * the snapshot only every few seconds, so after a crash the rows are the
 * newer word on each alarm's state. Detector states come from the snapshot,
 * except for an alarm that was raised or cleared after it: that detector has
 * not seen the change, so it is dropped and the engine gives the alarm a
 * resuming detector instead (engine.restore), which neither clears it nor
 * raises it a second time.
 */
function mergeStored(snapshot: EngineSnapshot | null, savedAt: number, stored: readonly { alarm: Alarm; updatedAt: number }[]): EngineSnapshot | null {
  const newer = stored.filter((s) => snapshot === null || s.updatedAt >= savedAt);
  if (snapshot === null && newer.length === 0) return null;
  const alarms = new Map((snapshot?.alarms ?? []).map((a) => [a.id, a]));
  const moved = new Set<string>();
  for (const { alarm } of newer) {
    const old = alarms.get(alarm.id);
    if (old === undefined || old.count !== alarm.count || isActive(old) !== isActive(alarm)) moved.add(alarm.id);
    alarms.set(alarm.id, alarm);
  }
  const base = snapshot ?? EMPTY_SNAPSHOT;
  return { ...base, alarms: [...alarms.values()], detectors: base.detectors.filter(([key]) => !moved.has(key)) };
}

/**
 * The anomaly engine in the server, one engine per partition (plot) this
 * instance owns: fed every accepted reading and status by ingest, ticked by
 * the wall clock. Effects are stored by their own batching writer (never
 * behind telemetry), then handed to subscribers and pushed to the control
 * room. A partition's engine is restored when it is taken over — from its
 * snapshot and the alarms table — so neither a restart nor a change of owner
 * loses an alarm or raises one twice. Actions on an alarm of a partition
 * owned elsewhere go to its owner through the cluster.
 */
export default fp(async (app) => {
  const siteId = app.site.site.id;
  const { latitude, longitude } = app.site.site;
  const repository = new AlarmRepository(app.database);
  const leases = new PartitionLeaseRepository(app.database);
  const context = siteDetectorContext(app.site, { isNight: (ts) => isNightAt(ts, latitude, longitude) });
  const plotOfDevice = (deviceId: string): string | undefined => app.site.device(deviceId)?.plotId;
  const plotIds = new Set(app.site.site.plots.map((p) => p.id));
  // Alarm ids are `${deviceId}:${ruleId}`.
  const plotOfAlarm = (id: string): string | undefined => plotOfDevice(id.slice(0, id.indexOf(':')));

  interface Owned { partition: Partition; epoch: number; engine: AlarmEngine; dirty: boolean }
  /** By plot id. */
  const owned = new Map<string, Owned>();
  /** Alarms of other instances' partitions as their owner answered a forwarded action. */
  const remote = new Map<string, Alarm>();
  const listeners = new Set<AlarmListener>();
  const storingListeners = new Set<AlarmListener>();
  let devicesOutOfService: () => Promise<ReadonlySet<string>> = async () => new Set();
  /** The state of each alarm as last queued for writing: what differs at snapshot time is written too. */
  const queued = new Map<string, Alarm>();
  let closing = false;

  const pushAlarms = (effects: readonly EngineEffect[]): void => {
    // Control-room roles only: technicians' phones get their tickets, not the alarm stream.
    const changed = new Map<string, Alarm>();
    for (const effect of effects) {
      if ('alarm' in effect) changed.set(effect.alarm.id, effect.alarm);
      else app.io.to(LIVE_DEVICE_ROOMS).emit('alarms:flood', { plotId: effect.plotId, active: effect.type === 'flood-started' });
    }
    if (changed.size > 0) app.io.to(LIVE_DEVICE_ROOMS).emit('alarms:changed', [...changed.values()].map(alarmView));
  };

  const effectsOf = (batch: readonly AlarmWrite[]): EngineEffect[] => batch.flatMap((item) => ('effect' in item ? [item.effect] : []));

  const notify = (which: ReadonlySet<AlarmListener>, effects: EngineEffect[]): void => {
    if (effects.length === 0) return;
    for (const listener of which) {
      try {
        listener(effects);
      } catch (error) {
        app.log.error({ err: error }, 'an alarm listener failed');
      }
    }
  };

  const afterStored = (batch: readonly AlarmWrite[]): void => {
    const effects = effectsOf(batch);
    // Each stored batch is pushed at once (the writer's batch is the coalescing unit).
    pushAlarms(effects);
    notify(listeners, effects);
  };

  /**
   * Effects already pushed although not stored (the store was unreachable): the control room
   * sees an alarm at once whatever the database does, and again once it is stored.
   */
  const pushedEarly = new WeakSet<AlarmWrite>();
  const pushUnstored = (items: readonly AlarmWrite[]): void => {
    const fresh = items.filter((item) => !pushedEarly.has(item));
    fresh.forEach((item) => pushedEarly.add(item));
    pushAlarms(effectsOf(fresh));
  };

  const writer = new BatchingWriter<AlarmWrite>({
    flush: async (batch) => {
      try {
        // Sent before what the listeners send: on PGlite (one statement at a time) the alarm goes first.
        const writing = repository.write(batch);
        // While the store fails, work started early would only pile up behind it.
        if (storingListeners.size > 0 && writer.stats.lastError === null) notify(storingListeners, effectsOf(batch));
        await writing;
      } catch (error) {
        pushUnstored(batch);
        throw error;
      }
      afterStored(batch);
    },
    maxBatch: MAX_ALARM_WRITE,
    // At once: what arrives while a batch is being stored forms the next batch, so a burst
    // still costs few statements, and a lone fault is not held back.
    maxDelayMs: 0,
    maxPending: 200_000,
    onError: (error, size) => app.log.warn({ err: error, size }, 'alarm write failed; will retry'),
  });
  // A message is acknowledged to the broker once the alarm changes it caused are stored too.
  app.ingest.acks.track('alarm changes', writer, 5_000);

  const record = (state: Owned, effects: readonly EngineEffect[]): void => {
    state.dirty = true;
    // After close the final snapshot carries whatever the engine still does.
    if (effects.length === 0 || closing) return;
    const at = app.clock.now();
    const items = effects.map((effect) => ({ effect, at }));
    for (const item of items) {
      writer.add(item);
      if ('alarm' in item.effect) queued.set(item.effect.alarm.id, item.effect.alarm);
    }
    if (writer.stats.lastError !== null) pushUnstored(items);
  };

  const onAccepted = (message: AcceptedMessage): void => {
    const state = owned.get(message.device.plotId);
    if (!state) return;
    record(state, message.kind === 'telemetry'
      ? state.engine.onReading(message.device, message.reading, message.at)
      : state.engine.onStatus(message.device, message.status, message.at));
  };
  const stopListening = app.ingest.onAccepted(onAccepted);

  /** Queues the alarms whose value or chatter bookkeeping moved on without an effect. */
  const queueChangedAlarms = (state: Owned, now: number): void => {
    for (const alarm of state.engine.alarms()) {
      if (queued.get(alarm.id) !== alarm) {
        writer.add({ alarm, at: now });
        queued.set(alarm.id, alarm);
      }
    }
  };
  /** Saved only while this instance still holds the partition's lease at its epoch. */
  const saveSnapshot = async (state: Owned): Promise<void> => {
    const now = app.clock.now();
    queueChangedAlarms(state, now);
    state.dirty = false;
    const fence = { partition: state.partition.id, instance: app.cluster.instance, epoch: state.epoch };
    const saved = await leases.saveSnapshotFenced(fence, state.partition.id, JSON.stringify(state.engine.snapshot()), now);
    if (!saved) app.log.warn({ partition: state.partition.id, epoch: state.epoch }, 'alarm engine snapshot not saved: the partition has another owner now');
  };
  let saving: Promise<void> | null = null;
  const saveInBackground = (): void => {
    if (saving) return;
    const dirty = [...owned.values()].filter((s) => s.dirty);
    if (dirty.length === 0) return;
    saving = (async () => {
      for (const state of dirty) {
        await saveSnapshot(state).catch((error: unknown) => {
          state.dirty = true;
          app.log.warn({ err: error, partition: state.partition.id }, 'saving the alarm engine snapshot failed; will retry');
        });
      }
    })().finally(() => { saving = null; });
  };

  const forget = (plotId: string): void => {
    const state = owned.get(plotId);
    if (!state) return;
    owned.delete(plotId);
    for (const alarm of state.engine.alarms()) queued.delete(alarm.id);
  };

  const partitions: AlarmPartitions = {
    takeOver: async (partition, epoch) => {
      const engine = new AlarmEngine({ site: app.site, context });
      let saved = await repository.loadEngineState(partition.id);
      let snapshot: EngineSnapshot | null = null;
      try {
        if (saved) snapshot = JSON.parse(saved.snapshot) as EngineSnapshot;
        else {
          // A server from before partitions saved the whole site's snapshot: this plot's part of it.
          saved = await repository.loadEngineState(siteId);
          if (saved) snapshot = snapshotOfPlot(JSON.parse(saved.snapshot) as EngineSnapshot, plotOfDevice, plotIds, partition.plotId);
        }
      } catch (error) {
        app.log.warn({ err: error, partition: partition.id }, 'alarm engine snapshot unreadable, restoring the alarms alone');
        snapshot = null;
      }
      const stored = (await repository.all()).filter((s) => s.alarm.plotId === partition.plotId);
      const merged = mergeStored(snapshot, saved?.savedAt ?? 0, stored);
      if (merged) {
        const restored = engine.restore(merged, app.clock.now());
        if (!restored.ok) {
          app.log.warn({ code: restored.error.code, partition: partition.id }, `alarm engine snapshot not used, restoring the alarms alone: ${restored.error.message}`);
          engine.restore(mergeStored(null, 0, stored) ?? EMPTY_SNAPSHOT, app.clock.now());
        }
      }
      // A maintenance ticket changed while the partition had no owner reached no engine, and a
      // snapshot may be older than the last change: the tickets under way are the word.
      const underMaintenance = [...await devicesOutOfService()].filter((deviceId) => plotOfDevice(deviceId) === partition.plotId);
      const outOfServiceEffects = engine.resetOutOfService(underMaintenance, app.clock.now());
      for (const alarm of engine.alarms()) {
        queued.set(alarm.id, alarm);
        remote.delete(alarm.id);
      }
      const state: Owned = { partition, epoch, engine, dirty: false };
      owned.set(partition.plotId, state);
      record(state, outOfServiceEffects);
      app.log.info({ partition: partition.id, epoch, alarms: engine.alarms().length, outOfService: underMaintenance.length }, 'alarm engine restored');
    },
    handOver: async (partition) => {
      const state = owned.get(partition.plotId);
      if (!state) return;
      await saving;
      try {
        queueChangedAlarms(state, app.clock.now());
        await writer.drain();
        await saveSnapshot(state);
      } finally {
        forget(partition.plotId);
      }
    },
    drop: (partition) => forget(partition.plotId),
  };

  const ticker = setInterval(() => {
    const now = app.clock.now();
    for (const state of owned.values()) {
      // A quiet tick changes nothing worth a new snapshot.
      const effects = state.engine.tick(now);
      if (effects.length > 0) record(state, effects);
    }
  }, TICK_EVERY_MS);
  const snapshots = setInterval(saveInBackground, SNAPSHOT_EVERY_MS);

  const engines: AlarmEngineView = {
    alarm: (id) => {
      const plot = plotOfAlarm(id);
      const state = plot === undefined ? undefined : owned.get(plot);
      return state ? state.engine.alarm(id) : remote.get(id);
    },
    alarms: () => [...owned.values()].flatMap((s) => s.engine.alarms()),
    floodingPlots: () => [...owned.values()].flatMap((s) => s.engine.floodingPlots()),
    snapshot: () => AlarmEngine.merge([...owned.values()].map((s) => s.engine.snapshot())),
  };

  /** What the control room's alarm list starts from: every partition's open alarms and floods. */
  const openAlarms = async (): Promise<{ alarms: AlarmView[]; flooding: string[] }> => {
    const alarms = engines.alarms().filter((a) => a.state !== 'normal').map(alarmView);
    const flooding = engines.floodingPlots();
    if (app.partitions.ownsAll()) return { alarms, flooding };
    const covered = new Set(owned.keys());
    for (const answer of await app.cluster.ask<{ plots: string[]; alarms: AlarmView[]; flooding: string[] } | null>('alarms:open', null)) {
      if (!answer) continue;
      answer.plots.forEach((p) => covered.add(p));
      alarms.push(...answer.alarms);
      flooding.push(...answer.flooding);
    }
    // Plots whose owner did not answer (changing hands): as stored.
    const { items } = await repository.list({ activeOnly: true }, { limit: 100_000, offset: 0 });
    alarms.push(...items.filter((a) => !covered.has(a.plotId)).map(alarmView));
    return { alarms, flooding };
  };
  app.cluster.answer('alarms:open', () => ({
    plots: [...owned.keys()],
    alarms: engines.alarms().filter((a) => a.state !== 'normal').map(alarmView),
    flooding: engines.floodingPlots(),
  }));

  app.io.on('connection', (socket) => {
    const seesAlarms = LIVE_DEVICE_ROLES.includes(socket.data.principal.user.role);
    socket.on('alarms:snapshot', (reply) => {
      if (typeof reply !== 'function') return;
      if (!seesAlarms) return reply({ alarms: [], flooding: [] });
      openAlarms().then(reply, (error: unknown) => {
        app.log.warn({ err: error }, 'open alarms of other partitions unavailable; sending this instance\'s');
        reply({ alarms: engines.alarms().filter((a) => a.state !== 'normal').map(alarmView), flooding: engines.floodingPlots() });
      });
    });
  });

  /** Applies an action to an alarm of an owned partition; null when its partition is owned elsewhere. */
  const actLocally = async (request: AlarmAction): Promise<ActionResult | null> => {
    const plot = plotOfAlarm(request.id);
    const state = plot === undefined ? undefined : owned.get(plot);
    if (!state) return null;
    const now = app.clock.now();
    const result = request.action === 'acknowledge'
      ? state.engine.acknowledge(request.id, { by: request.by, ...(request.comment !== undefined && { comment: request.comment }) }, now)
      : request.action === 'shelve'
        ? state.engine.shelve(request.id, { by: request.by, until: request.until ?? null, reason: request.reason }, now)
        : state.engine.unshelve(request.id, { by: request.by }, now);
    if (result.ok) {
      record(state, result.effects);
      await writer.drain();
    }
    return result;
  };
  app.cluster.answer<AlarmAction, { result: ActionResult; alarm: Alarm | null } | null>('alarms:act', async (request) => {
    const result = await actLocally(request);
    return result && { result, alarm: engines.alarm(request.id) ?? null };
  });
  const act = async (request: AlarmAction): Promise<ActionResult> => {
    const local = await actLocally(request);
    if (local) return local;
    if (plotOfAlarm(request.id) === undefined || !app.cluster.shared) {
      return { ok: false, error: { code: 'ALARM_NOT_FOUND', message: `no alarm ${request.id}` } };
    }
    const answer = (await app.cluster.ask<{ result: ActionResult; alarm: Alarm | null } | null>('alarms:act', request)).find((a) => a !== null);
    if (!answer) throw new AppError('ALARM_OWNER_UNAVAILABLE', `The alarm's plot is changing hands between servers; try again in a few seconds`);
    if (answer.alarm) remote.set(answer.alarm.id, answer.alarm);
    return answer.result;
  };

  // A maintenance ticket changed on any instance: the device's owner applies it.
  const setOutOfServiceLocally = (deviceId: string, on: boolean): EngineEffect[] | null => {
    const plot = plotOfDevice(deviceId);
    const state = plot === undefined ? undefined : owned.get(plot);
    if (!state) return null;
    const effects = state.engine.setOutOfService(deviceId, on, app.clock.now());
    record(state, effects);
    return effects;
  };
  app.cluster.listen<{ deviceId: string; on: boolean }>('alarms:out-of-service', ({ deviceId, on }) => { setOutOfServiceLocally(deviceId, on); });

  app.decorate('alarms', {
    engine: engines,
    repository,
    partitions,
    subscribe: (listener: AlarmListener) => {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
    subscribeStoring: (listener: AlarmListener) => {
      storingListeners.add(listener);
      return () => { storingListeners.delete(listener); };
    },
    setOutOfService: (deviceId: string, on: boolean) => {
      const effects = setOutOfServiceLocally(deviceId, on);
      if (effects) return effects;
      app.cluster.tell('alarms:out-of-service', { deviceId, on });
      return [];
    },
    useOutOfServiceSource: (source) => { devicesOutOfService = source; },
    acknowledge: (id, action) => act({ id, action: 'acknowledge', ...action }),
    shelve: (id, action) => act({ id, action: 'shelve', ...action }),
    unshelve: (id, action) => act({ id, action: 'unshelve', ...action }),
    flush: () => writer.drain(),
  } satisfies Alarms);

  app.addHook('preClose', async () => {
    clearInterval(ticker);
    clearInterval(snapshots);
  });
  // The partitions plugin (registered later, so closed earlier) has handed every partition over by now.
  app.addHook('onClose', async () => {
    stopListening();
    await saving;
    const now = app.clock.now();
    for (const state of owned.values()) queueChangedAlarms(state, now);
    closing = true;
    await writer.close();
    for (const state of owned.values()) {
      await saveSnapshot(state).catch((error: unknown) => app.log.error({ err: error, partition: state.partition.id }, 'saving the alarm engine snapshot on close failed'));
    }
  });
}, { name: 'alarms', dependencies: ['config', 'clock', 'catalogue', 'database', 'ingest', 'push'] });

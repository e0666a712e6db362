/**
 * The anomaly engine: readings, statuses and the passing of time in; alarm
 * and flood effects out, for the server to persist and push. State is in
 * memory and plain data (snapshot()/restore()); there are no timers — the
 * server calls tick(now) every few seconds — and no I/O.
 *
 * Times: telemetry rules judge the reading's event time; silence, status,
 * shelve expiry, suppression release and floods use the wall clock `now`
 * passed in.
 *
 * Root-cause suppression: a feeder is out while one of its root-cause alarms
 * (rules with `outageOfFeeder`: the substation's feeder_n = false, or most of
 * the feeder's devices silent together) is active. Every alarm of a device on
 * that feeder is then suppressed and linked to that root alarm, so the outage
 * is annunciated once. Suppression outlasts the root alarm by
 * SUPPRESSION_RELEASE_MS, giving devices time to report again after the power
 * returns instead of each annunciating its own leftover silence alarm.
 *
 * Plot water balance: every water-meter reading of a plot also feeds that
 * plot's balance (water-balance.ts), whose hourly verdicts go to the alarm
 * of the plot's inlet meter, at the event time of the inlet reading that
 * made the hour judgeable.
 */
import { KINDS } from '../../catalogue/kinds.ts';
import type { Device, SiteIndex } from '../../catalogue/types.ts';
import type { DeviceStatus, MetricValue } from '../../contract.ts';
import type { Reading } from '../../ports/time-series.ts';
import {
  acknowledge, alarmId, applyCondition, expireShelving, isActive, newAlarm, setOutOfService, setSuppression, shelve, unshelve,
  type Alarm, type AlarmEffect, type AlarmError, type AlarmSubject, type Outcome, type Transition,
} from './alarm-state.ts';
import { evaluate, initialState, resumeState, silenceLimitMs, type DetectorContext, type DetectorState } from './detectors.ts';
import { NO_FLOOD, advanceFlood, recordAnnunciation, type FloodChange, type FloodState } from './flood.ts';
import type { HourTrack } from './hourly.ts';
import { localClock, type LocalClock } from './local-clock.ts';
import { RULES, appliesTo, isReadingRule, type FeederLostDetector, type ReadingRule, type Rule, type SilenceDetector, type WaterBalanceDetector } from './rules.ts';
import { EMPTY_BALANCE, stepBalance, type PlotBalance } from './water-balance.ts';

export const SUPPRESSION_RELEASE_MS = 5 * 60_000;

export interface FloodEffect { readonly type: FloodChange['type']; readonly at: number; readonly plotId: string }
export type EngineEffect = AlarmEffect | FloodEffect;

export type ActionResult = { readonly ok: true; readonly effects: readonly EngineEffect[] } | { readonly ok: false; readonly error: AlarmError };

export interface EngineOptions {
  readonly site: SiteIndex;
  readonly rules?: readonly Rule[];
  /** Per-device facts the detectors need (exemption, occupancy, lighting schedule); see siteDetectorContext(). */
  readonly context: (device: Device) => DetectorContext;
}

/** A feeder's current root cause; `clearedAt` is set while suppression outlasts a cleared root alarm. */
interface FeederRoot { readonly alarmId: string; readonly clearedAt: number | null }

export const SNAPSHOT_VERSION = 2;

/** Everything the engine knows, as JSON-safe data. */
export interface EngineSnapshot {
  readonly version: typeof SNAPSHOT_VERSION;
  readonly alarms: readonly Alarm[];
  readonly detectors: readonly (readonly [key: string, state: DetectorState])[];
  readonly lastSeen: readonly (readonly [deviceId: string, at: number])[];
  readonly offline: readonly string[];
  readonly outOfService: readonly string[];
  readonly feederRoots: readonly (readonly [feederId: string, root: FeederRoot])[];
  readonly floods: readonly (readonly [plotId: string, state: FloodState])[];
  /** Per plot balance (key: the inlet's alarm id) and per consumer meter (key: `${meterId}:${ruleId}`). */
  readonly balances: readonly (readonly [key: string, state: PlotBalance])[];
  readonly balanceMeters: readonly (readonly [key: string, track: HourTrack])[];
}

/**
 * Version 1, before the plot water balance: the same without its state. It
 * is still restored (the balance starts collecting afresh, its first verdict
 * an hour and a grace later); any other version is rejected.
 */
export type EngineSnapshotV1 = Omit<EngineSnapshot, 'version' | 'balances' | 'balanceMeters'> & { readonly version: 1 };

/** Feeder ids are `${substationId}/F${n}` (catalogue/spec.ts): the substation reports feeder n as metric feeder_n. */
export const feederIdOf = (substationId: string, n: number): string => `${substationId}/F${n}`;

/**
 * Detector context from the catalogue: shops with continuous use are exempt; local time is the site's zone;
 * occupancy comes from the caller (none known: not occupied).
 */
export function siteDetectorContext(site: SiteIndex, options: { isNight: (ts: number) => boolean; occupied?: (unitId: string) => boolean }): (device: Device) => DetectorContext {
  const local = localClock(site.site.timezone);
  return (device) => {
    const unit = device.unitId === null ? undefined : site.unit(device.unitId);
    return {
      device,
      exempt: unit?.continuousUse ?? false,
      occupied: unit !== undefined && (options.occupied?.(unit.id) ?? false),
      isNight: options.isNight,
      local,
    };
  };
}

/**
 * A detector's state, in a cell of its own that the engine's map and the
 * device's checks share: a reading then reaches every detector of its device
 * with one lookup, not one per rule (a lookup in a map of every detector of
 * the estate cost more than most detectors). The states stay immutable values.
 */
interface DetectorCell { state: DetectorState }

/** One rule of a device: its alarm's id and, when the rule judges readings, its detector's cell. */
interface DeviceCheck { readonly rule: Rule; readonly id: string; readonly detector: { readonly rule: ReadingRule; readonly cell: DetectorCell } | null }

/** A device's checks, and when it was last heard from (the cell in the engine's lastSeen). */
interface DeviceChecks { readonly checks: readonly DeviceCheck[]; readonly seen: SeenCell }

/** When a device was last heard from, and its silence check once the tick has worked it out. */
interface SeenCell { at: number; silence?: SilenceCheck | null }

/** A device's silence rule, its alarm id and the longest silence it allows. */
interface SilenceCheck {
  readonly device: Device;
  readonly rule: Rule & { readonly detector: SilenceDetector };
  readonly id: string;
  readonly limitMs: number;
}

/** A plot's water balance: the rule, the inlet it alarms on and how many consumer meters the plot has. */
interface BalanceCheck {
  readonly rule: Rule & { readonly detector: WaterBalanceDetector };
  readonly inlet: Device;
  readonly consumers: number;
}

export class AlarmEngine {
  private readonly site: SiteIndex;
  private readonly rules: readonly Rule[];
  private readonly context: (device: Device) => DetectorContext;
  private readonly rulesByKindRole = new Map<string, readonly Rule[]>();
  /** Per feeder, the ids its root-cause alarms would have, in rule order. */
  private readonly rootCandidates = new Map<string, readonly string[]>();
  /** Each feeder-lost rule with the substation and feeder it judges. */
  private readonly feederChecks: readonly { rule: Rule & { detector: FeederLostDetector }; substation: Device; feederId: string }[];
  /** Water-balance checks by plot. */
  private readonly balanceChecks = new Map<string, BalanceCheck[]>();
  private readonly rulesById: ReadonlyMap<string, Rule>;
  private readonly local: LocalClock;

  private alarmsById = new Map<string, Alarm>();
  private alarmIdsByDevice = new Map<string, Set<string>>();
  private detectors = new Map<string, DetectorCell>();
  /** Per device, its checks (checksFor): they hold the detectors' cells, so they are dropped when the detectors are replaced. */
  private checksByDevice = new Map<string, DeviceChecks>();
  /** When each device was last heard from, in a cell its checks share (see DetectorCell). */
  private lastSeen = new Map<string, SeenCell>();
  private offline = new Set<string>();
  private outOfService = new Set<string>();
  private feederRoots = new Map<string, FeederRoot>();
  private floods = new Map<string, FloodState>();
  private balances = new Map<string, PlotBalance>();
  private balanceMeters = new Map<string, HourTrack>();
  private rootsChanged = false;

  constructor(options: EngineOptions) {
    this.site = options.site;
    this.rules = options.rules ?? RULES;
    this.context = options.context;
    const rootRules = this.rules.filter((r) => r.outageOfFeeder !== undefined);
    for (const feeder of this.site.site.feeders) {
      const ids = rootRules.filter((r) => feederIdOf(feeder.substationId, r.outageOfFeeder!) === feeder.id).map((r) => alarmId(feeder.substationId, r.id));
      if (ids.length > 0) this.rootCandidates.set(feeder.id, ids);
    }
    const feederLostRules = this.rules.filter((r): r is Rule & { detector: FeederLostDetector } => r.detector.type === 'feeder-lost');
    this.feederChecks = feederLostRules.flatMap((rule) => this.site.site.devices
      .filter((d) => appliesTo(rule, d) && this.site.feeder(feederIdOf(d.id, rule.detector.feeder)) !== undefined)
      .map((substation) => ({ rule, substation, feederId: feederIdOf(substation.id, rule.detector.feeder) })));
    this.rulesById = new Map(this.rules.map((r) => [r.id, r]));
    this.local = localClock(this.site.site.timezone);
    const balanceRules = this.rules.filter((r): r is BalanceCheck['rule'] => r.detector.type === 'water-balance');
    for (const rule of balanceRules) {
      for (const inlet of this.site.site.devices.filter((d) => appliesTo(rule, d))) {
        const consumers = this.site.site.devices
          .filter((d) => d.kind === 'water-meter' && d.plotId === inlet.plotId && rule.detector.consumerRoles.includes(d.role)).length;
        this.balanceChecks.set(inlet.plotId, [...(this.balanceChecks.get(inlet.plotId) ?? []), { rule, inlet, consumers }]);
      }
    }
  }

  onReading(device: Device, reading: Reading, now: number): EngineEffect[] {
    const effects: EngineEffect[] = [];
    const { checks, seen } = this.checksFor(device);
    seen.at = Math.max(seen.at, now);
    let ctx: DetectorContext | undefined;
    for (const { rule, id, detector } of checks) {
      if (rule.detector.type === 'silence') this.apply(device, rule, 'clear', now, now, {}, effects, id);
      if (detector === null) continue;
      ctx ??= this.context(device);
      const result = evaluate(detector.rule, detector.cell.state, reading, ctx);
      detector.cell.state = result.state;
      if (result.condition !== 'unchanged') this.apply(device, rule, result.condition, reading.ts, now, result, effects, id);
    }
    if (device.kind === 'water-meter') this.balanceWater(device, reading, now, effects);
    if (this.rootsChanged) this.refreshSuppression(now, effects);
    return effects;
  }

  onStatus(device: Device, status: DeviceStatus, now: number): EngineEffect[] {
    const effects: EngineEffect[] = [];
    // 'offline' is usually the broker's last-will, not a message from the device: it does not count as hearing from it.
    if (status === 'online') {
      this.offline.delete(device.id);
      const seen = this.lastSeen.get(device.id);
      if (seen) seen.at = Math.max(seen.at, now);
      else this.lastSeen.set(device.id, { at: now });
    } else this.offline.add(device.id);
    for (const rule of this.rulesFor(device)) {
      if (rule.detector.type === 'offline') this.apply(device, rule, status === 'offline' ? 'active' : 'clear', now, now, { value: status }, effects);
      if (rule.detector.type === 'silence' && status === 'online') this.apply(device, rule, 'clear', now, now, {}, effects);
    }
    if (this.rootsChanged) this.refreshSuppression(now, effects);
    return effects;
  }

  /**
   * The wall clock moved on: shelving expires, devices fall silent, feeders
   * are judged from their devices, suppression is released, floods end.
   * Feeder verdicts come before device silence so that the devices of a
   * feeder found out in this same tick raise their alarms already suppressed.
   */
  tick(now: number): EngineEffect[] {
    const effects: EngineEffect[] = [];
    for (const alarm of this.alarmsById.values()) {
      if (alarm.shelved !== null) this.store(expireShelving(alarm, now), effects);
    }

    // Every device heard from is judged at every tick: its silence check is worked out once and kept in
    // its lastSeen cell, and a message is formatted only for a silent one.
    const isQuiet = (deviceId: string, seen: SeenCell) => {
      if (seen.silence === undefined) seen.silence = this.silenceCheckFor(deviceId);
      return seen.silence !== null && now - seen.at > seen.silence.limitMs;
    };
    const lost = (deviceId: string) => {
      const seen = this.lastSeen.get(deviceId);
      return this.offline.has(deviceId) || (seen !== undefined && isQuiet(deviceId, seen));
    };

    this.judgeFeeders(now, lost, effects);
    this.refreshSuppression(now, effects);

    for (const [deviceId, seen] of this.lastSeen) {
      // An offline device is already alarmed as offline; silence would say the same twice.
      if (this.offline.has(deviceId)) continue;
      const quiet = isQuiet(deviceId, seen);
      const check = seen.silence;
      if (!check || (!quiet && !this.alarmsById.has(check.id))) continue; // nothing to raise or clear
      const quietS = Math.round((now - seen.at) / 1000);
      this.apply(check.device, check.rule, quiet ? 'active' : 'clear', now, now, { value: quietS, message: `no message for ${quietS} s` }, effects, check.id);
    }
    if (this.rootsChanged) this.refreshSuppression(now, effects);

    for (const [plotId, state] of this.floods) {
      const advanced = advanceFlood(state, now);
      this.floods.set(plotId, advanced.state);
      effects.push(...advanced.changes.map((c) => ({ ...c, plotId })));
    }
    return effects;
  }

  acknowledge(id: string, action: { by: string; comment?: string }, now: number): ActionResult {
    return this.act(id, (alarm) => acknowledge(alarm, action, now));
  }

  shelve(id: string, action: { by: string; until?: number | null; reason: string }, now: number): ActionResult {
    return this.act(id, (alarm) => shelve(alarm, action, now));
  }

  unshelve(id: string, action: { by: string }, now: number): ActionResult {
    return this.act(id, (alarm) => unshelve(alarm, action, now));
  }

  /** Set while a maintenance ticket for the device is open: its alarms keep tracking but are not annunciated. */
  setOutOfService(deviceId: string, outOfService: boolean, now: number): EngineEffect[] {
    if (outOfService) this.outOfService.add(deviceId);
    else this.outOfService.delete(deviceId);
    const effects: EngineEffect[] = [];
    for (const id of this.alarmIdsByDevice.get(deviceId) ?? []) this.store(setOutOfService(this.alarmsById.get(id)!, outOfService, now), effects);
    return effects;
  }

  /**
   * Exactly these devices out of service, every other in service (its alarms
   * too, whatever flag a restored alarm carried): the switch rebuilt from the
   * maintenance tickets under way when a partition is taken over.
   */
  resetOutOfService(deviceIds: Iterable<string>, now: number): EngineEffect[] {
    const wanted = new Set(deviceIds);
    const flagged = [...this.alarmsById.values()].filter((a) => a.outOfService).map((a) => a.deviceId);
    const effects: EngineEffect[] = [];
    for (const deviceId of new Set([...this.outOfService, ...flagged])) {
      if (!wanted.has(deviceId)) effects.push(...this.setOutOfService(deviceId, false, now));
    }
    for (const deviceId of wanted) effects.push(...this.setOutOfService(deviceId, true, now));
    return effects;
  }

  alarm(id: string): Alarm | undefined {
    return this.alarmsById.get(id);
  }

  alarms(): Alarm[] {
    return [...this.alarmsById.values()];
  }

  /** Plots currently in flood mode. */
  floodingPlots(): string[] {
    return [...this.floods].filter(([, s]) => s.since !== null).map(([plotId]) => plotId);
  }

  snapshot(): EngineSnapshot {
    return {
      version: SNAPSHOT_VERSION,
      alarms: this.alarms(),
      detectors: [...this.detectors].map(([key, cell]) => [key, cell.state] as const),
      lastSeen: [...this.lastSeen].map(([deviceId, seen]) => [deviceId, seen.at] as const),
      offline: [...this.offline],
      outOfService: [...this.outOfService],
      feederRoots: [...this.feederRoots],
      floods: [...this.floods],
      balances: [...this.balances],
      balanceMeters: [...this.balanceMeters],
    };
  }

  /**
   * Several engines' snapshots (one per partition: their keys never overlap)
   * as one, each field's entries side by side; `merge([])` is the empty
   * snapshot. Every field is named, so a field the snapshot gains does not
   * type-check here until it is merged too.
   */
  static merge(snapshots: readonly EngineSnapshot[]): EngineSnapshot {
    const all = <T>(field: (snapshot: EngineSnapshot) => readonly T[]): T[] => snapshots.flatMap(field);
    return {
      version: SNAPSHOT_VERSION,
      alarms: all((s) => s.alarms),
      detectors: all((s) => s.detectors),
      lastSeen: all((s) => s.lastSeen),
      offline: all((s) => s.offline),
      outOfService: all((s) => s.outOfService),
      feederRoots: all((s) => s.feederRoots),
      floods: all((s) => s.floods),
      balances: all((s) => s.balances),
      balanceMeters: all((s) => s.balanceMeters),
    };
  }

  /**
   * Replaces the engine's state with a snapshot (version 1 is migrated, see
   * EngineSnapshotV1). Devices count as heard from at `now` at the latest:
   * the server's downtime is not the devices' silence. An active alarm whose
   * detector state is missing (restored from the alarms table alone) gets a
   * resuming detector, so the alarm is neither cleared nor raised again by a
   * detector that has not yet seen enough (detectors.ts resumeState).
   */
  restore(snapshot: EngineSnapshot | EngineSnapshotV1, now: number): { ok: true } | { ok: false; error: { code: 'SNAPSHOT_UNSUPPORTED'; message: string } } {
    const version: unknown = snapshot.version;
    if (version !== SNAPSHOT_VERSION && version !== 1) {
      return { ok: false, error: { code: 'SNAPSHOT_UNSUPPORTED', message: `snapshot version ${String(version)}, expected 1 or ${SNAPSHOT_VERSION}` } };
    }
    const current: EngineSnapshot = snapshot.version === 1 ? { ...snapshot, version: SNAPSHOT_VERSION, balances: [], balanceMeters: [] } : snapshot;
    this.alarmsById = new Map(current.alarms.map((a) => [a.id, a]));
    this.alarmIdsByDevice = new Map();
    for (const alarm of current.alarms) this.index(alarm);
    this.detectors = new Map(current.detectors.map(([key, state]) => [key, { state }]));
    this.checksByDevice = new Map();
    for (const alarm of current.alarms) {
      const rule = this.rulesById.get(alarm.ruleId);
      if (isActive(alarm) && rule && isReadingRule(rule) && !this.detectors.has(alarm.id)) this.detectors.set(alarm.id, { state: resumeState(rule.detector) });
    }
    this.lastSeen = new Map(current.lastSeen.map(([id, at]) => [id, { at: Math.max(at, now) }]));
    this.offline = new Set(current.offline);
    this.outOfService = new Set(current.outOfService);
    this.feederRoots = new Map(current.feederRoots);
    this.floods = new Map(current.floods);
    this.balances = new Map(current.balances);
    this.balanceMeters = new Map(current.balanceMeters);
    this.rootsChanged = false;
    return { ok: true };
  }

  /**
   * A device's rules with their alarm ids and detector cells, and its
   * lastSeen cell, worked out once per device (building the ids and looking
   * them up for every reading cost more than most detectors). A detector not
   * yet known starts from its initial state; a device not yet heard from is
   * entered as heard from never, for the caller to record the time.
   */
  private checksFor(device: Device): DeviceChecks {
    let found = this.checksByDevice.get(device.id);
    if (!found) {
      const checks = this.rulesFor(device).map((rule): DeviceCheck => {
        const id = alarmId(device.id, rule.id);
        if (!isReadingRule(rule)) return { rule, id, detector: null };
        let cell = this.detectors.get(id);
        if (!cell) this.detectors.set(id, (cell = { state: initialState(rule.detector) }));
        return { rule, id, detector: { rule, cell } };
      });
      let seen = this.lastSeen.get(device.id);
      if (!seen) this.lastSeen.set(device.id, (seen = { at: -Infinity }));
      found = { checks, seen };
      this.checksByDevice.set(device.id, found);
    }
    return found;
  }

  /** The device's silence rule, its alarm id and how long a silence it allows; null for an unknown device or one without. */
  private silenceCheckFor(deviceId: string): SilenceCheck | null {
    const device = this.site.device(deviceId);
    const rule = device && this.rulesFor(device).find((r): r is Rule & { detector: SilenceDetector } => r.detector.type === 'silence');
    return device && rule ? { device, rule, id: alarmId(device.id, rule.id), limitMs: silenceLimitMs(rule.detector, KINDS[device.kind].reportIntervalS) } : null;
  }

  private rulesFor(device: Device): readonly Rule[] {
    const key = `${device.kind}|${device.role}`;
    let rules = this.rulesByKindRole.get(key);
    if (!rules) {
      rules = this.rules.filter((r) => appliesTo(r, device));
      this.rulesByKindRole.set(key, rules);
    }
    return rules;
  }

  private act(id: string, transition: (alarm: Alarm) => Transition): ActionResult {
    const alarm = this.alarmsById.get(id);
    if (!alarm) return { ok: false, error: { code: 'ALARM_NOT_FOUND', message: `no alarm ${id}` } };
    const result = transition(alarm);
    if (!result.ok) return result;
    this.alarmsById.set(id, result.alarm);
    return { ok: true, effects: result.effects };
  }

  private store(outcome: Outcome, effects: EngineEffect[]): void {
    this.alarmsById.set(outcome.alarm.id, outcome.alarm);
    effects.push(...outcome.effects);
  }

  private index(alarm: Alarm): void {
    let ids = this.alarmIdsByDevice.get(alarm.deviceId);
    if (!ids) this.alarmIdsByDevice.set(alarm.deviceId, (ids = new Set()));
    ids.add(alarm.id);
  }

  /** Feeds a condition to the (device, rule) alarm, creating it on its first activation. `at` is the condition's time, `now` the wall clock. */
  private apply(device: Device, rule: Rule, condition: 'active' | 'clear', at: number, now: number, detail: { value?: MetricValue; message?: string }, effects: EngineEffect[], id = alarmId(device.id, rule.id)): void {
    let alarm = this.alarmsById.get(id);
    if (!alarm) {
      if (condition === 'clear') return;
      alarm = newAlarm(subjectOf(device, rule), { suppressedBy: this.rootFor(device, id), outOfService: this.outOfService.has(device.id) });
      this.index(alarm);
    }
    const wasActive = isActive(alarm);
    const outcome = applyCondition(alarm, condition, at, detail);
    this.store(outcome, effects);
    if (rule.outageOfFeeder !== undefined && wasActive !== isActive(outcome.alarm)) this.rootsChanged = true;
    for (const effect of outcome.effects) {
      if (effect.type === 'alarm-raised' && effect.annunciated) this.countForFlood(effect.alarm.plotId, now, effects);
    }
  }

  /** The root alarm a new alarm of this device is linked to, if its feeder is out (a root alarm is never its own root). */
  private rootFor(device: Device, id: string): string | null {
    for (const [feederId, candidates] of this.rootCandidates) {
      if (candidates.includes(id)) {
        const root = this.feederRoots.get(feederId)?.alarmId;
        return root !== undefined && root !== id ? root : null;
      }
    }
    return device.feederId === null ? null : (this.feederRoots.get(device.feederId)?.alarmId ?? null);
  }

  /** Feeds a water-meter reading to its plot's balance; verdicts go to the inlet's alarm. */
  private balanceWater(device: Device, reading: Reading, now: number, effects: EngineEffect[]): void {
    for (const { rule, inlet, consumers } of this.balanceChecks.get(device.plotId) ?? []) {
      const role = device.id === inlet.id ? 'inlet' : rule.detector.consumerRoles.includes(device.role) ? 'consumer' : null;
      const value = reading.values[rule.detector.metric];
      if (role === null || typeof value !== 'number' || !Number.isFinite(value)) continue;
      const plotKey = alarmId(inlet.id, rule.id);
      const meterKey = alarmId(device.id, rule.id);
      const step = stepBalance(rule.detector, this.balances.get(plotKey) ?? EMPTY_BALANCE, this.balanceMeters.get(meterKey) ?? null,
        { role, ts: reading.ts, value, consumers }, this.local);
      this.balances.set(plotKey, step.plot);
      if (step.meter !== null) this.balanceMeters.set(meterKey, step.meter);
      for (const v of step.verdicts) this.apply(inlet, rule, v.condition, reading.ts, now, { value: v.value, message: v.message }, effects);
    }
  }

  private judgeFeeders(now: number, isLost: (deviceId: string) => boolean, effects: EngineEffect[]): void {
    for (const { rule, substation, feederId } of this.feederChecks) {
      const voters = this.site.devicesOnFeeder(feederId)
        .filter((d) => KINDS[d.kind].reportIntervalS <= rule.detector.maxIntervalS && this.lastSeen.has(d.id));
      const lost = voters.filter((d) => isLost(d.id)).length;
      const out = voters.length >= rule.detector.minDevices && lost >= rule.detector.share * voters.length;
      this.apply(substation, rule, out ? 'active' : 'clear', now, now, { value: lost, message: `${lost} of ${voters.length} devices on ${feederId} silent or offline` }, effects);
    }
  }

  /** Recomputes each feeder's root cause and re-links the alarms of its devices where it changed. */
  private refreshSuppression(now: number, effects: EngineEffect[]): void {
    this.rootsChanged = false;
    for (const [feederId, candidates] of this.rootCandidates) {
      const previous = this.feederRoots.get(feederId);
      const activeIds = candidates.filter((id) => {
        const alarm = this.alarmsById.get(id);
        return alarm !== undefined && isActive(alarm);
      });
      let next: FeederRoot | undefined;
      // A root that cleared stays the root through the release period, even if another root alarm of the
      // feeder is still active (the inferred one lags behind the power coming back); then the first active one rules.
      const clearedAt = previous === undefined || activeIds.includes(previous.alarmId) ? null : (previous.clearedAt ?? now);
      if (previous !== undefined && clearedAt !== null && now - clearedAt < SUPPRESSION_RELEASE_MS) next = { alarmId: previous.alarmId, clearedAt };
      else if (activeIds[0] !== undefined) next = { alarmId: activeIds[0], clearedAt: null };
      if (next) this.feederRoots.set(feederId, next);
      else this.feederRoots.delete(feederId);
      if (next?.alarmId === previous?.alarmId) continue;

      const rootId = next?.alarmId ?? null;
      for (const device of this.site.devicesOnFeeder(feederId)) {
        for (const id of this.alarmIdsByDevice.get(device.id) ?? []) this.store(setSuppression(this.alarmsById.get(id)!, rootId, now), effects);
      }
      for (const id of candidates) {
        const alarm = this.alarmsById.get(id);
        if (alarm) this.store(setSuppression(alarm, id === rootId ? null : rootId, now), effects);
      }
    }
  }

  private countForFlood(plotId: string, now: number, effects: EngineEffect[]): void {
    const recorded = recordAnnunciation(this.floods.get(plotId) ?? NO_FLOOD, now);
    this.floods.set(plotId, recorded.state);
    effects.push(...recorded.changes.map((c) => ({ ...c, plotId })));
  }
}

function subjectOf(device: Device, rule: Rule): AlarmSubject {
  return {
    deviceId: device.id, ruleId: rule.id, kind: device.kind, plotId: device.plotId, buildingId: device.buildingId,
    priority: rule.priority, ticket: rule.ticket, title: rule.title,
  };
}

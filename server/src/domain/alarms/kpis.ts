/**
 * Alarm-management KPIs (ISA-18.2 §16) from the alarm history: the effects
 * the engine produced, as the server stored them. Operator load (rates and
 * floods) counts annunciated activations only — suppressed, shelved,
 * out-of-service and rate-limited ones never reached the operator; bad-actor
 * lists (chattering, top 10) count every activation.
 */
import { CHATTER, isActive, type Alarm, type AlarmEffect } from './alarm-state.ts';
import { NO_FLOOD, advanceFlood, recordAnnunciation } from './flood.ts';

export const STALE_AFTER_MS = 24 * 3_600_000;
const TEN_MINUTES = 10 * 60_000;
const HOUR = 3_600_000;

export interface RateKpi {
  /** Mean per bucket over the period. */
  readonly average: number;
  /** The busiest bucket (buckets aligned to multiples of their width since the epoch). */
  readonly peak: number;
}

export interface FloodPeriod { readonly plotId: string; readonly start: number; readonly end: number | null; readonly alarms: number }
export interface AlarmRef { readonly alarmId: string; readonly deviceId: string; readonly ruleId: string }

export interface AlarmKpis {
  readonly from: number;
  readonly to: number;
  readonly annunciated: number;
  readonly per10Minutes: RateKpi;
  readonly perHour: RateKpi;
  readonly floods: readonly FloodPeriod[];
  /** Alarms with 3 or more activations within 60 s somewhere in the period; `activations` is their worst minute. */
  readonly chattering: readonly (AlarmRef & { readonly activations: number })[];
  /** Alarms active for more than 24 h at `now`. */
  readonly stale: readonly (AlarmRef & { readonly activeSince: number })[];
  /** The ten alarms activated most often in the period, most first (ties by id). */
  readonly top10: readonly (AlarmRef & { readonly count: number })[];
}

type Raised = Extract<AlarmEffect, { type: 'alarm-raised' }>;

/** KPIs over [from, to); `current` is the engine's present alarm list, `now` the wall clock (for stale alarms). */
export function computeKpis(history: readonly AlarmEffect[], current: readonly Alarm[], period: { from: number; to: number; now: number }): AlarmKpis {
  const raised = history
    .filter((e): e is Raised => e.type === 'alarm-raised' && e.at >= period.from && e.at < period.to)
    .sort((a, b) => a.at - b.at);
  const annunciated = raised.filter((e) => e.annunciated);
  return {
    from: period.from,
    to: period.to,
    annunciated: annunciated.length,
    per10Minutes: rate(annunciated, period, TEN_MINUTES),
    perHour: rate(annunciated, period, HOUR),
    floods: floodPeriods(annunciated, period.to),
    chattering: chatteringAlarms(raised),
    stale: current
      .filter((a) => isActive(a) && a.lastActiveAt !== null && period.now - a.lastActiveAt > STALE_AFTER_MS)
      .map((a) => ({ ...ref(a), activeSince: a.lastActiveAt! })),
    top10: topByCount(raised, 10),
  };
}

const ref = (alarm: Alarm): AlarmRef => ({ alarmId: alarm.id, deviceId: alarm.deviceId, ruleId: alarm.ruleId });

function rate(events: readonly Raised[], period: { from: number; to: number }, widthMs: number): RateKpi {
  const counts = new Map<number, number>();
  for (const e of events) {
    const bucket = Math.floor(e.at / widthMs);
    counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
  }
  return rateOfCounts(counts.values(), period, widthMs);
}

/** A rate from counts per bucket (`widthMs` wide, aligned since the epoch), e.g. counted by SQL: the mean over the period's buckets and the busiest one. */
export function rateOfCounts(counts: Iterable<number>, period: { from: number; to: number }, widthMs: number): RateKpi {
  let total = 0;
  let peak = 0;
  for (const n of counts) {
    total += n;
    peak = Math.max(peak, n);
  }
  return { average: total / Math.max(1, (period.to - period.from) / widthMs), peak };
}

function floodPeriods(annunciated: readonly Raised[], to: number): FloodPeriod[] {
  const byPlot = new Map<string, Raised[]>();
  for (const e of annunciated) byPlot.set(e.alarm.plotId, [...(byPlot.get(e.alarm.plotId) ?? []), e]);
  const periods: FloodPeriod[] = [];
  for (const [plotId, events] of byPlot) {
    let state = NO_FLOOD;
    let open: { start: number; alarms: number } | null = null;
    // Each annunciation in turn, then the end of the period (which may end a flood without a new alarm).
    const steps = [...events.map((e) => ({ at: e.at, raise: true })), { at: to, raise: false }];
    for (const step of steps) {
      const result = step.raise ? recordAnnunciation(state, step.at) : advanceFlood(state, step.at);
      state = result.state;
      for (const change of result.changes) {
        if (change.type === 'flood-started') open = { start: change.at, alarms: 0 };
        else if (open !== null) {
          periods.push({ plotId, start: open.start, end: change.at, alarms: open.alarms });
          open = null;
        }
      }
      if (step.raise && open !== null) open.alarms += 1;
    }
    if (open !== null) periods.push({ plotId, start: open.start, end: null, alarms: open.alarms });
  }
  return periods.sort((a, b) => a.start - b.start || a.plotId.localeCompare(b.plotId));
}

function chatteringAlarms(raised: readonly Raised[]): (AlarmRef & { activations: number })[] {
  const timesByAlarm = new Map<string, { alarm: Alarm; times: number[] }>();
  for (const e of raised) {
    const entry = timesByAlarm.get(e.alarm.id) ?? { alarm: e.alarm, times: [] };
    entry.times.push(e.at);
    timesByAlarm.set(e.alarm.id, entry);
  }
  const out: (AlarmRef & { activations: number })[] = [];
  for (const { alarm, times } of timesByAlarm.values()) {
    let worst = 0;
    let first = 0;
    for (let last = 0; last < times.length; last++) {
      while (times[first]! <= times[last]! - CHATTER.windowMs) first++;
      worst = Math.max(worst, last - first + 1);
    }
    if (worst >= CHATTER.activations) out.push({ ...ref(alarm), activations: worst });
  }
  return out.sort((a, b) => b.activations - a.activations || a.alarmId.localeCompare(b.alarmId));
}

function topByCount(raised: readonly Raised[], n: number): (AlarmRef & { count: number })[] {
  const counts = new Map<string, AlarmRef & { count: number }>();
  for (const e of raised) {
    const entry = counts.get(e.alarm.id) ?? { ...ref(e.alarm), count: 0 };
    counts.set(e.alarm.id, { ...entry, count: entry.count + 1 });
  }
  return [...counts.values()].sort((a, b) => b.count - a.count || a.alarmId.localeCompare(b.alarmId)).slice(0, n);
}

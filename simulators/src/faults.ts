/**
 * Faults. A device fault is a function from Model to Model: the faulted model
 * runs the healthy one and changes what it reports from the fault's start on,
 * keeping whatever it must remember in its own state (so it stays pure).
 * Faults that are not about one device's readings are injections the
 * simulation applies itself: a device going silent or offline, a feeder
 * outage (through the environment, so every model sees it), and transport
 * faults (duplicated, reordered or malformed messages).
 */
import type { MetricValue } from '../../server/src/contract.ts';
import { clamp, round, type Model, type ModelContext, type SimEvent } from './models/model.ts';

export type Fault = (model: Model<unknown>) => Model<unknown>;

type Telemetry = Record<string, MetricValue>;
interface Changed<M> { readonly telemetry: Telemetry; readonly memo: M; readonly events?: readonly SimEvent[] }
interface Faulted<M> { readonly inner: unknown; readonly memo: M | null }

const HOUR = 3_600_000;

/**
 * From `from` on, each report passes through `change`. `memo` is null at the
 * first faulted report: the fault takes what it must keep from that report.
 */
export function faultFrom<M>(from: number, change: (telemetry: Telemetry, t: number, memo: M | null, ctx: ModelContext, events: readonly SimEvent[]) => Changed<M>): Fault {
  return (model) => ({
    init: (ctx, t): Faulted<M> => ({ inner: model.init(ctx, t), memo: null }),
    step(state, t, dtMs, ctx) {
      const s = state as Faulted<M>;
      const out = model.step(s.inner, t, dtMs, ctx);
      if (t < from) return { ...out, state: { inner: out.state, memo: s.memo } };
      const changed = change({ ...out.telemetry }, t, s.memo, ctx, out.events ?? []);
      return {
        state: { inner: out.state, memo: changed.memo },
        telemetry: changed.telemetry,
        ...(changed.events && changed.events.length > 0 ? { events: changed.events } : {}),
      };
    },
  });
}

const num = (telemetry: Telemetry, metric: string): number => telemetry[metric] as number;

/** Fixed values from `from` on (a failed sensor, a dead circuit, a lamp that burns all day). */
export const setValues = (from: number, values: Telemetry): Fault =>
  faultFrom<true>(from, (telemetry, _t, _memo, _ctx, events) => ({ telemetry: { ...telemetry, ...values }, memo: true, events }));

/** A register that also counts `perHour` more from `from` on: a leak behind the meter, a burst main behind the inlet. */
export const addToRegister = (from: number, metric: string, perHour: number, decimals = 3): Fault =>
  faultFrom<true>(from, (telemetry, t, _memo, _ctx, events) => ({
    telemetry: { ...telemetry, [metric]: round(num(telemetry, metric) + (perHour * (t - from)) / HOUR, decimals) }, memo: true, events,
  }));

/** A register that runs backwards from `from` on (a reversed or tampered meter). */
export const reverseRegister = (from: number, metric: string, decimals = 3): Fault =>
  faultFrom<number>(from, (telemetry, _t, memo, _ctx, events) => {
    const start = memo ?? num(telemetry, metric);
    return { telemetry: { ...telemetry, [metric]: round(Math.max(0, 2 * start - num(telemetry, metric)), decimals) }, memo: start, events };
  });

/** A register frozen at its value at `from` (a stuck meter: it reads zero use). */
export const freezeRegister = (from: number, metric: string): Fault =>
  faultFrom<number>(from, (telemetry, _t, memo, _ctx, events) => {
    const held = memo ?? num(telemetry, metric);
    return { telemetry: { ...telemetry, [metric]: held }, memo: held, events };
  });

/** A register that jumps by `by` at `from` and keeps the offset (a corrupted register). */
export const jumpRegister = (from: number, metric: string, by: number, decimals = 3): Fault =>
  faultFrom<true>(from, (telemetry, _t, _memo, _ctx, events) => ({ telemetry: { ...telemetry, [metric]: round(num(telemetry, metric) + by, decimals) }, memo: true, events }));

/** A value drifting from where it was at `from` by `perHour` towards `to`, held there: wear, a leak, a failing charger. */
export const drift = (from: number, metric: string, perHour: number, to: number, decimals: number): Fault =>
  faultFrom<number>(from, (telemetry, t, memo, _ctx, events) => {
    const start = memo ?? num(telemetry, metric);
    const value = start + (perHour * (t - from)) / HOUR;
    return { telemetry: { ...telemetry, [metric]: round(perHour > 0 ? Math.min(to, value) : Math.max(to, value), decimals) }, memo: start, events };
  });

/** Alternates a metric between two values on every report: a chattering contact. */
export const chatter = (from: number, metric: string, values: readonly [MetricValue, MetricValue]): Fault =>
  faultFrom<number>(from, (telemetry, _t, memo, _ctx, events) => {
    const n = memo ?? 0;
    return { telemetry: { ...telemetry, [metric]: values[n % 2]! }, memo: n + 1, events };
  });

/** An elevator stopped between floors with its doors shut and people inside; its counters stop. */
export const entrapment = (from: number, loadKg: number): Fault =>
  faultFrom<{ floor: number; trips: number; doorCycles: number }>(from, (telemetry, _t, memo) => {
    const held = memo ?? { floor: num(telemetry, 'floor'), trips: num(telemetry, 'trips'), doorCycles: num(telemetry, 'door_cycles') };
    return {
      telemetry: { ...telemetry, floor: held.floor, between_floors: true, direction: 'idle', door: 'closed', load_kg: loadKg, trips: held.trips, door_cycles: held.doorCycles },
      memo: held,
    };
  });

/** A door that reopens: `extra` more door cycles for every trip from `from` on. */
export const doorReopening = (from: number, extra: number): Fault =>
  faultFrom<number>(from, (telemetry, _t, memo, _ctx, events) => {
    const tripsAtStart = memo ?? num(telemetry, 'trips');
    return { telemetry: { ...telemetry, door_cycles: num(telemetry, 'door_cycles') + extra * (num(telemetry, 'trips') - tripsAtStart) }, memo: tripsAtStart, events };
  });

/** A pump that starts every `everyMs` for `runMs` (a leaking main making the jockey short-cycle). */
export const shortCycling = (from: number, everyMs: number, runMs: number): Fault =>
  faultFrom<number>(from, (telemetry, t, memo, _ctx, events) => {
    const startsAtStart = memo ?? num(telemetry, 'starts');
    const elapsed = t - from;
    const running = elapsed % everyMs < runMs;
    return {
      telemetry: { ...telemetry, starts: startsAtStart + Math.floor(elapsed / everyMs) + 1, running, power_kw: running ? 2.2 : 0, current_a: running ? 3.9 : 0 },
      memo: startsAtStart, events,
    };
  });

/** The generator cranks on its next start but never runs: 'failed' latches until someone resets it. */
export const generatorFailsToStart = (from: number): Fault =>
  faultFrom<{ runHours: number; failed: boolean }>(from, (telemetry, _t, memo, _ctx, events) => {
    const runHours = memo?.runHours ?? num(telemetry, 'run_hours');
    const failed = (memo?.failed ?? false) || telemetry.state === 'running';
    const state = failed ? 'failed' : telemetry.state!;
    return {
      telemetry: { ...telemetry, state, oil_kpa: 0, run_hours: runHours, coolant_c: Math.min(num(telemetry, 'coolant_c'), 45) },
      memo: { runHours, failed },
      events: failed && !(memo?.failed ?? false) ? [{ event: 'fail-to-start', data: { cranks: 3 } }] : events.filter((e) => e.event !== 'start' && e.event !== 'stop'),
    };
  });

/** A scheduled test run that never happens (nobody started it): the machine stays at rest, its counters still. */
export const testSkipped = (from: number): Fault =>
  faultFrom<Telemetry>(from, (telemetry, _t, memo) => {
    const held = memo ?? {
      ...('run_hours' in telemetry ? { run_hours: telemetry.run_hours! } : {}),
      ...('starts' in telemetry ? { starts: telemetry.starts! } : {}),
      ...('fuel_pct' in telemetry ? { fuel_pct: telemetry.fuel_pct! } : {}),
      ...('battery_v' in telemetry ? { battery_v: telemetry.battery_v! } : {}),
    };
    const atRest: Telemetry = 'state' in telemetry
      ? { state: 'standby', oil_kpa: 0, coolant_c: clamp(num(telemetry, 'coolant_c'), 35, 45) }
      : { running: false, power_kw: 0, current_a: 0, vibration_mms: Math.min(num(telemetry, 'vibration_mms'), 0.2), pressure_mpa: Math.min(num(telemetry, 'pressure_mpa'), 0.8) };
    return { telemetry: { ...telemetry, ...atRest, ...held }, memo: held };
  });

/** Composes faults on one device: the first applies innermost. */
export const compose = (...faults: readonly Fault[]): Fault => (model) => faults.reduce((m, f) => f(m), model);

/**
 * The shape every device model has: plain state plus pure functions. A model
 * sees its device, its own random stream and the shared environment; it never
 * does I/O. A fault is meant to be a modifier: a function from Model to Model
 * that changes what `step` returns, applied to the devices it targets.
 */
import type { Device } from '../../../server/src/catalogue/types.ts';
import type { MetricValue } from '../../../server/src/contract.ts';
import type { SimEnv } from '../env.ts';
import type { Rng } from '../random.ts';

export interface ModelContext {
  readonly device: Device;
  readonly rng: Rng;
  readonly env: SimEnv;
}

export interface SimEvent {
  readonly event: string;
  readonly data?: Record<string, unknown>;
}

export interface StepResult<S> {
  readonly state: S;
  /** What the device reports at the end of the step. */
  readonly telemetry: Record<string, MetricValue>;
  readonly events?: readonly SimEvent[];
}

export interface Model<S> {
  /** The device's state at simulated time t, before its first report. */
  init(ctx: ModelContext, t: number): S;
  /** Advances from t - dtMs to t and says what the device reports at t. */
  step(state: S, t: number, dtMs: number, ctx: ModelContext): StepResult<S>;
  /**
   * The state of a device that already reported `last`: what it keeps across a restart (its
   * registers, its battery) continues from there, so no register ever steps back. Optional: a
   * model whose readings carry nothing to keep has none.
   */
  resume?(state: S, last: Readonly<Record<string, MetricValue>>): S;
}

/** A number the device last reported, or `fallback` when it did not report that metric. */
export function lastNumber(last: Readonly<Record<string, MetricValue>>, metric: string, fallback: number): number {
  const value = last[metric];
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** Rounds to a number of decimals, as a device's firmware would before sending. */
export function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Time in [t0, t1] during which `on(t)` holds, sampled each minute (ms). */
export function timeWhere(t0: number, t1: number, on: (t: number) => boolean, sampleMs = 60_000): number {
  let total = 0;
  for (let from = t0; from < t1; from += sampleMs) {
    const to = Math.min(t1, from + sampleMs);
    if (on((from + to) / 2)) total += to - from;
  }
  return total;
}

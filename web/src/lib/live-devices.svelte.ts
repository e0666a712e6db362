/**
 * The live state of every device, fed by socket updates. Updates are queued
 * and applied once per animation frame (latest state per device wins), so a
 * burst of thousands of updates costs the page one re-render, not thousands.
 *
 * `states` is an immutable Map replaced once per applied batch: raw, not a
 * deep $state proxy (6,000 proxied objects would make every update slow), and
 * a new identity per batch so that every $derived reading it recomputes.
 * Copying ~6,000 entries a few times a second is cheap next to rendering.
 */
import type { DeviceState } from '../../../server/src/push/events.ts';

/** Runs `flush` later, once; the default waits for the next animation frame. */
export type Scheduler = (flush: () => void) => void;

export const nextFrame: Scheduler = (flush) => {
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => flush());
  else setTimeout(flush, 16);
};

export class LiveDevices {
  states = $state.raw<ReadonlyMap<string, DeviceState>>(new Map());
  /** Arrival time (epoch ms) of the newest applied batch or snapshot; null before the first. */
  lastUpdateAt = $state<number | null>(null);

  readonly #pending = new Map<string, DeviceState>();
  #flushScheduled = false;
  readonly #schedule: Scheduler;
  readonly #now: () => number;

  constructor(schedule: Scheduler = nextFrame, now: () => number = Date.now) {
    this.#schedule = schedule;
    this.#now = now;
  }

  get(id: string): DeviceState | undefined {
    return this.states.get(id);
  }

  /** Queues socket updates; they are applied together on the next frame. */
  enqueue(states: readonly DeviceState[]): void {
    for (const state of states) this.#pending.set(state.id, state);
    if (this.#flushScheduled || this.#pending.size === 0) return;
    this.#flushScheduled = true;
    this.#schedule(() => this.flush());
  }

  /** Applies every queued update now. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#pending.size === 0) return;
    const next = new Map(this.states);
    for (const [id, state] of this.#pending) next.set(id, state);
    this.#pending.clear();
    this.states = next;
    this.lastUpdateAt = this.#now();
  }

  /**
   * A full snapshot replaces everything. Updates still queued were sent before
   * the snapshot was taken (one socket delivers in order), so they are dropped.
   */
  replaceAll(states: readonly DeviceState[]): void {
    this.#pending.clear();
    this.states = new Map(states.map((state) => [state.id, state]));
    this.lastUpdateAt = this.#now();
  }

  /**
   * States from the REST device list: they fill in devices not yet known but
   * never overwrite a state the socket already delivered, which is newer.
   */
  seed(states: readonly DeviceState[]): void {
    const missing = states.filter((state) => !this.states.has(state.id) && !this.#pending.has(state.id));
    if (missing.length === 0) return;
    const next = new Map(this.states);
    for (const state of missing) next.set(state.id, state);
    this.states = next;
  }
}

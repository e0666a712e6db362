/**
 * The live state of every device: its status and the latest value of each
 * metric. Pure (no timers): the push layer calls takeChanged() at its own
 * frame rate, which coalesces a burst of messages into one state per device.
 *
 * Values follow EVENT time: a reading older than the newest one applied is
 * late (a batch upload, a replay) and must not overwrite fresher values. It
 * still reaches storage; only the live view ignores it.
 */
import { DEVICE_KINDS, type DeviceKind } from '../catalogue/kinds.ts';
import type { DeviceStatus } from '../contract.ts';
import type { Reading } from '../ports/time-series.ts';
import type { DeviceState, LiveStatus } from '../push/events.ts';

/** The part of a catalogue Device that live state needs. */
export interface LiveDevice {
  readonly id: string;
  readonly kind: DeviceKind;
}

export type StatusCounts = Record<DeviceKind, Record<LiveStatus, number>>;

export class LiveState {
  // Mutated in place on the hot path; every read hands out a copy.
  private readonly states = new Map<string, DeviceState>();
  private readonly changed = new Set<string>();

  /** Known devices start as 'unknown', so that snapshots and counts include devices never heard from. */
  constructor(devices: Iterable<LiveDevice> = []) {
    for (const d of devices) this.states.set(d.id, blank(d.id, d.kind));
  }

  /** Merges the reading's values unless it is older (event time) than the newest reading applied. */
  applyReading(device: LiveDevice, reading: Reading, arrivedAt: number): void {
    const state = this.stateOf(device.id, device.kind);
    if (state.ts === null || reading.ts >= state.ts) {
      Object.assign(state.values, reading.values);
      state.ts = reading.ts;
    }
    state.seenAt = Math.max(state.seenAt ?? arrivedAt, arrivedAt);
    this.changed.add(device.id);
  }

  applyStatus(deviceId: string, kind: DeviceKind, status: DeviceStatus, at: number): void {
    const state = this.stateOf(deviceId, kind);
    state.status = status;
    state.seenAt = Math.max(state.seenAt ?? at, at);
    this.changed.add(deviceId);
  }

  /**
   * Preloads values from storage (TimeSeriesStore.latest()) at start-up. Status
   * stays as it is and nothing is marked changed: a seed is history, not news.
   * Readings of devices the lookup does not know are skipped; returns how many were applied.
   */
  seed(readings: Iterable<Reading>, deviceLookup: (id: string) => LiveDevice | undefined): number {
    let applied = 0;
    for (const reading of readings) {
      const device = deviceLookup(reading.deviceId);
      if (!device) continue;
      const state = this.stateOf(device.id, device.kind);
      if (state.ts === null || reading.ts >= state.ts) {
        Object.assign(state.values, reading.values);
        state.ts = reading.ts;
        applied += 1;
      }
    }
    return applied;
  }

  get(id: string): DeviceState | undefined {
    const state = this.states.get(id);
    return state && copy(state);
  }

  all(): DeviceState[] {
    return Array.from(this.states.values(), copy);
  }

  /** Each device changed since the previous call, once, in its latest state; then forgets them. */
  takeChanged(): DeviceState[] {
    const out: DeviceState[] = [];
    for (const id of this.changed) out.push(copy(this.states.get(id)!));
    this.changed.clear();
    return out;
  }

  /** Devices per kind and status, every kind and status present (zeros included). */
  counts(): StatusCounts {
    const counts = Object.fromEntries(DEVICE_KINDS.map((k) => [k, { online: 0, offline: 0, unknown: 0 }])) as StatusCounts;
    for (const state of this.states.values()) counts[state.kind][state.status] += 1;
    return counts;
  }

  private stateOf(id: string, kind: DeviceKind): DeviceState {
    let state = this.states.get(id);
    if (!state) {
      state = blank(id, kind);
      this.states.set(id, state);
    }
    return state;
  }
}

function blank(id: string, kind: DeviceKind): DeviceState {
  return { id, kind, status: 'unknown', ts: null, seenAt: null, values: {} };
}

function copy(state: DeviceState): DeviceState {
  return { ...state, values: { ...state.values } };
}

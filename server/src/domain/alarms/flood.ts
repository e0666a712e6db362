/**
 * Alarm flood per operator area (plot), after ISA-18.2: a flood starts when
 * more than 10 alarms are annunciated within 10 minutes (on the 11th), and
 * ends when the trailing 10 minutes hold fewer than 5. The gap between the two
 * keeps the mode from flapping at the edge. An annunciation at time r counts
 * for every t with t − 10 min < r ≤ t.
 *
 * Shared by the engine (live, wall clock) and the KPIs (from history), so both
 * find the same periods.
 */
export const FLOOD = { windowMs: 10 * 60_000, startAbove: 10, endBelow: 5 } as const;

export interface FloodState {
  /** Annunciation times within the window, oldest first. */
  readonly raisedAt: readonly number[];
  /** Start of the current flood; null when there is none. */
  readonly since: number | null;
}

export interface FloodChange { readonly type: 'flood-started' | 'flood-ended'; readonly at: number }

export const NO_FLOOD: FloodState = { raisedAt: [], since: null };

/** Ends a flood whose end has come by `now` (stamped with the exact moment it ended), and forgets what left the window. */
export function advanceFlood(state: FloodState, now: number): { state: FloodState; changes: FloodChange[] } {
  const changes: FloodChange[] = [];
  let { since } = state;
  if (since !== null) {
    // With nothing more raised, the count drops below endBelow when the endBelow-th newest leaves the window.
    const pivot = state.raisedAt[state.raisedAt.length - FLOOD.endBelow];
    const endsAt = pivot === undefined ? since : pivot + FLOOD.windowMs;
    if (endsAt <= now) {
      changes.push({ type: 'flood-ended', at: endsAt });
      since = null;
    }
  }
  const raisedAt = state.raisedAt.filter((t) => t > now - FLOOD.windowMs);
  return { state: { raisedAt, since }, changes };
}

/** Counts one annunciated alarm at `at` (times must not go backwards). */
export function recordAnnunciation(state: FloodState, at: number): { state: FloodState; changes: FloodChange[] } {
  const advanced = advanceFlood(state, at);
  const raisedAt = [...advanced.state.raisedAt, at];
  const starts = advanced.state.since === null && raisedAt.length > FLOOD.startAbove;
  return {
    state: { raisedAt, since: starts ? at : advanced.state.since },
    changes: starts ? [...advanced.changes, { type: 'flood-started', at }] : advanced.changes,
  };
}

/**
 * A cumulative register's use per local hour, by event time: shared by the
 * own-baseline detector and the plot water balance.
 *
 * The use between two readings is spread evenly over the time between them,
 * so a reading at 10:07 after one at 09:52 gives 8/15 of its increase to the
 * hour from 10:00. An hour is `complete` when the register's record covers
 * it without a break: a gap longer than maxGapMs, or a register that went
 * back (meter swap, tamper), breaks the record, and the use across the break
 * is not attributed to any hour.
 */
import type { LocalClock } from './local-clock.ts';

const HOUR_MS = 3_600_000;

export interface HourTrack {
  /** The newest reading. */
  readonly ts: number;
  readonly value: number;
  /** Start of the unbroken record: an hour is complete if it starts at or after it. */
  readonly since: number;
  /** Use so far in the hour containing `ts`. */
  readonly partial: number;
}

/** An hour whose end this reading reached. */
export interface ClosedHour {
  readonly hourStart: number;
  readonly use: number;
  readonly complete: boolean;
}

export interface TrackStep {
  readonly track: HourTrack;
  readonly closed: readonly ClosedHour[];
}

/** Adds a reading; null when it is not after the newest one (late or duplicate), which is ignored. */
export function trackHours(prev: HourTrack | null, ts: number, value: number, maxGapMs: number, clock: LocalClock): TrackStep | null {
  if (prev === null) return { track: { ts, value, since: ts, partial: 0 }, closed: [] };
  if (ts <= prev.ts) return null;
  if (value < prev.value || ts - prev.ts > maxGapMs) return { track: { ts, value, since: ts, partial: 0 }, closed: [] };

  const delta = value - prev.value;
  const span = ts - prev.ts;
  const closed: ClosedHour[] = [];
  let partial = prev.partial;
  let cursor = prev.ts;
  let given = 0;
  for (let hourStart = clock(prev.ts).hourStart; hourStart + HOUR_MS <= ts; hourStart += HOUR_MS) {
    const end = hourStart + HOUR_MS;
    // A share by time; a reading on the hour gives the hour the whole increase, exactly.
    const share = delta * ((end - cursor) / span);
    closed.push({ hourStart, use: partial + share, complete: prev.since <= hourStart });
    given += share;
    partial = 0;
    cursor = end;
  }
  return { track: { ts, value, since: prev.since, partial: partial + (delta - given) }, closed };
}

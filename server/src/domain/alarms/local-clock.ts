/**
 * The site's local time of an event time, for rules that depend on the hour
 * of day (night flow 02:00–04:00, use per hour of day). Hours are local
 * hours, so a site at UTC+05:30 gets its night from 02:00 local, not UTC.
 *
 * The zone's offset comes from Intl (tickets/local-time.ts) once per quarter
 * of an hour and is then kept: every zone changes its offset on a quarter
 * hour, and one Intl call per reading would cost more than the rules.
 */
import { localTime } from '../tickets/local-time.ts';

export interface LocalInstant {
  /** Whole local days since 1970-01-01: a key for "the same night". */
  readonly day: number;
  /** Hour of the local day with its fraction, 0 ≤ hour < 24. */
  readonly hour: number;
  /** Epoch ms at which the local hour containing the instant began. */
  readonly hourStart: number;
}

export type LocalClock = (ts: number) => LocalInstant;

const QUARTER_MS = 15 * 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const MAX_CACHED = 20_000;

/** A clock for an IANA time zone (the catalogue's site.timezone). */
export function localClock(timezone: string): LocalClock {
  const offsets = new Map<number, number>();
  const offsetMs = (ts: number): number => {
    const quarter = Math.floor(ts / QUARTER_MS);
    let offset = offsets.get(quarter);
    if (offset === undefined) {
      const at = quarter * QUARTER_MS;
      const lt = localTime(at, timezone);
      offset = Date.parse(`${lt.date}T00:00:00Z`) + lt.minutes * 60_000 - at;
      if (offsets.size >= MAX_CACHED) offsets.clear();
      offsets.set(quarter, offset);
    }
    return offset;
  };
  return (ts) => {
    const offset = offsetMs(ts);
    const local = ts + offset;
    const day = Math.floor(local / DAY_MS);
    const sinceMidnight = local - day * DAY_MS;
    return { day, hour: sinceMidnight / HOUR_MS, hourStart: Math.floor(local / HOUR_MS) * HOUR_MS - offset };
  };
}

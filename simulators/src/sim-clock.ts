/**
 * Simulated time. At speed S, simulated time advances S times as fast as the
 * wall clock from `startMs`; every model computes from simulated time only.
 */
import { systemClock, type Clock } from '../../server/src/ports/clock.ts';
import { SimError } from './errors.ts';

export class SimClock implements Clock {
  private readonly wallStart: number;

  /**
   * `live`: the readings go to a server that refuses the future, so simulated
   * time never passes the wall clock: a run that starts in the past goes at
   * `speed` until it reaches the present, then keeps real time.
   */
  constructor(readonly startMs: number, readonly speed: number, private readonly wall: Clock = systemClock, readonly live = false) {
    checkSpeed(speed);
    if (!Number.isFinite(startMs)) throw new SimError('SIM_BAD_OPTION', `start time must be a finite epoch ms, got ${startMs}`);
    this.wallStart = wall.now();
  }

  /** Simulated epoch ms. */
  now(): number {
    const wallNow = this.wall.now();
    const simulated = this.startMs + (wallNow - this.wallStart) * this.speed;
    return this.live ? Math.min(simulated, wallNow) : simulated;
  }
}

/** How long a live run faster than real time takes to catch up with the present (as `npm run sim` without --duration). */
export const LIVE_CATCH_UP_WALL_MS = 3_600_000;

/**
 * Where a live run starts (see SimClock's `live`). In real time: now. Faster,
 * in the recent past, so that the speed shows while it catches up: as far back
 * as an hour of wall-clock time at `speed` covers, but never before
 * `notBeforeMs` (the newest reading already stored, which the devices resume
 * from: going back before it would rewind their registers).
 */
export function liveStartMs(nowMs: number, speed: number, notBeforeMs = Number.NEGATIVE_INFINITY): number {
  checkSpeed(speed);
  if (speed <= 1) return nowMs;
  return Math.min(nowMs, Math.max(notBeforeMs, nowMs - (speed - 1) * LIVE_CATCH_UP_WALL_MS));
}

export function checkSpeed(speed: number): void {
  if (!Number.isFinite(speed) || speed <= 0) throw new SimError('SIM_BAD_OPTION', `speed must be a positive number, got ${speed}`);
}

/**
 * Fixed UTC offsets of the zones we simulate. China keeps +08:00 all year
 * (no daylight saving), so a fixed offset is exact and needs no tz database.
 */
const FIXED_OFFSETS_MIN: Readonly<Record<string, number>> = {
  'Asia/Shanghai': 480,
  'Asia/Chongqing': 480,
  'Asia/Hong_Kong': 480,
  UTC: 0,
  'Etc/UTC': 0,
};

export function utcOffsetMinutes(timezone: string): number {
  const offset = FIXED_OFFSETS_MIN[timezone];
  if (offset === undefined) {
    throw new SimError('SIM_UNKNOWN_TIMEZONE', `timezone "${timezone}" is not supported by the simulators (known: ${Object.keys(FIXED_OFFSETS_MIN).join(', ')})`);
  }
  return offset;
}

export interface LocalTime {
  /** Hour of the local day with fraction, 0 ≤ hour < 24. */
  readonly hour: number;
  /** 0 = Sunday … 6 = Saturday. */
  readonly weekday: number;
  readonly weekend: boolean;
  /** 1 … 366. */
  readonly dayOfYear: number;
  /** 1 … 12. */
  readonly month: number;
  /** 1 … 31. */
  readonly dayOfMonth: number;
  /** Whole local days since 1970-01-01 (local): a key for "the same day". */
  readonly dayNumber: number;
  /** Epoch ms of this local day's midnight. */
  readonly midnightMs: number;
}

const DAY_MS = 86_400_000;

export function localTime(epochMs: number, offsetMin: number): LocalTime {
  const shifted = epochMs + offsetMin * 60_000;
  const dayNumber = Math.floor(shifted / DAY_MS);
  const d = new Date(dayNumber * DAY_MS); // its UTC fields are the local date
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const weekday = d.getUTCDay();
  return {
    hour: (shifted - dayNumber * DAY_MS) / 3_600_000,
    weekday,
    weekend: weekday === 0 || weekday === 6,
    dayOfYear: Math.floor((dayNumber * DAY_MS - yearStart) / DAY_MS) + 1,
    month: d.getUTCMonth() + 1,
    dayOfMonth: d.getUTCDate(),
    dayNumber,
    midnightMs: dayNumber * DAY_MS - offsetMin * 60_000,
  };
}

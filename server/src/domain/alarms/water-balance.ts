/**
 * Water balance of a plot (rules.ts WaterBalanceDetector): every water meter
 * reading of the plot goes in, a verdict per judged hour comes out. Pure:
 * (plot state, meter track, reading, clock) → (plot state, meter track,
 * verdicts).
 *
 * Each meter's register is turned into use per local hour (hourly.ts). The
 * plot keeps, per open hour, the inlet's use and the sum and count of the
 * consumer meters whose record covers the hour. Consumer meters' tracks are
 * kept apart from the plot (one small value per meter), so that a reading
 * copies only the few open hours, not a thousand meters.
 *
 * An hour is judged when the inlet's event time passes its end + graceMs,
 * and then never again: readings for it arriving later are left out of it.
 */
import { trackHours, type HourTrack } from './hourly.ts';
import type { LocalClock } from './local-clock.ts';
import type { WaterBalanceDetector } from './rules.ts';

const HOUR_MS = 3_600_000;
/** Open hours kept at most: a plot whose inlet went quiet does not collect hours for ever. */
const MAX_OPEN_HOURS = 48;

export interface OpenHour {
  /** The inlet's use in the hour; null until the inlet's record covers it. */
  readonly inlet: number | null;
  /** Sum of the use of the consumer meters whose record covers the hour, and their number. */
  readonly consumers: number;
  readonly reporting: number;
}

export interface PlotBalance {
  readonly inlet: HourTrack | null;
  /** Open hours by start (epoch ms as a string key, so the state stays plain JSON). */
  readonly hours: Readonly<Record<string, OpenHour>>;
  /** End of the newest judged hour: nothing before it is collected any more. */
  readonly judgedThrough: number | null;
}

export const EMPTY_BALANCE: PlotBalance = { inlet: null, hours: {}, judgedThrough: null };

export interface BalanceVerdict {
  readonly hourStart: number;
  readonly condition: 'active' | 'clear';
  /** Unaccounted water in the hour, m³. */
  readonly value: number;
  readonly message: string;
}

export interface BalanceStep {
  readonly plot: PlotBalance;
  /** The consumer meter's new track (unchanged for the inlet). */
  readonly meter: HourTrack | null;
  readonly verdicts: readonly BalanceVerdict[];
}

export interface BalanceInput {
  readonly role: 'inlet' | 'consumer';
  readonly ts: number;
  readonly value: number;
  /** How many consumer meters the plot has (catalogue). */
  readonly consumers: number;
}

export function stepBalance(d: WaterBalanceDetector, plot: PlotBalance, meter: HourTrack | null, input: BalanceInput, clock: LocalClock): BalanceStep {
  const prev = input.role === 'inlet' ? plot.inlet : meter;
  const step = trackHours(prev, input.ts, input.value, d.maxGapMs, clock);
  if (step === null) return { plot, meter, verdicts: [] };

  const hours: Record<string, OpenHour> = { ...plot.hours };
  for (const hour of step.closed) {
    if (!hour.complete || (plot.judgedThrough !== null && hour.hourStart < plot.judgedThrough)) continue;
    const key = String(hour.hourStart);
    const open = hours[key] ?? { inlet: null, consumers: 0, reporting: 0 };
    hours[key] = input.role === 'inlet'
      ? { ...open, inlet: hour.use }
      : { ...open, consumers: open.consumers + hour.use, reporting: open.reporting + 1 };
  }

  const verdicts: BalanceVerdict[] = [];
  let { judgedThrough } = plot;
  if (input.role === 'inlet') {
    for (const start of Object.keys(hours).map(Number).sort((a, b) => a - b)) {
      if (start + HOUR_MS + d.graceMs > input.ts) break;
      const verdict = judgeHour(d, start, hours[String(start)]!, input.consumers);
      if (verdict) verdicts.push(verdict);
      delete hours[String(start)];
      judgedThrough = Math.max(judgedThrough ?? 0, start + HOUR_MS);
    }
  }
  const starts = Object.keys(hours).map(Number).sort((a, b) => a - b);
  for (const start of starts.slice(0, Math.max(0, starts.length - MAX_OPEN_HOURS))) delete hours[String(start)];

  return {
    plot: { inlet: input.role === 'inlet' ? step.track : plot.inlet, hours, judgedThrough },
    meter: input.role === 'consumer' ? step.track : meter,
    verdicts,
  };
}

/** null: the hour cannot be judged (the inlet did not cover it, or too few meters did). */
function judgeHour(d: WaterBalanceDetector, hourStart: number, hour: OpenHour, consumers: number): BalanceVerdict | null {
  if (hour.inlet === null || consumers === 0 || hour.reporting / consumers < d.minCoverage) return null;
  const used = (hour.consumers * consumers) / hour.reporting;
  const loss = hour.inlet - used;
  const abnormal = loss >= d.minLossPerHour && loss >= d.share * hour.inlet;
  const pct = hour.inlet > 0 ? Math.round((loss / hour.inlet) * 100) : 0;
  return {
    hourStart, condition: abnormal ? 'active' : 'clear', value: round2(loss),
    message: `inlet ${round2(hour.inlet)} m³ in the hour, meters ${round2(used)} m³ (${hour.reporting} of ${consumers} reporting): `
      + `${round2(loss)} m³ (${pct} %) unaccounted (limit ${Math.round(d.share * 100)} % and ${d.minLossPerHour} m³)`,
  };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

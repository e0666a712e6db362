import { describe, expect, it } from 'vitest';
import type { HourTrack } from '../../server/src/domain/alarms/hourly.ts';
import { RULES, type WaterBalanceDetector } from '../../server/src/domain/alarms/rules.ts';
import { EMPTY_BALANCE, stepBalance, type BalanceVerdict, type PlotBalance } from '../../server/src/domain/alarms/water-balance.ts';
import { HOUR, MINUTE, T0, utcClock } from '../support/alarm-site.ts';

const QUARTER = 15 * MINUTE;
const DETECTOR = RULES.find((r) => r.id === 'water-meter.water-balance')!.detector as WaterBalanceDetector;

/** A reading of one meter: 'inlet' or a consumer's index. */
interface Sent { readonly meter: 'inlet' | number; readonly t: number; readonly value: number }

interface Plot {
  /** How many consumer meters the catalogue has. */
  readonly consumers: number;
  /** m³ each consumer uses per hour (index = meter), and the inlet; by hour from T0. */
  readonly use: (meter: 'inlet' | number, hour: number) => number;
  /** Consumers that never report. */
  readonly silent?: readonly number[];
  readonly hours: number;
}

/** Every meter reports on the quarter-hour, consumers first, then the inlet. */
function quarterHourly(plot: Plot): Sent[] {
  const out: Sent[] = [];
  const registers = new Map<'inlet' | number, number>();
  const meters: ('inlet' | number)[] = [...Array.from({ length: plot.consumers }, (_, i) => i).filter((i) => !plot.silent?.includes(i)), 'inlet'];
  for (let q = 0; q <= plot.hours * 4; q++) {
    const t = q * QUARTER;
    for (const meter of meters) {
      const before = registers.get(meter) ?? 500;
      const value = q === 0 ? before : before + plot.use(meter, Math.floor((t - 1) / HOUR)) / 4;
      registers.set(meter, value);
      out.push({ meter, t, value });
    }
  }
  return out;
}

interface Run { readonly verdicts: (BalanceVerdict & { readonly at: number })[]; readonly plot: PlotBalance }

function feed(sent: readonly Sent[], consumers: number, detector: WaterBalanceDetector = DETECTOR): Run {
  let plot = EMPTY_BALANCE;
  const meters = new Map<number, HourTrack>();
  const verdicts: (BalanceVerdict & { at: number })[] = [];
  for (const { meter, t, value } of sent) {
    const step = stepBalance(detector, plot, meter === 'inlet' ? null : (meters.get(meter) ?? null),
      { role: meter === 'inlet' ? 'inlet' : 'consumer', ts: T0 + t, value, consumers }, utcClock);
    plot = step.plot;
    if (meter !== 'inlet' && step.meter) meters.set(meter, step.meter);
    verdicts.push(...step.verdicts.map((v) => ({ ...v, at: T0 + t })));
  }
  return { verdicts, plot };
}

/** [hour index, condition, minutes after T0 it was judged] */
const summary = (run: Run) => run.verdicts.map((v) => [(v.hourStart - T0) / HOUR, v.condition, (v.at - T0) / MINUTE]);

/** 8 consumers using `each` m³/h (the last one `last`), and the inlet `inlet` m³/h, for 3 hours. */
const plotOf8 = (inlet: number, each: number, last = each): Plot => ({
  consumers: 8, hours: 3, use: (meter) => (meter === 'inlet' ? inlet : meter === 7 ? last : each),
});

describe('plot water balance (water-meter.water-balance)', () => {
  it('judges each hour once, when the inlet has reported 30 min past its end; a balanced plot is normal', () => {
    // 8 × 4 = 32 m³ used, 33 through the inlet: 1 m³ (3 %) lost.
    const run = feed(quarterHourly(plotOf8(33, 4)), 8);
    // Hour 0 ends at 60 min: judged by the inlet's 90-min reading, not its 75-min one. Hour 2 needs the 210-min reading.
    expect(summary(run)).toEqual([[0, 'clear', 90], [1, 'clear', 150]]);
    expect(run.verdicts[0]!.message).toBe('inlet 33 m³ in the hour, meters 32 m³ (8 of 8 reporting): 1 m³ (3 %) unaccounted (limit 15 % and 3 m³)');
  });

  it.each<[string, Plot, 'active' | 'clear']>([
    // Both limits met exactly: 3 m³ is 15 % of 20.
    ['exactly 3 m³ and 15 % is a burst', plotOf8(20, 2, 3), 'active'],
    ['2.75 m³ (13.75 %) is not', plotOf8(20, 2, 3.25), 'clear'],
    ['6 m³ is 15 % of 40: a burst', plotOf8(40, 4.25), 'active'],
    ['5.75 m³ is 14.4 % of 40: not', plotOf8(40, 4.25, 4.5), 'clear'],
    ['at night 3 m³ of 4 is a burst however small the flow', plotOf8(4, 0.125), 'active'],
    ['at night 2.5 m³ of 3.5 (71 %) is below the 3 m³ that makes one', plotOf8(3.5, 0.125), 'clear'],
  ])('%s', (_name, plot, condition) => {
    expect(summary(feed(quarterHourly(plot), 8)).map(([, c]) => c)).toEqual([condition, condition]);
  });

  it('with 90 % of the meters reporting, the missing ones are taken to use what the others do on average', () => {
    // 9 of 10 report 3 m³/h each: the plot is taken to use 30. The inlet's 33 leaves 3 m³ but only 9 % (no alarm);
    // summing the reporting meters alone would leave 6 m³ (18 %): a false burst.
    const run = feed(quarterHourly({ consumers: 10, hours: 3, silent: [4], use: (m) => (m === 'inlet' ? 33 : 3) }), 10);
    expect(summary(run).map(([, c]) => c)).toEqual(['clear', 'clear']);
    expect(run.verdicts[0]!.message).toContain('(9 of 10 reporting)');
  });

  it('with fewer than 90 % of the meters reporting, hours are not judged at all', () => {
    const run = feed(quarterHourly({ consumers: 10, hours: 3, silent: [4, 5], use: (m) => (m === 'inlet' ? 80 : 3) }), 10);
    expect(run.verdicts).toEqual([]);
    // Hours 0 and 1 were due and skipped, and are not kept; hour 2 is not due yet.
    expect(Object.keys(run.plot.hours).map((k) => (Number(k) - T0) / HOUR)).toEqual([2]);
  });

  it('a meter\'s readings for the hour arriving late still count while the inlet is within the grace period', () => {
    const sent = quarterHourly(plotOf8(33, 4));
    // Meter 3's readings of 15…75 min are held back and delivered, in order, just before the readings of 90 min:
    // after the inlet's 75-min reading, before its 90-min one, which judges hour 0.
    const held = sent.filter((s) => s.meter === 3 && s.t > 0 && s.t <= 75 * MINUTE);
    const rest = sent.filter((s) => !held.includes(s));
    const i = rest.findIndex((s) => s.t === 90 * MINUTE);
    const run = feed([...rest.slice(0, i), ...held, ...rest.slice(i)], 8);
    expect(summary(run)).toEqual([[0, 'clear', 90], [1, 'clear', 150]]);
    expect(run.verdicts[0]!.message).toContain('(8 of 8 reporting)');
  });

  it('an hour is judged once: a meter\'s readings for it arriving after that are left out', () => {
    // Without meter 3's use in hour 0 (1 of 8 missing = 87.5 % < 90 %) hour 0 is not judged; meter 3 counts again from hour 1.
    const sent = quarterHourly(plotOf8(33, 4));
    // Meter 3's readings of 15…90 min arrive just after the inlet's 90-min reading has judged hour 0 (with 7 of 8: skipped).
    const held = sent.filter((s) => s.meter === 3 && s.t > 0 && s.t <= 90 * MINUTE);
    const rest = sent.filter((s) => !held.includes(s));
    const i = rest.findIndex((s) => s.meter === 'inlet' && s.t === 90 * MINUTE) + 1;
    expect(summary(feed([...rest.slice(0, i), ...held, ...rest.slice(i)], 8))).toEqual([[1, 'clear', 150]]);
  });

  it('a meter with a gap over an hour does not count for the hours in the gap', () => {
    // Meter 2 silent from 15 to 90 min: it covers neither hour 0 nor hour 1 (7 of 8 < 90 %), and counts again for hour 2.
    const sent = quarterHourly({ ...plotOf8(33, 4), hours: 4 }).filter((s) => !(s.meter === 2 && s.t > 15 * MINUTE && s.t < 90 * MINUTE));
    expect(summary(feed(sent, 8))).toEqual([[2, 'clear', 210]]);
  });

  it('use is spread over the hours by time when readings are off the hour', () => {
    // Consumers read at hh:07, the inlet at hh:11 (so hour 0, begun before the first readings, is not complete):
    // each hour still balances to its own 1 m³.
    const sent = quarterHourly({ ...plotOf8(33, 4), hours: 4 }).map((s) => ({ ...s, t: s.t + (s.meter === 'inlet' ? 11 : 7) * MINUTE }));
    const run = feed(sent, 8);
    expect(summary(run).map(([h, c]) => [h, c])).toEqual([[1, 'clear'], [2, 'clear']]);
    expect(run.verdicts[0]!.value).toBeCloseTo(1, 6);
  });

  it('duplicates and late readings of a meter are ignored', () => {
    const sent = quarterHourly(plotOf8(33, 4));
    const withRepeats = sent.flatMap((s) => (s.meter === 1 && s.t === 45 * MINUTE ? [s, s, { ...s, t: 30 * MINUTE, value: s.value - 0.5 }] : [s]));
    expect(summary(feed(withRepeats, 8))).toEqual(summary(feed(sent, 8)));
  });

  it('an inlet gone quiet leaves at most 48 open hours behind', () => {
    const sent = quarterHourly({ ...plotOf8(33, 4), hours: 60 }).filter((s) => s.meter !== 'inlet' || s.t < HOUR);
    expect(Object.keys(feed(sent, 8).plot.hours)).toHaveLength(48);
  });
});

/**
 * Managers' reports over a period: tickets by kind, priority, status and
 * source; SLA compliance per priority and stage; time to acknowledge and to
 * repair for tickets and for alarms; alarm activations per priority and rule;
 * and the operator's alarm load against the ISA-18.2 targets.
 *
 * Pure: the period, the tickets of the period, the alarm aggregates (counted
 * by SQL, since alarm history can be large), the roster and the clock are
 * inputs. SLA judgements come from tickets/sla.ts and alarm rates from
 * alarms/kpis.ts, so a report never disagrees with the live views.
 */
import { FLOOD } from './alarms/flood.ts';
import { rateOfCounts, type RateKpi } from './alarms/kpis.ts';
import type { Priority, Text } from './alarms/rules.ts';
import { isOnDuty, type Shift } from './tickets/assignment.ts';
import { addDays, atLocal, localTime } from './tickets/local-time.ts';
import {
  PRIORITIES, TICKET_KINDS, TICKET_SOURCES, TICKET_STATUSES,
  type Ticket, type TicketKind, type TicketSource, type TicketStatus,
} from './tickets/model.ts';
import { slaOf, type SlaTimes } from './tickets/sla.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TEN_MINUTES = 10 * MINUTE;

export const REPORT_PERIODS = ['day', 'week', 'month'] as const;
export type ReportPeriod = (typeof REPORT_PERIODS)[number];

/** A quarter at most: tickets are judged in memory, and a longer table helps nobody. */
export const MAX_REPORT_RANGE_MS = 92 * DAY;
/** Ranges up to two days are shown per hour, longer ones per local day. */
const HOURLY_UP_TO_MS = 2 * DAY;
/** The rule table lists at most this many rules (the busiest); `rules` says how many there were. */
export const RULE_LIST_LIMIT = 100;
/** The roster is sampled this often to count operator-hours. */
const ROSTER_STEP_MS = 15 * MINUTE;

/**
 * ISA-18.2 (Table 5, after EEMUA 191) for one operator: about 6 annunciated
 * alarms an hour are very likely acceptable, 12 are the most that can be
 * managed; no 10-minute period above the flood threshold (more than 10
 * alarms), and such periods under 1 % of the time.
 */
export const ISA_18_2_TARGETS = {
  perOperatorHourAcceptable: 6,
  perOperatorHourManageable: 12,
  peakPer10Minutes: FLOOD.startAbove,
  floodedPct: 1,
} as const;

export type ReportErrorCode = 'REPORT_RANGE_INVALID' | 'RANGE_TOO_LARGE';

export class ReportError extends Error {
  constructor(readonly code: ReportErrorCode, message: string) {
    super(message);
    this.name = 'ReportError';
  }
}

export type BucketWidth = 'hour' | 'day';

export interface ReportRange {
  readonly from: number;
  readonly to: number;
  /** The calendar period shown, or null for a range given by from/to. */
  readonly period: ReportPeriod | null;
  readonly bucket: BucketWidth;
  /** The start of every bucket, oldest first; the last one ends at `to`. */
  readonly buckets: readonly number[];
  /** Local dates of the first and the last day of the range. */
  readonly firstDate: string;
  readonly lastDate: string;
  /** Anchor dates of the calendar periods before and after (null for a from/to range). */
  readonly previousDate: string | null;
  readonly nextDate: string | null;
}

/** What the query asked for, as text (validated here, so that the rules are tested in one place). */
export interface RangeQuery {
  readonly period?: ReportPeriod;
  /** A local date 'YYYY-MM-DD' inside the wanted period; default: today. */
  readonly date?: string;
  /** ISO-8601 or epoch ms; both or neither. */
  readonly from?: string;
  readonly to?: string;
}

const isoWeekday = (date: string): number => {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  return day === 0 ? 7 : day;
};

function isRealDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const [, y, m, d] = match.map(Number) as [number, number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

function parseInstant(text: string, name: string): number {
  const trimmed = text.trim();
  const t = /^\d+$/.test(trimmed) ? Number(trimmed) : Date.parse(trimmed);
  if (!Number.isFinite(t)) throw new ReportError('REPORT_RANGE_INVALID', `"${name}" must be an ISO-8601 time or epoch milliseconds, not "${text}"`);
  return t;
}

/** The local first and next-after-last dates of the calendar period holding `date`. */
export function calendarPeriod(period: ReportPeriod, date: string): { first: string; next: string } {
  switch (period) {
    case 'day': return { first: date, next: addDays(date, 1) };
    case 'week': {
      const first = addDays(date, 1 - isoWeekday(date));
      return { first, next: addDays(first, 7) };
    }
    case 'month': {
      const [y, m] = date.split('-').map(Number) as [number, number];
      const first = `${date.slice(0, 7)}-01`;
      const next = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
      return { first, next };
    }
  }
}

/** Bucket starts over [from, to): whole hours after `from`, or local midnights. */
export function bucketStarts(from: number, to: number, width: BucketWidth, timezone: string): number[] {
  const starts = [from];
  if (width === 'hour') {
    for (let t = Math.floor(from / HOUR) * HOUR + HOUR; t < to; t += HOUR) starts.push(t);
    return starts;
  }
  for (let date = addDays(localTime(from, timezone).date, 1); ; date = addDays(date, 1)) {
    const t = atLocal(date, 0, timezone);
    if (t >= to) return starts;
    if (t > from) starts.push(t);
  }
}

/**
 * The range a query names: the calendar day, ISO week or month (local time)
 * holding `date` (default: today), or the explicit [from, to). Invalid or
 * inconsistent input is a REPORT_RANGE_INVALID, more than a quarter RANGE_TOO_LARGE.
 */
export function resolveRange(query: RangeQuery, now: number, timezone: string): ReportRange {
  const { from: fromText, to: toText, date } = query;
  const period = query.period ?? 'week';
  if ((fromText === undefined) !== (toText === undefined)) {
    throw new ReportError('REPORT_RANGE_INVALID', 'give both "from" and "to", or neither (then "period" and "date" choose the range)');
  }
  if (fromText !== undefined && toText !== undefined) {
    if (date !== undefined) throw new ReportError('REPORT_RANGE_INVALID', 'give either "date" or "from" and "to", not both');
    const from = parseInstant(fromText, 'from');
    const to = parseInstant(toText, 'to');
    if (from >= to) throw new ReportError('REPORT_RANGE_INVALID', '"from" must be before "to"');
    if (to - from > MAX_REPORT_RANGE_MS) throw new ReportError('RANGE_TOO_LARGE', `a report covers at most ${MAX_REPORT_RANGE_MS / DAY} days`);
    const bucket: BucketWidth = to - from <= HOURLY_UP_TO_MS ? 'hour' : 'day';
    return {
      from, to, period: null, bucket, buckets: bucketStarts(from, to, bucket, timezone),
      firstDate: localTime(from, timezone).date, lastDate: localTime(to - 1, timezone).date, previousDate: null, nextDate: null,
    };
  }
  if (date !== undefined && !isRealDate(date)) throw new ReportError('REPORT_RANGE_INVALID', `"date" must be a calendar date YYYY-MM-DD, not "${date}"`);
  const anchor = date ?? localTime(now, timezone).date;
  const { first, next } = calendarPeriod(period, anchor);
  const from = atLocal(first, 0, timezone);
  const to = atLocal(next, 0, timezone);
  const bucket: BucketWidth = period === 'day' ? 'hour' : 'day';
  return {
    from, to, period, bucket, buckets: bucketStarts(from, to, bucket, timezone),
    firstDate: first, lastDate: addDays(next, -1), previousDate: addDays(first, -1), nextDate: next,
  };
}

// ── Durations ───────────────────────────────────────────────────────────────

export interface DurationStats {
  /** How many were done (the mean and median are over these). */
  readonly count: number;
  readonly meanMs: number | null;
  readonly medianMs: number | null;
}

export function durationStats(values: readonly number[]): DurationStats {
  if (values.length === 0) return { count: 0, meanMs: null, medianMs: null };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { count: sorted.length, meanMs: sorted.reduce((sum, v) => sum + v, 0) / sorted.length, medianMs };
}

// ── Tickets ─────────────────────────────────────────────────────────────────

/** What a report needs of a ticket (the repository loads only this). */
export type ReportTicket = Pick<Ticket, 'kind' | 'priority' | 'source' | 'createdAt'> & SlaTimes;

export interface Count<K> { readonly key: K; readonly count: number }

/**
 * One SLA stage over a set of tickets: done in time, done late, missed (not
 * done and past due: still open, or cancelled after the due time), and
 * pending (open, not due yet). Compliance is in time / (in time + late +
 * missed); a ticket cancelled before its due time is not judged.
 */
export interface SlaStageStats {
  readonly onTime: number;
  readonly late: number;
  readonly missed: number;
  readonly pending: number;
  readonly compliancePct: number | null;
}

/** `priority` null: every priority together. */
export interface SlaRow {
  readonly priority: Priority | null;
  readonly tickets: number;
  readonly acknowledge: SlaStageStats;
  readonly onSite: SlaStageStats;
  readonly resolve: SlaStageStats;
}

/** Time to acknowledge (created → accepted) and to repair (created → resolved, or closed without a resolve step); cancelled tickets are not repaired. */
export interface TicketTimesRow {
  readonly priority: Priority | null;
  readonly acknowledge: DurationStats;
  readonly repair: DurationStats;
}

export interface TicketReport {
  readonly total: number;
  readonly byKind: readonly Count<TicketKind>[];
  readonly byPriority: readonly Count<Priority>[];
  readonly byStatus: readonly Count<TicketStatus>[];
  readonly bySource: readonly Count<TicketSource>[];
  readonly sla: readonly SlaRow[];
  readonly times: readonly TicketTimesRow[];
}

function countBy<K>(keys: readonly K[], values: readonly K[]): Count<K>[] {
  return keys.map((key) => ({ key, count: values.filter((v) => v === key).length }));
}

type Judged = { readonly ticket: ReportTicket; readonly sla: ReturnType<typeof slaOf> };

function stageStats(judged: readonly Judged[], index: 0 | 1 | 2): SlaStageStats {
  let onTime = 0;
  let late = 0;
  let missed = 0;
  let pending = 0;
  for (const { ticket, sla } of judged) {
    const s = sla[index]!;
    if (s.metAt !== null) {
      if (s.breached) late++;
      else onTime++;
    } else if (s.breached) missed++;
    else if (ticket.status !== 'cancelled') pending++;
  }
  const counted = onTime + late + missed;
  return { onTime, late, missed, pending, compliancePct: counted === 0 ? null : (onTime / counted) * 100 };
}

export function ticketReport(tickets: readonly ReportTicket[], now: number): TicketReport {
  const judged: Judged[] = tickets.map((ticket) => ({ ticket, sla: slaOf(ticket, now) }));
  const groups: (Priority | null)[] = [...PRIORITIES, null];
  const ofGroup = (priority: Priority | null) => (priority === null ? judged : judged.filter((j) => j.ticket.priority === priority));
  return {
    total: tickets.length,
    byKind: countBy(TICKET_KINDS, tickets.map((t) => t.kind)),
    byPriority: countBy(PRIORITIES, tickets.map((t) => t.priority)),
    byStatus: countBy(TICKET_STATUSES, tickets.map((t) => t.status)),
    bySource: countBy(TICKET_SOURCES, tickets.map((t) => t.source)),
    sla: groups.map((priority) => {
      const mine = ofGroup(priority);
      return { priority, tickets: mine.length, acknowledge: stageStats(mine, 0), onSite: stageStats(mine, 1), resolve: stageStats(mine, 2) };
    }),
    times: groups.map((priority) => {
      const mine = ofGroup(priority);
      // The SLA's own "met" times: accepted, and resolved (or closed without a resolve step).
      const after = (index: 0 | 2, of: readonly Judged[]) => of.flatMap(({ ticket, sla }) => (sla[index]!.metAt === null ? [] : [Math.max(0, sla[index]!.metAt! - ticket.createdAt)]));
      return { priority, acknowledge: durationStats(after(0, mine)), repair: durationStats(after(2, mine.filter((j) => j.ticket.status !== 'cancelled'))) };
    }),
  };
}

// ── Alarms ──────────────────────────────────────────────────────────────────

/** Activations of one rule in the period (SQL: alarm-raised events grouped by rule). */
export interface AlarmRuleCount {
  readonly ruleId: string;
  readonly priority: Priority;
  readonly title: Text;
  readonly activations: number;
  /** Shown to the operator: not shelved, suppressed, out of service or rate-limited. */
  readonly annunciated: number;
}

/**
 * Per activation (SQL), per priority and for all (priority null): raised →
 * acknowledged over the annunciated activations (nobody is asked to
 * acknowledge what was never shown), raised → returned to normal over all.
 */
export interface AlarmTimesRow {
  readonly priority: Priority | null;
  readonly activations: number;
  readonly annunciated: number;
  readonly acknowledge: DurationStats;
  readonly returnToNormal: DurationStats;
}

export interface AlarmAggregates {
  readonly rules: readonly AlarmRuleCount[];
  readonly times: readonly AlarmTimesRow[];
  /** Annunciated activations per 10-minute bucket (epoch ms / 600,000, floored), non-empty buckets only. */
  readonly per10Minutes: readonly { readonly bucket: number; readonly count: number }[];
  /** Per report bucket (its index in ReportRange.buckets). */
  readonly series: readonly { readonly index: number; readonly activations: number; readonly annunciated: number }[];
}

export type LoadRating = 'acceptable' | 'manageable' | 'overloaded';

/** The operator's load over the part of the period that has passed. */
export interface AlarmLoad {
  readonly annunciated: number;
  /** Hours of the period up to now. */
  readonly hours: number;
  /** Operators on duty by the roster, summed over those hours. */
  readonly operatorHours: number;
  readonly perOperatorHour: number | null;
  readonly rating: LoadRating | null;
  readonly perHour: RateKpi;
  readonly per10Minutes: RateKpi;
  /** 10-minute periods with more than FLOOD.startAbove annunciated alarms, as a share of those passed. */
  readonly floodedPct: number | null;
  readonly targets: typeof ISA_18_2_TARGETS;
}

export interface AlarmReport {
  readonly activations: number;
  readonly annunciated: number;
  readonly byPriority: readonly { readonly priority: Priority; readonly activations: number; readonly annunciated: number }[];
  /** The busiest rules first (ties by id), at most RULE_LIST_LIMIT. */
  readonly byRule: readonly AlarmRuleCount[];
  /** How many rules raised anything. */
  readonly rules: number;
  /** Share of the activations raised by the ten busiest rules. */
  readonly top10Pct: number | null;
  readonly times: readonly AlarmTimesRow[];
  readonly load: AlarmLoad;
}

/** Operator-hours in [from, to) by the roster, sampled every 15 minutes. */
export function operatorHours(roster: { readonly shifts: readonly Shift[]; readonly operators: readonly string[] }, from: number, to: number, timezone: string): number {
  let slots = 0;
  for (let t = from; t < to; t += ROSTER_STEP_MS) {
    const mid = Math.min(t + ROSTER_STEP_MS / 2, (t + to) / 2);
    const weight = Math.min(ROSTER_STEP_MS, to - t) / ROSTER_STEP_MS;
    for (const operator of roster.operators) if (isOnDuty(roster.shifts, operator, mid, timezone)) slots += weight;
  }
  return (slots * ROSTER_STEP_MS) / HOUR;
}

function rating(perOperatorHour: number | null): LoadRating | null {
  if (perOperatorHour === null) return null;
  if (perOperatorHour <= ISA_18_2_TARGETS.perOperatorHourAcceptable) return 'acceptable';
  return perOperatorHour <= ISA_18_2_TARGETS.perOperatorHourManageable ? 'manageable' : 'overloaded';
}

const EMPTY_TIMES = (priority: Priority | null): AlarmTimesRow => ({
  priority, activations: 0, annunciated: 0, acknowledge: durationStats([]), returnToNormal: durationStats([]),
});

export function alarmReport(
  aggregates: AlarmAggregates,
  period: { from: number; to: number; now: number; timezone: string },
  roster: { readonly shifts: readonly Shift[]; readonly operators: readonly string[] },
): AlarmReport {
  const activations = aggregates.rules.reduce((sum, r) => sum + r.activations, 0);
  const annunciated = aggregates.rules.reduce((sum, r) => sum + r.annunciated, 0);
  const ranked = [...aggregates.rules].sort((a, b) => b.activations - a.activations || a.ruleId.localeCompare(b.ruleId));
  const top10 = ranked.slice(0, 10).reduce((sum, r) => sum + r.activations, 0);

  // Rates over the part of the period that has passed: an afternoon's alarms are not spread over the whole day.
  const passed = { from: period.from, to: Math.max(period.from, Math.min(period.to, period.now)) };
  const hourly = new Map<number, number>();
  for (const { bucket, count } of aggregates.per10Minutes) {
    const hour = Math.floor((bucket * TEN_MINUTES) / HOUR);
    hourly.set(hour, (hourly.get(hour) ?? 0) + count);
  }
  const tenMinutePeriods = (passed.to - passed.from) / TEN_MINUTES;
  const flooded = aggregates.per10Minutes.filter((b) => b.count > FLOOD.startAbove).length;
  const hours = (passed.to - passed.from) / HOUR;
  const onDuty = operatorHours(roster, passed.from, passed.to, period.timezone);
  const perOperatorHour = onDuty > 0 ? annunciated / onDuty : null;

  const timesOf = (priority: Priority | null) => aggregates.times.find((t) => t.priority === priority) ?? EMPTY_TIMES(priority);
  return {
    activations,
    annunciated,
    byPriority: PRIORITIES.map((priority) => {
      const mine = aggregates.rules.filter((r) => r.priority === priority);
      return { priority, activations: mine.reduce((s, r) => s + r.activations, 0), annunciated: mine.reduce((s, r) => s + r.annunciated, 0) };
    }),
    byRule: ranked.slice(0, RULE_LIST_LIMIT),
    rules: ranked.length,
    top10Pct: activations === 0 ? null : (top10 / activations) * 100,
    times: [...PRIORITIES.map(timesOf), timesOf(null)],
    load: {
      annunciated,
      hours,
      operatorHours: onDuty,
      perOperatorHour,
      rating: rating(perOperatorHour),
      perHour: rateOfCounts(hourly.values(), passed, HOUR),
      per10Minutes: rateOfCounts(aggregates.per10Minutes.map((b) => b.count), passed, TEN_MINUTES),
      floodedPct: tenMinutePeriods >= 1 ? (flooded / Math.ceil(tenMinutePeriods)) * 100 : null,
      targets: ISA_18_2_TARGETS,
    },
  };
}

// ── The report ──────────────────────────────────────────────────────────────

export interface SeriesPoint {
  readonly start: number;
  readonly tickets: number;
  readonly activations: number;
  readonly annunciated: number;
}

export interface Report {
  readonly from: number;
  readonly to: number;
  readonly period: ReportPeriod | null;
  readonly bucket: BucketWidth;
  readonly firstDate: string;
  readonly lastDate: string;
  readonly previousDate: string | null;
  readonly nextDate: string | null;
  readonly timezone: string;
  readonly plotId: string | null;
  readonly generatedAt: number;
  /** Tickets created and alarms raised per bucket. */
  readonly series: readonly SeriesPoint[];
  readonly tickets: TicketReport;
  readonly alarms: AlarmReport;
}

/** The index of the bucket holding `t` (buckets sorted by start, t ≥ the first). */
function bucketOf(starts: readonly number[], t: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export interface ReportInput {
  readonly range: ReportRange;
  readonly timezone: string;
  readonly plotId: string | null;
  readonly now: number;
  /** The tickets created in the range. */
  readonly tickets: readonly ReportTicket[];
  readonly alarms: AlarmAggregates;
  readonly roster: { readonly shifts: readonly Shift[]; readonly operators: readonly string[] };
}

export function buildReport(input: ReportInput): Report {
  const { range, now, timezone } = input;
  const ticketsPer = new Array<number>(range.buckets.length).fill(0);
  for (const t of input.tickets) {
    if (t.createdAt >= range.from && t.createdAt < range.to) ticketsPer[bucketOf(range.buckets, t.createdAt)]! += 1;
  }
  const alarmsPer = new Map(input.alarms.series.map((s) => [s.index, s]));
  return {
    from: range.from,
    to: range.to,
    period: range.period,
    bucket: range.bucket,
    firstDate: range.firstDate,
    lastDate: range.lastDate,
    previousDate: range.previousDate,
    nextDate: range.nextDate,
    timezone,
    plotId: input.plotId,
    generatedAt: now,
    series: range.buckets.map((start, i) => ({
      start, tickets: ticketsPer[i]!, activations: alarmsPer.get(i)?.activations ?? 0, annunciated: alarmsPer.get(i)?.annunciated ?? 0,
    })),
    tickets: ticketReport(input.tickets, now),
    alarms: alarmReport(input.alarms, { from: range.from, to: range.to, now, timezone }, input.roster),
  };
}

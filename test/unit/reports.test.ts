/**
 * Managers' reports as pure functions of (period, tickets, alarm aggregates,
 * roster, clock): the calendar ranges and their buckets (also across a DST
 * change), every rejected range, SLA compliance per stage with on-time, late,
 * missed and pending tickets, times to acknowledge and repair, alarm counts
 * per priority and rule, and the operator's load against ISA-18.2.
 */
import { describe, expect, it } from 'vitest';
import type { Priority } from '../../server/src/domain/alarms/rules.ts';
import {
  alarmReport, bucketStarts, buildReport, durationStats, ISA_18_2_TARGETS, operatorHours, resolveRange, ReportError, RULE_LIST_LIMIT, ticketReport,
  type AlarmAggregates, type AlarmRuleCount, type ReportTicket,
} from '../../server/src/domain/reports.ts';
import type { Shift } from '../../server/src/domain/tickets/assignment.ts';
import { atLocal } from '../../server/src/domain/tickets/local-time.ts';
import { dueTimes } from '../../server/src/domain/tickets/sla.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const TZ = 'Asia/Shanghai';
/** Tuesday 2025-05-06 10:00 in Blue Valley. */
const NOW = atLocal('2025-05-06', 10 * 60, TZ);

function rangeError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof ReportError) return error.code;
    throw error;
  }
  throw new Error('no ReportError');
}

describe('resolveRange', () => {
  it('defaults to the ISO week (Monday to Sunday, site time) holding today, in local days', () => {
    const r = resolveRange({}, NOW, TZ);
    expect(r).toMatchObject({
      period: 'week', bucket: 'day', from: atLocal('2025-05-05', 0, TZ), to: atLocal('2025-05-12', 0, TZ),
      firstDate: '2025-05-05', lastDate: '2025-05-11', previousDate: '2025-05-04', nextDate: '2025-05-12',
    });
    expect(r.buckets).toHaveLength(7);
    expect(r.buckets[1]).toBe(atLocal('2025-05-06', 0, TZ));
    // Today in Blue Valley although it is still yesterday in UTC.
    expect(resolveRange({ period: 'day' }, atLocal('2025-05-06', 60, TZ), TZ).firstDate).toBe('2025-05-06');
  });

  it('takes the day in hours and the calendar month in days, from any date inside them', () => {
    const day = resolveRange({ period: 'day', date: '2025-05-06' }, NOW, TZ);
    expect(day).toMatchObject({ bucket: 'hour', from: atLocal('2025-05-06', 0, TZ), to: atLocal('2025-05-07', 0, TZ), previousDate: '2025-05-05', nextDate: '2025-05-07' });
    expect(day.buckets).toHaveLength(24);
    const feb = resolveRange({ period: 'month', date: '2024-02-17' }, NOW, TZ);
    expect(feb).toMatchObject({ firstDate: '2024-02-01', lastDate: '2024-02-29', previousDate: '2024-01-31', nextDate: '2024-03-01' });
    expect(feb.buckets).toHaveLength(29);
    expect(resolveRange({ period: 'month', date: '2025-12-31' }, NOW, TZ)).toMatchObject({ firstDate: '2025-12-01', nextDate: '2026-01-01' });
    // A Sunday belongs to the week that began the Monday before.
    expect(resolveRange({ period: 'week', date: '2025-05-11' }, NOW, TZ).firstDate).toBe('2025-05-05');
  });

  it('follows daylight saving: a 23-hour day, and local midnights as day buckets', () => {
    const berlin = 'Europe/Berlin';
    const spring = resolveRange({ period: 'day', date: '2025-03-30' }, NOW, berlin);
    expect(spring.to - spring.from).toBe(23 * HOUR);
    expect(spring.buckets).toHaveLength(23);
    const week = resolveRange({ period: 'week', date: '2025-03-30' }, NOW, berlin);
    expect(week.buckets.map((t, i) => (week.buckets[i + 1] ?? week.to) - t)).toEqual([DAY, DAY, DAY, DAY, DAY, DAY, 23 * HOUR]);
  });

  it('takes an explicit from/to: per hour up to two days, per local day beyond, starting where it starts', () => {
    const from = atLocal('2025-05-06', 9 * 60 + 30, TZ);
    const short = resolveRange({ from: String(from), to: new Date(from + 3 * HOUR).toISOString() }, NOW, TZ);
    expect(short).toMatchObject({ period: null, bucket: 'hour', previousDate: null, nextDate: null });
    expect(short.buckets).toEqual([from, from + 30 * MIN, from + 90 * MIN, from + 150 * MIN]);
    const long = resolveRange({ from: String(from), to: String(from + 3 * DAY) }, NOW, TZ);
    expect(long.bucket).toBe('day');
    expect(long.buckets).toEqual([from, atLocal('2025-05-07', 0, TZ), atLocal('2025-05-08', 0, TZ), atLocal('2025-05-09', 0, TZ)]);
    expect(long).toMatchObject({ firstDate: '2025-05-06', lastDate: '2025-05-09' });
    expect(bucketStarts(from, from + HOUR, 'day', TZ)).toEqual([from]);
  });

  it('refuses what does not make a range, with a specific code', () => {
    expect(rangeError(() => resolveRange({ from: String(NOW) }, NOW, TZ))).toBe('REPORT_RANGE_INVALID');
    expect(rangeError(() => resolveRange({ from: 'yesterday', to: String(NOW) }, NOW, TZ))).toBe('REPORT_RANGE_INVALID');
    expect(rangeError(() => resolveRange({ from: String(NOW), to: String(NOW) }, NOW, TZ))).toBe('REPORT_RANGE_INVALID');
    expect(rangeError(() => resolveRange({ from: String(NOW - DAY), to: String(NOW), date: '2025-05-06' }, NOW, TZ))).toBe('REPORT_RANGE_INVALID');
    expect(rangeError(() => resolveRange({ date: '2025-02-30' }, NOW, TZ))).toBe('REPORT_RANGE_INVALID');
    expect(rangeError(() => resolveRange({ date: '6 May' }, NOW, TZ))).toBe('REPORT_RANGE_INVALID');
    expect(rangeError(() => resolveRange({ from: String(NOW - 93 * DAY), to: String(NOW) }, NOW, TZ))).toBe('RANGE_TOO_LARGE');
    expect(resolveRange({ from: String(NOW - 92 * DAY), to: String(NOW) }, NOW, TZ).buckets.length).toBeGreaterThan(90);
  });
});

describe('durationStats', () => {
  it('means and medians of what was done; nothing when nothing was', () => {
    expect(durationStats([])).toEqual({ count: 0, meanMs: null, medianMs: null });
    expect(durationStats([30, 10, 20])).toEqual({ count: 3, meanMs: 20, medianMs: 20 });
    expect(durationStats([40, 10, 20, 100])).toEqual({ count: 4, meanMs: 42.5, medianMs: 30 });
  });
});

/** A ticket created at `createdAt` with its SLA due times; overrides say what happened to it. */
function ticket(priority: Priority, createdAt: number, over: Partial<ReportTicket> = {}): ReportTicket {
  return {
    kind: 'maintenance', priority, source: 'alarm', status: 'assigned', createdAt,
    acknowledgedAt: null, onSiteAt: null, resolvedAt: null, closedAt: null, ...dueTimes(priority, createdAt), ...over,
  };
}

describe('ticketReport', () => {
  const t0 = NOW - 10 * HOUR;
  const tickets: ReportTicket[] = [
    // P1 (5 min to acknowledge, 15 on site, 4 h to resolve): in time, in time, late.
    ticket(1, t0, { status: 'closed', acknowledgedAt: t0 + 3 * MIN, onSiteAt: t0 + 10 * MIN, resolvedAt: t0 + 5 * HOUR, closedAt: t0 + 6 * HOUR }),
    // P1 acknowledged late, never on site: both missed by now.
    ticket(1, t0 + HOUR, { acknowledgedAt: t0 + HOUR + 7 * MIN }),
    // P2 reception call still open, due later: pending everywhere.
    ticket(2, NOW - 5 * MIN, { kind: 'reception', source: 'phone', status: 'open' }),
    // P3 cancelled before anything fell due: judged on nothing.
    ticket(3, t0, { kind: 'patrol', source: 'patrol', status: 'cancelled', closedAt: t0 + 10 * MIN }),
    // P3 cancelled after its acknowledge due time without being accepted: a missed acknowledgement only.
    ticket(3, t0, { kind: 'patrol', source: 'manual', status: 'cancelled', closedAt: t0 + 2 * HOUR }),
    // P4 closed without a resolve step (a letter answered): the close counts as resolved.
    ticket(4, t0, { kind: 'reception', source: 'letter', status: 'closed', acknowledgedAt: t0 + HOUR, onSiteAt: t0 + 2 * HOUR, closedAt: t0 + 3 * HOUR }),
  ];
  const report = ticketReport(tickets, NOW);
  const row = (priority: Priority | null) => report.sla.find((r) => r.priority === priority)!;
  const times = (priority: Priority | null) => report.times.find((r) => r.priority === priority)!;

  it('counts by kind, priority, status and source, listing every value', () => {
    expect(report.total).toBe(6);
    expect(report.byKind).toEqual([{ key: 'patrol', count: 2 }, { key: 'maintenance', count: 2 }, { key: 'emergency', count: 0 }, { key: 'reception', count: 2 }]);
    expect(report.byPriority.map((c) => c.count)).toEqual([2, 1, 2, 1]);
    expect(report.byStatus).toEqual([
      { key: 'open', count: 1 }, { key: 'assigned', count: 1 }, { key: 'in-progress', count: 0 },
      { key: 'resolved', count: 0 }, { key: 'closed', count: 2 }, { key: 'cancelled', count: 2 },
    ]);
    expect(Object.fromEntries(report.bySource.map((c) => [c.key, c.count]))).toEqual({ alarm: 2, patrol: 1, phone: 1, 'walk-in': 0, letter: 1, manual: 1 });
  });

  it('judges each SLA stage: in time, late, missed (open or cancelled past due), pending', () => {
    expect(row(1)).toMatchObject({
      tickets: 2,
      acknowledge: { onTime: 1, late: 1, missed: 0, pending: 0, compliancePct: 50 },
      onSite: { onTime: 1, late: 0, missed: 1, pending: 0, compliancePct: 50 },
      resolve: { onTime: 0, late: 1, missed: 1, pending: 0, compliancePct: 0 },
    });
    expect(row(2)).toMatchObject({ acknowledge: { pending: 1, compliancePct: null }, resolve: { pending: 1, compliancePct: null } });
    expect(row(3)).toMatchObject({
      tickets: 2,
      acknowledge: { onTime: 0, late: 0, missed: 1, pending: 0, compliancePct: 0 },
      onSite: { onTime: 0, late: 0, missed: 0, pending: 0, compliancePct: null },
    });
    expect(row(4)).toMatchObject({ resolve: { onTime: 1, compliancePct: 100 } });
    expect(row(null)).toMatchObject({ tickets: 6, acknowledge: { onTime: 2, late: 1, missed: 1, pending: 1, compliancePct: 50 } });
  });

  it('times acknowledgement and repair from creation, over the tickets that got there (not the cancelled)', () => {
    expect(times(1)).toEqual({ priority: 1, acknowledge: { count: 2, meanMs: 5 * MIN, medianMs: 5 * MIN }, repair: { count: 1, meanMs: 5 * HOUR, medianMs: 5 * HOUR } });
    expect(times(null).acknowledge).toEqual({ count: 3, meanMs: (3 * MIN + 7 * MIN + HOUR) / 3, medianMs: 7 * MIN });
    expect(times(null).repair).toEqual({ count: 2, meanMs: 4 * HOUR, medianMs: 4 * HOUR });
    expect(times(2)).toMatchObject({ acknowledge: { count: 0, meanMs: null }, repair: { count: 0, medianMs: null } });
  });
});

/** Day shift 08:00–20:00 and night shift 20:00–08:00 every day: one operator at any time. */
const ROSTER: { shifts: Shift[]; operators: string[] } = {
  operators: ['day.op', 'night.op'],
  shifts: [
    { username: 'day.op', weekdays: [1, 2, 3, 4, 5, 6, 7], fromMinutes: 8 * 60, toMinutes: 20 * 60 },
    { username: 'night.op', weekdays: [1, 2, 3, 4, 5, 6, 7], fromMinutes: 20 * 60, toMinutes: 8 * 60 },
  ],
};

const rule = (ruleId: string, priority: Priority, activations: number, annunciated = activations): AlarmRuleCount => ({
  ruleId, priority, title: { en: ruleId, zh: ruleId }, activations, annunciated,
});

describe('operatorHours', () => {
  it('sums the operators on duty by the roster', () => {
    const day = atLocal('2025-05-06', 0, TZ);
    expect(operatorHours(ROSTER, day, day + DAY, TZ)).toBe(24);
    expect(operatorHours({ ...ROSTER, operators: ['day.op'] }, day, day + DAY, TZ)).toBe(12);
    expect(operatorHours({ ...ROSTER, operators: ['day.op'] }, day + 7 * HOUR + 30 * MIN, day + 9 * HOUR, TZ)).toBe(1);
    expect(operatorHours({ shifts: [], operators: [] }, day, day + DAY, TZ)).toBe(0);
  });
});

describe('alarmReport', () => {
  const day = atLocal('2025-05-06', 0, TZ);
  const tenMinutesOf = (t: number) => Math.floor(t / (10 * MIN));
  const aggregates: AlarmAggregates = {
    rules: [
      rule('hydrant.pressure-low', 2, 14, 12),
      rule('device.silent', 3, 20, 2),
      rule('elevator.entrapment', 1, 1),
      ...Array.from({ length: 11 }, (_, i) => rule(`rule-${String(i).padStart(2, '0')}`, 4, 1)),
    ],
    times: [
      { priority: 2, activations: 14, annunciated: 12, acknowledge: { count: 12, meanMs: 4 * MIN, medianMs: 3 * MIN }, returnToNormal: { count: 10, meanMs: HOUR, medianMs: 30 * MIN } },
      { priority: null, activations: 46, annunciated: 26, acknowledge: { count: 20, meanMs: 5 * MIN, medianMs: 4 * MIN }, returnToNormal: { count: 40, meanMs: HOUR, medianMs: 20 * MIN } },
    ],
    // 12 annunciated alarms in one 10-minute period (a flood), then 14 spread over the morning.
    per10Minutes: [
      { bucket: tenMinutesOf(day + 2 * HOUR), count: 12 },
      ...Array.from({ length: 7 }, (_, i) => ({ bucket: tenMinutesOf(day + (3 + i) * HOUR), count: 2 })),
    ],
    series: [],
  };
  // Half past nine: 9.5 hours of the day have passed.
  const report = alarmReport(aggregates, { from: day, to: day + DAY, now: day + 9.5 * HOUR, timezone: TZ }, ROSTER);

  it('counts activations and annunciations per priority and rule, busiest rule first', () => {
    expect(report).toMatchObject({ activations: 46, annunciated: 26, rules: 14 });
    expect(report.byPriority).toEqual([
      { priority: 1, activations: 1, annunciated: 1 }, { priority: 2, activations: 14, annunciated: 12 },
      { priority: 3, activations: 20, annunciated: 2 }, { priority: 4, activations: 11, annunciated: 11 },
    ]);
    expect(report.byRule.slice(0, 4).map((r) => r.ruleId)).toEqual(['device.silent', 'hydrant.pressure-low', 'elevator.entrapment', 'rule-00']);
    // The ten busiest: 20 + 14 + 1 + seven of the ones.
    expect(report.top10Pct).toBeCloseTo((42 / 46) * 100, 9);
  });

  it('keeps the rule list to its limit', () => {
    const many = alarmReport({ ...aggregates, rules: Array.from({ length: RULE_LIST_LIMIT + 5 }, (_, i) => rule(`r${i}`, 3, 1)) }, { from: day, to: day + DAY, now: day + DAY, timezone: TZ }, ROSTER);
    expect(many.byRule).toHaveLength(RULE_LIST_LIMIT);
    expect(many.rules).toBe(RULE_LIST_LIMIT + 5);
  });

  it('rates the load over the hours passed, per operator-hour against the ISA-18.2 targets', () => {
    expect(report.load).toMatchObject({ annunciated: 26, hours: 9.5, operatorHours: 9.5, rating: 'acceptable', targets: ISA_18_2_TARGETS });
    expect(report.load.perOperatorHour).toBeCloseTo(26 / 9.5, 9);
    expect(report.load.perHour).toEqual({ average: 26 / 9.5, peak: 12 });
    expect(report.load.per10Minutes).toEqual({ average: 26 / 57, peak: 12 });
    expect(report.load.floodedPct).toBeCloseTo(100 / 57, 9);
    // With nobody on the roster there is no operator-hour to divide by.
    expect(alarmReport(aggregates, { from: day, to: day + DAY, now: day + DAY, timezone: TZ }, { shifts: [], operators: [] }).load).toMatchObject({ perOperatorHour: null, rating: null });
    // 26 in one hour is beyond manageable; in three hours, manageable.
    const within = (hours: number) => alarmReport(aggregates, { from: day, to: day + DAY, now: day + hours * HOUR, timezone: TZ }, ROSTER).load.rating;
    expect([within(1), within(3)]).toEqual(['overloaded', 'manageable']);
  });

  it('passes on the times per priority, with empty rows where nothing happened', () => {
    expect(report.times.map((t) => t.priority)).toEqual([1, 2, 3, 4, null]);
    expect(report.times[1]!.acknowledge.medianMs).toBe(3 * MIN);
    expect(report.times[0]).toEqual({ priority: 1, activations: 0, annunciated: 0, acknowledge: { count: 0, meanMs: null, medianMs: null }, returnToNormal: { count: 0, meanMs: null, medianMs: null } });
  });

  it('has no rate before the period begins', () => {
    const future = alarmReport({ rules: [], times: [], per10Minutes: [], series: [] }, { from: day, to: day + DAY, now: day - HOUR, timezone: TZ }, ROSTER);
    expect(future.load).toMatchObject({ hours: 0, operatorHours: 0, perOperatorHour: null, floodedPct: null, perHour: { average: 0, peak: 0 } });
    expect(future.top10Pct).toBeNull();
  });
});

describe('buildReport', () => {
  it('puts tickets and alarms into the period\'s buckets', () => {
    const range = resolveRange({ period: 'day', date: '2025-05-06' }, NOW, TZ);
    const report = buildReport({
      range, timezone: TZ, plotId: 'A', now: NOW,
      tickets: [ticket(3, range.from), ticket(3, range.from + 59 * MIN), ticket(2, range.from + 9 * HOUR + 1), ticket(3, range.to - 1)],
      alarms: { rules: [], times: [], per10Minutes: [], series: [{ index: 9, activations: 5, annunciated: 3 }] },
      roster: ROSTER,
    });
    expect(report).toMatchObject({ from: range.from, to: range.to, period: 'day', bucket: 'hour', plotId: 'A', generatedAt: NOW, timezone: TZ, firstDate: '2025-05-06' });
    expect(report.series).toHaveLength(24);
    expect(report.series[0]).toEqual({ start: range.from, tickets: 2, activations: 0, annunciated: 0 });
    expect(report.series[9]).toEqual({ start: range.from + 9 * HOUR, tickets: 1, activations: 5, annunciated: 3 });
    expect(report.series[23]!.tickets).toBe(1);
    expect(report.tickets.total).toBe(4);
  });
});

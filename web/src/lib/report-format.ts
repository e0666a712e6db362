/**
 * How the reports view shows a report: durations in words, bar widths, and
 * the CSV of everything shown. Only the view imports it, so it travels in the
 * view's own chunk.
 */
import type { ReportView } from '../../../server/src/routes/api-types.ts';
import type { I18n } from './i18n.svelte.ts';

/** The rule table shows this many until asked for all. */
export const TOP_RULES = 10;

/** Whether a report has nothing to show at all. */
export const isEmptyReport = (report: ReportView): boolean => report.tickets.total === 0 && report.alarms.activations === 0;

/** "3 min", "2 h 5 min", "1 d 4 h" in the user's language; '—' when unknown. */
export function formatDuration(ms: number | null, i18n: I18n): string {
  if (ms === null) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return i18n.t('reports.dur.s', { n: s });
  const m = Math.round(s / 60);
  if (m < 60) return i18n.t('reports.dur.m', { n: m });
  if (m < 24 * 60) return i18n.t('reports.dur.hm', { h: Math.floor(m / 60), m: m % 60 });
  const h = Math.round(m / 60);
  return i18n.t('reports.dur.dh', { d: Math.floor(h / 24), h: h % 24 });
}

/** The width of a bar, in percent of the largest value shown with it. */
export const barPct = (value: number, max: number): number => (max <= 0 ? 0 : Math.min(100, (value / max) * 100));

const num = (value: number | null, digits = 1): string => (value === null ? '' : String(Math.round(value * 10 ** digits) / 10 ** digits));
const minutes = (ms: number | null): string => num(ms === null ? null : ms / 60_000);
/** A CSV field: quoted when needed, and a leading formula character neutralised (spreadsheets would run it). */
function field(value: string | number | null): string {
  let text = value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
const line = (...values: (string | number | null)[]) => values.map(field).join(',');
const priorityName = (p: number | null) => (p === null ? 'all' : `P${p}`);

/**
 * Everything the view shows, as CSV: one block per table (its own header
 * line, blocks separated by an empty line), times in minutes, instants in
 * ISO-8601 UTC. Column names are English ASCII so that any spreadsheet opens it.
 */
export function reportCsv(report: ReportView): string {
  const blocks: string[][] = [];
  blocks.push([
    line('report_from', 'report_to', 'period', 'first_date', 'last_date', 'timezone', 'plot', 'generated_at'),
    line(new Date(report.from).toISOString(), new Date(report.to).toISOString(), report.period ?? 'custom', report.firstDate, report.lastDate,
      report.timezone, report.plotId ?? 'all', new Date(report.generatedAt).toISOString()),
  ]);
  blocks.push([line(`${report.bucket}_start`, 'tickets_created', 'alarm_activations', 'alarms_annunciated'),
    ...report.series.map((p) => line(new Date(p.start).toISOString(), p.tickets, p.activations, p.annunciated))]);
  const t = report.tickets;
  for (const [name, counts] of [['kind', t.byKind], ['priority', t.byPriority], ['status', t.byStatus], ['source', t.bySource]] as const) {
    blocks.push([line(`tickets_by_${name}`, 'count'), ...counts.map((c) => line(typeof c.key === 'number' ? priorityName(c.key) : c.key, c.count))]);
  }
  const stages = ['acknowledge', 'on_site', 'resolve'];
  blocks.push([
    line('sla_priority', 'tickets', ...stages.flatMap((s) => [`${s}_on_time`, `${s}_late`, `${s}_missed`, `${s}_pending`, `${s}_compliance_pct`])),
    ...t.sla.map((r) => line(priorityName(r.priority), r.tickets, ...[r.acknowledge, r.onSite, r.resolve].flatMap((s) => [s.onTime, s.late, s.missed, s.pending, num(s.compliancePct)]))),
  ]);
  blocks.push([
    line('ticket_times_priority', 'acknowledged', 'acknowledge_mean_min', 'acknowledge_median_min', 'repaired', 'repair_mean_min', 'repair_median_min'),
    ...t.times.map((r) => line(priorityName(r.priority), r.acknowledge.count, minutes(r.acknowledge.meanMs), minutes(r.acknowledge.medianMs),
      r.repair.count, minutes(r.repair.meanMs), minutes(r.repair.medianMs))),
  ]);
  const a = report.alarms;
  blocks.push([line('alarms_priority', 'activations', 'annunciated'), ...a.byPriority.map((p) => line(priorityName(p.priority), p.activations, p.annunciated))]);
  blocks.push([line('alarm_rule', 'title', 'priority', 'activations', 'annunciated'),
    ...a.byRule.map((r) => line(r.ruleId, r.title.en, priorityName(r.priority), r.activations, r.annunciated))]);
  blocks.push([
    line('alarm_times_priority', 'activations', 'annunciated', 'acknowledged', 'acknowledge_mean_min', 'acknowledge_median_min', 'returned', 'return_mean_min', 'return_median_min'),
    ...a.times.map((r) => line(priorityName(r.priority), r.activations, r.annunciated, r.acknowledge.count, minutes(r.acknowledge.meanMs), minutes(r.acknowledge.medianMs),
      r.returnToNormal.count, minutes(r.returnToNormal.meanMs), minutes(r.returnToNormal.medianMs))),
  ]);
  const l = a.load;
  blocks.push([
    line('alarm_load_annunciated', 'hours', 'operator_hours', 'per_operator_hour', 'rating', 'target_acceptable', 'target_manageable',
      'peak_per_hour', 'peak_per_10_min', 'target_peak_per_10_min', 'flooded_10_min_pct', 'target_flooded_pct'),
    line(l.annunciated, num(l.hours), num(l.operatorHours), num(l.perOperatorHour, 2), l.rating ?? '', l.targets.perOperatorHourAcceptable, l.targets.perOperatorHourManageable,
      l.perHour.peak, l.per10Minutes.peak, l.targets.peakPer10Minutes, num(l.floodedPct, 2), l.targets.floodedPct),
  ]);
  return `${blocks.map((b) => b.join('\r\n')).join('\r\n\r\n')}\r\n`;
}

/** A file name that says what is in it: estatewatch-report-week-2025-05-05-plot-A.csv. */
export function reportFileName(report: ReportView): string {
  return `estatewatch-report-${report.period ?? 'custom'}-${report.firstDate}${report.plotId === null ? '' : `-plot-${report.plotId}`}.csv`;
}

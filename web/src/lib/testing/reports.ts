/** A managers' report for the web's tests, made by the server's own domain code so that its shape and figures are real. */
import { buildReport, resolveRange, type ReportTicket } from '../../../../server/src/domain/reports.ts';
import { atLocal } from '../../../../server/src/domain/tickets/local-time.ts';
import { dueTimes } from '../../../../server/src/domain/tickets/sla.ts';
import type { ReportView } from '../../../../server/src/routes/api-types.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const TZ = 'Asia/Shanghai';
/** Tuesday 2025-05-06 16:00 in Blue Valley. */
export const REPORT_NOW = atLocal('2025-05-06', 16 * 60, TZ);

/** A week's report as the server makes it: two tickets, two rules' alarms (one title a spreadsheet would run). */
export function sampleReport(over: Partial<ReportView> = {}): ReportView {
  const range = resolveRange({ period: 'week', date: '2025-05-06' }, REPORT_NOW, TZ);
  const created = atLocal('2025-05-06', 10 * 60, TZ);
  const tickets: ReportTicket[] = [
    { kind: 'maintenance', priority: 1, source: 'alarm', status: 'closed', createdAt: created, acknowledgedAt: created + 3 * MIN, onSiteAt: created + 10 * MIN, resolvedAt: created + 5 * HOUR, closedAt: created + 6 * HOUR, ...dueTimes(1, created) },
    { kind: 'reception', priority: 3, source: 'phone', status: 'open', createdAt: created + HOUR, acknowledgedAt: null, onSiteAt: null, resolvedAt: null, closedAt: null, ...dueTimes(3, created + HOUR) },
  ];
  const report = buildReport({
    range, timezone: TZ, plotId: null, now: REPORT_NOW, tickets,
    alarms: {
      rules: [
        { ruleId: 'hydrant.pressure-low', priority: 2, title: { en: 'Hydrant pressure low', zh: '消火栓压力低' }, activations: 3, annunciated: 3 },
        { ruleId: 'odd.rule', priority: 4, title: { en: '=HYPERLINK("x")', zh: '奇怪' }, activations: 1, annunciated: 0 },
      ],
      times: [{ priority: null, activations: 4, annunciated: 3, acknowledge: { count: 2, meanMs: 12 * MIN, medianMs: 12 * MIN }, returnToNormal: { count: 3, meanMs: 90 * MIN, medianMs: 30 * MIN } }],
      per10Minutes: [{ bucket: Math.floor(created / (10 * MIN)), count: 3 }],
      series: [{ index: 1, activations: 4, annunciated: 3 }],
    },
    roster: { shifts: [{ username: 'op', weekdays: [1, 2, 3, 4, 5, 6, 7], fromMinutes: 0, toMinutes: 0 }], operators: ['op'] },
  });
  return { ...report, ...over };
}


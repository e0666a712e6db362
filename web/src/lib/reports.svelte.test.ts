// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import type { FetchFn } from './api.ts';
import { I18n } from './i18n.svelte.ts';
import { barPct, formatDuration, isEmptyReport, reportCsv, reportFileName } from './report-format.ts';
import { ReportsStore } from './reports.svelte.ts';
import { sampleReport } from './testing/reports.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('ReportsStore', () => {
  it('asks for the period, the date and the plot, and holds the answer', async () => {
    const requests: string[] = [];
    const store = new ReportsStore(async (path) => { requests.push(path); return json(sampleReport()); });
    await store.fetch();
    expect(requests).toEqual(['/api/reports?period=week']);
    expect(store.load.kind).toBe('ready');
    expect(store.last?.firstDate).toBe('2025-05-05');

    store.period = 'month';
    store.date = '2025-04-15';
    store.plot = 'B';
    await store.fetch();
    expect(requests[1]).toBe('/api/reports?period=month&date=2025-04-15&plot=B');
  });

  it('steps to the periods before and after, as the server named them', async () => {
    const store = new ReportsStore(async () => json(sampleReport()));
    store.step('previous');
    expect(store.date).toBeNull();
    await store.fetch();
    store.step('previous');
    expect(store.date).toBe('2025-05-04');
    store.step('next');
    expect(store.date).toBe('2025-05-12');
  });

  it('reports the server\'s error code, and keeps only the newest answer', async () => {
    const failing = new ReportsStore(async () => json({ statusCode: 400, code: 'RANGE_TOO_LARGE', message: 'at most 92 days' }, 400));
    await failing.fetch();
    expect(failing.load).toEqual({ kind: 'error', code: 'RANGE_TOO_LARGE', message: 'at most 92 days' });

    const answers: ((r: Response) => void)[] = [];
    const slow: FetchFn = () => new Promise((resolve) => answers.push(resolve));
    const store = new ReportsStore(slow);
    const first = store.fetch();
    const second = store.fetch();
    answers[1]!(json(sampleReport({ plotId: 'B' })));
    await second;
    answers[0]!(json(sampleReport({ plotId: 'A' })));
    await first;
    expect(store.last?.plotId).toBe('B');
  });
});

describe('formatDuration', () => {
  it('says it in the user\'s language, at a useful precision', () => {
    const i18n = new I18n();
    expect(formatDuration(null, i18n)).toBe('—');
    expect(formatDuration(42_000, i18n)).toBe('42 秒');
    expect(formatDuration(12 * MIN, i18n)).toBe('12 分钟');
    i18n.setLang('en');
    expect(formatDuration(2 * HOUR + 5 * MIN, i18n)).toBe('2 h 5 min');
    expect(formatDuration(28 * HOUR + 20 * MIN, i18n)).toBe('1 d 4 h');
  });
});

describe('reportCsv', () => {
  const csv = reportCsv(sampleReport());
  const blocks = csv.trimEnd().split('\r\n\r\n').map((b) => b.split('\r\n'));
  const block = (header: string) => blocks.find((b) => b[0]!.startsWith(header))!;

  it('has one block per table shown, each with its header', () => {
    expect(blocks.map((b) => b[0]!.split(',')[0])).toEqual([
      'report_from', 'day_start', 'tickets_by_kind', 'tickets_by_priority', 'tickets_by_status', 'tickets_by_source',
      'sla_priority', 'ticket_times_priority', 'alarms_priority', 'alarm_rule', 'alarm_times_priority', 'alarm_load_annunciated',
    ]);
    expect(blocks[0]![1]).toBe('2025-05-04T16:00:00.000Z,2025-05-11T16:00:00.000Z,week,2025-05-05,2025-05-11,Asia/Shanghai,all,2025-05-06T08:00:00.000Z');
    expect(block('day_start').slice(1, 3)).toEqual(['2025-05-04T16:00:00.000Z,0,0,0', '2025-05-05T16:00:00.000Z,2,4,3']);
    expect(block('tickets_by_kind')).toContain('reception,1');
    expect(block('tickets_by_priority')).toContain('P1,1');
  });

  it('gives the SLA and the times in plain numbers (minutes)', () => {
    // P1: acknowledged and on site in time, resolved late.
    expect(block('sla_priority')[1]).toBe('P1,1,1,0,0,0,100,1,0,0,0,100,0,1,0,0,0');
    expect(block('ticket_times_priority')[1]).toBe('P1,1,3,3,1,300,300');
    expect(block('alarm_times_priority').at(-1)).toBe('all,4,3,2,12,12,3,90,30');
  });

  it('neutralises a title a spreadsheet would run, and quotes what needs it', () => {
    expect(block('alarm_rule')).toContain(`odd.rule,"'=HYPERLINK(""x"")",P4,1,0`);
  });

  it('names the file after period, first day and plot', () => {
    expect(reportFileName(sampleReport())).toBe('estatewatch-report-week-2025-05-05.csv');
    expect(reportFileName(sampleReport({ plotId: 'C', period: null }))).toBe('estatewatch-report-custom-2025-05-05-plot-C.csv');
  });
});

describe('helpers', () => {
  it('sizes bars against the largest value, and tells an empty report', () => {
    expect([barPct(5, 10), barPct(0, 0), barPct(12, 10)]).toEqual([50, 0, 100]);
    expect(isEmptyReport(sampleReport())).toBe(false);
    const empty = sampleReport();
    expect(isEmptyReport({ ...empty, tickets: { ...empty.tickets, total: 0 }, alarms: { ...empty.alarms, activations: 0 } })).toBe(true);
  });
});

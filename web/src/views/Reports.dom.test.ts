import { flushSync, mount, tick, unmount } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReportView } from '../../../server/src/routes/api-types.ts';
import { I18n } from '../lib/i18n.svelte.ts';
import { ReportsStore } from '../lib/reports.svelte.ts';
import { buildSiteModel } from '../lib/site-model.ts';
import { DEVICES, SITE } from '../lib/testing/fixtures.ts';
import { sampleReport } from '../lib/testing/reports.ts';
import Reports from './Reports.svelte';

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** A server answering each report request from `answer`; every path asked is recorded. */
function server(answer: (path: string) => Response | Promise<Response>) {
  const paths: string[] = [];
  return { paths, fetchFn: async (path: string) => { paths.push(path); return answer(path); } };
}

let mounted: ReturnType<typeof mount> | undefined;
afterEach(() => {
  if (mounted) unmount(mounted);
  mounted = undefined;
  document.body.innerHTML = '';
});

async function render(store: ReportsStore, lang: 'zh' | 'en' = 'en'): Promise<HTMLElement> {
  const target = document.body.appendChild(document.createElement('div'));
  const i18n = new I18n();
  i18n.setLang(lang);
  mounted = mount(Reports, { target, props: { model: buildSiteModel(SITE, DEVICES), store, i18n } });
  flushSync();
  await settle();
  return target;
}

/** Lets the fetch started by an effect resolve and the view update. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  await tick();
  flushSync();
}

const tile = (root: HTMLElement, label: string) => [...root.querySelectorAll<HTMLElement>('.tiles > div')].find((d) => d.querySelector('dt')!.textContent === label)!;

describe('Reports view', () => {
  it('shows the week: tiles, the SLA table and the rules, for the whole estate', async () => {
    const { paths, fetchFn } = server(() => json(sampleReport()));
    const root = await render(new ReportsStore(fetchFn));
    expect(paths).toEqual(['/api/reports?period=week']);
    expect(root.querySelector('.head h3')!.textContent).toBe('Week · Mon, May 5, 2025 – Sun, May 11, 2025 · Whole estate');
    expect(tile(root, 'Tickets created').querySelector('dd')!.textContent).toBe('2');
    expect(tile(root, 'Tickets created').querySelector('.sub')!.textContent).toBe('1 not finished');
    expect(tile(root, 'Ticket MTTA').querySelector('dd')!.textContent).toBe('3 min');
    expect(tile(root, 'Alarm MTTR').querySelector('.sub')!.textContent).toBe('median 30 min');
    expect(tile(root, 'Alarms per operator-hour').querySelector('dd')!.textContent).toContain('acceptable');

    const p1 = [...root.querySelectorAll<HTMLTableRowElement>('table.sla tbody tr')][0]!;
    expect([...p1.querySelectorAll('td.stage strong')].map((s) => s.textContent)).toEqual(['100 %', '100 %', '0 %']);
    expect(p1.querySelectorAll('td.stage')[2]!.querySelector('.sr-only')!.textContent).toBe('on time 0, late 1, missed 0, not due yet 0');

    const rules = [...root.querySelectorAll<HTMLTableRowElement>('table.rules tbody tr')];
    expect(rules.map((r) => r.querySelector('code')!.textContent)).toEqual(['hydrant.pressure-low', 'odd.rule']);
    // Server text is shown as text.
    expect(rules[1]!.querySelector('th span')!.textContent).toBe('=HYPERLINK("x")');
    expect(root.querySelectorAll('.charts figure')).toHaveLength(2);
    expect(root.querySelector('.charts .plot')!.getAttribute('aria-label')).toBe('Tickets created: 2 in all, at most 2 per day');
  });

  it('asks again for another period, plot or date, and steps back a week', async () => {
    const { paths, fetchFn } = server(() => json(sampleReport()));
    const root = await render(new ReportsStore(fetchFn));
    const day = root.querySelector<HTMLInputElement>('input[name="report-period"][value="day"]')!;
    day.click();
    await settle();
    expect(paths.at(-1)).toBe('/api/reports?period=day');

    const plot = root.querySelector<HTMLSelectElement>('select')!;
    plot.value = 'A';
    plot.dispatchEvent(new Event('change', { bubbles: true }));
    await settle();
    expect(paths.at(-1)).toBe('/api/reports?period=day&plot=A');

    const previous = [...root.querySelectorAll<HTMLButtonElement>('.stepper button')][0]!;
    expect(previous.textContent).toContain('Previous day');
    previous.click();
    await settle();
    expect(paths.at(-1)).toBe('/api/reports?period=day&date=2025-05-04&plot=A');

    const date = root.querySelector<HTMLInputElement>('input[type="date"]')!;
    expect(date.value).toBe('2025-05-04');
    date.value = '2025-03-01';
    date.dispatchEvent(new Event('change', { bubbles: true }));
    await settle();
    expect(paths.at(-1)).toBe('/api/reports?period=day&date=2025-03-01&plot=A');
  });

  it('says when a period had nothing, in Chinese by default', async () => {
    const report = sampleReport();
    const empty: ReportView = { ...report, tickets: { ...report.tickets, total: 0 }, alarms: { ...report.alarms, activations: 0, byRule: [] } };
    const root = await render(new ReportsStore(server(() => json(empty)).fetchFn), 'zh');
    expect(root.textContent).toContain('本周期没有工单，也没有报警。');
    expect(root.querySelector('table.sla')).toBeNull();
  });

  it('shows the error with its code and tries again on request', async () => {
    let fail = true;
    const { paths, fetchFn } = server(() => (fail ? json({ statusCode: 400, code: 'RANGE_TOO_LARGE', message: 'too long' }, 400) : json(sampleReport())));
    const root = await render(new ReportsStore(fetchFn));
    const alert = root.querySelector<HTMLElement>('[role=alert]')!;
    expect(alert.textContent).toContain('Could not load the report: too long');
    expect(alert.querySelector('code')!.textContent).toBe('RANGE_TOO_LARGE');
    expect(root.querySelector<HTMLButtonElement>('button.export')!.disabled).toBe(true);
    fail = false;
    alert.querySelector('button')!.click();
    await settle();
    expect(paths).toHaveLength(2);
    expect(root.querySelector('[role=alert]')).toBeNull();
    expect(root.querySelector<HTMLButtonElement>('button.export')!.disabled).toBe(false);
  });

  it('shows the top ten rules, and all of them on request', async () => {
    const report = sampleReport();
    const many = Array.from({ length: 14 }, (_, i) => ({ ...report.alarms.byRule[0]!, ruleId: `rule.${String(i).padStart(2, '0')}`, activations: 20 - i }));
    const root = await render(new ReportsStore(server(() => json({ ...report, alarms: { ...report.alarms, byRule: many, rules: 14 } })).fetchFn));
    expect(root.querySelectorAll('table.rules tbody tr')).toHaveLength(10);
    const more = root.querySelector<HTMLButtonElement>('button.more')!;
    expect(more.textContent!.trim()).toBe('Show all 14');
    expect(more.getAttribute('aria-expanded')).toBe('false');
    more.click();
    flushSync();
    expect(root.querySelectorAll('table.rules tbody tr')).toHaveLength(14);
    expect(more.getAttribute('aria-expanded')).toBe('true');
  });
});

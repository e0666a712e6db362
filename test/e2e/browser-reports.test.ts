/**
 * The managers' reports in a real browser (Debian's Chromium through
 * playwright-core; skipped when it is missing): a manager logs in, opens
 * Reports from the nav, sees what GET /api/reports says for this week, picks
 * the month with the keyboard and one plot from the list, and exports the CSV
 * of what is shown — with no CSP violation (the bars are sized through CSSOM).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCondition, newAlarm, type Alarm } from '../../server/src/domain/alarms/alarm-state.ts';
import { atLocal } from '../../server/src/domain/tickets/local-time.ts';
import type { ReportView, TicketView } from '../../server/src/routes/api-types.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

const CHROMIUM = process.env.TEST_CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'reports browser passphrase';
const MIN = 60_000;
const ZONE = 'Asia/Shanghai';

/**
 * The seeded alarms lie in the half hour before the server's now, so now must be
 * at least an hour into this week and this month (Blue Valley time) for "this
 * week" and "this month" to hold them whatever moment the suite runs at. The
 * server's clock runs real time but not before that; the browser keeps real
 * time, which is in the same week and month.
 */
function serverClock(): { now: () => number } {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(Date.now());
  const weekday = (new Date(`${today}T00:00:00Z`).getUTCDay() + 6) % 7; // Monday 0
  const monday = new Date(Date.parse(`${today}T00:00:00Z`) - weekday * 86_400_000).toISOString().slice(0, 10);
  const earliest = Math.max(atLocal(monday, 0, ZONE), atLocal(`${today.slice(0, 8)}01`, 0, ZONE)) + 60 * MIN;
  return { now: () => Math.max(Date.now(), earliest) };
}

describe.skipIf(!existsSync(CHROMIUM))('managers\' reports in the browser (Chromium)', () => {
  let server: TestServer;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;
  const problems: string[] = [];

  const api = async (query: string) => (await server.request({ url: `/api/reports?${query}`, as: 'manager' })).json() as ReportView;

  beforeAll(async () => {
    execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../web/build-if-stale.ts', import.meta.url))], { stdio: 'ignore' });
    server = await startTestServer({}, { clock: serverClock() });
    await server.request({ method: 'POST', url: '/api/users', body: { username: 'report-reader', displayName: 'Report reader', role: 'manager', password: PASSWORD } });

    // Tickets in plots A and C, one taken through to resolved.
    const made: TicketView[] = [];
    for (const body of [
      { kind: 'maintenance', device: 'BP-A-1', title: 'Pump A-1 noisy', priority: 2 },
      { kind: 'maintenance', device: 'BP-C-1', title: 'Pump C-1 leaking', priority: 3 },
      { kind: 'patrol', plot: 'A', title: 'Gate left open', priority: 4 },
    ]) made.push((await server.request({ method: 'POST', url: '/api/tickets', body, as: 'operator' })).json() as TicketView);
    const first = made[0]!;
    for (const [i, action] of ['accept', 'start', 'resolve'].entries()) {
      await server.request({ method: 'POST', url: `/api/tickets/${first.id}/${action}`, body: { version: first.version + i, note: 'Bearing replaced' }, as: 'operator' });
    }
    // Alarm history of the last half hour, as the engine writes it.
    const now = server.app.clock.now();
    for (const [deviceId, minutesAgo] of [['HY-A-01', 30], ['HY-A-02', 20], ['HY-C-01', 10]] as const) {
      const device = server.app.site.device(deviceId)!;
      let alarm: Alarm = newAlarm({ deviceId, ruleId: 'hydrant.pressure-low', kind: device.kind, plotId: device.plotId, buildingId: device.buildingId, priority: 2, ticket: 'patrol', title: { en: 'Hydrant pressure low', zh: '消火栓压力低' } });
      const raised = applyCondition(alarm, 'active', now - minutesAgo * MIN);
      alarm = raised.alarm;
      const cleared = applyCondition(alarm, 'clear', now - (minutesAgo - 5) * MIN);
      await server.app.alarms.repository.write([...raised.effects, ...cleared.effects].map((effect) => ({ effect, at: effect.at })));
    }

    profileDir = await mkdtemp(path.join(os.tmpdir(), 'ew-chromium-reports-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1920, height: 1080 },
      acceptDownloads: true,
    });
    page = context.pages()[0] ?? await context.newPage();
    page.on('console', (message) => { if (/Content.Security.Policy/i.test(message.text())) problems.push(message.text()); });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => console.error('Content-Security-Policy violation: ' + e.violatedDirective))`);
    await page.goto(server.baseUrl);
    await page.locator('button.lang').click(); // English, for readable assertions
    await page.locator('input[name=username]').fill('report-reader');
    await page.locator('input[name=password]').fill(PASSWORD);
    await page.locator('button[type=submit]').click();
    await page.locator('[data-testid=user-name]').waitFor({ timeout: 20_000 });
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    if (profileDir) await rm(profileDir, { recursive: true, force: true });
    await server?.close();
  });

  const tileValue = (label: string) => page.locator('.tiles > div', { has: page.locator('dt', { hasText: label }) }).locator('dd').first().textContent();
  const settled = () => page.locator('.reports .body:not(.busy)').waitFor({ timeout: 15_000 });

  it('opens Reports from the nav and shows this week as the API reports it', async () => {
    await page.getByRole('link', { name: 'Reports' }).click();
    await settled();
    const week = await api('period=week');
    expect(week.tickets.total).toBe(3);
    await expect(page.locator('.head h3').textContent()).resolves.toMatch(/^Week · .* · Whole estate$/);
    await expect(tileValue('Tickets created')).resolves.toBe(String(week.tickets.total));
    await expect(tileValue('Alarm activations')).resolves.toBe(String(week.alarms.activations));
    await expect(tileValue('Alarm MTTR')).resolves.toBe('5 min');
    await expect(page.locator('table.rules tbody tr').first().locator('code').textContent()).resolves.toBe('hydrant.pressure-low');
    const all = page.locator('table.sla tbody tr.total td.stage strong');
    await expect(all.allTextContents()).resolves.toHaveLength(3);
    expect(problems).toEqual([]);
  });

  it('takes the month with the arrow keys and one plot from the list', async () => {
    await page.locator('input[name="report-period"][value="week"]').focus();
    await page.keyboard.press('ArrowRight');
    await settled();
    await expect(page.locator('.head h3').textContent()).resolves.toMatch(/^Month · /);
    await page.locator('.controls select').selectOption('C');
    await settled();
    await expect(page.locator('.head h3').textContent()).resolves.toMatch(/ · Plot C$/);
    const plotC = await api('period=month&plot=C');
    await expect(tileValue('Tickets created')).resolves.toBe(String(plotC.tickets.total));
    expect(plotC.tickets.total).toBe(1);
    await expect(tileValue('Alarm activations')).resolves.toBe('1');
  });

  it('exports what is shown as CSV', async () => {
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^estatewatch-report-month-\d{4}-\d{2}-01-plot-C\.csv$/);
    const text = await readFile((await file.path())!, 'utf8');
    const block = (header: string) => text.split('\r\n\r\n').find((b) => b.startsWith(header))!.split('\r\n');
    expect(block('tickets_by_kind')).toContain('maintenance,1');
    expect(block('alarm_rule')[1]).toBe('hydrant.pressure-low,Hydrant pressure low,P2,1,1');
    expect(problems).toEqual([]);
  });
});

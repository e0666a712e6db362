/**
 * The reception desk's main flow in a real browser (Debian's Chromium through
 * playwright-core; skipped when it is missing): a phone call and a letter are
 * taken through the intake form, the room looked up by building and unit (a
 * unit the building does not have is refused before sending); the phone
 * call's callback is listed and done; the letter's 10-minute hand-over
 * deadline is visible and counting down.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallbackView, TicketView } from '../../server/src/routes/api-types.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

const CHROMIUM = process.env.TEST_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PASSWORD = 'reception desk browser passphrase';
const WAIT = { timeout: 20_000 };

describe.skipIf(!existsSync(CHROMIUM))('reception desk in the browser (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../web/build-if-stale.ts', import.meta.url))], { stdio: 'ignore' });
    server = await startTestServer();
    const created = await server.request({ method: 'POST', url: '/api/users', body: { username: 'front-desk', displayName: 'Front desk', role: 'reception', password: PASSWORD } });
    expect(created.statusCode, created.body).toBe(201);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await page.goto(server.baseUrl);
    await page.locator('button.lang').click();
    await page.locator('input[name=username]').fill('front-desk');
    await page.locator('input[name=password]').fill(PASSWORD);
    await page.locator('button[type=submit]').click();
    await page.locator('.conn.connected').waitFor(WAIT);
    await page.getByRole('link', { name: 'Reception' }).click();
    await page.locator('#intake-title').waitFor(WAIT);
    await page.getByText('No callbacks due.').waitFor(WAIT);
    await page.getByText('No letters waiting.').waitFor(WAIT);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const form = () => page.locator('form.intake');
  let lastId = 0;
  /** Submits the form and waits for the next ticket's number. */
  const submit = async (): Promise<number> => {
    await form().locator('button.submit').click();
    const status = form().locator('p[role=status]');
    await expect.poll(async () => Number(/Ticket #(\d+) created/.exec((await status.textContent()) ?? '')?.[1] ?? 0), WAIT).toBeGreaterThan(lastId);
    lastId = Number(/#(\d+)/.exec((await status.textContent())!)![1]);
    return lastId;
  };

  it('takes a phone call: the room is looked up by building and unit, and the callback is listed', async () => {
    await form().getByLabel('Phone', { exact: true }).check();
    await form().getByLabel('Building').fill('a-03');
    await expect.poll(() => form().locator('.field-ok').textContent(), WAIT).toBe('✓ A-03 · Plot A');
    // A-03 has 11 floors: there is no 19th.
    await form().getByLabel('Unit').fill('1902');
    await expect.poll(() => form().locator('.field-error').textContent(), WAIT).toBe('✕ Building a-03 has no unit "1902"');
    expect(await form().getByLabel('Unit').getAttribute('aria-invalid')).toBe('true');
    await form().getByLabel('Unit').fill('0502');
    await expect.poll(() => form().locator('.field-ok').textContent(), WAIT).toBe('✓ A-03-0502 · Plot A');

    // Nothing is sent without a title.
    await form().locator('button.submit').click();
    await expect.poll(() => form().locator('p[role=alert]').last().textContent(), WAIT).toContain('Please give a title.');
    await form().getByLabel('Title').fill('No hot water since this morning');
    await form().getByLabel('Callback phone').fill('138 0000 1111');
    const id = await submit();

    const callback = page.locator('li.callback', { hasText: `#${id} No hot water since this morning` });
    await callback.waitFor(WAIT);
    expect(await callback.locator('a[href^="tel:"]').textContent()).toBe('138 0000 1111');
    const ticket = (await server.request({ url: `/api/tickets/${id}`, as: 'reception' })).json() as { ticket: TicketView };
    expect(ticket.ticket).toMatchObject({ kind: 'reception', source: 'phone', plotId: 'A', buildingId: 'A-03', unitId: 'A-03-0502', callbackPhone: '138 0000 1111', createdBy: 'front-desk' });
    // Source and building stay for the next call; the rest is cleared.
    expect(await form().getByLabel('Building').inputValue()).toBe('a-03');
    expect(await form().getByLabel('Title').inputValue()).toBe('');
  });

  it('marks the callback done with what the resident was told', async () => {
    const callback = page.locator('li.callback').first();
    await callback.getByLabel('Outcome').fill('Plumber booked for 14:00');
    await callback.getByRole('button', { name: 'Done' }).click();
    await page.getByText('No callbacks due.').waitFor(WAIT);
    const done = (await server.request({ url: '/api/callbacks?status=done', as: 'reception' })).json() as CallbackView[];
    expect(done).toMatchObject([{ note: 'Plumber booked for 14:00', doneBy: 'front-desk' }]);
  });

  it("takes a letter and shows its 10-minute hand-over deadline counting down", async () => {
    await form().getByLabel('Letter', { exact: true }).check();
    await form().getByLabel('Building').fill('B-02');
    await form().getByLabel('Unit').fill('0301');
    await expect.poll(() => form().locator('.field-ok').textContent(), WAIT).toBe('✓ B-02-0301 · Plot B');
    await form().getByLabel('Title').fill('Complaint about night-time noise');
    const id = await submit();

    const letter = page.locator('li.letter', { hasText: `#${id} Complaint about night-time noise` });
    await letter.waitFor(WAIT);
    const clock = letter.locator('.clock');
    const first = (await clock.textContent())!;
    expect(first).toMatch(/^(10:00|09:[0-5]\d) left$/);
    await expect.poll(() => clock.textContent(), WAIT).not.toBe(first);
    expect(await clock.textContent()).toMatch(/^(10:00|09:[0-5]\d) left$/);
    const ticket = (await server.request({ url: `/api/tickets/${id}`, as: 'reception' })).json() as { ticket: TicketView };
    expect(ticket.ticket).toMatchObject({ source: 'letter', unitId: 'B-02-0301' });
    expect(ticket.ticket.letterDueAt! - ticket.ticket.createdAt).toBe(10 * 60_000);
  });
});

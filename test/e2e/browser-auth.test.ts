/**
 * The web app behind the login, in a real browser (Debian's Chromium through
 * playwright-core; skipped when it is missing): log in, the live link comes up
 * under the CSP with no violation, server text with HTML/script shows as text,
 * logging out and a session ended on the server both go back to the login page.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserView } from '../../server/src/routes/api-types.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

const CHROMIUM = process.env.TEST_CHROMIUM || '/usr/bin/chromium';
const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
const PASSWORD = 'browser test passphrase';

describe.skipIf(!existsSync(CHROMIUM))('web app login in the browser (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let user: UserView;
  const violations: string[] = [];

  beforeAll(async () => {
    // The server serves web/dist: bring it up to date the way `npm start` does.
    execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../web/build-if-stale.ts', import.meta.url))], { stdio: 'ignore' });
    server = await startTestServer({ SITE_FILE: fileURLToPath(new URL('../fixtures/tiny-site.json', import.meta.url)) });
    const created = await server.request({ method: 'POST', url: '/api/users', body: { username: 'xss-note', displayName: XSS, role: 'operator', password: PASSWORD } });
    user = created.json() as UserView;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage();
    page.on('console', (message) => { if (/Content.Security.Policy/i.test(message.text())) violations.push(message.text()); });
    // Page code, as text: this file is compiled without the DOM types.
    await page.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => console.error('Content-Security-Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI))`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function logIn(): Promise<void> {
    await page.goto(server.baseUrl);
    await page.locator('input[name=username]').fill('xss-note');
    await page.locator('input[name=password]').fill(PASSWORD);
    await page.locator('button[type=submit]').click();
    await page.locator('[data-testid=user-name]').waitFor();
  }

  it('shows the login page (zh, and en on request) and refuses a wrong password with a message', async () => {
    await page.goto(server.baseUrl);
    await expect(page.locator('h2').textContent()).resolves.toBe('登录');
    await page.locator('button.lang').click();
    await expect(page.locator('h2').textContent()).resolves.toBe('Log in');
    await page.locator('input[name=username]').fill('xss-note');
    await page.locator('input[name=password]').fill('not the password');
    await page.locator('button[type=submit]').click();
    await expect(page.locator('[role=alert]').textContent()).resolves.toContain('Wrong username or password');
  });

  it('logs in, connects the live link under the CSP and shows HTML from the server as text', async () => {
    await logIn();
    await expect(page.locator('[data-testid=user-name]').textContent()).resolves.toBe(XSS);
    expect(await page.evaluate('typeof window.__xss')).toBe('undefined');
    expect(await page.locator('img[src=x]').count()).toBe(0);
    await page.locator('.conn.connected').waitFor({ timeout: 10_000 }); // socket.io through connect-src 'self'
    expect(violations).toEqual([]);
  });

  it('logs out back to the login page', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    // The app stays until the server has ended the session: wait for the login page's note.
    await expect.poll(() => page.locator('[role=status]').first().textContent(), { timeout: 10_000 }).toContain('logged out');
  });

  it('goes back to the login page, saying the session expired, when the server ends the session', async () => {
    await logIn();
    await page.locator('.conn.connected').waitFor({ timeout: 10_000 });
    // An admin disables the account: its sessions end and its socket is closed.
    await server.request({ method: 'PATCH', url: `/api/users/${user.id}`, body: { disabled: true } });
    await page.locator('input[name=username]').waitFor({ timeout: 10_000 });
    await expect(page.locator('.note').textContent()).resolves.toContain('session has expired');
    expect(violations).toEqual([]);
  });
});

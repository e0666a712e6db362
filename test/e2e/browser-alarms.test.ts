/**
 * The control room's alarm list in a real browser (Debian's Chromium through
 * playwright-core; skipped when it is missing): a fault published over MQTT
 * appears in the list without a reload, blinking; acknowledged from the list,
 * it stops blinking.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.ts';

const CHROMIUM = process.env.TEST_CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'alarm list browser passphrase';
const MINUTE = 60_000;
const HYDRANT_LOW = 'HY-A-03:hydrant.pressure-low';
const ROW = `li[data-alarm-id="${HYDRANT_LOW}"]`;

describe.skipIf(!existsSync(CHROMIUM))('control-room alarm list in the browser (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let device: MqttClient | undefined;

  beforeAll(async () => {
    execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../web/build-if-stale.ts', import.meta.url))], { stdio: 'ignore' });
    // The default test server: Blue Valley, simulators off (so no simulated history), in-memory database.
    server = await startTestServer();
    await server.request({ method: 'POST', url: '/api/users', body: { username: 'alarm-desk', displayName: 'Alarm desk', role: 'operator', password: PASSWORD } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await page.goto(server.baseUrl);
    await page.locator('button.lang').click(); // English, for readable assertions
    await page.locator('input[name=username]').fill('alarm-desk');
    await page.locator('input[name=password]').fill(PASSWORD);
    await page.locator('button[type=submit]').click();
    await page.locator('.conn.connected').waitFor({ timeout: 20_000 });
  }, 120_000);

  afterAll(async () => {
    await device?.endAsync();
    await browser?.close();
    await server?.close();
  });

  const animationOf = (selector: string) => page.evaluate(`getComputedStyle(document.querySelector(${JSON.stringify(selector)})).animationName`);

  it('shows a fault published over MQTT without a reload, blinking, as P2 in shape and text', async () => {
    await expect(page.locator('#alarm-list-title').textContent()).resolves.toContain('Alarms');
    await page.getByText('No active alarms.').waitFor({ timeout: 10_000 });

    const hydrant = server.app.site.device('HY-A-03')!;
    device = await mqtt.connectAsync(server.app.broker.url, { clientId: `browser-alarms-${randomBytes(3).toString('hex')}`, ...server.mqttCredentials('HY-A-03') });
    // 0.05 MPa is below the hydrant's minimum; 13 minutes of event time pass the rule's on-delay.
    const now = Date.now();
    for (const ts of [now - 30 * MINUTE, now - 17 * MINUTE]) {
      const payload = JSON.stringify({ v: 1, ts, seq: Math.floor(ts / 1000) % 1_000_000, m: { pressure_mpa: 0.05 } });
      await device.publishAsync(`estate/${server.app.site.site.id}/${hydrant.plotId}/hydrant/HY-A-03/telemetry`, payload, { qos: 1 });
    }

    const row = page.locator(ROW);
    await row.waitFor({ timeout: 15_000 });
    await expect(row.getAttribute('class')).resolves.toMatch(/\bunack\b/);
    await expect(row.locator('.prio').textContent()).resolves.toMatch(/▲\s*P2/);
    await expect(animationOf(ROW)).resolves.toMatch(/blink$/); // Svelte scopes the keyframes' name
  });

  it('acknowledges it from the list with the keyboard, and it stops blinking', async () => {
    await page.locator(`${ROW} button.ack`).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator(ROW).getAttribute('class'), { timeout: 10_000 }).not.toMatch(/\bunack\b/);
    await expect(animationOf(ROW)).resolves.toBe('none');
    await expect(page.locator(ROW).textContent()).resolves.toContain('acknowledged');
    const stored = await server.request({ url: `/api/alarms/${HYDRANT_LOW}`, as: 'operator' });
    expect(stored.json()).toMatchObject({ state: 'ack', acknowledged: { by: 'alarm-desk' } });
  });
});

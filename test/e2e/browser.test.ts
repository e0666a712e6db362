/**
 * The web app in a real browser (playwright-core driving Debian's Chromium),
 * against the whole server with the simulators on at 60×: the live map, the
 * building panel, keyboard use, and a manager's month of trends with CSV export.
 * Skipped where no Chromium is installed (TEST_CHROMIUM names another binary).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceTopic } from '../../server/src/contract.ts';
import { liveStartMs } from '../../simulators/src/sim-clock.ts';
import type { Reading } from '../../server/src/ports/time-series.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

const CHROMIUM = process.env.TEST_CHROMIUM || '/usr/bin/chromium';
const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));
const HOUR = 3_600_000;

/** 33 days of hourly register readings for a few meters of plot A and its bulk inlet, ending now: the last 3 also count in the previous month. */
function monthOfReadings(now: number): Reading[] {
  const meters = ['WM-A-01-0101', 'WM-A-01-0102', 'WM-A-02-0101', 'WM-A-S01'];
  const start = Math.floor(now / HOUR) * HOUR - 33 * 24 * HOUR;
  const readings: Reading[] = [];
  for (let ts = start, seq = 0; ts <= now; ts += HOUR, seq++) {
    meters.forEach((deviceId, i) => readings.push({ deviceId, ts, seq, values: { volume_m3: 100 + seq * (0.1 + i * 0.05) } }));
    readings.push({ deviceId: 'WM-A-INLET', ts, seq, values: { volume_m3: 5000 + seq * 0.8 } });
  }
  return readings;
}

describe.runIf(existsSync(CHROMIUM))('web app in Chromium', () => {
  let server: TestServer;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;
  /** Nothing simulated is older than this. */
  let simulatedFrom: number;

  beforeAll(async () => {
    if (!existsSync(path.join(WEB_DIR, 'dist', 'index.html'))) {
      const { build } = await import('vite');
      await build({ configFile: path.join(WEB_DIR, 'vite.config.ts'), logLevel: 'warn' });
    }
    // At 60× the simulators start 59 h back and catch up with the present within the hour.
    simulatedFrom = liveStartMs(Date.now(), 60);
    server = await startTestServer({ SIMULATE: 'true', SIM_SPEED: '60' });
    await server.app.telemetry.store.write(monthOfReadings(Date.now()));
    profileDir = await mkdtemp(path.join(os.tmpdir(), 'ew-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1920, height: 1080 },
      acceptDownloads: true,
    });
    const headers = await server.headersFor('manager');
    if (Object.keys(headers).length > 0) await context.setExtraHTTPHeaders(headers);
    page = context.pages()[0] ?? await context.newPage();
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    if (profileDir) await rm(profileDir, { recursive: true, force: true });
  });

  it('draws the 35 buildings and live device markers whose state changes without a reload', async () => {
    await page.goto(`${server.baseUrl}/#/`);
    await page.locator('svg.map g.building').first().waitFor();
    expect(await page.locator('svg.map g.building').count()).toBe(35);
    expect(await page.locator('svg.map g.marker').count()).toBeGreaterThan(100);
    // The simulated devices report: markers are online without a reload.
    await expect.poll(() => page.locator('svg.map g.marker.online').count(), { timeout: 30_000 }).toBeGreaterThan(100);
    // A hydrant's sensor announces it is going offline (its status channel): the marker turns offline in place.
    const hydrant = server.app.site.site.devices.find((d) => d.kind === 'hydrant')!;
    const broker = server.app.broker as { url: string; credentialsFor?: (username: string) => { username: string; password: string } };
    const client = await mqtt.connectAsync(broker.url, { clientId: `e2e-${hydrant.id}`, ...broker.credentialsFor?.(hydrant.id) });
    try {
      await client.publishAsync(deviceTopic(server.app.site.site.id, hydrant.plotId, hydrant.kind, hydrant.id, 'status'), 'offline', { qos: 1 });
      await expect.poll(() => page.locator(`svg.map g.marker.offline[aria-label^="室外消火栓 ${hydrant.id}"]`).count(), { timeout: 10_000, interval: 20 }).toBe(1);
    } finally {
      await client.endAsync();
    }
  }, 60_000);

  it('opens a building\'s panel on click, and a device drawer with Enter that Escape closes', async () => {
    await page.locator('svg.map g.building', { hasText: 'A-03' }).click();
    await expect.poll(() => page.locator('aside section.panel h2').textContent()).toContain('A-03');

    const pump = page.locator('svg.map g.marker.booster-pump').first();
    await pump.focus();
    await page.keyboard.press('Enter');
    await page.locator('[role="dialog"]').waitFor();
    expect(await page.locator('[role="dialog"] .id').textContent()).toMatch(/^BP-/);
    await page.keyboard.press('Escape');
    await page.locator('[role="dialog"]').waitFor({ state: 'detached' });
  });

  it('zooms the map with the keyboard and goes back to the overview in one click', async () => {
    const viewBox = () => page.locator('svg.map').getAttribute('viewBox');
    const overview = await viewBox();
    await page.locator('svg.map g.building').first().focus();
    await page.keyboard.press('+');
    await page.keyboard.press('ArrowRight');
    expect(await viewBox()).not.toBe(overview);
    await page.getByRole('button', { name: '总览' }).click();
    expect(await viewBox()).toBe(overview);
  });

  it('shows a manager a plot\'s month of water use and exports it as CSV', async () => {
    await page.getByRole('link', { name: '用量趋势' }).click();
    expect(new URL(page.url()).hash).toBe('#/trends');
    await page.getByLabel('层级').selectOption('plot');
    await page.getByLabel('地块', { exact: true }).selectOption('A');
    await page.getByText('月', { exact: true }).click();
    await page.locator('.chart canvas').waitFor();
    await expect.poll(() => page.locator('.main-card h3').textContent()).toContain('地块 A');
    await expect.poll(() => page.locator('.main-card .range').textContent()).toMatch(/\d/);
    expect(await page.locator('#balance-title').count()).toBe(1);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '导出 CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^estatewatch-water-plot-A-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = await readFile(await download.path(), 'utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('time,consumption_m3,previous_period_m3,bulk_inlet_m3');
    expect(lines.length).toBe(1 + 30 * 24);
    // Hour by hour, what monthOfReadings wrote: plot A's meters use 0.1 + 0.15 + 0.2 + 0.25 m³ and its inlet 0.8 m³;
    // the previous month has readings only where the 33 days reach back into it. The last 60 hours or so
    // also hold what the simulators sent, so they are only summed.
    const rows = lines.slice(1).map((line) => line.split(','));
    const seededOnly = rows.filter(([time]) => Date.parse(time!) + HOUR <= simulatedFrom);
    expect(seededOnly.length).toBeGreaterThanOrEqual(30 * 24 - 62);
    rows.forEach(([time], i) => expect(Date.parse(time!) - Date.parse(rows[0]![0]!)).toBe(i * HOUR));
    for (const [, consumption, previous, inlet] of seededOnly) {
      expect(Number(consumption)).toBeCloseTo(0.7, 9);
      expect(Number(inlet)).toBeCloseTo(0.8, 9);
      expect(['', '0', '0.7']).toContain(previous);
    }
    expect(seededOnly.filter((row) => row[2] === '0.7').length).toBeGreaterThan(0);
    // The file is what the page shows: its consumption adds up to the period's total (shown to 0.1 m³; the file has 0.001).
    const total = rows.reduce((sum, row) => sum + Number(row[1]), 0);
    const shown = (await page.locator('.main-card dd').first().textContent())!;
    expect(shown).toMatch(/^[\d,.]+ m³$/);
    expect(Math.abs(Number(shown.replace(/[^\d.]/g, '')) - total)).toBeLessThanOrEqual(0.06);
  }, 60_000);
});

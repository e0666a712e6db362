/**
 * Two roles' main flows joined by one fault, in a real browser (Debian's
 * Chromium through playwright-core; skipped when it is missing): an elevator
 * publishes a fault code over MQTT → the control room (a 1920×1080 desk) sees
 * it on the map and in the alarm list without a reload and acknowledges it
 * FROM THE MAP with a comment → the ticket the alarm opened reaches the
 * on-duty elevator technician's phone (390×844) live, with its place on a
 * small map, and is accepted, started and resolved with a note.
 *
 * Every wait is on a condition (an element, a class, a stored state), never
 * on a fixed time, so that a loaded machine is slower but not flaky.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseAssignee, isOnDuty } from '../../server/src/domain/tickets/assignment.ts';
import type { AlarmView, Page as ApiPage, TicketDetailView, TicketView } from '../../server/src/routes/api-types.ts';
import { eventually, startTestServer, type TestServer } from '../support/app.ts';

const CHROMIUM = process.env.TEST_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PASSWORD = 'fault to phone browser passphrase';
const ELEVATOR = 'EL-A-03-1';
const ALARM = `${ELEVATOR}:elevator.fault`;
/** Generous: a loaded 2-core machine. Waits end as soon as their condition holds. */
const WAIT = { timeout: 20_000 };

describe.skipIf(!existsSync(CHROMIUM))('a fault from the control-room map to a fix on a phone (Chromium)', () => {
  let server: TestServer;
  let browser: Browser;
  let desk: Page;
  let phone: Page;
  let technician: string;
  let device: MqttClient | undefined;
  let ticketId: number;
  const contexts: BrowserContext[] = [];

  /** A new browser context at this size, logged in through the login form, in English. */
  async function logIn(username: string, viewport: { width: number; height: number }, mobile = false): Promise<Page> {
    const context = await browser.newContext({ viewport, ...(mobile && { isMobile: true, hasTouch: true }) });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(server.baseUrl);
    await page.locator('button.lang').click();
    await page.locator('input[name=username]').fill(username);
    await page.locator('input[name=password]').fill(PASSWORD);
    await page.locator('button[type=submit]').click();
    await page.locator('.conn.connected').waitFor(WAIT);
    return page;
  }

  beforeAll(async () => {
    // The server serves web/dist: bring it up to date the way `npm start` does.
    execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../web/build-if-stale.ts', import.meta.url))], { stdio: 'ignore' });
    server = await startTestServer();
    // Whom the server will give an elevator repair in plot A now: the roster's on-duty elevator technician.
    const { staff, zones, shifts } = server.app.tickets.catalogue;
    const timezone = server.app.site.site.timezone;
    const onDuty = new Set(staff.filter((s) => isOnDuty(shifts, s.username, Date.now(), timezone)).map((s) => s.username));
    technician = chooseAssignee({ kind: 'maintenance', plotId: 'A', buildingId: 'A-03', deviceKind: 'elevator' }, { staff, zones, onDuty, openTickets: new Map() })!;
    expect(technician).toBeTruthy();
    for (const [username, role] of [['map-desk', 'operator'], [technician, 'technician']] as const) {
      const created = await server.request({ method: 'POST', url: '/api/users', body: { username, displayName: username, role, password: PASSWORD } });
      expect(created.statusCode, created.body).toBe(201);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    desk = await logIn('map-desk', { width: 1920, height: 1080 });
    phone = await logIn(technician, { width: 390, height: 844 }, true);
    await desk.locator('section.alarms').getByText('No active alarms.').waitFor(WAIT);
    await phone.getByText('No tickets assigned to me.').waitFor(WAIT);
    // Set once; a reload would lose it.
    await desk.evaluate('window.__sameDocument = true');
    await phone.evaluate('window.__sameDocument = true');
  }, 180_000);

  afterAll(async () => {
    await device?.endAsync();
    await browser?.close();
    await server?.close();
  });

  it('shows an MQTT fault on the map and in the alarm list without a reload', async () => {
    device = await mqtt.connectAsync(server.app.broker.url, { clientId: `fault-to-phone-${randomBytes(3).toString('hex')}`, ...server.mqttCredentials(ELEVATOR) });
    const ts = Date.now() - 60_000;
    await device.publishAsync(`estate/${server.app.site.site.id}/A/elevator/${ELEVATOR}/telemetry`, JSON.stringify({ v: 1, ts, seq: 1, m: { fault_code: 17, floor: 4, door: 'closed' } }), { qos: 1 });

    // The building turns P2 (▲, orange) and blinks; the list has the alarm, unacknowledged.
    const building = desk.locator('svg.map g.building.alarm.p2.unack', { hasText: 'A-03' });
    await building.waitFor(WAIT);
    expect(await building.getAttribute('aria-label')).toContain('Building A-03: P2 unacknowledged');
    const listed = desk.locator(`section.alarms li[data-alarm-id="${ALARM}"]`);
    await listed.waitFor(WAIT);
    expect(await listed.getAttribute('class')).toMatch(/\bunack\b/);
    expect(await desk.evaluate('window.__sameDocument')).toBe(true);
  });

  it('acknowledges it from the map: building panel, comment, Enter; the map and the list stop blinking', async () => {
    // Keyboard: the building is a button on the map.
    await desk.locator('svg.map g.building', { hasText: 'A-03' }).focus();
    await desk.keyboard.press('Enter');
    const panel = desk.locator('section.panel');
    await expect.poll(() => panel.locator('h2').textContent(), WAIT).toBe('Building A-03');
    // The elevator is marked in the building's device list; its alarm has the actions.
    await expect.poll(() => panel.locator('button.device', { hasText: ELEVATOR }).locator('.alarm-mark').textContent(), WAIT).toContain('P2');
    const row = panel.locator(`.place-alarms li[data-alarm-id="${ALARM}"]`);
    await row.locator('input.comment').fill('Lift company called, engineer on the way');
    await row.locator('input.comment').press('Enter');

    await desk.locator('svg.map g.building.alarm.p2:not(.unack)', { hasText: 'A-03' }).waitFor(WAIT);
    await expect.poll(() => desk.locator(`section.alarms li[data-alarm-id="${ALARM}"]`).getAttribute('class'), WAIT).not.toMatch(/\bunack\b/);
    await expect.poll(() => row.textContent(), WAIT).toContain('acknowledged by map-desk');
    const stored = (await server.request({ url: `/api/alarms/${ALARM}`, as: 'operator' })).json() as AlarmView;
    expect(stored).toMatchObject({ state: 'ack', acknowledged: { by: 'map-desk', comment: 'Lift company called, engineer on the way' } });

    // The device drawer shows the same alarm, acknowledged.
    await panel.locator('button.device', { hasText: ELEVATOR }).click();
    const drawer = desk.locator('[role=dialog]');
    await expect.poll(() => drawer.locator(`.place-alarms li[data-alarm-id="${ALARM}"]`).textContent(), WAIT).toContain('acknowledged by map-desk');
    await desk.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached', ...WAIT });
    expect(await desk.evaluate('window.__sameDocument')).toBe(true);
  });

  it("reaches the on-duty technician's phone live, with its place on a small map", async () => {
    const ticket = await eventually(async () => {
      const page = (await server.request({ url: '/api/tickets?kind=maintenance&status=open&limit=50', as: 'operator' })).json() as ApiPage<TicketView>;
      return page.items.find((t) => t.deviceId === ELEVATOR);
    }, 20_000, 'the elevator ticket');
    ticketId = ticket.id;
    // Only if the test ran across a shift change did the roster pick someone else: hand it over as a supervisor would.
    if (ticket.assignee !== technician) {
      const assigned = await server.request({ method: 'POST', url: `/api/tickets/${ticket.id}/assign`, body: { version: ticket.version, assignee: technician }, as: 'operator' });
      expect(assigned.statusCode, assigned.body).toBe(200);
    }

    const card = phone.locator(`article.ticket[data-ticket-id="${ticketId}"]`);
    await card.waitFor(WAIT);
    expect(await phone.evaluate('window.__sameDocument')).toBe(true);
    expect(await card.locator('h3').textContent()).toBe('Elevator controller reports a fault code');
    expect(await card.locator('.where').textContent()).toContain(ELEVATOR);
    const map = card.locator('svg.location');
    expect(await map.getAttribute('aria-label')).toBe(`Location map: Plot A · Building A-03 · ${ELEVATOR}`);
    expect(await map.locator('g.building.target').getAttribute('data-building-id')).toBe('A-03');
    // The phone never scrolls sideways; the map fits the card.
    expect(await phone.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    const box = (await map.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
  });

  it('is accepted, started and resolved with a note from the phone', async () => {
    const card = phone.locator(`article.ticket[data-ticket-id="${ticketId}"]`);
    const act = phone.locator('button.act');
    await expect.poll(() => act.textContent(), WAIT).toBe('Accept');
    await act.click();
    await expect.poll(() => card.locator('.prio').textContent(), WAIT).toContain('accepted');
    await expect.poll(() => act.textContent(), WAIT).toBe('Start work');
    await act.click();
    await expect.poll(() => card.locator('.prio').textContent(), WAIT).toContain('In progress');
    await expect.poll(() => act.textContent(), WAIT).toBe('Resolve');

    // No note, no resolve.
    await act.click();
    await expect.poll(() => phone.locator('.thumb [role=alert]').textContent(), WAIT).toBe('Resolving needs a note.');
    await phone.getByLabel('What was done').fill('Door sensor realigned; lift tested on every floor.');
    await act.click();
    await phone.getByText('No tickets assigned to me.').waitFor(WAIT);

    const detail = (await server.request({ url: `/api/tickets/${ticketId}`, as: 'operator' })).json() as TicketDetailView;
    expect(detail.ticket).toMatchObject({ status: 'resolved', assignee: technician });
    expect(detail.ticket.acknowledgedAt).not.toBeNull();
    expect(detail.ticket.onSiteAt).not.toBeNull();
    expect(detail.events.some((e) => e.note === 'Door sensor realigned; lift tested on every floor.' && e.by === technician)).toBe(true);
    expect(await phone.evaluate('window.__sameDocument')).toBe(true);
  });
});

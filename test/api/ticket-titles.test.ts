/**
 * Ticket titles in the viewer's language: a title the system wrote (an alarm rule's, a patrol
 * finding's, the confidential placeholder) comes in English and Chinese as `titles`, over REST
 * and push alike; `title` stays the stored English (the API as before); a typed title has none.
 */
import { io as connectSocket, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCondition, newAlarm, type AlarmEffect } from '../../server/src/domain/alarms/alarm-state.ts';
import { RULES } from '../../server/src/domain/alarms/rules.ts';
import { atLocal } from '../../server/src/domain/tickets/local-time.ts';
import { CHECKLIST } from '../../server/src/domain/tickets/patrols.ts';
import type { ClientToServerEvents, PushedTicket, ServerToClientEvents } from '../../server/src/push/events.ts';
import type { CallbackView, PatrolRoundView, TicketDetailView, TicketView } from '../../server/src/routes/api-types.ts';
import { eventually, startTestServer, type TestServer } from '../support/app.ts';

/** Tuesday 2025-05-06 10:00 in Blue Valley: the day shift is on, the morning rounds are open. */
const now = atLocal('2025-05-06', 10 * 60, 'Asia/Shanghai');
const clock = { now: () => now };

let server: TestServer;
let socket: Socket<ServerToClientEvents, ClientToServerEvents>;
const pushed: PushedTicket[] = [];

beforeAll(async () => {
  server = await startTestServer({}, { clock });
  socket = connectSocket(server.baseUrl, { transports: ['websocket'], extraHeaders: await server.headersFor('operator') });
  socket.on('tickets:changed', ({ ticket }) => pushed.push(ticket));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
}, 60_000);
afterAll(async () => {
  socket?.disconnect();
  await server?.close();
});

const get = async <T>(url: string, as: 'operator' | 'admin' | 'reception' = 'admin') => (await server.request({ url, as })).json() as T;

describe('ticket titles', () => {
  it('gives an alarm\'s ticket its rule\'s title in both languages, over REST and push; `title` stays English', async () => {
    const rule = RULES.find((r) => r.id === 'elevator.fault')!;
    const device = server.app.site.device('EL-A-03-1')!;
    const subject = { deviceId: device.id, ruleId: rule.id, kind: device.kind, plotId: device.plotId, buildingId: device.buildingId, priority: rule.priority, ticket: rule.ticket, title: rule.title };
    await server.app.tickets.onAlarmEffects(applyCondition(newAlarm(subject), 'active', now).effects as AlarmEffect[]);
    const ticket = (await server.app.tickets.repository.all()).find((t) => t.rootCauseKey === `${device.id}:${rule.id}`)!;

    const { ticket: view } = await get<TicketDetailView>(`/api/tickets/${ticket.id}`);
    expect(view.title).toBe('Elevator controller reports a fault code');
    expect(view.titles).toEqual({ en: 'Elevator controller reports a fault code', zh: '电梯控制器报故障码' });
    // The description no longer repeats the Chinese title: `titles` carries it.
    expect(view.description).not.toContain('电梯控制器报故障码');
    const live = await eventually(() => pushed.find((t) => t.id === ticket.id), 5_000, 'the pushed ticket');
    expect(live.titles).toEqual(view.titles);
  });

  it('keeps the stored title when the rule was reworded since', async () => {
    const rule = RULES.find((r) => r.id === 'booster-pump.overcurrent')!;
    const device = server.app.site.device('BP-A-1')!;
    const subject = { deviceId: device.id, ruleId: rule.id, kind: device.kind, plotId: device.plotId, buildingId: device.buildingId, priority: rule.priority, ticket: rule.ticket, title: { en: 'Pump overcurrent (old wording)', zh: '旧' } };
    await server.app.tickets.onAlarmEffects(applyCondition(newAlarm(subject), 'active', now).effects as AlarmEffect[]);
    const ticket = (await server.app.tickets.repository.all()).find((t) => t.rootCauseKey === `${device.id}:${rule.id}`)!;
    expect((await get<TicketDetailView>(`/api/tickets/${ticket.id}`)).ticket).toMatchObject({ title: 'Pump overcurrent (old wording)', titles: null });
  });

  it('titles a failed patrol item in both languages', async () => {
    const rounds = await get<PatrolRoundView[]>('/api/patrols/rounds?date=2025-05-06');
    const morning = rounds.find((r) => r.zoneId === 'Z-A1' && r.status === 'scheduled')!;
    expect((await server.request({ method: 'POST', url: `/api/patrols/rounds/${morning.id}/start`, as: 'patrol-officer' })).statusCode).toBe(200);
    const results = CHECKLIST.map((i) => (i.id === 'street-lights' ? { item: i.id, ok: false, note: 'Two lamps out by A-05' } : { item: i.id, ok: true }));
    const done = await server.request({ method: 'POST', url: `/api/patrols/rounds/${morning.id}/complete`, body: { results }, as: 'patrol-officer' });
    expect(done.statusCode, done.body).toBe(200);
    const [ticket] = (done.json() as { tickets: TicketView[] }).tickets;
    expect(ticket).toMatchObject({ title: 'Patrol: Street lights working', titles: { en: 'Patrol: Street lights working', zh: '巡查：路灯完好' }, description: 'Two lamps out by A-05' });
  });

  it('leaves a typed title as it is, and gives the confidential placeholder in both languages to those who may not see it', async () => {
    const created = await server.request({
      method: 'POST', url: '/api/tickets', as: 'reception',
      body: { kind: 'reception', source: 'phone', room: 'A-03-0502', title: '厨房水龙头漏水', callbackPhone: '138 0000 1111' },
    });
    expect(created.json()).toMatchObject({ title: '厨房水龙头漏水', titles: null });

    const secret = (await server.request({
      method: 'POST', url: '/api/tickets', as: 'reception',
      body: { kind: 'reception', source: 'walk-in', room: 'B-01-1203', title: 'Neighbour dispute', callbackPhone: '138 0000 2222', confidential: true },
    })).json() as TicketView;
    const hidden = await get<TicketDetailView>(`/api/tickets/${secret.id}`, 'operator');
    expect(hidden.ticket).toMatchObject({ redacted: true, title: 'Confidential matter', titles: { en: 'Confidential matter', zh: '保密事项' } });
    expect((await get<TicketDetailView>(`/api/tickets/${secret.id}`)).ticket).toMatchObject({ redacted: false, title: 'Neighbour dispute', titles: null });

    const callbacks = await get<CallbackView[]>('/api/callbacks', 'reception');
    expect(callbacks.find((c) => c.ticketId === secret.id)).toMatchObject({ ticketTitle: 'Confidential matter', ticketTitles: { en: 'Confidential matter', zh: '保密事项' } });
    expect(callbacks.find((c) => c.ticketId === created.json<TicketView>().id)).toMatchObject({ ticketTitle: '厨房水龙头漏水', ticketTitles: null });
  });
});

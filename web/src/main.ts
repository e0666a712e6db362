/** Composition: the session, the stores, the socket and the fetch they use, then the login gate and the app. */
import { mount } from 'svelte';
import { io } from 'socket.io-client';
import Gate from './Gate.svelte';
import { ConnectionState } from './lib/connection.svelte.ts';
import { HealthStore } from './lib/health.svelte.ts';
import { I18n } from './lib/i18n.svelte.ts';
import { linkSocket } from './lib/live-link.ts';
import type { LiveSocket } from './lib/live-link.ts';
import { LiveDevices } from './lib/live-devices.svelte.ts';
import { SessionStore } from './lib/session.svelte.ts';
import { AlarmSound } from './lib/alarm-sound.svelte.ts';
import { AlarmStore } from './lib/alarms.svelte.ts';
import { linkAlarms } from './lib/alarms-link.ts';
import { MyTickets } from './lib/my-tickets.svelte.ts';
import { ReceptionStore } from './lib/reception.svelte.ts';
import { ReportsStore } from './lib/reports.svelte.ts';
import { browserLocation, Router, routesFor } from './lib/router.svelte.ts';
import { SiteStore } from './lib/site-store.svelte.ts';
import { TrendsStore } from './lib/trends.svelte.ts';
import { UsersStore } from './lib/users.svelte.ts';

const session = new SessionStore((input: string, init?: RequestInit) => fetch(input, init));
// Every API call sends the CSRF token on state-changing requests and treats a 401 as an expired session.
const fetchFn = session.fetch;
const i18n = new I18n(window.localStorage);
const live = new LiveDevices();
const connection = new ConnectionState();
const health = new HealthStore(fetchFn);
const site = new SiteStore(fetchFn, live);
const trends = new TrendsStore(fetchFn);
const router = new Router(browserLocation());
const sound = new AlarmSound(window.localStorage);
const alarms = new AlarmStore(fetchFn, (alarm) => sound.alarm(alarm.priority));
const me = () => (session.state.kind === 'active' ? session.state.view.user : null);
const myTickets = new MyTickets(fetchFn, () => me()?.username ?? null, () => sound.ticket());
const reception = new ReceptionStore(fetchFn);
const users = new UsersStore(fetchFn);
const reports = new ReportsStore(fetchFn);
const mayUse = (id: string) => { const user = me(); return user !== null && routesFor(user.role).some((route) => route.id === id); };

connection.networkChanged(navigator.onLine);
window.addEventListener('online', () => connection.networkChanged(true));
window.addEventListener('offline', () => connection.networkChanged(false));

// The socket connects only with a session: its handshake carries the session cookie.
const socket: LiveSocket = io({ autoConnect: false });
linkSocket(socket, { live, connection, health });
linkAlarms(socket, alarms);
// Tickets changed while the link was down are caught up by fetching again on every connect.
socket.on('connect', () => {
  if (mayUse('my-tickets')) void myTickets.fetch();
  if (mayUse('reception')) void reception.fetch();
});
socket.on('tickets:changed', ({ ticket }) => {
  myTickets.apply(ticket);
  if (mayUse('reception')) reception.ticketChanged(ticket);
});
// The KPI line is a 24-hour view: a minute's staleness is fine.
setInterval(() => { if (socket.connected) void alarms.fetchKpis(); }, 60_000);
socket.on('connect_error', (error) => {
  if (error.message === 'UNAUTHENTICATED' || error.message === 'SESSION_EXPIRED') void session.check();
});
router.follow(session);
session.subscribe((state) => {
  if (state.kind === 'active') {
    socket.connect();
    void site.fetch();
  } else {
    socket.disconnect();
  }
});
void session.check();
health.poll();

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(Gate, { target, props: { session, app: { i18n, site, live, connection, health, router, trends, alarms, sound, myTickets, reception, users, reports } } });

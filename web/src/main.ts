/** Composition: the stores, the socket and the fetch they use, then the app. */
import { mount } from 'svelte';
import { io } from 'socket.io-client';
import App from './App.svelte';
import { ConnectionState } from './lib/connection.svelte.ts';
import { HealthStore } from './lib/health.svelte.ts';
import { I18n } from './lib/i18n.svelte.ts';
import { linkSocket } from './lib/live-link.ts';
import type { LiveSocket } from './lib/live-link.ts';
import { LiveDevices } from './lib/live-devices.svelte.ts';
import { SiteStore } from './lib/site-store.svelte.ts';

const fetchFn = (input: string, init?: RequestInit) => fetch(input, init);
const i18n = new I18n(window.localStorage);
const live = new LiveDevices();
const connection = new ConnectionState();
const health = new HealthStore(fetchFn);
const site = new SiteStore(fetchFn, live);

connection.networkChanged(navigator.onLine);
window.addEventListener('online', () => connection.networkChanged(true));
window.addEventListener('offline', () => connection.networkChanged(false));

const socket: LiveSocket = io();
linkSocket(socket, { live, connection, health });
void site.fetch();
health.poll();

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target, props: { i18n, site, live, connection, health } });

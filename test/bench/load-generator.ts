/**
 * The load generator, in its own process so that its work does not show up
 * in the server's event loop. Two kinds of load:
 * - paced: pre-built telemetry templates of the site's devices, round-robin,
 *   published QoS 1 (as the server subscribes) at a set rate, each through its
 *   device's own connection or its meter concentrator's (≈400 connections, the
 *   estate's real shape and what the embedded broker's ACL allows); at most WINDOW messages may wait for the broker's PUBACK, so a broker
 *   that cannot keep up shows as a rate below the offered one, not as memory.
 * - the simulated fleet (simulators/src/fleet.ts) at a given speed: the
 *   estate's real mix, for the normal-load, latency and soak figures.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { loadSite } from '../../server/src/catalogue/load.ts';
import type { Site } from '../../server/src/catalogue/types.ts';
import { startFleet, type Fleet, type FleetOptions } from '../../simulators/src/fleet.ts';
import { serve } from './ipc.ts';
import { devicePassword } from '../../server/src/auth/broker-accounts.ts';
import { accountOf, credentials, nextPayload, telemetryTemplates, type DeviceTemplate } from './payloads.ts';

export interface GeneratorInit {
  brokerUrl: string;
  siteFile: string | null;
  /** The embedded broker's DEVICE_SECRET; null for an anonymous broker. */
  deviceSecret: string | null;
  /** Devices the paced load must not report for (the latency probes use them). */
  exclude: readonly string[];
}

export interface LoadProgress {
  running: boolean;
  sent: number;
  acked: number;
  failed: number;
  /** Wall ms since the load started. */
  elapsedMs: number;
  /** Times the PUBACK window was full, i.e. the broker was behind. */
  windowFull: number;
  cpuPercent: number;
}

const WINDOW = 10_000;
const CONNECT_BATCH = 50;
/** Messages published per turn of the event loop, so that PUBACKs are read in between. */
const CHUNK = 1_000;

let site: Site;
let clients: MqttClient[] = [];
let templates: DeviceTemplate[] = [];
/** templates[i] is published through clientOf[i]. */
let clientOf: MqttClient[] = [];
let brokerUrl = '';
let deviceSecret: string | null = null;
let fleet: Fleet | null = null;

let running = false;
let sent = 0;
let acked = 0;
let failed = 0;
let windowFull = 0;
let startedAt = 0;
let cpuAtStart = process.cpuUsage();
let next = 0;

const onAck = (error?: Error): void => {
  if (error) failed += 1;
  else acked += 1;
};

function progress(): LoadProgress {
  const elapsedMs = performance.now() - startedAt;
  const cpu = process.cpuUsage(cpuAtStart);
  return { running, sent, acked, failed, elapsedMs, windowFull, cpuPercent: elapsedMs > 0 ? ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100 : 0 };
}

function startLoad({ rate, durationMs }: { rate: number; durationMs: number | null }): void {
  if (running) throw new Error('load already running');
  running = true;
  sent = acked = failed = windowFull = 0;
  startedAt = performance.now();
  cpuAtStart = process.cpuUsage();
  const tick = (): void => {
    if (!running) return;
    const elapsed = performance.now() - startedAt;
    if (durationMs !== null && elapsed >= durationMs) {
      running = false;
      return;
    }
    const due = Math.floor((rate * elapsed) / 1000) - sent;
    const room = WINDOW - (sent - acked - failed);
    if (room <= 0 && due > 0) windowFull += 1;
    const n = Math.min(due, room, CHUNK);
    const ts = Date.now();
    for (let i = 0; i < n; i++) {
      const template = templates[next]!;
      clientOf[next]!.publish(template.topic, nextPayload(template, ts), { qos: 1 }, onAck);
      next = (next + 1) % templates.length;
    }
    sent += Math.max(0, n);
    if (n === CHUNK) setImmediate(tick);
    else setTimeout(tick, 1);
  };
  tick();
}

serve({
  init: async (init: GeneratorInit) => {
    brokerUrl = init.brokerUrl;
    deviceSecret = init.deviceSecret;
    site = loadSite(init.siteFile);
    templates = telemetryTemplates(site, new Set(init.exclude));
    const accounts = [...new Set(templates.map((t) => accountOf(t.device)))];
    const byAccount = new Map<string, MqttClient>();
    for (let i = 0; i < accounts.length; i += CONNECT_BATCH) {
      await Promise.all(accounts.slice(i, i + CONNECT_BATCH).map(async (account) => {
        const client = await mqtt.connectAsync(brokerUrl, { clientId: `bench-load-${process.pid}-${account}`, clean: true, reconnectPeriod: 0, ...credentials(deviceSecret, account) });
        byAccount.set(account, client);
      }));
    }
    clients = [...byAccount.values()];
    clientOf = templates.map((t) => byAccount.get(accountOf(t.device))!);
    return { devices: templates.length, connections: clients.length };
  },
  startLoad,
  progress,
  /** Stops the paced load and waits (bounded) for the outstanding PUBACKs. */
  stopLoad: async ({ ackTimeoutMs }: { ackTimeoutMs: number }) => {
    running = false;
    const deadline = performance.now() + ackTimeoutMs;
    while (acked + failed < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return progress();
  },
  /** intervalsS overrides the kinds' report intervals (simulated seconds), e.g. every device once a second for the browser phase. */
  fleetStart: async ({ speed, intervalsS }: { speed: number; intervalsS?: FleetOptions['intervalsS'] }) => {
    const secret = deviceSecret;
    fleet = await startFleet({ brokerUrl, site, speed, seed: 7, ...(intervalsS && { intervalsS }), ...(secret !== null && { credentialsFor: (account: string) => ({ username: account, password: devicePassword(secret, account) }) }) });
    return { devices: fleet.devices.length, connections: fleet.connections };
  },
  fleetCounters: () => ({ ...fleet?.counters, lagMs: fleet?.lagMs() ?? 0 }),
  fleetStop: async () => {
    const counters = { ...fleet?.counters, lagMs: fleet?.lagMs() ?? 0 };
    await fleet?.stop();
    fleet = null;
    return counters;
  },
  exit: async () => {
    running = false;
    await fleet?.stop();
    await Promise.all(clients.map((c) => c.endAsync(true)));
    setImmediate(() => process.exit(0));
  },
});

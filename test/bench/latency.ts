/**
 * Latency from a device's publish to what a control-room browser receives over
 * socket.io, timed in this one process (publish and receipt on the same clock).
 *
 * - With an alarms plugin (app.alarms): an elevator reports a fault code (the
 *   'elevator.fault' rule has no on-delay), and the time is taken to the first
 *   'alarms:changed' event that names the elevator, and, with a tickets plugin,
 *   to the first 'tickets:changed' event that does. The fault is then cleared.
 * - Without it: the time to the first 'devices:update' frame that carries the
 *   probe reading. That is push latency, NOT alarm latency, and is labelled so.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { io as connectSocket, type Socket } from 'socket.io-client';
import type { Site } from '../../server/src/catalogue/types.ts';
import { credentials, nextPayload, telemetryTemplates, type DeviceTemplate } from './payloads.ts';
import { percentiles, sleep, type Percentiles } from './stats.ts';

export type ProbeKind = 'alarm' | 'push';

export interface LatencyResult {
  kind: ProbeKind;
  /** What exactly was timed, in words, for the report. */
  measures: string;
  first: Percentiles | null;
  /** Publish → ticket event (alarm probes with a tickets plugin only). */
  ticket: Percentiles | null;
  timeouts: number;
}

const PROBE_TIMEOUT_MS = 3_000;
const MIN_FAULT_GAP_MS = 31_000;
/** After this many faults in a row without a ticket event, tickets are not waited for any more (each wait costs the timeout). */
const MAX_TICKET_MISSES = 3;

export interface Prober {
  readonly kind: ProbeKind;
  /** The probe devices: the load generator must leave them alone. */
  readonly deviceIds: readonly string[];
  /** Probes with one half of the elevators (0 or 1), so that each half raises its own first tickets. */
  run(count: number, half: 0 | 1): Promise<LatencyResult>;
  close(): Promise<void>;
}

export interface ProberTarget {
  baseUrl: string;
  brokerUrl: string;
  /** A session cookie for the socket.io handshake. */
  cookie: string;
  deviceSecret: string | null;
  features: { alarms: boolean; tickets: boolean };
}

export async function openProber(site: Site, target: ProberTarget): Promise<Prober> {
  const { features } = target;
  // Per prober, i.e. per server: with --engine both, the second stack's elevators have no tickets yet.
  const lastFault = new Map<string, number>();
  const ticketed = new Set<string>();
  let ticketMisses = 0;
  const elevators = telemetryTemplates(site).filter((t) => t.device.kind === 'elevator');
  if (elevators.length === 0) throw new Error('the site has no elevators to probe with');
  const kind: ProbeKind = features.alarms ? 'alarm' : 'push';
  // Each elevator publishes through its own account, as the broker's ACL demands.
  const publishers = new Map<string, MqttClient>(await Promise.all(elevators.map(async (t) => [t.device.id,
    await mqtt.connectAsync(target.brokerUrl, { clientId: `bench-probe-${process.pid}-${t.device.id}`, reconnectPeriod: 0, ...credentials(target.deviceSecret, t.device.id) })] as const)));
  const socket: Socket = connectSocket(target.baseUrl, { transports: ['websocket'], reconnection: false, extraHeaders: { cookie: target.cookie } });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });

  // Every received event goes past the waiters; each waiter takes the first event it matches.
  type Waiter = { match(event: string, args: unknown[]): boolean; resolve(ms: number): void };
  const waiters = new Set<Waiter>();
  socket.onAny((event: string, ...args: unknown[]) => {
    const at = performance.now();
    for (const w of waiters) {
      if (w.match(event, args)) {
        waiters.delete(w);
        w.resolve(at);
      }
    }
  });
  const waitFor = (match: Waiter['match']) => {
    let waiter!: Waiter;
    const promise = new Promise<number | null>((resolve) => {
      waiter = { match, resolve };
      setTimeout(() => { if (waiters.delete(waiter)) resolve(null); }, PROBE_TIMEOUT_MS);
    });
    waiters.add(waiter);
    return promise;
  };

  const publish = (template: DeviceTemplate, ts: number, patch: Record<string, unknown> = {}) => {
    const withPatch: DeviceTemplate = { ...template, metricsJson: JSON.stringify({ ...JSON.parse(template.metricsJson), ...patch }) };
    const payload = nextPayload(withPatch, ts);
    template.seq = withPatch.seq;
    publishers.get(template.device.id)!.publish(template.topic, payload, { qos: 1 });
  };

  const names = (id: string, args: unknown[]) => JSON.stringify(args).includes(`"${id}"`);

  async function probeOnce(template: DeviceTemplate, n: number): Promise<{ first: number | null; ticket: number | null }> {
    const id = template.device.id;
    const ts = Date.now();
    if (kind === 'push') {
      const arrived = waitFor((event, args) => event === 'devices:update'
        && (args[0] as { id: string; ts: number | null }[]).some((s) => s.id === id && s.ts === ts));
      const t0 = performance.now();
      publish(template, ts);
      const at = await arrived;
      return { first: at === null ? null : at - t0, ticket: null };
    }
    const alarmed = waitFor((event, args) => event === 'alarms:changed'
      && (args[0] as { deviceId: string; ruleId: string; lastActiveAt: number | null }[]).some((a) => a.deviceId === id && a.ruleId === 'elevator.fault' && a.lastActiveAt === ts));
    // An elevator's open ticket covers its later faults: only its first fault makes a ticket.
    const timeTicket = features.tickets && !ticketed.has(id) && ticketMisses < MAX_TICKET_MISSES;
    ticketed.add(id);
    const ticketing = timeTicket ? waitFor((event, args) => event === 'tickets:changed' && names(id, args)) : Promise.resolve(null);
    const t0 = performance.now();
    publish(template, ts, { fault_code: 100 + (n % 900) });
    const [a, t] = await Promise.all([alarmed, ticketing]);
    if (timeTicket) ticketMisses = t === null ? ticketMisses + 1 : 0;
    // Back to normal, so the next probe on this elevator raises the alarm again.
    publish(template, ts + 1, { fault_code: 0 });
    return { first: a === null ? null : a - t0, ticket: t === null ? null : t - t0 };
  }

  return {
    kind,
    deviceIds: elevators.map((t) => t.device.id),
    async run(count, half) {
      const mid = Math.ceil(elevators.length / 2);
      const pool = half === 0 ? elevators.slice(0, mid) : elevators.slice(mid);
      const first: number[] = [];
      const ticket: number[] = [];
      let timeouts = 0;
      for (let n = 0; n < count; n++) {
        const template = pool[n % pool.length]!;
        // A third activation within a minute makes an alarm 'chattering' (rate-limited): space an elevator's faults.
        const since = performance.now() - (lastFault.get(template.device.id) ?? -Infinity);
        if (kind === 'alarm' && since < MIN_FAULT_GAP_MS) await sleep(MIN_FAULT_GAP_MS - since);
        lastFault.set(template.device.id, performance.now());
        const r = await probeOnce(template, n);
        if (r.first === null) timeouts += 1;
        else first.push(r.first);
        if (r.ticket !== null) ticket.push(r.ticket);
        // Not in step with the server's frame timer.
        await sleep(5 + Math.random() * 45);
      }
      return {
        kind,
        measures: kind === 'alarm'
          ? `fault publish → 'alarms:changed'${features.tickets ? " (and → 'tickets:changed')" : ' (no tickets plugin: ticket not timed)'} at a socket.io client`
          : "publish → 'devices:update' frame at a socket.io client (push latency; NOT alarm latency: no alarms plugin in this build)",
        first: percentiles(first),
        ticket: percentiles(ticket),
        timeouts,
      };
    },
    async close() {
      socket.close();
      await Promise.all([...publishers.values()].map((p) => p.endAsync()));
    },
  };
}

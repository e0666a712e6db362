/**
 * The simulated fleet on a real broker. Each non-meter device has its own MQTT
 * connection with a retained last-will `offline`; meters report through one
 * concentrator connection per building (per plot for meters outside buildings),
 * as real AMI concentrators do. One interval timer advances simulated time and
 * publishes whatever is due, so 6,000 devices cost one timer, not 6,000.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { DeviceKind } from '../../server/src/catalogue/kinds.ts';
import type { Device, Site } from '../../server/src/catalogue/types.ts';
import { concentratorOf } from '../../server/src/auth/broker-accounts.ts';
import { deviceTopic, type Channel, type DeviceStatus } from '../../server/src/contract.ts';
import { SimError } from './errors.ts';
import { SimClock, checkSpeed } from './sim-clock.ts';
import { Simulation, type DeviceFilter, type Injection, type LastReport, type SimMessage } from './simulation.ts';

export interface FleetOptions {
  readonly brokerUrl: string;
  readonly site: Site;
  /** Simulated seconds per wall-clock second. */
  readonly speed: number;
  readonly seed: number;
  readonly filter?: DeviceFilter;
  readonly log?: (message: string) => void;
  /** Simulated epoch ms at start; defaults to now. Fix it (with the seed) to replay a run exactly. */
  readonly startMs?: number;
  /** Report interval per kind in simulated seconds, overriding KINDS[kind].reportIntervalS. */
  readonly intervalsS?: Partial<Record<DeviceKind, number>>;
  /** Wall-clock ms between scheduler ticks (default 100). */
  readonly tickMs?: number;
  readonly username?: string;
  readonly password?: string;
  /**
   * Per-connection broker accounts (the embedded broker's device ACL): called
   * with the device id, or the concentrator's name for meters; overrides
   * username/password.
   */
  readonly credentialsFor?: (username: string) => { readonly username: string; readonly password: string };
  /** Faults to inject (a scenario's, see scenarios.ts). */
  readonly injections?: readonly Injection[];
  /** What each device last reported (the store's newest readings): registers continue from there (Simulation's resumeFrom). */
  readonly resumeFrom?: ReadonlyMap<string, LastReport>;
  /** Simulated time never passes the wall clock (SimClock's `live`): for a server that refuses readings from the future. */
  readonly live?: boolean;
}

export interface FleetCounters {
  /** Every message published: telemetry, events and status. */
  published: number;
  telemetry: number;
  events: number;
  status: number;
}

export interface Fleet {
  readonly devices: readonly Device[];
  /** MQTT connections held: one per non-meter device plus one per meter concentrator. */
  readonly connections: number;
  readonly counters: Readonly<FleetCounters>;
  /** Simulated epoch ms up to which every report has been published. */
  simTime(): number;
  /** How far the published reports trail the simulated clock, in simulated ms (large when the speed is more than the broker takes). */
  lagMs(): number;
  /** Publishes `offline` (retained) for every device, then disconnects. Safe to call twice. */
  stop(): Promise<void>;
}

interface Connection {
  readonly clientId: string;
  /** The broker account: the device id, or the concentrator's name (concentratorOf). */
  readonly account: string;
  readonly devices: readonly Device[];
  /** A single device's connection carries its last-will; a concentrator's cannot cover its meters. */
  readonly will: boolean;
}

const METER_KINDS: ReadonlySet<DeviceKind> = new Set(['water-meter', 'electric-meter']);
const CONNECT_BATCH = 50;
const CONGESTED_BYTES = 1 << 20;
const REPORTS_PER_CHUNK = 500;
let fleetsStarted = 0;

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const { site, log = () => {} } = options;
  const startMs = options.startMs ?? Date.now();
  const tickMs = options.tickMs ?? 100;
  if (!Number.isFinite(tickMs) || tickMs <= 0) throw new SimError('SIM_BAD_OPTION', `tickMs must be a positive number, got ${tickMs}`);
  const sim = new Simulation({ site, seed: options.seed, startMs, ...(options.filter ? { filter: options.filter } : {}), ...(options.intervalsS ? { intervalsS: options.intervalsS } : {}), ...(options.injections ? { injections: options.injections } : {}), ...(options.resumeFrom ? { resumeFrom: options.resumeFrom } : {}) });
  checkSpeed(options.speed);

  const statusTopic = (d: Device) => deviceTopic(site.id, d.plotId, d.kind, d.id, 'status');
  const plan = planConnections(sim.devices, `sim-${process.pid}-${++fleetsStarted}`);
  const counters: FleetCounters = { published: 0, telemetry: 0, events: 0, status: 0 };
  const clientOf = new Map<string, MqttClient>();
  const clients: { conn: Connection; client: MqttClient }[] = [];

  const announce = (client: MqttClient, devices: readonly Device[], status: DeviceStatus) =>
    Promise.all(devices.map(async (d) => {
      await client.publishAsync(statusTopic(d), status, { qos: 1, retain: true });
      counters.status++;
      counters.published++;
    }));

  const open = async (conn: Connection) => {
    const client = await connect(options, conn, statusTopic);
    clients.push({ conn, client });
    for (const d of conn.devices) clientOf.set(d.id, client);
    let reported = false;
    client.on('error', (err) => {
      if (!reported) log(`simulator connection ${conn.clientId}: ${err.message}`);
      reported = true;
    });
    // After a reconnect the broker may have sent the will: say online again.
    client.on('connect', () => void announce(client, conn.devices, 'online').catch(() => {}));
    await announce(client, conn.devices, 'online');
  };
  for (let i = 0; i < plan.length; i += CONNECT_BATCH) {
    const results = await Promise.allSettled(plan.slice(i, i + CONNECT_BATCH).map(open));
    const failure = results.find((r) => r.status === 'rejected');
    if (failure) {
      await Promise.all(clients.map(({ client }) => client.endAsync()));
      throw failure.reason;
    }
  }

  const clock = new SimClock(startMs, options.speed, undefined, options.live ?? false);
  const publish = (message: SimMessage) => {
    const { device } = message;
    const client = clientOf.get(device.id)!;
    const topic = (channel: Channel) => deviceTopic(site.id, device.plotId, device.kind, device.id, channel);
    counters.published++;
    switch (message.channel) {
      case 'status': // a powered-down device: what the broker would publish as its last will, or its hello when power returns
        client.publish(topic('status'), message.payload, { qos: 1, retain: true });
        counters.status++;
        return;
      case 'raw':
        client.publish(topic(message.on), message.payload, { qos: 0 });
        counters.telemetry++;
        return;
      case 'event':
        client.publish(topic('event'), JSON.stringify(message.payload), { qos: 1 });
        counters.events++;
        return;
      case 'telemetry':
        client.publish(topic('telemetry'), JSON.stringify(message.payload), { qos: 0 });
        counters.telemetry++;
    }
  };
  // Speed is a target: when the sockets back up, or a tick has used half its
  // time, the simulation falls behind the clock instead of flooding memory or
  // starving the event loop (an embedded broker shares it); lagMs() says by how much.
  const congested = () => clients.some(({ client }) => client.stream.writableLength > CONGESTED_BYTES);
  const tick = () => {
    const started = performance.now();
    const target = clock.now();
    while (sim.time < target && performance.now() - started < tickMs / 2 && !congested()) sim.advanceTo(target, publish, REPORTS_PER_CHUNK);
  };
  const timer = setInterval(tick, tickMs);
  log(`simulating ${sim.devices.length} devices of ${site.id} over ${clients.length} MQTT connections at ${options.speed}x (seed ${options.seed})`);

  let stopping: Promise<void> | undefined;
  return {
    devices: sim.devices,
    connections: clients.length,
    counters,
    simTime: () => sim.time,
    lagMs: () => Math.max(0, clock.now() - sim.time),
    stop() {
      stopping ??= (async () => {
        clearInterval(timer);
        await Promise.all(clients.map(async ({ conn, client }) => {
          await announce(client, conn.devices, 'offline');
          await client.endAsync();
        }));
        log(`simulators stopped after ${counters.published} messages`);
      })();
      return stopping;
    },
  };
}

/** One connection per non-meter device; meters grouped by building, or by plot outside buildings. */
function planConnections(devices: readonly Device[], prefix: string): Connection[] {
  const connections: Connection[] = [];
  const concentrators = new Map<string, Device[]>();
  for (const d of devices) {
    if (!METER_KINDS.has(d.kind)) {
      connections.push({ clientId: `${prefix}-${d.id}`, account: d.id, devices: [d], will: true });
      continue;
    }
    const key = concentratorOf(d);
    const group = concentrators.get(key);
    if (group) group.push(d);
    else concentrators.set(key, [d]);
  }
  for (const [key, group] of concentrators) connections.push({ clientId: `${prefix}-${key}`, account: key, devices: group, will: false });
  return connections;
}

async function connect(options: FleetOptions, conn: Connection, statusTopic: (d: Device) => string): Promise<MqttClient> {
  const device = conn.devices[0]!;
  const account = options.credentialsFor?.(conn.account) ?? { username: options.username, password: options.password };
  try {
    return await mqtt.connectAsync(options.brokerUrl, {
      clientId: conn.clientId,
      clean: true,
      reconnectPeriod: 2_000,
      queueQoSZero: false, // telemetry sent while disconnected is lost, as from a real device; memory stays flat
      connectTimeout: 10_000,
      ...(account.username !== undefined ? { username: account.username } : {}),
      ...(account.password !== undefined ? { password: account.password } : {}),
      ...(conn.will ? { will: { topic: statusTopic(device), payload: Buffer.from('offline'), qos: 1 as const, retain: true } } : {}),
    }, false);
  } catch (err) {
    const hint = /username or password|not authorized/i.test((err as Error).message)
      ? ' (the embedded broker of `npm start` needs --device-secret-file data/device-secret; another broker, credentials in the URL)'
      : '';
    throw new SimError('SIM_BROKER_UNREACHABLE', `cannot connect to MQTT broker ${options.brokerUrl}: ${(err as Error).message}${hint}`);
  }
}

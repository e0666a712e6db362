/**
 * The whole fleet as one deterministic, I/O-free simulation: every selected
 * device reports at its kind's interval (with a random phase so reports are
 * spread out), in simulated-time order. The MQTT fleet and the tests both
 * drive it with advanceTo().
 */
import { DEVICE_KINDS, KINDS, type DeviceKind } from '../../server/src/catalogue/kinds.ts';
import type { Device, Site } from '../../server/src/catalogue/types.ts';
import { PAYLOAD_VERSION, type Channel, type DeviceStatus, type EventPayload, type MetricValue, type TelemetryPayload } from '../../server/src/contract.ts';
import { SimEnv } from './env.ts';
import { SimError } from './errors.ts';
import type { Fault } from './faults.ts';
import { KIND_MODELS, bind, type DeviceRunner } from './models/index.ts';
import { deviceRng, noiseAt, streamSeed } from './random.ts';

export interface DeviceFilter {
  readonly plot?: string;
  readonly building?: string;
  readonly kind?: DeviceKind;
}

export interface SimulationOptions {
  readonly site: Site;
  readonly seed: number;
  /** Simulated epoch ms at which the devices start. */
  readonly startMs: number;
  readonly filter?: DeviceFilter;
  /** Report interval per kind in simulated seconds, overriding KINDS[kind].reportIntervalS. */
  readonly intervalsS?: Partial<Record<DeviceKind, number>>;
  /** Faults to inject (scenarios.ts). */
  readonly injections?: readonly Injection[];
  /**
   * What each device last reported before startMs, by device id (e.g. the store's newest
   * readings): its registers continue from there, and its first report counts what it
   * measured since (over at most RESUME_GAP_MS), so no register steps back at the start.
   */
  readonly resumeFrom?: ReadonlyMap<string, LastReport>;
}

/** A device's last report: when, and what it said. */
export interface LastReport { readonly ts: number; readonly values: Readonly<Record<string, MetricValue>> }

/** The longest gap a resumed device's first report accounts for; a longer outage (the server was down) is not replayed. */
export const RESUME_GAP_MS = 6 * 3_600_000;

/**
 * What can go wrong, besides a device's readings (a `fault`, see faults.ts):
 * a device that stops sending (with its last will `offline`, or silently),
 * a feeder outage (its devices lose power; the generator carries the fire
 * lifts), a building whose messages arrive late, out of order and twice, and
 * a device that also sends malformed messages.
 */
export type Injection =
  | { readonly type: 'fault'; readonly deviceId: string; readonly fault: Fault }
  | { readonly type: 'silent'; readonly deviceId: string; readonly from: number; readonly offline: boolean }
  | { readonly type: 'feeder-outage'; readonly feederId: string; readonly from: number; readonly to?: number }
  | { readonly type: 'reorder-duplicate'; readonly building: string; readonly from: number }
  | { readonly type: 'malformed'; readonly deviceId: string; readonly from: number };

export type SimMessage =
  | { readonly device: Device; readonly channel: 'telemetry'; readonly payload: TelemetryPayload }
  | { readonly device: Device; readonly channel: 'event'; readonly payload: EventPayload }
  /** Retained status, as the device (or the broker, for its last will) publishes it. */
  | { readonly device: Device; readonly channel: 'status'; readonly payload: DeviceStatus }
  /** A malformed message: `payload` is published as is on the device's `on` channel. */
  | { readonly device: Device; readonly channel: 'raw'; readonly on: Channel; readonly payload: string };

/** A device's connection dies this long after its power: the broker's keep-alive (30 s) × 1.5 before it sends the last will. */
export const LAST_WILL_DELAY_MS = 45_000;

interface Scheduled {
  readonly device: Device;
  readonly runner: DeviceRunner;
  readonly intervalMs: number;
  readonly order: number;
  due: number;
  telemetrySeq: number;
  eventSeq: number;
  /** Whether the device is up and connected (it announced online, or will on its first report). */
  connected: boolean;
  readonly silentFrom: number;
  readonly silentOffline: boolean;
  readonly transport: 'normal' | 'reorder-duplicate' | 'malformed';
  readonly transportFrom: number;
  /** A report held back to be delivered after the next one (reorder). */
  held: SimMessage[];
}

export class Simulation {
  readonly env: SimEnv;
  readonly devices: readonly Device[];
  private readonly queue: Scheduled[] = []; // a binary min-heap on (due, order)
  private now: number;

  constructor(options: SimulationOptions) {
    const { site, seed, startMs } = options;
    if (!Number.isInteger(seed)) throw new SimError('SIM_BAD_OPTION', `seed must be an integer, got ${seed}`);
    const injections = options.injections ?? [];
    const outages = injections.flatMap((i) => (i.type === 'feeder-outage' ? [{ feederId: i.feederId, from: i.from, ...(i.to !== undefined ? { to: i.to } : {}) }] : []));
    this.env = new SimEnv(site, seed, outages);
    this.devices = selectDevices(site, options.filter ?? {});
    this.now = startMs;
    this.seed = seed;
    this.devices.forEach((device, order) => {
      const intervalMs = intervalMsFor(device.kind, options.intervalsS);
      const rng = deviceRng(seed, device.id);
      const phase = Math.floor(rng.next() * intervalMs);
      const mine = injections.filter((i) => ('deviceId' in i && i.deviceId === device.id) || (i.type === 'reorder-duplicate' && i.building === device.buildingId));
      const model = mine.reduce((m, i) => (i.type === 'fault' ? i.fault(m) : m), KIND_MODELS[device.kind]);
      const last = options.resumeFrom?.get(device.id);
      const t0 = last === undefined ? startMs : Math.min(startMs, Math.max(last.ts, startMs - RESUME_GAP_MS));
      const runner = bind(model, { device, rng, env: this.env }, t0, last?.values);
      const silent = mine.find((i) => i.type === 'silent');
      const transport = mine.find((i) => i.type === 'reorder-duplicate' || i.type === 'malformed');
      this.push({
        device, runner, intervalMs, order, due: startMs + phase, telemetrySeq: 0, eventSeq: 0, connected: true,
        silentFrom: silent?.from ?? Infinity, silentOffline: silent?.offline ?? false,
        transport: transport?.type ?? 'normal', transportFrom: transport?.from ?? Infinity, held: [],
      });
    });
  }

  private readonly seed: number;

  /** Simulated time up to which every due report has been made. */
  get time(): number {
    return this.now;
  }

  /**
   * Makes every report due at or before `simMs`, oldest first, handing each
   * message to `emit`. With a `limit`, stops once that many reports are made
   * (`time` then tells how far it got). Returns how many messages were emitted.
   */
  advanceTo(simMs: number, emit: (message: SimMessage) => void, limit = Infinity): number {
    let count = 0;
    let reports = 0;
    for (let next = this.queue[0]; next !== undefined && next.due <= simMs; next = this.queue[0]) {
      if (reports === limit) {
        this.now = Math.max(this.now, next.due - 1);
        return count;
      }
      reports++;
      count += this.report(next, emit);
      this.pop();
      next.due += next.intervalMs;
      this.push(next);
    }
    this.now = Math.max(this.now, simMs);
    return count;
  }

  /** One due report of a device, through whatever is injected into it; returns the messages emitted. */
  private report(s: Scheduled, emit: (message: SimMessage) => void): number {
    const t = s.due;
    const { device } = s;
    const out = s.runner.report(t); // the device's state moves on even when nothing gets out
    const up = t < s.silentFrom && this.env.powered(device, t);
    if (!up) {
      // Meters report through a concentrator without a last will; a device with its own connection gets one.
      const willFires = (t >= s.silentFrom ? s.silentOffline : t - this.outageStart(device, t) >= LAST_WILL_DELAY_MS) && !METER_KINDS.has(device.kind);
      if (s.connected && (willFires || METER_KINDS.has(device.kind) || t >= s.silentFrom)) {
        s.connected = false;
        if (willFires) {
          emit({ device, channel: 'status', payload: 'offline' });
          return 1;
        }
      }
      return 0;
    }
    const messages: SimMessage[] = [];
    if (!s.connected) {
      s.connected = true;
      messages.push({ device, channel: 'status', payload: 'online' });
    }
    for (const e of out.events ?? []) {
      messages.push({ device, channel: 'event', payload: { v: PAYLOAD_VERSION, ts: t, seq: ++s.eventSeq, event: e.event, ...(e.data ? { data: e.data } : {}) } });
    }
    messages.push({ device, channel: 'telemetry', payload: { v: PAYLOAD_VERSION, ts: t, seq: ++s.telemetrySeq, m: out.telemetry } });
    if (t >= s.transportFrom && s.transport === 'malformed') messages.push(malformed(device, t, s.telemetrySeq));
    if (t >= s.transportFrom && s.transport === 'reorder-duplicate') return this.deliverLate(s, messages, emit);
    for (const m of messages) emit(m);
    return messages.length;
  }

  /**
   * A flaky link, deterministically: a third of the reports are held back and
   * delivered after the device's next one (out of order), and one in five is
   * delivered twice.
   */
  private deliverLate(s: Scheduled, messages: SimMessage[], emit: (message: SimMessage) => void): number {
    const u = noiseAt(streamSeed(this.seed, `${s.device.id}#link`), s.telemetrySeq);
    const now = u < 0.2 ? [...messages, ...messages] : messages;
    if (u > 0.67 && s.held.length === 0) {
      s.held = now;
      return 0;
    }
    const out = [...now, ...s.held];
    s.held = [];
    for (const m of out) emit(m);
    return out.length;
  }

  private outageStart(device: Device, t: number): number {
    const o = this.env.outages.find((x) => x.feederId === device.feederId && t >= x.from && (x.to === undefined || t < x.to));
    return o?.from ?? t;
  }

  private push(item: Scheduled): void {
    const q = this.queue;
    q.push(item);
    for (let i = q.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(q[i]!, q[parent]!)) break;
      [q[i], q[parent]] = [q[parent]!, q[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const q = this.queue;
    const last = q.pop()!;
    if (q.length === 0) return;
    q[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < q.length && before(q[l]!, q[min]!)) min = l;
      if (r < q.length && before(q[r]!, q[min]!)) min = r;
      if (min === i) break;
      [q[i], q[min]] = [q[min]!, q[i]!];
      i = min;
    }
  }
}

const METER_KINDS: ReadonlySet<DeviceKind> = new Set(['water-meter', 'electric-meter']);

/** The malformed messages a broken firmware sends, in turn: each is one dead-letter reason at ingest. */
const MALFORMED: readonly ((t: number, seq: number) => { on: Channel; text: string })[] = [
  (t) => ({ on: 'telemetry', text: `{"v":1,"ts":${t},"seq":` }), // not-json: cut off mid-message
  (t, seq) => ({ on: 'telemetry', text: JSON.stringify({ v: 1, ts: t, seq, values: { pressure_mpa: 0.4 } }) }), // bad-envelope: no m
  (t, seq) => ({ on: 'telemetry', text: JSON.stringify({ v: 1, ts: t, seq, m: { pressure_mpa: 'high' } }) }), // wrong-type
  (t, seq) => ({ on: 'telemetry', text: JSON.stringify({ v: 1, ts: t, seq, m: { colour: 3 } }) }), // unknown-metric
  (t, seq) => ({ on: 'telemetry', text: JSON.stringify({ v: 1, ts: t, seq, m: { pressure_mpa: -7 } }) }), // out-of-range
  (_t, seq) => ({ on: 'telemetry', text: JSON.stringify({ v: 1, ts: 'yesterday', seq, m: { pressure_mpa: 0.4 } }) }), // bad-timestamp
  (t, seq) => ({ on: 'telemetry', text: JSON.stringify({ v: 1, ts: t + 3_600_000, seq, m: { pressure_mpa: 0.4 } }) }), // future-timestamp
  () => ({ on: 'status', text: 'onlin' }), // bad-status
];

function malformed(device: Device, t: number, seq: number): SimMessage {
  const { on, text } = MALFORMED[seq % MALFORMED.length]!(t, seq);
  return { device, channel: 'raw', on, payload: text };
}

const before = (a: Scheduled, b: Scheduled) => a.due < b.due || (a.due === b.due && a.order < b.order);

function intervalMsFor(kind: DeviceKind, overrides: SimulationOptions['intervalsS']): number {
  const seconds = overrides?.[kind] ?? KINDS[kind].reportIntervalS;
  if (!Number.isFinite(seconds) || seconds <= 0) throw new SimError('SIM_BAD_OPTION', `report interval of ${kind} must be a positive number of seconds, got ${seconds}`);
  return seconds * 1000;
}

/** The devices a filter selects; an unknown plot, building or kind, or an empty selection, is an error. */
export function selectDevices(site: Site, filter: DeviceFilter): readonly Device[] {
  if (filter.plot !== undefined && !site.plots.some((p) => p.id === filter.plot) && !site.devices.some((d) => d.plotId === filter.plot)) {
    throw new SimError('SIM_EMPTY_SELECTION', `plot "${filter.plot}" is not in site ${site.id} (plots: ${site.plots.map((p) => p.id).join(', ')})`);
  }
  if (filter.building !== undefined && !site.devices.some((d) => d.buildingId === filter.building)) {
    throw new SimError('SIM_EMPTY_SELECTION', `building "${filter.building}" has no devices in site ${site.id}`);
  }
  if (filter.kind !== undefined && !(DEVICE_KINDS as readonly string[]).includes(filter.kind)) {
    throw new SimError('SIM_EMPTY_SELECTION', `kind "${filter.kind}" is unknown (kinds: ${DEVICE_KINDS.join(', ')})`);
  }
  const devices = site.devices.filter((d) =>
    (filter.plot === undefined || d.plotId === filter.plot)
    && (filter.building === undefined || d.buildingId === filter.building)
    && (filter.kind === undefined || d.kind === filter.kind));
  if (devices.length === 0) throw new SimError('SIM_EMPTY_SELECTION', `no device matches ${JSON.stringify(filter)}`);
  return devices;
}

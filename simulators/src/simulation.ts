/**
 * The whole fleet as one deterministic, I/O-free simulation: every selected
 * device reports at its kind's interval (with a random phase so reports are
 * spread out), in simulated-time order. The MQTT fleet and the tests both
 * drive it with advanceTo().
 */
import { DEVICE_KINDS, KINDS, type DeviceKind } from '../../server/src/catalogue/kinds.ts';
import type { Device, Site } from '../../server/src/catalogue/types.ts';
import { PAYLOAD_VERSION, type EventPayload, type TelemetryPayload } from '../../server/src/contract.ts';
import { SimEnv } from './env.ts';
import { SimError } from './errors.ts';
import { MODELS, type DeviceRunner } from './models/index.ts';
import { deviceRng } from './random.ts';

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
}

export type SimMessage =
  | { readonly device: Device; readonly channel: 'telemetry'; readonly payload: TelemetryPayload }
  | { readonly device: Device; readonly channel: 'event'; readonly payload: EventPayload };

interface Scheduled {
  readonly device: Device;
  readonly runner: DeviceRunner;
  readonly intervalMs: number;
  readonly order: number;
  due: number;
  telemetrySeq: number;
  eventSeq: number;
}

export class Simulation {
  readonly env: SimEnv;
  readonly devices: readonly Device[];
  private readonly queue: Scheduled[] = []; // a binary min-heap on (due, order)
  private now: number;

  constructor(options: SimulationOptions) {
    const { site, seed, startMs } = options;
    if (!Number.isInteger(seed)) throw new SimError('SIM_BAD_OPTION', `seed must be an integer, got ${seed}`);
    this.env = new SimEnv(site, seed);
    this.devices = selectDevices(site, options.filter ?? {});
    this.now = startMs;
    this.devices.forEach((device, order) => {
      const intervalMs = intervalMsFor(device.kind, options.intervalsS);
      const rng = deviceRng(seed, device.id);
      const phase = Math.floor(rng.next() * intervalMs);
      const runner = MODELS[device.kind]({ device, rng, env: this.env }, startMs);
      this.push({ device, runner, intervalMs, order, due: startMs + phase, telemetrySeq: 0, eventSeq: 0 });
    });
  }

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
      const t = next.due;
      const out = next.runner.report(t);
      for (const e of out.events ?? []) {
        const payload: EventPayload = { v: PAYLOAD_VERSION, ts: t, seq: ++next.eventSeq, event: e.event, ...(e.data ? { data: e.data } : {}) };
        emit({ device: next.device, channel: 'event', payload });
        count++;
      }
      emit({ device: next.device, channel: 'telemetry', payload: { v: PAYLOAD_VERSION, ts: t, seq: ++next.telemetrySeq, m: out.telemetry } });
      count++;
      this.pop();
      next.due = t + next.intervalMs;
      this.push(next);
    }
    this.now = Math.max(this.now, simMs);
    return count;
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

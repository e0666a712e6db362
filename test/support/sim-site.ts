/**
 * A small hand-built site for the simulator tests: one plot with one building
 * of 8 households, two shops (one that never closes), and one device of every
 * kind and role the simulators model. At Blue Valley's latitude and timezone.
 */
import { KINDS, type DeviceKind } from '../../server/src/catalogue/kinds.ts';
import type { Building, Device, Feeder, Site, Unit } from '../../server/src/catalogue/types.ts';
import type { MetricValue } from '../../server/src/contract.ts';
import { Simulation, type SimMessage } from '../../simulators/src/simulation.ts';

export const SIM_SITE_ID = 'sim-valley';

const device = (d: Pick<Device, 'id' | 'kind' | 'role'> & Partial<Device>): Device => ({
  name: d.id, nameZh: d.id, plotId: 'A', buildingId: null, unitId: null, feederId: 'SS-A/F1', position: [0, 0], ...d,
});

const building: Building = {
  id: 'A-01', plotId: 'A', floors: 4, unitsPerFloor: 2, households: 8, stairwells: 2, elevators: 2,
  footprint: { x: 10, y: 10, w: 40, h: 12 }, feederId: 'SS-A/F1',
};

const households: Unit[] = Array.from({ length: 8 }, (_, i) => ({
  id: `A-01-0${Math.floor(i / 2) + 1}0${(i % 2) + 1}`, plotId: 'A', buildingId: 'A-01', floor: Math.floor(i / 2) + 1, use: 'residential', continuousUse: false,
}));
const shops: Unit[] = [
  { id: 'A-S01', plotId: 'A', buildingId: null, floor: null, use: 'commercial', continuousUse: false },
  { id: 'A-S02', plotId: 'A', buildingId: null, floor: null, use: 'commercial', continuousUse: true },
];

const feeders: Feeder[] = [
  { id: 'SS-A/F1', substationId: 'SS-A', buildingIds: ['A-01'] },
  { id: 'SS-A/F2', substationId: 'SS-A', buildingIds: [] },
];

export const SIM_DEVICES: readonly Device[] = [
  ...[...households, ...shops].flatMap((u) => {
    const role = u.use === 'residential' ? 'household' : 'shop';
    return [
      device({ id: `WM-${u.id}`, kind: 'water-meter', role, buildingId: u.buildingId, unitId: u.id }),
      device({ id: `EM-${u.id}`, kind: 'electric-meter', role, buildingId: u.buildingId, unitId: u.id }),
    ];
  }),
  device({ id: 'WM-A-INLET', kind: 'water-meter', role: 'plot-inlet', feederId: 'SS-A/F2' }),
  device({ id: 'EM-A-MAIN', kind: 'electric-meter', role: 'plot-main', feederId: null }),
  device({ id: 'EM-A-PR', kind: 'electric-meter', role: 'pump-room', feederId: 'SS-A/F2' }),
  device({ id: 'EM-A-01', kind: 'electric-meter', role: 'building', buildingId: 'A-01' }),
  device({ id: 'EM-FPR', kind: 'electric-meter', role: 'fire-pump-room', feederId: 'SS-A/F2' }),
  device({ id: 'BP-A-1', kind: 'booster-pump', role: 'duty', feederId: 'SS-A/F2' }),
  device({ id: 'BP-A-2', kind: 'booster-pump', role: 'assist', feederId: 'SS-A/F2' }),
  device({ id: 'BP-A-3', kind: 'booster-pump', role: 'standby', feederId: 'SS-A/F2' }),
  device({ id: 'FP-ELECTRIC', kind: 'fire-pump', role: 'electric', feederId: 'SS-A/F2' }),
  device({ id: 'FP-JOCKEY', kind: 'fire-pump', role: 'jockey', feederId: 'SS-A/F2' }),
  device({ id: 'FP-DIESEL', kind: 'fire-pump', role: 'diesel', feederId: null }),
  device({ id: 'EL-A-01-1', kind: 'elevator', role: 'building', buildingId: 'A-01' }),
  device({ id: 'EL-A-01-2', kind: 'elevator', role: 'building', buildingId: 'A-01' }),
  device({ id: 'ST-A-01-1', kind: 'stair-light', role: 'building', buildingId: 'A-01' }),
  device({ id: 'ST-A-01-2', kind: 'stair-light', role: 'building', buildingId: 'A-01' }),
  device({ id: 'GEN-1', kind: 'generator', role: 'site', feederId: null }),
  device({ id: 'HY-A-01', kind: 'hydrant', role: 'site', feederId: null }),
  device({ id: 'HY-A-02', kind: 'hydrant', role: 'site', feederId: null }),
  device({ id: 'SL-A-001', kind: 'street-light', role: 'site', feederId: 'SS-A/F2' }),
  device({ id: 'SL-A-002', kind: 'street-light', role: 'site', feederId: 'SS-A/F2' }),
  device({ id: 'SS-A', kind: 'substation', role: 'plot-main', feederId: null }),
];

/** The site; `extraDevices` are appended (to check that adding a device changes no other). */
export function simSite(siteId: string = SIM_SITE_ID, extraDevices: readonly Device[] = []): Site {
  return {
    id: siteId, name: 'Sim Valley', nameZh: '模拟谷', latitude: 30.6, longitude: 104.1, timezone: 'Asia/Shanghai',
    size: { w: 100, h: 100 },
    plots: [{
      id: 'A', name: 'Plot A', buildings: 1, households: 8, shops: 2, parkingSpaces: 10, parkingUsable: 10, nonMotorSpaces: 10,
      garages: 0, managementRoomsM2: 0, outline: [[0, 0], [100, 0], [100, 100], [0, 100]], substationId: 'SS-A',
    }],
    buildings: [building],
    units: [...households, ...shops],
    feeders,
    devices: [...SIM_DEVICES, ...extraDevices],
    roads: [],
    contacts: [],
  };
}

/** Local time in the site's zone (+08:00) as epoch ms: at(2025, 6, 21, 9, 30). */
export function at(year: number, month: number, day: number, hour = 0, minute = 0): number {
  return Date.UTC(year, month - 1, day, hour - 8, minute);
}

/** Every message a simulation of `site` emits over [fromMs, toMs], in order. */
export function simulate(site: Site, seed: number, fromMs: number, toMs: number, intervalsS?: Partial<Record<DeviceKind, number>>): SimMessage[] {
  const sim = new Simulation({ site, seed, startMs: fromMs, ...(intervalsS ? { intervalsS } : {}) });
  const messages: SimMessage[] = [];
  sim.advanceTo(toMs, (m) => messages.push(m));
  return messages;
}

export interface Report { readonly ts: number; readonly seq: number; readonly m: Record<string, MetricValue> }

/** Telemetry per device id, oldest first. */
export function telemetryByDevice(messages: readonly SimMessage[]): Map<string, Report[]> {
  const byDevice = new Map<string, Report[]>();
  for (const x of messages) {
    if (x.channel !== 'telemetry') continue;
    const report = { ts: Number(x.payload.ts), seq: x.payload.seq, m: x.payload.m };
    const list = byDevice.get(x.device.id);
    if (list) list.push(report);
    else byDevice.set(x.device.id, [report]);
  }
  return byDevice;
}

/** Telemetry that breaks the contract: an unknown metric, a wrong type, a value outside its kind's range. */
export function metricProblems(messages: readonly SimMessage[]): string[] {
  const problems: string[] = [];
  for (const { device, channel, payload } of messages) {
    if (channel !== 'telemetry') continue;
    for (const [name, value] of Object.entries(payload.m)) {
      const def = KINDS[device.kind].metrics[name];
      if (def === undefined) problems.push(`${device.id}: unknown metric ${name}`);
      else if (typeof value !== def.type) problems.push(`${device.id}: ${name} is a ${typeof value}, not a ${def.type}`);
      else if (typeof value === 'number' && (!Number.isFinite(value) || value < def.min! || value > def.max!)) problems.push(`${device.id}: ${name}=${value} outside ${def.min}…${def.max}`);
      else if (typeof value === 'string' && !def.values!.includes(value)) problems.push(`${device.id}: ${name}="${value}"`);
    }
  }
  return problems;
}

/** Cumulative registers that went down between two reports of a device. */
export function registerProblems(messages: readonly SimMessage[]): string[] {
  const last = new Map<string, number>();
  const problems: string[] = [];
  for (const { device, channel, payload } of messages) {
    if (channel !== 'telemetry') continue;
    for (const [name, value] of Object.entries(payload.m)) {
      if (!KINDS[device.kind].metrics[name]?.cumulative) continue;
      const key = `${device.id} ${name}`;
      if ((value as number) < (last.get(key) ?? -Infinity)) problems.push(`${key}: ${last.get(key)} → ${value}`);
      last.set(key, value as number);
    }
  }
  return problems;
}

/**
 * A hand-built site for the alarm tests: two plots, feeders with a few
 * buildings' worth of devices, and helpers to feed readings to detectors.
 *
 *   SS-A  F1: A-01 (2 elevators, 2 stair lights, 2 household meters), A-02 (1 elevator, 1 stair light)
 *         F2: pump room (3 booster pumps, the plot's bulk water inlet meter, electric + jockey fire pumps)
 *         F3: street lights SL-A-001..003, shops A-S01 (continuous use), A-S02
 *   own supply: SS-A, diesel fire pump, generator, hydrant
 *   SS-B  F1: B-01 with 12 elevators (enough for a flood)
 */
import { RULES, isReadingRule, type ReadingRule } from '../../server/src/domain/alarms/rules.ts';
import { evaluate, type Condition, type DetectorContext, type DetectorState } from '../../server/src/domain/alarms/detectors.ts';
import { localClock } from '../../server/src/domain/alarms/local-clock.ts';
import type { Device, Feeder, Site, SiteIndex, Unit } from '../../server/src/catalogue/types.ts';
import type { MetricValue } from '../../server/src/contract.ts';
import type { Reading } from '../../server/src/ports/time-series.ts';

/** 2024-01-15 00:00 UTC: every test time is an offset from it. */
export const T0 = Date.UTC(2024, 0, 15);
export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

const device = (d: Pick<Device, 'id' | 'kind' | 'role' | 'plotId'> & Partial<Device>): Device => ({
  name: d.id, nameZh: d.id, buildingId: null, unitId: null, feederId: null, position: [0, 0], ...d,
});

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

export const ALARM_DEVICES: readonly Device[] = [
  device({ id: 'SS-A', kind: 'substation', role: 'plot-main', plotId: 'A' }),
  ...[1, 2].map((i) => device({ id: `EL-A-01-${i}`, kind: 'elevator', role: 'building', plotId: 'A', buildingId: 'A-01', feederId: 'SS-A/F1' })),
  ...[1, 2].map((i) => device({ id: `ST-A-01-${i}`, kind: 'stair-light', role: 'building', plotId: 'A', buildingId: 'A-01', feederId: 'SS-A/F1' })),
  ...['0101', '0102'].map((u) => device({ id: `WM-A-01-${u}`, kind: 'water-meter', role: 'household', plotId: 'A', buildingId: 'A-01', unitId: `A-01-${u}`, feederId: 'SS-A/F1' })),
  device({ id: 'EM-A-01-0101', kind: 'electric-meter', role: 'household', plotId: 'A', buildingId: 'A-01', unitId: 'A-01-0101', feederId: 'SS-A/F1' }),
  device({ id: 'EL-A-02-1', kind: 'elevator', role: 'building', plotId: 'A', buildingId: 'A-02', feederId: 'SS-A/F1' }),
  device({ id: 'ST-A-02-1', kind: 'stair-light', role: 'building', plotId: 'A', buildingId: 'A-02', feederId: 'SS-A/F1' }),
  device({ id: 'BP-A-1', kind: 'booster-pump', role: 'duty', plotId: 'A', feederId: 'SS-A/F2' }),
  device({ id: 'BP-A-2', kind: 'booster-pump', role: 'assist', plotId: 'A', feederId: 'SS-A/F2' }),
  device({ id: 'BP-A-3', kind: 'booster-pump', role: 'standby', plotId: 'A', feederId: 'SS-A/F2' }),
  device({ id: 'WM-A-INLET', kind: 'water-meter', role: 'plot-inlet', plotId: 'A', feederId: 'SS-A/F2' }),
  device({ id: 'FP-1', kind: 'fire-pump', role: 'electric', plotId: 'A', feederId: 'SS-A/F2' }),
  device({ id: 'FP-2', kind: 'fire-pump', role: 'jockey', plotId: 'A', feederId: 'SS-A/F2' }),
  device({ id: 'FP-3', kind: 'fire-pump', role: 'diesel', plotId: 'A' }),
  device({ id: 'GEN-1', kind: 'generator', role: 'site', plotId: 'A' }),
  device({ id: 'HY-A-01', kind: 'hydrant', role: 'site', plotId: 'A' }),
  ...range(3).map((i) => device({ id: `SL-A-00${i}`, kind: 'street-light', role: 'site', plotId: 'A', feederId: 'SS-A/F3' })),
  device({ id: 'WM-A-S01', kind: 'water-meter', role: 'shop', plotId: 'A', unitId: 'A-S01', feederId: 'SS-A/F3' }),
  device({ id: 'WM-A-S02', kind: 'water-meter', role: 'shop', plotId: 'A', unitId: 'A-S02', feederId: 'SS-A/F3' }),
  device({ id: 'SS-B', kind: 'substation', role: 'plot-main', plotId: 'B' }),
  ...range(12).map((i) => device({ id: `EL-B-01-${i}`, kind: 'elevator', role: 'building', plotId: 'B', buildingId: 'B-01', feederId: 'SS-B/F1' })),
];

const FEEDERS: readonly Feeder[] = [
  { id: 'SS-A/F1', substationId: 'SS-A', buildingIds: ['A-01', 'A-02'] },
  { id: 'SS-A/F2', substationId: 'SS-A', buildingIds: [] },
  { id: 'SS-A/F3', substationId: 'SS-A', buildingIds: [] },
  { id: 'SS-B/F1', substationId: 'SS-B', buildingIds: ['B-01'] },
];

const unit = (id: string, buildingId: string | null, use: Unit['use'], continuousUse = false): Unit => ({
  id, plotId: id.slice(0, 1), buildingId, floor: buildingId === null ? null : 1, use, continuousUse,
});

const UNITS: readonly Unit[] = [
  unit('A-01-0101', 'A-01', 'residential'),
  unit('A-01-0102', 'A-01', 'residential'),
  unit('A-S01', null, 'commercial', true),
  unit('A-S02', null, 'commercial'),
];

export function alarmSiteIndex(): SiteIndex {
  const site: Site = {
    id: 'alarm-valley', name: 'Alarm Valley', nameZh: '警谷', latitude: 0, longitude: 0, timezone: 'UTC',
    size: { w: 100, h: 100 }, plots: [], buildings: [], units: UNITS, feeders: FEEDERS, devices: ALARM_DEVICES, roads: [], contacts: [],
  };
  const devices = new Map(site.devices.map((d) => [d.id, d]));
  return {
    site,
    device: (id) => devices.get(id),
    unit: (id) => UNITS.find((u) => u.id === id),
    building: () => undefined,
    plot: () => undefined,
    feeder: (id) => FEEDERS.find((f) => f.id === id),
    devicesOnFeeder: (feederId) => site.devices.filter((d) => d.feederId === feederId),
    devicesInBuilding: (buildingId) => site.devices.filter((d) => d.buildingId === buildingId),
  };
}

export function dev(id: string): Device {
  const found = ALARM_DEVICES.find((d) => d.id === id);
  if (!found) throw new Error(`no device ${id} in the alarm test site`);
  return found;
}

export function rule(id: string): ReadingRule {
  const found = RULES.find((r) => r.id === id);
  if (!found || !isReadingRule(found)) throw new Error(`no reading rule ${id}`);
  return found;
}

/** Night from 18:00 to 06:00 UTC. */
export const isNight = (ts: number): boolean => {
  const hour = new Date(ts).getUTCHours();
  return hour >= 18 || hour < 6;
};

/** The test site's local time: UTC. */
export const utcClock = localClock('UTC');

export function ctx(deviceId: string, overrides: Partial<DetectorContext> = {}): DetectorContext {
  return { device: dev(deviceId), exempt: false, occupied: true, isNight, local: utcClock, ...overrides };
}

export function reading(deviceId: string, ts: number, values: Record<string, MetricValue>, seq = Math.floor(ts / SECOND)): Reading {
  return { deviceId, ts, seq, values };
}

/** One step of a detector table: time offset from T0, the values, and optionally a seq (defaults to ts in seconds). */
export type Step = readonly [offsetMs: number, values: Record<string, MetricValue>, seq?: number];

/** Feeds the steps to one rule's detector in order and returns the condition after each. */
export function run(ruleId: string, steps: readonly Step[], context: DetectorContext = ctx(deviceFor(ruleId))): Condition[] {
  const r = rule(ruleId);
  let state: DetectorState | undefined;
  return steps.map(([offset, values, seq]) => {
    const result = evaluate(r, state, reading(context.device.id, T0 + offset, values, seq), context);
    state = result.state;
    return result.condition;
  });
}

/** A device of the test site that the rule applies to. */
function deviceFor(ruleId: string): string {
  const r = rule(ruleId);
  const found = ALARM_DEVICES.find((d) => r.kinds.includes(d.kind) && (r.roles === undefined || r.roles.includes(d.role)));
  if (!found) throw new Error(`no device for rule ${ruleId}`);
  return found.id;
}

/** Shorthand for a run of expected conditions: a = active, c = clear, u = unchanged. */
export function expected(code: string): Condition[] {
  const map = { a: 'active', c: 'clear', u: 'unchanged' } as const;
  return [...code.replace(/\s/g, '')].map((ch) => map[ch as keyof typeof map]);
}

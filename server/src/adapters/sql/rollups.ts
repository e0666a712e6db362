/**
 * The relational store's roll-ups, as pure functions (time-series-store.ts
 * keeps the tables): which devices are pre-summed together, and which stretch
 * of a query to read from which table.
 *
 * Tables: `readings_hourly` (per device, metric and UTC hour: count, sum, min,
 * max, first, last, and `prev`, the last value before the hour) and, for the
 * groups below, `readings_group_hourly` / `readings_group_daily` (the
 * members' consumption added up). An hour holds up-to-date roll-ups unless it
 * is marked dirty: every write marks the hours it touched, in the same
 * statement, and a roll-up pass recomputes marked hours once they are closed.
 * A mark at hour h means "this device's rows from h on may be stale": a late
 * reading changes its own hour and the `prev` of the device's next hour.
 */
import { createHash } from 'node:crypto';
import type { Device } from '../../catalogue/types.ts';
import { UTILITY_METER } from '../../domain/trends.ts';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/**
 * Devices whose consumption is also kept summed, per hour and per day, so that
 * a total over a plot reads a row per group and hour instead of one per meter.
 * A total uses a group only when it covers every member.
 */
export interface RollupGroup {
  readonly key: string;
  readonly deviceIds: readonly string[];
  /** Cumulative registers only: their consumption (delta) is what totals add up. */
  readonly metrics: readonly string[];
  /**
   * A group of groups: the keys of the groups it adds up (whose members are
   * its members). Its sums are the sum of theirs, so that a plot's total reads
   * one row an hour instead of one per building.
   */
  readonly parts?: readonly string[];
}

/**
 * The meters the managers' trends total (domain/trends.ts), one group per
 * kind, plot, building and role (household meters of building A-03, shops of
 * plot B, …): every trend scope (site, plot, building) is a union of groups.
 * Then, per kind, plot and role spread over several buildings, a group of
 * those groups, with `*` for the building in its key: a plot's month is then
 * 720 rows of a few groups, not of 50.
 */
export function groupsFromCatalogue(devices: readonly Device[]): RollupGroup[] {
  const registers = new Map<string, string>(Object.values(UTILITY_METER).map((u) => [u.kind, u.metric]));
  const byKey = new Map<string, { metrics: string[]; deviceIds: string[] }>();
  for (const device of devices) {
    const metric = registers.get(device.kind);
    if (metric === undefined) continue;
    const key = [device.kind, device.plotId, device.buildingId ?? '', device.role].join('/');
    const group = byKey.get(key) ?? { metrics: [metric], deviceIds: [] };
    group.deviceIds.push(device.id);
    byKey.set(key, group);
  }
  // Groups of one too (a building's common meter): their daily sums serve a year by day.
  const leaves = [...byKey].map(([key, g]) => ({ key, deviceIds: [...g.deviceIds].sort(), metrics: g.metrics }));
  const byRole = new Map<string, RollupGroup[]>();
  for (const leaf of leaves) {
    const [kind, plot, , role] = leaf.key.split('/');
    const key = [kind, plot, '*', role].join('/');
    byRole.set(key, [...(byRole.get(key) ?? []), leaf]);
  }
  const parents = [...byRole].filter(([, parts]) => parts.length > 1).map(([key, parts]) => ({
    key,
    deviceIds: parts.flatMap((p) => p.deviceIds).sort(),
    metrics: parts[0]!.metrics,
    parts: parts.map((p) => p.key).sort(),
  }));
  return [...leaves, ...parents].sort((a, b) => (a.key < b.key ? -1 : 1));
}

/** Changes when the group's members, metrics or parts change: its sums are then rebuilt. */
export function groupVersion(group: RollupGroup): string {
  const parts = group.parts ? [group.parts] : [];
  return createHash('sha256').update(JSON.stringify([group.deviceIds, group.metrics, ...parts])).digest('hex').slice(0, 16);
}

/** The groups a set of devices covers completely (groups of groups and their parts alike: planRead chooses). */
export function coveredGroups(deviceIds: readonly string[], groups: Iterable<RollupGroup>): RollupGroup[] {
  const wanted = new Set(deviceIds);
  const covered: RollupGroup[] = [];
  for (const group of groups) if (group.deviceIds.every((id) => wanted.has(id))) covered.push(group);
  return covered;
}

export interface RawStretch {
  readonly deviceId: string;
  readonly start: number;
  readonly end: number;
  /** Where the last value before `start` comes from: the raw readings, or the device's newest hourly row before it (clean there). */
  readonly baseline: 'raw' | 'hourly';
}
export interface DeviceStretch { readonly deviceId: string; readonly start: number; readonly end: number }
export interface GroupStretch { readonly key: string; readonly start: number; readonly end: number }

/** Which table answers which part of [from, to), per device and group; together they cover every device's [from, to) exactly once. */
export interface ReadPlan {
  readonly raw: RawStretch[];
  readonly hourly: DeviceStretch[];
  readonly groupHourly: GroupStretch[];
  readonly groupDaily: GroupStretch[];
}

export interface PlanInput {
  readonly from: number;
  readonly to: number;
  readonly everyMs: number;
  readonly deviceIds: readonly string[];
  /** The start of the device's first hour that may be stale (Infinity when none is). */
  readonly dirtyFrom: (deviceId: string) => number;
  /**
   * Groups to read sums from (only for delta totals): ready, and covered by
   * deviceIds; groups of groups may come with their parts.
   */
  readonly groups: readonly RollupGroup[];
}

/**
 * Roll-ups hold whole UTC hours, so they answer only for buckets that are
 * whole hours, and only for the hours wholly inside [from, to) that are
 * clean. Everything else — the part-hours at either end, a device's stale
 * hours and the open hour, which is always marked — is read raw.
 */
export function planRead(input: PlanInput): ReadPlan {
  const { from, to, everyMs, deviceIds } = input;
  const plan: ReadPlan = { raw: [], hourly: [], groupHourly: [], groupDaily: [] };
  const first = Math.ceil(from / HOUR) * HOUR;
  const last = Math.floor(to / HOUR) * HOUR;
  if (everyMs % HOUR !== 0 || first >= last) {
    for (const deviceId of deviceIds) plan.raw.push({ deviceId, start: from, end: to, baseline: 'raw' });
    return plan;
  }

  const coveredUntil = new Map<string, number>();
  for (const { group, end } of chooseGroups(input.groups, (g) => g.deviceIds.reduce((min, id) => Math.min(min, input.dirtyFrom(id)), last))) {
    if (end <= first) continue;
    for (const id of group.deviceIds) coveredUntil.set(id, end);
    const dayStart = Math.ceil(first / DAY) * DAY;
    const dayEnd = Math.floor(end / DAY) * DAY;
    if (everyMs % DAY === 0 && dayStart < dayEnd) {
      plan.groupDaily.push({ key: group.key, start: dayStart, end: dayEnd });
      if (first < dayStart) plan.groupHourly.push({ key: group.key, start: first, end: dayStart });
      if (dayEnd < end) plan.groupHourly.push({ key: group.key, start: dayEnd, end });
    } else {
      plan.groupHourly.push({ key: group.key, start: first, end });
    }
  }

  for (const deviceId of deviceIds) {
    const clean = input.dirtyFrom(deviceId);
    if (clean <= first) {
      plan.raw.push({ deviceId, start: from, end: to, baseline: 'raw' });
      continue;
    }
    if (from < first) plan.raw.push({ deviceId, start: from, end: first, baseline: 'raw' });
    const hourlyFrom = coveredUntil.get(deviceId) ?? first;
    const hourlyTo = Math.min(last, clean);
    if (hourlyFrom < hourlyTo) plan.hourly.push({ deviceId, start: hourlyFrom, end: hourlyTo });
    if (hourlyTo < to) plan.raw.push({ deviceId, start: hourlyTo, end: to, baseline: 'hourly' });
  }
  return plan;
}

/**
 * Groups that do not share a member, largest first, each with how far its
 * sums are clean (`endOf`). A group of groups is taken only where none of its
 * parts is clean further than it (a late reading in one building must not
 * send the whole plot's meters to their own rows): else its parts are.
 */
function chooseGroups(groups: readonly RollupGroup[], endOf: (group: RollupGroup) => number): Array<{ group: RollupGroup; end: number }> {
  const byKey = new Map(groups.map((g) => [g.key, g]));
  const taken = new Set<string>();
  const chosen: Array<{ group: RollupGroup; end: number }> = [];
  for (const group of [...groups].sort((a, b) => b.deviceIds.length - a.deviceIds.length)) {
    if (group.deviceIds.some((id) => taken.has(id))) continue;
    const end = endOf(group);
    if (group.parts?.some((key) => { const part = byKey.get(key); return part !== undefined && endOf(part) > end; })) continue;
    for (const id of group.deviceIds) taken.add(id);
    chosen.push({ group, end });
  }
  return chosen;
}

/** Consecutive hours merged into [start, end) runs. */
export function hourRuns(hours: readonly number[]): Array<{ start: number; end: number }> {
  const runs: Array<{ start: number; end: number }> = [];
  for (const hour of [...new Set(hours)].sort((a, b) => a - b)) {
    const run = runs.at(-1);
    if (run && run.end === hour) run.end = hour + HOUR;
    else runs.push({ start: hour, end: hour + HOUR });
  }
  return runs;
}

/** The roll-ups' pure parts: the catalogue's meter groups, and which table answers which stretch of a query. */
import { describe, expect, it } from 'vitest';
import { coveredGroups, DAY, groupsFromCatalogue, groupVersion, HOUR, hourRuns, planRead, type RollupGroup } from '../../server/src/adapters/sql/rollups.ts';
import { loadSite } from '../../server/src/catalogue/load.ts';

const T = Date.UTC(2026, 10, 1);
const clean = () => Infinity;

describe('groupsFromCatalogue', () => {
  const groups = groupsFromCatalogue(loadSite(null).devices);

  it('puts every meter in one group of its kind, plot, building and role, with its register', () => {
    const members = groups.filter((g) => !g.parts).flatMap((g) => g.deviceIds);
    expect(new Set(members).size).toBe(members.length);
    expect(members.length).toBe(5_625);
    const a03 = groups.find((g) => g.key === 'electric-meter/A/A-03/household')!;
    expect(a03.metrics).toEqual(['energy_kwh']);
    expect(a03.deviceIds.length).toBe(44);
    expect(groups.find((g) => g.key === 'water-meter/A//shop')?.metrics).toEqual(['volume_m3']);
    expect(groups.some((g) => g.key.startsWith('elevator/'))).toBe(false);
  });

  it('adds, per kind, plot and role spread over several buildings, a group of those groups', () => {
    const plotA = groups.find((g) => g.key === 'electric-meter/A/*/household')!;
    const parts = groups.filter((g) => plotA.parts!.includes(g.key));
    expect(parts.map((g) => g.key)).toContain('electric-meter/A/A-03/household');
    expect(parts.every((g) => g.key.startsWith('electric-meter/A/') && g.key.endsWith('/household') && !g.parts)).toBe(true);
    expect(plotA.deviceIds).toEqual(parts.flatMap((g) => g.deviceIds).sort());
    expect(plotA.metrics).toEqual(['energy_kwh']);
    // One building group alone has no group of groups over it.
    expect(groups.some((g) => g.key === 'water-meter/A/*/shop')).toBe(false);
  });

  it('changes a group\'s version with its members or parts only', () => {
    const [first] = groups;
    expect(groupVersion(first!)).toBe(groupVersion({ ...first!, deviceIds: [...first!.deviceIds] }));
    expect(groupVersion(first!)).not.toBe(groupVersion({ ...first!, deviceIds: first!.deviceIds.slice(1) }));
    const parent = groups.find((g) => g.parts)!;
    expect(groupVersion(parent)).not.toBe(groupVersion({ ...parent, parts: parent.parts!.slice(1) }));
  });
});

describe('planRead with groups of groups', () => {
  const x: RollupGroup = { key: 'x', deviceIds: ['a', 'b'], metrics: ['kwh'] };
  const y: RollupGroup = { key: 'y', deviceIds: ['c'], metrics: ['kwh'] };
  const xy: RollupGroup = { key: 'xy', deviceIds: ['a', 'b', 'c'], metrics: ['kwh'], parts: ['x', 'y'] };
  const plan = (dirtyFrom: (id: string) => number) =>
    planRead({ from: T, to: T + DAY, everyMs: HOUR, deviceIds: ['a', 'b', 'c'], groups: [x, y, xy], dirtyFrom });

  it('reads the group of groups where its parts are clean as far as it is', () => {
    expect(plan(clean).groupHourly).toEqual([{ key: 'xy', start: T, end: T + DAY }]);
    // The open hour: every device marked from the same hour.
    const open = plan(() => T + 23 * HOUR);
    expect(open.groupHourly).toEqual([{ key: 'xy', start: T, end: T + 23 * HOUR }]);
    expect(open.raw.map((r) => r.deviceId)).toEqual(['a', 'b', 'c']);
  });

  it('reads its parts, each as far as it is clean, where one part is dirty earlier', () => {
    const late = plan((id) => (id === 'b' ? T + 3 * HOUR : Infinity));
    expect(late.groupHourly).toEqual([{ key: 'x', start: T, end: T + 3 * HOUR }, { key: 'y', start: T, end: T + DAY }]);
    expect(late.hourly).toEqual([{ deviceId: 'a', start: T + 3 * HOUR, end: T + DAY }]);
    expect(late.raw).toEqual([{ deviceId: 'b', start: T + 3 * HOUR, end: T + DAY, baseline: 'hourly' }]);
  });
});

describe('coveredGroups', () => {
  it('keeps the groups whose every member is asked for', () => {
    const groups = [{ key: 'x', deviceIds: ['a', 'b'], metrics: ['kwh'] }, { key: 'y', deviceIds: ['c', 'd'], metrics: ['kwh'] }];
    expect(coveredGroups(['a', 'b', 'c'], groups).map((g) => g.key)).toEqual(['x']);
  });
});

describe('hourRuns', () => {
  it('merges consecutive hours, in order, once each', () => {
    expect(hourRuns([T + 2 * HOUR, T, T + HOUR, T + 5 * HOUR, T])).toEqual([{ start: T, end: T + 3 * HOUR }, { start: T + 5 * HOUR, end: T + 6 * HOUR }]);
  });
});

describe('planRead', () => {
  it('reads everything raw when buckets are not whole hours, or no whole hour is inside', () => {
    for (const [from, to, everyMs] of [[T, T + DAY, 15 * 60_000], [T + 60_000, T + HOUR + 60_000, HOUR]] as const) {
      expect(planRead({ from, to, everyMs, deviceIds: ['a'], dirtyFrom: clean, groups: [] }))
        .toEqual({ raw: [{ deviceId: 'a', start: from, end: to, baseline: 'raw' }], hourly: [], groupHourly: [], groupDaily: [] });
    }
  });

  it('reads part-hours at the ends raw, whole clean hours rolled up, and a device\'s hours from its first mark raw', () => {
    const from = T + 30 * 60_000;
    const to = T + 10 * HOUR + 15 * 60_000;
    const plan = planRead({ from, to, everyMs: HOUR, deviceIds: ['a', 'b', 'c'], groups: [], dirtyFrom: (id) => ({ a: Infinity, b: T + 4 * HOUR, c: T })[id]! });
    expect(plan.raw).toEqual([
      { deviceId: 'a', start: from, end: T + HOUR, baseline: 'raw' },
      { deviceId: 'a', start: T + 10 * HOUR, end: to, baseline: 'hourly' },
      { deviceId: 'b', start: from, end: T + HOUR, baseline: 'raw' },
      { deviceId: 'b', start: T + 4 * HOUR, end: to, baseline: 'hourly' },
      { deviceId: 'c', start: from, end: to, baseline: 'raw' },
    ]);
    expect(plan.hourly).toEqual([{ deviceId: 'a', start: T + HOUR, end: T + 10 * HOUR }, { deviceId: 'b', start: T + HOUR, end: T + 4 * HOUR }]);
  });

  it('reads a group\'s sums up to its members\' first mark, by day where buckets are days, and its members after that', () => {
    const group: RollupGroup = { key: 'g', deviceIds: ['a', 'b'], metrics: ['kwh'] };
    const dirty = (id: string) => (id === 'b' ? T + 3 * DAY + 5 * HOUR : Infinity);
    const daily = planRead({ from: T - 6 * HOUR, to: T + 5 * DAY, everyMs: DAY, deviceIds: ['a', 'b'], groups: [group], dirtyFrom: dirty });
    expect(daily.groupDaily).toEqual([{ key: 'g', start: T, end: T + 3 * DAY }]);
    expect(daily.groupHourly).toEqual([{ key: 'g', start: T - 6 * HOUR, end: T }, { key: 'g', start: T + 3 * DAY, end: T + 3 * DAY + 5 * HOUR }]);
    expect(daily.hourly).toEqual([{ deviceId: 'a', start: T + 3 * DAY + 5 * HOUR, end: T + 5 * DAY }]);
    expect(daily.raw).toEqual([{ deviceId: 'b', start: T + 3 * DAY + 5 * HOUR, end: T + 5 * DAY, baseline: 'hourly' }]);
    const hourly = planRead({ from: T, to: T + DAY, everyMs: HOUR, deviceIds: ['a', 'b', 'c'], groups: [group], dirtyFrom: clean });
    expect(hourly).toEqual({ raw: [], hourly: [{ deviceId: 'c', start: T, end: T + DAY }], groupHourly: [{ key: 'g', start: T, end: T + DAY }], groupDaily: [] });
  });
});

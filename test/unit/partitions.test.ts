import { describe, expect, it } from 'vitest';
import { loadSite } from '../../server/src/catalogue/load.ts';
import { partitionClientId, planLeases, sitePartitions, snapshotOfPlot } from '../../server/src/domain/partitions.ts';
import { AlarmEngine, type EngineSnapshot } from '../../server/src/domain/alarms/engine.ts';

describe('partitions', () => {
  const site = loadSite(null);

  it('are the plots, each one topic filter and one stable client id', () => {
    const partitions = sitePartitions(site);
    expect(partitions.map((p) => p.id)).toEqual(['blue-valley/A', 'blue-valley/B', 'blue-valley/C']);
    expect(partitions[1]).toMatchObject({ plotId: 'B', topic: 'estate/blue-valley/B/#' });
    expect(partitionClientId('estatewatch', partitions[1]!)).toBe('estatewatch-blue-valley-B');
  });

  it('keep every feeder (root cause and vote of its devices) inside one plot', () => {
    const plotOf = new Map(site.devices.map((d) => [d.id, d.plotId]));
    for (const feeder of site.feeders) {
      const plots = new Set([plotOf.get(feeder.substationId), ...site.devices.filter((d) => d.feederId === feeder.id).map((d) => d.plotId)]);
      expect(plots.size, feeder.id).toBe(1);
    }
  });
});

describe('planLeases: each instance aims at ceil(partitions / live instances)', () => {
  const all = ['s/A', 's/B', 's/C'];

  it('a lone instance takes every free partition', () => {
    expect(planLeases({ all, owned: [], takenByOthers: new Set(), live: 1, instance: 'i1' })).toEqual({ acquire: expect.arrayContaining(all), release: [] });
  });

  it('with a second live instance, the one holding all gives one back, and the newcomer takes only free ones', () => {
    const giving = planLeases({ all, owned: all, takenByOthers: new Set(), live: 2, instance: 'i1' });
    expect(giving.acquire).toEqual([]);
    expect(giving.release).toHaveLength(1);
    expect(planLeases({ all, owned: [], takenByOthers: new Set(all), live: 2, instance: 'i2' })).toEqual({ acquire: [], release: [] });
    const left = all.filter((p) => !giving.release.includes(p));
    expect(planLeases({ all, owned: [], takenByOthers: new Set(left), live: 2, instance: 'i2' })).toEqual({ acquire: giving.release, release: [] });
  });

  it('is stable at 2 + 1, and a fourth instance is a standby', () => {
    expect(planLeases({ all, owned: ['s/A', 's/B'], takenByOthers: new Set(['s/C']), live: 2, instance: 'i1' })).toEqual({ acquire: [], release: [] });
    expect(planLeases({ all, owned: ['s/C'], takenByOthers: new Set(['s/A', 's/B']), live: 2, instance: 'i2' })).toEqual({ acquire: [], release: [] });
    expect(planLeases({ all, owned: [], takenByOthers: new Set(all), live: 4, instance: 'i4' })).toEqual({ acquire: [], release: [] });
  });

  it('two instances starting together reach for partitions in different orders', () => {
    const orders = ['i1', 'i2', 'i3', 'i4', 'i5'].map((instance) => planLeases({ all, owned: [], takenByOthers: new Set(), live: 3, instance }).acquire[0]);
    expect(new Set(orders).size).toBeGreaterThan(1);
  });
});

describe('engine snapshots by partition', () => {
  const plotOf = (id: string) => ({ 'EL-A-01-1': 'A', 'SS-A': 'A', 'EL-B-01-1': 'B', 'WM-B-01-0101': 'B' } as Record<string, string>)[id];
  const alarm = (id: string, plotId: string) => ({ id, plotId }) as unknown as EngineSnapshot['alarms'][number];
  const whole = {
    version: 2,
    alarms: [alarm('EL-A-01-1:elevator.fault', 'A'), alarm('EL-B-01-1:elevator.fault', 'B')],
    detectors: [['EL-A-01-1:elevator.fault', { n: 1 }], ['EL-B-01-1:elevator.fault', { n: 2 }]],
    lastSeen: [['EL-A-01-1', 1], ['WM-B-01-0101', 2]],
    offline: ['EL-B-01-1'],
    outOfService: [],
    feederRoots: [['SS-A/F1', { alarmId: 'SS-A:substation.feeder', clearedAt: null }]],
    floods: [['B', { since: 1 }]],
    balances: [['WM-B-01-0101:water.balance', { judgedThrough: 1 }]],
    balanceMeters: [['WM-B-01-0101:water.balance', { h: 1 }]],
  } as unknown as EngineSnapshot;

  it('cuts a whole-site snapshot to one plot, field by field', () => {
    const b = snapshotOfPlot(whole, plotOf, new Set(['A', 'B']), 'B') as unknown as Record<string, unknown[]>;
    expect(b.alarms).toEqual([whole.alarms[1]]);
    expect(b.detectors).toEqual([whole.detectors[1]]);
    expect(b.lastSeen).toEqual([['WM-B-01-0101', 2]]);
    expect(b.offline).toEqual(['EL-B-01-1']);
    expect(b.feederRoots).toEqual([]);
    expect(b.floods).toEqual([['B', { since: 1 }]]);
    expect(b.balances).toEqual([['WM-B-01-0101:water.balance', { judgedThrough: 1 }]]);
    expect(b.balanceMeters).toEqual([['WM-B-01-0101:water.balance', { h: 1 }]]);
    expect(b.version).toBe(2);
  });

  it('puts the plots back together', () => {
    const plots = new Set(['A', 'B']);
    const merged = AlarmEngine.merge(['A', 'B'].map((p) => snapshotOfPlot(whole, plotOf, plots, p))) as unknown as Record<string, unknown[]>;
    for (const field of ['alarms', 'detectors', 'lastSeen', 'offline', 'outOfService', 'feederRoots', 'floods', 'balances', 'balanceMeters']) {
      expect(new Set(merged[field]), field).toEqual(new Set((whole as unknown as Record<string, unknown[]>)[field]));
    }
  });
});

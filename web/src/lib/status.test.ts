import { describe, expect, it } from 'vitest';
import { buildSiteModel, spreadColocated } from './site-model.ts';
import { summarise, worse } from './status.ts';
import { DEVICES, SITE, device, state } from './testing/fixtures.ts';

describe('worse', () => {
  it('ranks offline over no data over online', () => {
    expect(worse('online', 'unknown')).toBe('unknown');
    expect(worse('offline', 'unknown')).toBe('offline');
    expect(worse('unknown', 'online')).toBe('unknown');
  });
});

describe('summarise', () => {
  const model = buildSiteModel(SITE, DEVICES);

  it('colours a building by its worst device and counts devices without a state as unknown', () => {
    const states = new Map([
      ['WM-A-01-0101', state('WM-A-01-0101', 'online')],
      ['WM-A-01-0102', state('WM-A-01-0102', 'offline')],
      ['EL-A-01-1', state('EL-A-01-1', 'online')],
      ['EL-A-02-1', state('EL-A-02-1', 'online')],
    ]);
    const summary = summarise(model, states);
    expect(summary.byBuilding.get('A-01')).toEqual({ worst: 'offline', counts: { online: 2, offline: 1, unknown: 0, total: 3 } });
    expect(summary.byBuilding.get('A-02')?.worst).toBe('online');
    expect(summary.byKind['water-meter']).toEqual({ online: 1, offline: 1, unknown: 1, total: 3 });
    expect(summary.byKind['fire-pump'].total).toBe(0);
    expect(summary.total).toEqual({ online: 3, offline: 1, unknown: 4, total: 8 });
  });
});

describe('buildSiteModel', () => {
  const model = buildSiteModel(SITE, DEVICES);

  it('groups devices by building, and by plot for those outside buildings', () => {
    expect(model.byBuilding.get('A-01')?.map((d) => d.id)).toEqual(['WM-A-01-0101', 'WM-A-01-0102', 'EL-A-01-1']);
    expect(model.byPlotOutsideBuildings.get('A')?.map((d) => d.id)).toEqual(['WM-A-S01', 'BP-A-1', 'BP-A-2', 'SL-A-1']);
  });

  it('draws infrastructure as markers, not meters or elevators, small street lights first', () => {
    expect(model.markers.map((m) => m.device.id)).toEqual(['SL-A-1', 'BP-A-1', 'BP-A-2']);
  });
});

describe('spreadColocated', () => {
  it('lays devices closer than one glyph out in a row centred on their middle and leaves lone devices where they are', () => {
    const markers = spreadColocated([
      device('P1', 'booster-pump', 'duty', null, [98, 50]),
      device('P2', 'booster-pump', 'assist', null, [100, 50]),
      device('P3', 'booster-pump', 'standby', null, [102, 50]),
      device('H1', 'hydrant', 'site', null, [10, 10]),
      device('H2', 'hydrant', 'site', null, [106, 50]),
    ], 5);
    expect(markers.map((m) => [m.device.id, m.x, m.y])).toEqual([
      ['P1', 95, 50], ['P2', 100, 50], ['P3', 105, 50], ['H1', 10, 10], ['H2', 106, 50],
    ]);
  });
});

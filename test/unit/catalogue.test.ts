import { describe, expect, it } from 'vitest';
import { expandSite } from '../../server/src/catalogue/expand.ts';
import { pointInRect, rectInPolygon, rectsOverlap } from '../../server/src/catalogue/geometry.ts';
import { DEVICE_KINDS, type DeviceKind } from '../../server/src/catalogue/kinds.ts';
import { blueValleySpec, loadSite, siteSummary } from '../../server/src/catalogue/load.ts';
import { indexSite } from '../../server/src/catalogue/site-index.ts';
import type { Device } from '../../server/src/catalogue/types.ts';

const spec = blueValleySpec();
const site = loadSite(null);
const index = indexSite(site);
const summary = siteSummary(site);

const countBy = <T>(items: readonly T[], key: (t: T) => string) => {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
};

describe('Blue Valley matches the staff handbook (SITE.md)', () => {
  const handbook = {
    A: { buildings: 23, households: 1090, shops: 58, parkingSpaces: 625, parkingUsable: 623, nonMotorSpaces: 1200, garages: 12, managementRoomsM2: 541 },
    B: { buildings: 3, households: 688, shops: 0, parkingSpaces: 545, parkingUsable: 545, nonMotorSpaces: 0, garages: 0, managementRoomsM2: 0 },
    C: { buildings: 9, households: 910, shops: 44, parkingSpaces: 607, parkingUsable: 607, nonMotorSpaces: 1066, garages: 0, managementRoomsM2: 0 },
  };

  it.each(Object.entries(handbook))('plot %s has the handbook figures', (plotId, figures) => {
    expect(index.plot(plotId)).toMatchObject(figures);
    expect(summary.plots.find((p) => p.id === plotId)).toMatchObject(figures);
  });

  it('site totals are 35 buildings, 2,688 households, 102 shops, 1,777 parking, 2,266 non-motor spaces', () => {
    expect(summary.totals).toMatchObject({
      buildings: 35, households: 2688, shops: 102, parkingSpaces: 1777, parkingUsable: 1775,
      nonMotorSpaces: 2266, garages: 12, managementRoomsM2: 541,
    });
  });

  it('the detail adds up to the figures: buildings, households and shops per plot', () => {
    for (const plot of site.plots) {
      const buildings = site.buildings.filter((b) => b.plotId === plot.id);
      expect(buildings).toHaveLength(plot.buildings);
      expect(buildings.reduce((s, b) => s + b.households, 0)).toBe(plot.households);
      const units = site.units.filter((u) => u.plotId === plot.id);
      expect(units.filter((u) => u.use === 'residential')).toHaveLength(plot.households);
      expect(units.filter((u) => u.use === 'commercial')).toHaveLength(plot.shops);
    }
    expect(site.units).toHaveLength(2790);
  });

  it('plot B carries the "only part handed over" note', () => {
    expect(index.plot('B')?.note).toMatch(/only part of the plot/i);
  });

  it('lists the five contacts the handbook asks for, 119 and 110 included', () => {
    const byRole = new Map(site.contacts.map((c) => [c.role, c]));
    expect([...byRole.keys()].sort()).toEqual(['community-office', 'fire', 'local-police-station', 'police', 'sub-district-office']);
    expect(byRole.get('fire')?.phone).toBe('119');
    expect(byRole.get('police')?.phone).toBe('110');
    for (const c of site.contacts) expect(c.nameZh).toMatch(/[\u4e00-\u9fff]/);
  });

  it('sits in a Chinese city, on Beijing time', () => {
    expect(site.timezone).toBe('Asia/Shanghai');
    expect(site.latitude).toBeGreaterThan(18);
    expect(site.latitude).toBeLessThan(54);
    expect(site.longitude).toBeGreaterThan(73);
    expect(site.longitude).toBeLessThan(135);
  });
});

describe('buildings and units', () => {
  it('numbers buildings A-01…A-23, B-01…B-03, C-01…C-09', () => {
    const seq = (plot: string, n: number) => Array.from({ length: n }, (_, i) => `${plot}-${String(i + 1).padStart(2, '0')}`);
    expect(site.buildings.map((b) => b.id)).toEqual([...seq('A', 23), ...seq('B', 3), ...seq('C', 9)]);
  });

  it('has mid-rise buildings in A and C and high-rise towers in B', () => {
    for (const b of site.buildings) {
      if (b.plotId === 'B') expect(b.floors).toBeGreaterThanOrEqual(30);
      else {
        expect(b.floors).toBeGreaterThanOrEqual(6);
        expect(b.floors).toBeLessThanOrEqual(11);
      }
    }
  });

  it('names rooms building-floor-unit and shops plot-S-number', () => {
    for (const u of site.units) {
      if (u.use === 'residential') {
        expect(u.id).toMatch(/^[ABC]-\d{2}-\d{4}$/);
        const b = index.building(u.buildingId!)!;
        const [floor, unit] = [Number(u.id.slice(5, 7)), Number(u.id.slice(7, 9))];
        expect(u.floor).toBe(floor);
        expect(floor).toBeGreaterThanOrEqual(1);
        expect(floor).toBeLessThanOrEqual(b.floors);
        expect(unit).toBeGreaterThanOrEqual(1);
        expect(unit).toBeLessThanOrEqual(b.unitsPerFloor);
      } else {
        expect(u.id).toMatch(/^[ABC]-S\d{2}$/);
        expect(u.buildingId).toBeNull();
      }
    }
    expect(index.unit('A-03-0502')).toMatchObject({ buildingId: 'A-03', floor: 5, use: 'residential' });
    expect(index.unit('A-S58')).toBeDefined();
    expect(index.unit('A-S59')).toBeUndefined();
    expect(index.unit('B-S01')).toBeUndefined();
  });

  it("generates exactly each building's households as units, with unique ids", () => {
    const perBuilding = countBy(site.units.filter((u) => u.buildingId !== null), (u) => u.buildingId!);
    for (const b of site.buildings) {
      expect(perBuilding[b.id]).toBe(b.households);
      expect(b.households).toBe(b.floors * b.unitsPerFloor);
    }
    expect(new Set(site.units.map((u) => u.id)).size).toBe(site.units.length);
  });

  it('marks the continuous-use shops (laundry, restaurants) from the site file', () => {
    const flagged = site.units.filter((u) => u.continuousUse).map((u) => u.id);
    const expected = spec.plots.flatMap((p) => (p.shopFront?.continuousUse ?? []).map((c) => `${p.id}-S${String(c.number).padStart(2, '0')}`));
    expect(flagged.sort()).toEqual(expected.sort());
    expect(flagged).toContain('A-S07');
    expect(index.device('WM-A-S07')?.name).toMatch(/laundry/);
  });

  it('has 2 elevators per building in A and C and 3 in B: 73 (not the 97 of SITE.md’s table)', () => {
    for (const b of site.buildings) expect(b.elevators).toBe(b.plotId === 'B' ? 3 : 2);
    expect(summary.totals.elevators).toBe(73);
    expect(spec.notes?.some((n) => n.includes('97') && n.includes('73'))).toBe(true);
  });
});

describe('devices', () => {
  const byKind = countBy(site.devices, (d) => d.kind) as Record<DeviceKind, number>;

  it('has unique device ids', () => {
    expect(new Set(site.devices.map((d) => d.id)).size).toBe(site.devices.length);
  });

  it('names every device in English and in Chinese, each name its own', () => {
    const { devices } = site;
    expect(new Set(devices.map((d) => d.name)).size).toBe(devices.length);
    expect(new Set(devices.map((d) => d.nameZh)).size).toBe(devices.length);
    expect(devices.filter((d) => !/[\u4e00-\u9fff]/.test(d.nameZh)).map((d) => d.id)).toEqual([]);
    const byId = new Map(devices.map((d) => [d.id, d]));
    expect(byId.get('EL-A-03-1')).toMatchObject({ name: 'Elevator A-03 #1', nameZh: '电梯 A-03 1 号' });
    expect(byId.get('BP-B-3')).toMatchObject({ name: 'Booster pump B-3 (standby)', nameZh: '生活水泵 B-3（备用）' });
    expect(byId.get('WM-A-S07')).toMatchObject({ name: 'Water meter A-S07 (laundry)', nameZh: '水表 A-S07（洗衣店）' });
  });

  it('follows the id patterns of the MQTT contract', () => {
    const patterns = [
      /^(WM|EM)-[ABC]-\d{2}-\d{4}$/, /^(WM|EM)-[ABC]-S\d{2}$/, /^EM-[ABC]-\d{2}$/,
      /^WM-[ABC]-INLET$/, /^EM-[ABC]-(MAIN|PR)$/, /^EM-FPR$/, /^BP-[ABC]-[123]$/,
      /^FP-(ELECTRIC|JOCKEY|DIESEL)$/, /^GEN-1$/, /^HY-[ABC]-\d{2}$/, /^SL-[ABC]-\d{3}$/,
      /^ST-[ABC]-\d{2}-\d$/, /^EL-[ABC]-\d{2}-\d$/, /^SS-[ABC]$/,
    ];
    const unmatched = site.devices.filter((d) => !patterns.some((p) => p.test(d.id))).map((d) => d.id);
    expect(unmatched).toEqual([]);
    for (const id of ['WM-A-03-0502', 'EM-A-03-0502', 'WM-A-S07', 'EM-A-S07', 'EM-A-03', 'WM-A-INLET', 'EM-A-MAIN', 'EM-A-PR',
      'EM-FPR', 'BP-A-1', 'FP-ELECTRIC', 'FP-JOCKEY', 'FP-DIESEL', 'GEN-1', 'HY-A-01', 'SL-A-001', 'ST-A-03-1', 'ST-A-03-2',
      'EL-A-03-1', 'EL-B-02-3', 'SS-A']) {
      expect(index.device(id), id).toBeDefined();
    }
  });

  it('counts per kind follow from the site file', () => {
    const households = spec.plots.reduce((s, p) => s + p.handbook.households, 0);
    const shops = spec.plots.reduce((s, p) => s + p.handbook.shops, 0);
    const buildings = spec.plots.flatMap((p) => p.buildings);
    const plots = spec.plots.length;
    expect(byKind['water-meter']).toBe(households + shops + plots);
    // households, shops, one per building, per plot a main and a pump-room meter, one for the fire-pump room
    expect(byKind['electric-meter']).toBe(households + shops + buildings.length + 2 * plots + 1);
    expect(byKind['elevator']).toBe(buildings.reduce((s, b) => s + b.elevators, 0));
    expect(byKind['stair-light']).toBe(buildings.reduce((s, b) => s + b.stairwells, 0));
    expect(byKind['hydrant']).toBe(spec.plots.reduce((s, p) => s + p.hydrants.length, 0));
    expect(byKind['booster-pump']).toBe(3 * plots);
    expect(byKind['substation']).toBe(plots);
    expect(byKind['fire-pump']).toBe(3);
    expect(byKind['generator']).toBe(1);
  });

  it('has the equipment SITE.md assumes', () => {
    expect(byKind).toMatchObject({
      'water-meter': 2793, 'electric-meter': 2832, 'booster-pump': 9, 'fire-pump': 3, elevator: 73,
      generator: 1, 'stair-light': 70, substation: 3,
    });
    expect(byKind['hydrant']).toBeGreaterThanOrEqual(15);
    expect(byKind['hydrant']).toBeLessThanOrEqual(25);
    expect(byKind['street-light']).toBeGreaterThanOrEqual(160);
    expect(byKind['street-light']).toBeLessThanOrEqual(200);
    // 2 × 2,790 unit meters + 45 common meters
    expect(byKind['water-meter'] + byKind['electric-meter']).toBe(2 * 2790 + 45);
    expect(summary.totals.devicesByKind).toEqual(Object.fromEntries(DEVICE_KINDS.map((k) => [k, byKind[k] ?? 0])));
    expect(summary.totals.devices).toBe(site.devices.length);
  });

  it('gives pumps their roles: duty/assist/standby per plot, electric/jockey/diesel for fire', () => {
    for (const plot of ['A', 'B', 'C']) {
      expect([1, 2, 3].map((n) => index.device(`BP-${plot}-${n}`)?.role)).toEqual(['duty', 'assist', 'standby']);
    }
    expect(['FP-ELECTRIC', 'FP-JOCKEY', 'FP-DIESEL'].map((id) => index.device(id)?.role)).toEqual(['electric', 'jockey', 'diesel']);
  });

  it('numbers street lights and hydrants per plot without gaps', () => {
    for (const [kind, prefix, digits] of [['street-light', 'SL', 3], ['hydrant', 'HY', 2]] as const) {
      for (const plot of site.plots) {
        const ids = site.devices.filter((d) => d.kind === kind && d.plotId === plot.id).map((d) => d.id);
        expect(ids).toEqual(ids.map((_, i) => `${prefix}-${plot.id}-${String(i + 1).padStart(digits, '0')}`));
      }
    }
  });

  it('puts every device on the map, and building devices inside their footprint', () => {
    for (const d of site.devices) {
      expect(pointInRect(d.position, { x: 0, y: 0, w: site.size.w, h: site.size.h }), d.id).toBe(true);
      if (d.buildingId !== null) expect(pointInRect(d.position, index.building(d.buildingId)!.footprint), d.id).toBe(true);
    }
  });

  it('keeps street lights and hydrants out of buildings', () => {
    const outdoor = site.devices.filter((d) => d.kind === 'street-light' || d.kind === 'hydrant');
    for (const d of outdoor) {
      expect(site.buildings.filter((b) => pointInRect(d.position, b.footprint)).map((b) => b.id), d.id).toEqual([]);
    }
  });
});

describe('map geometry', () => {
  it('is about 1000 m × 700 m with three plots', () => {
    expect(site.size).toEqual({ w: 1000, h: 700 });
    expect(site.plots.map((p) => p.id)).toEqual(['A', 'B', 'C']);
  });

  it('keeps each building inside its plot and off every other building', () => {
    for (const b of site.buildings) expect(rectInPolygon(b.footprint, index.plot(b.plotId)!.outline), b.id).toBe(true);
    for (const [i, a] of site.buildings.entries()) {
      for (const b of site.buildings.slice(i + 1)) expect(rectsOverlap(a.footprint, b.footprint), `${a.id} / ${b.id}`).toBe(false);
    }
  });

  it('has roads as polylines inside the map', () => {
    expect(site.roads.length).toBeGreaterThanOrEqual(3);
    for (const r of site.roads) {
      expect(r.points.length).toBeGreaterThanOrEqual(2);
      for (const p of r.points) expect(pointInRect(p, { x: 0, y: 0, w: site.size.w, h: site.size.h })).toBe(true);
    }
  });
});

describe('power topology', () => {
  it('has one substation per plot with 2 to 4 feeders', () => {
    for (const plot of site.plots) {
      expect(plot.substationId).toBe(`SS-${plot.id}`);
      expect(index.device(plot.substationId)).toMatchObject({ kind: 'substation', plotId: plot.id, feederId: null });
      const feeders = site.feeders.filter((f) => f.substationId === plot.substationId);
      expect(feeders.length).toBeGreaterThanOrEqual(2);
      expect(feeders.length).toBeLessThanOrEqual(4);
      expect(feeders.map((f) => f.id)).toEqual(feeders.map((_, i) => `${plot.substationId}/F${i + 1}`));
    }
  });

  it('puts each building on exactly one feeder of its own plot', () => {
    for (const b of site.buildings) {
      const on = site.feeders.filter((f) => f.buildingIds.includes(b.id));
      expect(on.map((f) => f.id), b.id).toEqual([b.feederId]);
      expect(on[0]!.substationId).toBe(index.plot(b.plotId)!.substationId);
    }
  });

  it("devicesOnFeeder covers every elevator, stair light and meter of the feeder's buildings", () => {
    for (const feeder of site.feeders) {
      const onFeeder = new Set(index.devicesOnFeeder(feeder.id).map((d) => d.id));
      for (const buildingId of feeder.buildingIds) {
        const inBuilding = index.devicesInBuilding(buildingId);
        const b = index.building(buildingId)!;
        expect(inBuilding.filter((d) => d.kind === 'elevator')).toHaveLength(b.elevators);
        expect(inBuilding.filter((d) => d.kind === 'stair-light')).toHaveLength(b.stairwells);
        expect(inBuilding.filter((d) => d.role === 'household')).toHaveLength(2 * b.households);
        for (const d of inBuilding) expect(onFeeder.has(d.id), `${d.id} on ${feeder.id}`).toBe(true);
      }
    }
  });

  it('gives every mains-powered device a feeder of its own plot, and the self-supplied ones none', () => {
    const feederPlot = new Map(site.feeders.map((f) => [f.id, site.plots.find((p) => p.substationId === f.substationId)!.id]));
    const selfSupplied = (d: Device) => ['substation', 'generator', 'hydrant'].includes(d.kind) || d.role === 'plot-main' || d.id === 'FP-DIESEL';
    for (const d of site.devices) {
      if (selfSupplied(d)) expect(d.feederId, d.id).toBeNull();
      else expect(feederPlot.get(d.feederId ?? ''), d.id).toBe(d.plotId);
    }
  });

  it('lists every device under exactly one feeder or none', () => {
    const listed = site.feeders.flatMap((f) => index.devicesOnFeeder(f.id));
    expect(listed).toHaveLength(site.devices.filter((d) => d.feederId !== null).length);
    expect(index.devicesOnFeeder('SS-Z/F1')).toEqual([]);
  });
});

describe('expansion', () => {
  it('is deterministic and leaves the spec untouched', () => {
    const before = JSON.stringify(spec);
    const a = expandSite(spec);
    const b = expandSite(spec);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(spec)).toBe(before);
    expect(JSON.stringify(loadSite(null))).toBe(JSON.stringify(a));
  });

  it('indexes in O(1) and answers undefined for unknown ids', () => {
    expect(index.device('EL-B-02-3')).toMatchObject({ kind: 'elevator', plotId: 'B', buildingId: 'B-02', feederId: index.building('B-02')!.feederId });
    expect(index.feeder('SS-A/F1')?.substationId).toBe('SS-A');
    expect(index.device('nope')).toBeUndefined();
    expect(index.building('A-24')).toBeUndefined();
    expect(index.devicesInBuilding('A-24')).toEqual([]);
  });
});

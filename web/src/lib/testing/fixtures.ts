/** A small two-building site and its devices, for the web's unit tests. */
import type { DeviceKind } from '../../../../server/src/catalogue/kinds.ts';
import type { Building, Device, DeviceRole } from '../../../../server/src/catalogue/types.ts';
import type { DeviceView, SiteView } from '../../../../server/src/routes/api-types.ts';
import type { DeviceState, LiveStatus } from '../../../../server/src/push/events.ts';

function building(id: string, x: number): Building {
  return {
    id, plotId: 'A', floors: 18, unitsPerFloor: 2, households: 36, stairwells: 2, elevators: 2,
    footprint: { x, y: 20, w: 40, h: 15 }, feederId: 'SS-A/F1',
  };
}

export const SITE: SiteView = {
  id: 'blue-valley', name: 'Blue Valley', nameZh: '蓝谷地', latitude: 30, longitude: 120, timezone: 'Asia/Shanghai',
  size: { w: 300, h: 200 },
  plots: [{
    id: 'A', name: 'Plot A', buildings: 2, households: 72, shops: 1, parkingSpaces: 10, parkingUsable: 10,
    nonMotorSpaces: 10, garages: 0, managementRoomsM2: 0, outline: [[0, 0], [300, 0], [300, 200], [0, 200]], substationId: 'SS-A',
  }],
  buildings: [building('A-01', 10), building('A-02', 80)],
  feeders: [{ id: 'SS-A/F1', substationId: 'SS-A', buildingIds: ['A-01', 'A-02'] }],
  roads: [{ id: 'R1', name: 'Ring road', points: [[0, 100], [300, 100]], width: 8 }],
  contacts: [],
  devicesByKind: {
    'water-meter': 3, 'electric-meter': 0, 'booster-pump': 2, 'fire-pump': 0, elevator: 2,
    generator: 0, hydrant: 0, 'street-light': 1, 'stair-light': 0, substation: 0,
  },
  units: { households: 72, shops: 1 },
};

export function device(id: string, kind: DeviceKind, role: DeviceRole, buildingId: string | null, position: readonly [number, number] = [50, 50]): Device {
  return { id, kind, role, name: id, nameZh: id, plotId: 'A', buildingId, unitId: null, feederId: 'SS-A/F1', position };
}

export const DEVICES: Device[] = [
  device('WM-A-01-0101', 'water-meter', 'household', 'A-01'),
  device('WM-A-01-0102', 'water-meter', 'household', 'A-01'),
  device('WM-A-S01', 'water-meter', 'shop', null),
  { ...device('EL-A-01-1', 'elevator', 'building', 'A-01'), name: 'Elevator A-01 #1', nameZh: '电梯 A-01 1 号' },
  device('EL-A-02-1', 'elevator', 'building', 'A-02'),
  device('BP-A-1', 'booster-pump', 'duty', null, [150, 150]),
  device('BP-A-2', 'booster-pump', 'assist', null, [150, 150]),
  device('SL-A-1', 'street-light', 'site', null, [20, 100]),
];

export function state(id: string, status: LiveStatus, seenAt: number | null = 1_000, values: DeviceState['values'] = {}): DeviceState {
  const kind = DEVICES.find((d) => d.id === id)?.kind ?? 'water-meter';
  return { id, kind, status, ts: seenAt, seenAt, values };
}

export function deviceViews(status: LiveStatus = 'unknown'): DeviceView[] {
  return DEVICES.map((d) => ({ ...d, state: state(d.id, status) }));
}

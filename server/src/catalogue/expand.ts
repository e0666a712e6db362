/**
 * Turns a validated site file into the full Site: every unit and every device
 * with its id, position and power source. Pure and deterministic: the same
 * spec always gives the same Site, in the same order.
 *
 * Power sources (Device.feederId):
 * - everything in or on a building (meters, elevators, stair lights) hangs off
 *   the building's feeder; household water meters report through the building's
 *   meter concentrator, which is on that feeder too;
 * - pump-room devices, including the plot's bulk inlet water meter (it sits at
 *   the break-tank inlet and reads through the pump-room controller), hang off
 *   the pump room's feeder; shops off the shop front's, street lights off the
 *   plot's street-light feeder; the electric and jockey fire pumps off the
 *   fire-pump room's feeder;
 * - null where the device has its own supply or is upstream of every feeder:
 *   substations and their main meters, the generator, the diesel fire pump and
 *   the battery-powered hydrant pressure sensors.
 */
import { distanceToPolygon, pointsAlong, polylineLength, round } from './geometry.ts';
import type { DeviceKind } from './kinds.ts';
import type { BuildingSpec, PlotSpec, SiteSpec } from './spec.ts';
import type { Building, Device, DeviceRole, Feeder, Plot, Point, Rect, Site, Unit } from './types.ts';

const pad = (n: number, width: number) => String(n).padStart(width, '0');

export const roomId = (buildingId: string, floor: number, unit: number) => `${buildingId}-${pad(floor, 2)}${pad(unit, 2)}`;
export const shopId = (plotId: string, number: number) => `${plotId}-S${pad(number, 2)}`;

/** A point inside the rectangle at fractions (fx, fy) of its width and height. */
const within = (r: Rect, fx: number, fy: number): Point => [round(r.x + r.w * fx), round(r.y + r.h * fy)];
const shift = (p: Point, dx: number, dy: number): Point => [p[0] + dx, p[1] + dy];

interface DeviceDraft {
  id: string;
  kind: DeviceKind;
  role: DeviceRole;
  name: string;
  nameZh: string;
  position: Point;
  feederId: string | null;
  buildingId?: string;
  unitId?: string;
}

export function expandSite(spec: SiteSpec): Site {
  const feeders: Feeder[] = spec.plots.flatMap((plot) =>
    plot.substation.feeders.map((f) => ({ id: f.id, substationId: plot.substation.id, buildingIds: [...f.buildings] })));
  const feederOfBuilding = new Map(feeders.flatMap((f) => f.buildingIds.map((b) => [b, f.id] as const)));

  const plots: Plot[] = [];
  const buildings: Building[] = [];
  const units: Unit[] = [];
  const devices: Device[] = [];
  const streetLightsByPlot = placeStreetLights(spec);

  for (const plot of spec.plots) {
    const add = (d: DeviceDraft) => devices.push({
      id: d.id, kind: d.kind, role: d.role, name: d.name, nameZh: d.nameZh, plotId: plot.id,
      buildingId: d.buildingId ?? null, unitId: d.unitId ?? null, feederId: d.feederId, position: d.position,
    });

    plots.push({
      id: plot.id, name: plot.name, ...plot.handbook,
      ...(plot.note !== undefined && { note: plot.note }),
      outline: plot.outline.map((p) => [p[0], p[1]] as const),
      substationId: plot.substation.id,
    });

    addPlotServices(plot, add);

    for (const b of plot.buildings) {
      const feederId = feederOfBuilding.get(b.id);
      if (feederId === undefined) throw new Error(`building ${b.id} is on no feeder (the spec was not validated)`);
      buildings.push({
        id: b.id, plotId: plot.id, floors: b.floors, unitsPerFloor: b.unitsPerFloor, households: b.households,
        stairwells: b.stairwells, elevators: b.elevators, footprint: { ...b.footprint }, feederId,
      });
      addBuildingDevices(plot.id, b, feederId, add, units);
    }

    addShops(plot, add, units);

    plot.hydrants.forEach((position, i) => add({
      id: `HY-${plot.id}-${pad(i + 1, 2)}`, kind: 'hydrant', role: 'site', name: `Hydrant ${plot.id}-${pad(i + 1, 2)}`, nameZh: `室外消火栓 ${plot.id}-${pad(i + 1, 2)}`,
      position: [position[0], position[1]], feederId: null,
    }));

    (streetLightsByPlot.get(plot.id) ?? []).forEach((position, i) => add({
      id: `SL-${plot.id}-${pad(i + 1, 3)}`, kind: 'street-light', role: 'site', name: `Street light ${plot.id}-${pad(i + 1, 3)}`, nameZh: `路灯 ${plot.id}-${pad(i + 1, 3)}`,
      position, feederId: plot.streetLightFeederId,
    }));

    if (spec.firePumpRoom.plotId === plot.id) addFirePumpRoom(spec.firePumpRoom, add);
    if (spec.generator.plotId === plot.id) {
      add({ id: 'GEN-1', kind: 'generator', role: 'site', name: 'Backup generator', nameZh: '备用发电机', position: [...spec.generator.position], feederId: null });
    }
  }

  return {
    ...spec.site,
    size: { ...spec.site.size },
    plots,
    buildings,
    units,
    feeders,
    devices,
    roads: spec.roads.map((r) => ({ id: r.id, name: r.name, width: r.width, points: r.points.map((p) => [p[0], p[1]] as const) })),
    contacts: spec.contacts.map((c) => ({ ...c })),
  };
}

const PUMP_ROLE_ZH = { duty: '主用', assist: '辅助', standby: '备用' } as const;

function addPlotServices(plot: PlotSpec, add: (d: DeviceDraft) => void): void {
  const ss = plot.substation;
  add({ id: ss.id, kind: 'substation', role: 'plot-main', name: `Substation ${ss.id}`, nameZh: `变配电室 ${ss.id}`, position: [...ss.position], feederId: null });
  add({ id: `EM-${plot.id}-MAIN`, kind: 'electric-meter', role: 'plot-main', name: `Main electric meter, plot ${plot.id}`, nameZh: `${plot.id} 区总电表`, position: shift(ss.position, 0, 4), feederId: null });

  const room = plot.pumpRoom;
  add({ id: `WM-${plot.id}-INLET`, kind: 'water-meter', role: 'plot-inlet', name: `Bulk inlet water meter, plot ${plot.id}`, nameZh: `${plot.id} 区进水总表`, position: shift(room.position, 0, 4), feederId: room.feederId });
  add({ id: `EM-${plot.id}-PR`, kind: 'electric-meter', role: 'pump-room', name: `Pump-room electric meter, plot ${plot.id}`, nameZh: `${plot.id} 区水泵房电表`, position: shift(room.position, 0, -4), feederId: room.feederId });
  const pumpRoles = ['duty', 'assist', 'standby'] as const;
  pumpRoles.forEach((role, i) => add({
    id: `BP-${plot.id}-${i + 1}`, kind: 'booster-pump', role, name: `Booster pump ${plot.id}-${i + 1} (${role})`, nameZh: `生活水泵 ${plot.id}-${i + 1}（${PUMP_ROLE_ZH[role]}）`,
    position: shift(room.position, (i - 1) * 4, 0), feederId: room.feederId,
  }));
}

function addBuildingDevices(plotId: string, b: BuildingSpec, feederId: string, add: (d: DeviceDraft) => void, units: Unit[]): void {
  const fp = b.footprint;
  add({ id: `EM-${b.id}`, kind: 'electric-meter', role: 'building', name: `Building electric meter ${b.id}`, nameZh: `楼栋电表 ${b.id}`, position: within(fp, 0.5, 0.5), feederId, buildingId: b.id });
  for (let i = 1; i <= b.elevators; i++) {
    add({ id: `EL-${b.id}-${i}`, kind: 'elevator', role: 'building', name: `Elevator ${b.id} #${i}`, nameZh: `电梯 ${b.id} ${i} 号`, position: within(fp, (i - 0.5) / b.elevators, 0.5), feederId, buildingId: b.id });
  }
  for (let i = 1; i <= b.stairwells; i++) {
    add({ id: `ST-${b.id}-${i}`, kind: 'stair-light', role: 'building', name: `Stair lights ${b.id} stairwell ${i}`, nameZh: `楼道灯 ${b.id} ${i} 号楼梯间`, position: within(fp, (i - 0.5) / b.stairwells, 0.25), feederId, buildingId: b.id });
  }
  // Meters are drawn on a grid over the footprint: unit number across, floor down.
  for (let floor = 1; floor <= b.floors; floor++) {
    for (let u = 1; u <= b.unitsPerFloor; u++) {
      const id = roomId(b.id, floor, u);
      units.push({ id, plotId, buildingId: b.id, floor, use: 'residential', continuousUse: false });
      const position = within(fp, (u - 0.5) / b.unitsPerFloor, (floor - 0.5) / b.floors);
      add({ id: `WM-${id}`, kind: 'water-meter', role: 'household', name: `Water meter ${id}`, nameZh: `水表 ${id}`, position, feederId, buildingId: b.id, unitId: id });
      add({ id: `EM-${id}`, kind: 'electric-meter', role: 'household', name: `Electric meter ${id}`, nameZh: `电表 ${id}`, position, feederId, buildingId: b.id, unitId: id });
    }
  }
}

function addShops(plot: PlotSpec, add: (d: DeviceDraft) => void, units: Unit[]): void {
  const front = plot.shopFront;
  const count = plot.handbook.shops;
  if (front === undefined || count === 0) return;
  const business = new Map(front.continuousUse.map((c) => [c.number, c]));
  const [[x0, y0], [x1, y1]] = front.line;
  for (let n = 1; n <= count; n++) {
    const id = shopId(plot.id, n);
    const use = business.get(n);
    units.push({ id, plotId: plot.id, buildingId: null, floor: null, use: 'commercial', continuousUse: use !== undefined });
    const t = (n - 0.5) / count;
    const position: Point = [round(x0 + (x1 - x0) * t), round(y0 + (y1 - y0) * t)];
    const label = use === undefined ? id : `${id} (${use.business})`;
    const labelZh = use === undefined ? id : `${id}（${use.businessZh ?? use.business}）`;
    add({ id: `WM-${id}`, kind: 'water-meter', role: 'shop', name: `Water meter ${label}`, nameZh: `水表 ${labelZh}`, position, feederId: front.feederId, unitId: id });
    add({ id: `EM-${id}`, kind: 'electric-meter', role: 'shop', name: `Electric meter ${label}`, nameZh: `电表 ${labelZh}`, position, feederId: front.feederId, unitId: id });
  }
}

function addFirePumpRoom(room: SiteSpec['firePumpRoom'], add: (d: DeviceDraft) => void): void {
  add({ id: 'EM-FPR', kind: 'electric-meter', role: 'fire-pump-room', name: 'Fire-pump-room electric meter', nameZh: '消防泵房电表', position: shift(room.position, 0, -4), feederId: room.feederId });
  add({ id: 'FP-ELECTRIC', kind: 'fire-pump', role: 'electric', name: 'Fire pump (electric)', nameZh: '电动消防泵', position: shift(room.position, -4, 0), feederId: room.feederId });
  add({ id: 'FP-JOCKEY', kind: 'fire-pump', role: 'jockey', name: 'Jockey pump', nameZh: '稳压泵', position: [...room.position], feederId: room.feederId });
  add({ id: 'FP-DIESEL', kind: 'fire-pump', role: 'diesel', name: 'Fire pump (diesel standby)', nameZh: '柴油消防泵（备用）', position: shift(room.position, 4, 0), feederId: null });
}

/**
 * Lights every `spacing` metres along each road, on its right-hand side just
 * off the carriageway; each belongs to the plot it stands in or, on a boundary
 * road, to the nearest plot (the first listed wins a tie).
 */
function placeStreetLights(spec: SiteSpec): Map<string, Point[]> {
  const byPlot = new Map<string, Point[]>(spec.plots.map((p) => [p.id, []]));
  for (const road of spec.roads) {
    const count = Math.max(1, Math.round(polylineLength(road.points) / spec.streetLights.spacing));
    for (const position of pointsAlong(road.points, count, road.width / 2 + 1)) {
      let nearest = spec.plots[0]!;
      let best = Infinity;
      for (const plot of spec.plots) {
        const d = distanceToPolygon(position, plot.outline);
        if (d < best) [nearest, best] = [plot, d];
      }
      byPlot.get(nearest.id)!.push(position);
    }
  }
  return byPlot;
}

/**
 * The catalogue as the map needs it: devices grouped by building and by plot,
 * and which devices get their own marker. Built once per site load.
 */
import type { DeviceKind } from '../../../server/src/catalogue/kinds.ts';
import type { Building, Device } from '../../../server/src/catalogue/types.ts';
import type { SiteView } from '../../../server/src/routes/api-types.ts';

/** Kinds drawn as their own map marker; every other device rolls up into its building. */
export const MARKER_KINDS: readonly DeviceKind[] = ['substation', 'generator', 'fire-pump', 'booster-pump', 'hydrant', 'street-light'];

export interface MapMarker {
  readonly device: Device;
  /** Where the glyph is drawn: the device's position, nudged apart from devices at the same spot. */
  readonly x: number;
  readonly y: number;
}

export interface SiteModel {
  readonly site: SiteView;
  readonly devices: ReadonlyMap<string, Device>;
  readonly byBuilding: ReadonlyMap<string, readonly Device[]>;
  /** Devices of a plot outside every building: shop meters, plot mains, pump rooms, street furniture. */
  readonly byPlotOutsideBuildings: ReadonlyMap<string, readonly Device[]>;
  readonly markers: readonly MapMarker[];
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * Devices closer together than one glyph (three pumps in one pump room) would
 * hide each other; lay each such cluster out in a row centred on its middle.
 */
export function spreadColocated(devices: readonly Device[], spacing: number): MapMarker[] {
  const clusters: Device[][] = [];
  for (const device of devices) {
    const [x, y] = device.position;
    const near = clusters.find((cluster) => {
      const [cx, cy] = cluster[0]!.position;
      return Math.abs(cx - x) < spacing && Math.abs(cy - y) < spacing;
    });
    if (near) near.push(device);
    else clusters.push([device]);
  }
  const markers: MapMarker[] = [];
  for (const cluster of clusters) {
    const midX = cluster.reduce((sum, d) => sum + d.position[0], 0) / cluster.length;
    const midY = cluster.reduce((sum, d) => sum + d.position[1], 0) / cluster.length;
    cluster.forEach((device, i) => {
      markers.push({ device, x: cluster.length === 1 ? midX : midX + (i - (cluster.length - 1) / 2) * spacing, y: midY });
    });
  }
  return markers;
}

/** Glyph size in map units, so that markers read the same on any site size. */
export function markerUnit(site: Pick<SiteView, 'size'>): number {
  return Math.max(site.size.w, site.size.h) / 300;
}

export function buildSiteModel(site: SiteView, devices: readonly Device[]): SiteModel {
  const byId = new Map<string, Device>();
  const byBuilding = new Map<string, Device[]>();
  const byPlotOutsideBuildings = new Map<string, Device[]>();
  const markerKinds = new Set(MARKER_KINDS);
  const onMap: Device[] = [];
  for (const device of devices) {
    byId.set(device.id, device);
    if (device.buildingId) push(byBuilding, device.buildingId, device);
    else push(byPlotOutsideBuildings, device.plotId, device);
    if (markerKinds.has(device.kind)) onMap.push(device);
  }
  // Small glyphs (street lights) first so that the larger ones are drawn on top.
  onMap.sort((a, b) => MARKER_KINDS.indexOf(b.kind) - MARKER_KINDS.indexOf(a.kind));
  return {
    site,
    devices: byId,
    byBuilding,
    byPlotOutsideBuildings,
    markers: spreadColocated(onMap, markerUnit(site) * 3.6),
  };
}

/** Where something is, as a ticket names it: any of plot, building and device. */
export interface Where { readonly plotId: string | null; readonly buildingId: string | null; readonly deviceId: string | null }

export interface Place {
  readonly plotId: string | null;
  readonly building: Building | null;
  readonly device: Device | null;
  /** What to frame on a map: the building's footprint, else the device's spot, else the plot's bounds; null when nothing is known. */
  readonly box: { readonly x: number; readonly y: number; readonly w: number; readonly h: number } | null;
}

/** A ticket's (or alarm's) place on the site's map; a device's own building and plot win over what else it names. */
export function placeOf(model: SiteModel, where: Where): Place {
  const device = where.deviceId === null ? null : model.devices.get(where.deviceId) ?? null;
  const buildingId = device?.buildingId ?? where.buildingId;
  const building = buildingId === null ? null : model.site.buildings.find((b) => b.id === buildingId) ?? null;
  const plotId = device?.plotId ?? building?.plotId ?? where.plotId;
  const plot = plotId === null ? undefined : model.site.plots.find((p) => p.id === plotId);
  let box: Place['box'] = null;
  if (building) box = building.footprint;
  else if (device) box = { x: device.position[0], y: device.position[1], w: 0, h: 0 };
  else if (plot) {
    const xs = plot.outline.map((p) => p[0]);
    const ys = plot.outline.map((p) => p[1]);
    box = { x: Math.min(...xs), y: Math.min(...ys), w: Math.max(...xs) - Math.min(...xs), h: Math.max(...ys) - Math.min(...ys) };
  }
  return { plotId: plotId ?? null, building, device, box };
}

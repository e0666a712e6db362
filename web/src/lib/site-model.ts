/**
 * The catalogue as the map needs it: devices grouped by building and by plot,
 * and which devices get their own marker. Built once per site load.
 */
import type { DeviceKind } from '../../../server/src/catalogue/kinds.ts';
import type { Device } from '../../../server/src/catalogue/types.ts';
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

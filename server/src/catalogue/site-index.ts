/** O(1) lookups over a Site, built once at start-up. */
import type { Device, SiteIndex, Site } from './types.ts';

const byId = <T extends { id: string }>(items: readonly T[]) => new Map(items.map((item) => [item.id, item]));

function groupBy(devices: readonly Device[], key: (d: Device) => string | null): Map<string, Device[]> {
  const groups = new Map<string, Device[]>();
  for (const d of devices) {
    const k = key(d);
    if (k === null) continue;
    const group = groups.get(k);
    if (group) group.push(d);
    else groups.set(k, [d]);
  }
  return groups;
}

export function indexSite(site: Site): SiteIndex {
  const devices = byId(site.devices);
  const units = byId(site.units);
  const buildings = byId(site.buildings);
  const plots = byId(site.plots);
  const feeders = byId(site.feeders);
  // A device's feederId is its supply: building devices carry their building's feeder.
  const onFeeder = groupBy(site.devices, (d) => d.feederId);
  const inBuilding = groupBy(site.devices, (d) => d.buildingId);
  const none: readonly Device[] = [];

  return {
    site,
    device: (id) => devices.get(id),
    unit: (id) => units.get(id),
    building: (id) => buildings.get(id),
    plot: (id) => plots.get(id),
    feeder: (id) => feeders.get(id),
    devicesOnFeeder: (feederId) => onFeeder.get(feederId) ?? none,
    devicesInBuilding: (buildingId) => inBuilding.get(buildingId) ?? none,
  };
}

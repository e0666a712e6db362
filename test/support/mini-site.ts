/**
 * A hand-built site of a handful of devices, so that ingest and live-state
 * tests do not depend on the real catalogue (blue-valley) or on indexSite().
 */
import type { Device, Site, SiteIndex } from '../../server/src/catalogue/types.ts';

export const MINI_SITE_ID = 'mini-valley';

const device = (d: Pick<Device, 'id' | 'kind' | 'role' | 'plotId'> & Partial<Device>): Device => ({
  name: d.id, nameZh: d.id, buildingId: null, unitId: null, feederId: null, position: [0, 0], ...d,
});

export const MINI_DEVICES: readonly Device[] = [
  device({ id: 'BP-A-1', kind: 'booster-pump', role: 'duty', plotId: 'A', feederId: 'SS-A/F1' }),
  device({ id: 'EL-A-01-1', kind: 'elevator', role: 'building', plotId: 'A', buildingId: 'A-01', feederId: 'SS-A/F1' }),
  device({ id: 'WM-A-01-0101', kind: 'water-meter', role: 'household', plotId: 'A', buildingId: 'A-01', unitId: 'A-01-0101' }),
  device({ id: 'GEN-B-1', kind: 'generator', role: 'site', plotId: 'B' }),
  device({ id: 'HY-B-1', kind: 'hydrant', role: 'site', plotId: 'B' }),
  device({ id: 'SL-B-1', kind: 'street-light', role: 'site', plotId: 'B', feederId: 'SS-B/F2' }),
  device({ id: 'SS-A', kind: 'substation', role: 'site', plotId: 'A' }),
];

export function miniSite(siteId: string = MINI_SITE_ID): Site {
  return {
    id: siteId, name: 'Mini Valley', nameZh: '小谷', latitude: 0, longitude: 0, timezone: 'Asia/Shanghai',
    size: { w: 100, h: 100 }, plots: [], buildings: [], units: [], feeders: [], devices: MINI_DEVICES, roads: [], contacts: [],
  };
}

/** A SiteIndex over miniSite(); only device lookups carry data, which is all ingest needs. */
export function miniSiteIndex(siteId: string = MINI_SITE_ID): SiteIndex {
  const site = miniSite(siteId);
  const byId = new Map(site.devices.map((d) => [d.id, d]));
  return {
    site,
    device: (id) => byId.get(id),
    unit: () => undefined,
    building: () => undefined,
    plot: () => undefined,
    feeder: () => undefined,
    devicesOnFeeder: (feederId) => site.devices.filter((d) => d.feederId === feederId),
    devicesInBuilding: (buildingId) => site.devices.filter((d) => d.buildingId === buildingId),
  };
}

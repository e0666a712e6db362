import type { FastifyPluginAsync } from 'fastify';
import { ANY_ROLE } from '../auth/roles.ts';
import { DEVICE_KINDS, type DeviceKind } from '../catalogue/kinds.ts';
import type { SiteView } from './api-types.ts';

/** GET /api/site: the catalogue without its per-unit and per-device lists (those are /api/devices). */
const siteRoutes: FastifyPluginAsync = async (app) => {
  const { site } = app.site;
  const devicesByKind = Object.fromEntries(DEVICE_KINDS.map((k) => [k, 0])) as Record<DeviceKind, number>;
  for (const device of site.devices) devicesByKind[device.kind] += 1;
  const view: SiteView = {
    id: site.id,
    name: site.name,
    nameZh: site.nameZh,
    latitude: site.latitude,
    longitude: site.longitude,
    timezone: site.timezone,
    size: site.size,
    plots: [...site.plots],
    buildings: [...site.buildings],
    feeders: [...site.feeders],
    roads: [...site.roads],
    contacts: [...site.contacts],
    devicesByKind,
    units: {
      households: site.units.filter((u) => u.use === 'residential').length,
      shops: site.units.filter((u) => u.use === 'commercial').length,
    },
  };
  const body = JSON.stringify(view);
  app.get('/api/site', { config: { allow: ANY_ROLE } }, async (_request, reply) => reply.type('application/json').send(body));
};

export default siteRoutes;

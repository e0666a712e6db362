import fp from 'fastify-plugin';
import { loadSite } from '../catalogue/load.ts';
import { indexSite } from '../catalogue/site-index.ts';
import type { SiteIndex } from '../catalogue/types.ts';

declare module 'fastify' {
  interface FastifyInstance { site: SiteIndex }
}

/** The site catalogue (Blue Valley, or SITE_FILE), loaded and validated once. */
export default fp(async (app) => {
  const site = indexSite(loadSite(app.config.siteFile));
  app.decorate('site', site);
  app.log.info({ site: site.site.id, devices: site.site.devices.length }, 'site catalogue loaded');
}, { name: 'catalogue', dependencies: ['config'] });

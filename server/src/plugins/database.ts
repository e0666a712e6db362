import fp from 'fastify-plugin';
import { openDatabase, type Database } from '../adapters/sql/database.ts';

declare module 'fastify' {
  interface FastifyInstance { database: Database }
}

/** The relational store: PostgreSQL when DATABASE_URL is set, PGlite under DATA_DIR otherwise. Migrated on open. */
export default fp(async (app) => {
  const database = await openDatabase(app.config.database);
  app.decorate('database', database);
  app.addHook('onClose', async () => database.close());
  app.log.info({ engine: database.engine }, 'database ready');
}, { name: 'database', dependencies: ['config'] });

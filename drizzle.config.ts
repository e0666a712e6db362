import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` writes migrations to drizzle/; the server applies them at start.
export default defineConfig({
  dialect: 'postgresql',
  schema: './server/src/adapters/sql/schema.ts',
  out: './drizzle',
});

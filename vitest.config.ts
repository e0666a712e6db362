import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// One runner for every suite. Browser-free unit and component tests run in
// parallel; suites that touch a shared service (PostgreSQL, Mosquitto) isolate
// themselves by schema or topic prefix, so files may still run concurrently.
export default defineConfig({
  plugins: [svelte()],
  test: {
    include: ['test/**/*.test.ts', 'web/src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});

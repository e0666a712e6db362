import { configDefaults, defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The minute-long simulation files first: without timings cached (a clean CI
 * clone), Vitest starts the largest files first, and these are three lines
 * each, so one ran alone at the end while the other worker sat idle.
 */
const LONGEST_FIRST = ['scenario-truth-table', 'scenario-normal-week-a', 'scenario-normal-week-c', 'scenario-normal-week-b'];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const at = LONGEST_FIRST.findIndex((name) => file.moduleId.includes(name));
      return at === -1 ? LONGEST_FIRST.length : at;
    };
    return [...(await super.sort(files))].sort((a, b) => rank(a) - rank(b));
  }
}

// One runner for every suite. Browser-free unit and component tests run in
// parallel; suites that touch a shared service (PostgreSQL, Mosquitto) isolate
// themselves by schema or topic prefix, so files may still run concurrently.
export default defineConfig({
  plugins: [svelte()],
  test: {
    // Both cores: Vitest's default on a 2-core machine is one worker (cores − 1), which ran the
    // suite file after file (≈18 min in CI); most files wait on servers and databases anyway.
    maxWorkers: 2,
    sequence: { sequencer: LongestFirst },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'node', include: ['test/**/*.test.ts', 'web/src/**/*.test.ts'], exclude: [...configDefaults.exclude, 'web/src/**/*.dom.test.ts'] } },
      // Component tests (*.dom.test.ts) mount Svelte components in jsdom, with Svelte's browser build.
      { extends: true, resolve: { conditions: ['browser'] }, test: { name: 'dom', include: ['web/src/**/*.dom.test.ts'], environment: 'jsdom' } },
    ],
  },
});

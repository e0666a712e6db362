/** Server health (GET /api/health) and the live ingest counters pushed over the socket. */
import type { HealthView } from '../../../server/src/routes/api-types.ts';
import type { IngestCounters } from '../../../server/src/push/events.ts';
import { ApiRequestError, getJson } from './api.ts';
import type { FetchFn } from './api.ts';

export const HEALTH_POLL_MS = 30_000;

export class HealthStore {
  health = $state.raw<HealthView | null>(null);
  /** Newest ingest counters: pushed by the socket, else from the last health poll. */
  ingest = $state.raw<IngestCounters | null>(null);
  errorCode = $state<string | null>(null);

  readonly #fetch: FetchFn;

  constructor(fetchFn: FetchFn) {
    this.#fetch = fetchFn;
  }

  async fetch(): Promise<void> {
    try {
      const health = await getJson<HealthView>(this.#fetch, '/api/health');
      this.health = health;
      this.ingest = health.ingest;
      this.errorCode = null;
    } catch (err) {
      this.errorCode = err instanceof ApiRequestError ? err.code : 'CLIENT_ERROR';
    }
  }

  setIngest(counters: IngestCounters): void {
    this.ingest = counters;
  }

  /** Polls until the returned function is called. */
  poll(everyMs: number = HEALTH_POLL_MS): () => void {
    void this.fetch();
    const timer = setInterval(() => void this.fetch(), everyMs);
    return () => clearInterval(timer);
  }
}

// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import type { HealthView } from '../../../server/src/routes/api-types.ts';
import { HealthStore } from './health.svelte.ts';

const HEALTH: HealthView = {
  status: 'ok',
  details: true,
  broker: { ok: true, url: 'mqtt://embedded', embedded: true },
  database: { ok: true, engine: 'pglite' },
  timeSeries: {
    ok: true, engine: 'sql',
    writer: { pending: 0, written: 118, dropped: 0, failedFlushes: 0 },
    acks: { mode: 'after-write', afterWrite: 0, onReceipt: 0 },
  },
  ingest: { accepted: 120, rejected: 3, byReason: { OUT_OF_RANGE: 3 } },
  uptimeS: 60,
  instance: 'host-1-abcdef',
  partitions: { total: 3, owned: [{ id: 'blue-valley/A', plotId: 'A', epoch: 1, expiresAt: '2025-01-01T00:00:15.000Z' }] },
};

describe('HealthStore', () => {
  it('takes ingest counters from the health poll, and newer ones from the socket', async () => {
    const store = new HealthStore(async () => new Response(JSON.stringify(HEALTH)));
    await store.fetch();
    expect(store.ingest?.accepted).toBe(120);
    store.setIngest({ accepted: 130, rejected: 3, byReason: {} });
    expect(store.ingest?.accepted).toBe(130);
    expect(store.health?.database.engine).toBe('pglite');
  });

  it('keeps the last health and records the error code when a poll fails', async () => {
    let up = true;
    const store = new HealthStore(async () => {
      if (up) return new Response(JSON.stringify(HEALTH));
      throw new TypeError('Failed to fetch');
    });
    await store.fetch();
    up = false;
    await store.fetch();
    expect(store.errorCode).toBe('NETWORK');
    expect(store.health?.status).toBe('ok');
  });
});

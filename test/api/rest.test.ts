/** The REST API's contract: shapes, filters, pagination and specific errors, through app.inject. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApiError, DeviceView, HealthView, Page, ReadingsView, SiteView } from '../../server/src/routes/api-types.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

let server: TestServer;
beforeAll(async () => { server = await startTestServer(); });
afterAll(async () => { await server?.close(); });

const get = async <T>(url: string) => {
  const response = await server.request({ url });
  return { status: response.statusCode, body: response.json() as T };
};

describe('GET /api/site', () => {
  it('returns the plots with the handbook figures, 35 buildings and the emergency contacts', async () => {
    const { status, body } = await get<SiteView>('/api/site');
    expect(status).toBe(200);
    expect(body.id).toBe('blue-valley');
    expect(body.plots.map((p) => [p.id, p.buildings, p.households, p.shops])).toEqual([
      ['A', 23, 1090, 58], ['B', 3, 688, 0], ['C', 9, 910, 44],
    ]);
    expect(body.buildings).toHaveLength(35);
    expect(body.units).toEqual({ households: 2688, shops: 102 });
    expect(body.contacts.map((c) => c.role)).toEqual(expect.arrayContaining(['fire', 'police', 'sub-district-office', 'community-office', 'local-police-station']));
    expect(body.devicesByKind['water-meter']).toBeGreaterThanOrEqual(2790);
  });
});

describe('GET /api/devices', () => {
  it('filters by plot, building and kind and paginates', async () => {
    const { body } = await get<Page<DeviceView>>('/api/devices?building=A-03&kind=elevator');
    expect(body.items.map((d) => d.id)).toEqual(['EL-A-03-1', 'EL-A-03-2']);
    expect(body.items[0]?.state).toMatchObject({ status: 'unknown', ts: null });

    const first = await get<Page<DeviceView>>('/api/devices?plot=B&limit=5');
    const second = await get<Page<DeviceView>>('/api/devices?plot=B&limit=5&offset=5');
    expect(first.body.total).toBe(second.body.total);
    expect(first.body.items).toHaveLength(5);
    expect(new Set([...first.body.items, ...second.body.items].map((d) => d.id)).size).toBe(10);
    expect(first.body.items.every((d) => d.plotId === 'B')).toBe(true);
  });

  it('filters by live status', async () => {
    const { body } = await get<Page<DeviceView>>('/api/devices?status=offline');
    expect(body.total).toBe(0);
  });

  it.each([
    ['/api/devices?kind=toaster', 400, 'VALIDATION_FAILED'],
    ['/api/devices?limit=0', 400, 'VALIDATION_FAILED'],
    ['/api/devices?limit=20000', 400, 'VALIDATION_FAILED'],
    ['/api/devices?plot=Z', 400, 'BAD_REQUEST'],
    ['/api/devices?building=A-99', 400, 'BAD_REQUEST'],
    ['/api/devices/NOPE', 404, 'DEVICE_NOT_FOUND'],
    ['/api/nothing-here', 404, 'NOT_FOUND'],
  ])('%s → %i %s', async (url, status, code) => {
    const response = await get<ApiError>(url);
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ statusCode: status, code });
    expect(response.body.message.length).toBeGreaterThan(5);
  });
});

describe('GET /api/devices/:id/readings', () => {
  it('returns empty buckets for a device that has not reported, with the meter default of delta', async () => {
    const from = Date.UTC(2026, 10, 1);
    const { status, body } = await get<ReadingsView>(`/api/devices/WM-A-03-0502/readings?from=${from}&to=${from + 86_400_000}&every=1h`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ metric: 'volume_m3', agg: 'delta', everyMs: 3_600_000 });
    expect(body.buckets).toHaveLength(24);
    expect(body.buckets.every((b) => b.value === null)).toBe(true);
  });

  it('chooses a bucket width when none is given', async () => {
    const { body } = await get<ReadingsView>('/api/devices/BP-A-1/readings?metric=pressure_mpa&from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z');
    expect(body.everyMs).toBe(300_000);
    expect(body.agg).toBe('mean');
  });

  it.each([
    ['metric=volume', 400, 'UNKNOWN_METRIC', /no metric "volume"/],
    ['metric=door', 400, 'METRIC_NOT_NUMERIC', /text/],
    ['from=yesterday', 400, 'BAD_REQUEST', /"from"/],
    ['from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z', 400, 'BAD_REQUEST', /before/],
    ['every=fortnight', 400, 'BAD_REQUEST', /"every"/],
    ['from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&every=1m', 400, 'RANGE_TOO_LARGE', /buckets/],
    ['agg=median', 400, 'VALIDATION_FAILED', /agg/],
  ])('%s → %i %s', async (query, status, code, message) => {
    const id = query.startsWith('metric=door') ? 'EL-A-03-1' : 'WM-A-03-0502';
    const response = await get<ApiError>(`/api/devices/${id}/readings?${query}`);
    expect(response.status).toBe(status);
    expect(response.body.code).toBe(code);
    expect(response.body.message).toMatch(message);
  });
});

describe('GET /api/ingest/dead-letters', () => {
  it('is empty at first and rejects a bad cursor or limit', async () => {
    const { status, body } = await get<{ items: unknown[]; nextCursor: string | null }>('/api/ingest/dead-letters');
    expect(status).toBe(200);
    expect(body).toEqual({ items: [], nextCursor: null });
    expect((await get<ApiError>('/api/ingest/dead-letters?limit=9999')).status).toBe(400);
  });
});

describe('GET /api/health', () => {
  it('shows anyone the status, the flags and the counters, but the broker address, the instance and error texts only to an operator or an administrator', async () => {
    for (const as of [null, 'technician', 'manager'] as const) {
      const response = await server.request({ url: '/api/health', as });
      const body = response.json() as HealthView;
      expect(response.statusCode, String(as)).toBe(200);
      expect(body, String(as)).toMatchObject({ status: 'ok', details: false, broker: { ok: true, embedded: true }, database: { ok: true, engine: 'pglite' }, partitions: { total: 3 } });
      expect(body.broker.url, String(as)).toBeUndefined();
      expect(body.instance, String(as)).toBeUndefined();
      expect(body.ingest, String(as)).toMatchObject({ accepted: expect.any(Number), rejected: expect.any(Number) });
    }
    for (const as of ['operator', 'admin'] as const) {
      const body = (await server.request({ url: '/api/health', as })).json() as HealthView;
      expect(body, as).toMatchObject({ details: true, broker: { url: server.app.broker.url }, instance: server.app.cluster.instance });
    }
  });

  it('keeps the error text of a failing component from anyone but an operator or an administrator', async () => {
    const store = server.app.telemetry.store;
    const failing = vi.spyOn(store, 'health').mockResolvedValue({ ok: false, engine: 'sql', detail: 'connect ECONNREFUSED 10.20.30.40:8086' });
    try {
      const anonymous = await server.request({ url: '/api/health', as: null });
      expect(anonymous.statusCode).toBe(503);
      expect(anonymous.json()).toMatchObject({ status: 'degraded', timeSeries: { ok: false } });
      expect(anonymous.body).not.toContain('10.20.30.40');
      expect(anonymous.body).not.toContain('"detail"');
      const admin = await server.request({ url: '/api/health', as: 'admin' });
      expect(admin.statusCode).toBe(503);
      expect((admin.json() as HealthView).timeSeries.detail).toBe('connect ECONNREFUSED 10.20.30.40:8086');
    } finally {
      failing.mockRestore();
    }
  });

  it('names this instance and the partitions it owns: alone on PGlite, every plot, each lease live', async () => {
    const { status, body } = await get<HealthView>('/api/health');
    expect(status).toBe(200);
    expect(body.instance).toBe(server.app.cluster.instance);
    expect(body.partitions.total).toBe(3);
    expect(body.partitions.owned.map((p) => [p.id, p.plotId])).toEqual([['blue-valley/A', 'A'], ['blue-valley/B', 'B'], ['blue-valley/C', 'C']]);
    for (const lease of body.partitions.owned) {
      expect(lease.epoch).toBeGreaterThanOrEqual(1);
      expect(Date.parse(lease.expiresAt)).toBeGreaterThan(Date.now());
    }
  });
});

// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import type { DeviceView, Page } from '../../../server/src/routes/api-types.ts';
import type { FetchFn } from './api.ts';
import { LiveDevices } from './live-devices.svelte.ts';
import { SiteStore } from './site-store.svelte.ts';
import { SITE, deviceViews, state } from './testing/fixtures.ts';

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** A fake server: the site, and the devices served in pages of at most `pageCap`. */
function fakeApi(devices: DeviceView[], pageCap = Infinity): { fetch: FetchFn; requests: string[] } {
  const requests: string[] = [];
  return {
    requests,
    fetch: async (path) => {
      requests.push(path);
      const url = new URL(path, 'http://site.test');
      if (url.pathname === '/api/site') return json(SITE);
      if (url.pathname === '/api/devices') {
        const limit = Math.min(Number(url.searchParams.get('limit')), pageCap);
        const offset = Number(url.searchParams.get('offset') ?? 0);
        const page: Page<DeviceView> = { items: devices.slice(offset, offset + limit), total: devices.length, limit, offset };
        return json(page);
      }
      return json({ statusCode: 404, code: 'NOT_FOUND', message: 'no such route' }, 404);
    },
  };
}

describe('SiteStore', () => {
  it('starts loading, then holds the site model and seeds the live states', async () => {
    const live = new LiveDevices(() => {});
    const store = new SiteStore(fakeApi(deviceViews('online')).fetch, live);
    expect(store.load.kind).toBe('loading');
    await store.fetch();
    expect(store.load.kind).toBe('ready');
    if (store.load.kind !== 'ready') return;
    expect(store.load.model.devices.size).toBe(8);
    expect(store.load.model.devices.get('BP-A-1')).not.toHaveProperty('state');
    expect(live.get('BP-A-1')?.status).toBe('online');
  });

  it('keeps a live state the socket delivered before the device list arrived', async () => {
    const live = new LiveDevices(() => {});
    live.replaceAll([state('BP-A-1', 'offline', 9_000)]);
    await new SiteStore(fakeApi(deviceViews('online')).fetch, live).fetch();
    expect(live.get('BP-A-1')?.status).toBe('offline');
  });

  it('fetches further pages when the server caps the page size', async () => {
    const api = fakeApi(deviceViews(), 3);
    const store = new SiteStore(api.fetch, new LiveDevices(() => {}));
    await store.fetch();
    expect(store.load.kind === 'ready' && store.load.model.devices.size).toBe(8);
    expect(api.requests.filter((r) => r.startsWith('/api/devices'))).toHaveLength(3);
  });

  it('is empty when the catalogue has no devices', async () => {
    const store = new SiteStore(fakeApi([]).fetch, new LiveDevices(() => {}));
    await store.fetch();
    expect(store.load.kind).toBe('empty');
  });

  it('reports the server error code', async () => {
    const fetchFn: FetchFn = async () => json({ statusCode: 503, code: 'DB_UNAVAILABLE', message: 'database is starting' }, 503);
    const store = new SiteStore(fetchFn, new LiveDevices(() => {}));
    await store.fetch();
    expect(store.load).toEqual({ kind: 'error', code: 'DB_UNAVAILABLE', message: 'database is starting' });
  });

  it('reports a network failure as NETWORK and a bare HTTP error by status', async () => {
    const store = new SiteStore(async () => { throw new TypeError('Failed to fetch'); }, new LiveDevices(() => {}));
    await store.fetch();
    expect(store.load.kind === 'error' && store.load.code).toBe('NETWORK');

    const bare = new SiteStore(async () => new Response('gateway down', { status: 502 }), new LiveDevices(() => {}));
    await bare.fetch();
    expect(bare.load.kind === 'error' && bare.load.code).toBe('HTTP_502');
  });
});

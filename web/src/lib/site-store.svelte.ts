/** Loads the site and its device catalogue from the REST API, with loading, error and empty states. */
import type { Device } from '../../../server/src/catalogue/types.ts';
import type { DeviceView, Page, SiteView } from '../../../server/src/routes/api-types.ts';
import type { DeviceState } from '../../../server/src/push/events.ts';
import { ApiRequestError, getJson } from './api.ts';
import type { FetchFn } from './api.ts';
import { buildSiteModel } from './site-model.ts';
import type { SiteModel } from './site-model.ts';
import type { LiveDevices } from './live-devices.svelte.ts';

export type SiteLoad =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly code: string; readonly message: string }
  /** The site loaded but its catalogue has no devices: the map draws, with a note. */
  | { readonly kind: 'empty'; readonly model: SiteModel }
  | { readonly kind: 'ready'; readonly model: SiteModel };

/** Asked for in one page; the estate has about 6,000 devices. Further pages are fetched if the server caps it. */
export const DEVICE_PAGE_SIZE = 10_000;

export class SiteStore {
  /** Raw, not deep-proxied: the model holds thousands of devices that never change in place. */
  load = $state.raw<SiteLoad>({ kind: 'loading' });

  readonly #fetch: FetchFn;
  readonly #live: LiveDevices;

  constructor(fetchFn: FetchFn, live: LiveDevices) {
    this.#fetch = fetchFn;
    this.#live = live;
  }

  async fetch(): Promise<void> {
    this.load = { kind: 'loading' };
    try {
      const [site, views] = await Promise.all([
        getJson<SiteView>(this.#fetch, '/api/site'),
        this.#fetchAllDevices(),
      ]);
      const devices: Device[] = [];
      const states: DeviceState[] = [];
      for (const { state, ...device } of views) {
        devices.push(device);
        states.push(state);
      }
      this.#live.seed(states);
      const model = buildSiteModel(site, devices);
      this.load = devices.length === 0 ? { kind: 'empty', model } : { kind: 'ready', model };
    } catch (err) {
      const code = err instanceof ApiRequestError ? err.code : 'CLIENT_ERROR';
      this.load = { kind: 'error', code, message: err instanceof Error ? err.message : String(err) };
    }
  }

  async #fetchAllDevices(): Promise<DeviceView[]> {
    const devices: DeviceView[] = [];
    for (;;) {
      const page = await getJson<Page<DeviceView>>(this.#fetch, `/api/devices?limit=${DEVICE_PAGE_SIZE}&offset=${devices.length}`);
      devices.push(...page.items);
      if (page.items.length === 0 || devices.length >= page.total) return devices;
    }
  }
}

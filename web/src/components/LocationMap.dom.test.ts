import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { I18n } from '../lib/i18n.svelte.ts';
import { buildSiteModel } from '../lib/site-model.ts';
import type { Where } from '../lib/site-model.ts';
import { DEVICES, SITE } from '../lib/testing/fixtures.ts';
import LocationMap from './LocationMap.svelte';

const model = buildSiteModel(SITE, DEVICES);
let mounted: ReturnType<typeof mount> | undefined;
afterEach(() => {
  if (mounted) unmount(mounted);
  document.body.innerHTML = '';
});

function render(where: Where): HTMLElement {
  const target = document.body.appendChild(document.createElement('div'));
  const i18n = new I18n();
  i18n.setLang('en');
  mounted = mount(LocationMap, { target, props: { model, where, i18n } });
  flushSync();
  return target;
}

/** The middle of the svg's viewBox, in site units. */
function centre(root: HTMLElement): [number, number] {
  const [x, y, w, h] = root.querySelector('svg')!.getAttribute('viewBox')!.split(' ').map(Number) as [number, number, number, number];
  return [x + w / 2, y + h / 2];
}

describe('LocationMap', () => {
  it("marks the ticket's building, centred, among its neighbours, and names the place", () => {
    const root = render({ plotId: 'A', buildingId: 'A-02', deviceId: null });
    const svg = root.querySelector('svg')!;
    expect(svg.getAttribute('role')).toBe('img');
    expect(svg.getAttribute('aria-label')).toBe('Location map: Plot A · Building A-02');
    expect([...root.querySelectorAll('g.building.target')].map((g) => g.getAttribute('data-building-id'))).toEqual(['A-02']);
    expect(root.querySelectorAll('g.building')).toHaveLength(2);
    expect(root.querySelectorAll('polygon.plot')).toHaveLength(1);
    expect(root.querySelectorAll('polyline.road')).toHaveLength(1);
    expect(centre(root)[0]).toBeCloseTo(100, 6); // A-02 spans x 80–120
    expect(root.querySelector('.pin')).toBeNull();
  });

  it('finds a device in a building through the building, and pins one outside buildings at its spot', () => {
    let root = render({ plotId: null, buildingId: null, deviceId: 'EL-A-01-1' });
    expect(root.querySelector('g.building.target')!.getAttribute('data-building-id')).toBe('A-01');
    expect(root.querySelector('svg')!.getAttribute('aria-label')).toBe('Location map: Plot A · Building A-01 · EL-A-01-1');
    unmount(mounted!);

    root = render({ plotId: 'A', buildingId: null, deviceId: 'BP-A-1' });
    expect(root.querySelector('g.building.target')).toBeNull();
    const pin = root.querySelector('circle.pin')!;
    expect([pin.getAttribute('cx'), pin.getAttribute('cy')]).toEqual(['150', '150']);
  });

  it('says so when the place is not in the catalogue', () => {
    const root = render({ plotId: null, buildingId: null, deviceId: null });
    expect(root.querySelector('svg')).toBeNull();
    expect(root.textContent).toBe('The location is not on the map.');
  });
});

import { describe, expect, it } from 'vitest';
import { MAX_ZOOM, overview, panBy, viewForKey, zoomAt, zoomOf } from './map-view.ts';

const size = { w: 1000, h: 700 };

describe('map view', () => {
  it('zooms about a point, keeping it in place on screen', () => {
    const view = zoomAt(overview(size), size, 2, 250, 350);
    expect(view).toEqual({ x: 125, y: 175, w: 500, h: 350 });
    // The point's share of the view is unchanged: (250-125)/500 = 250/1000.
    expect((250 - view.x) / view.w).toBeCloseTo(250 / 1000, 9);
  });

  it('never zooms out beyond the whole site nor in beyond MAX_ZOOM', () => {
    expect(zoomAt(overview(size), size, 0.5)).toEqual(overview(size));
    expect(zoomOf(zoomAt(overview(size), size, 1000), size)).toBe(MAX_ZOOM);
  });

  it('pans within the site only', () => {
    const view = zoomAt(overview(size), size, 2);
    expect(panBy(view, size, -10_000, 0).x).toBe(0);
    expect(panBy(view, size, 10_000, 10_000)).toMatchObject({ x: 500, y: 350 });
  });

  it('keys: + and − zoom, arrows pan, 0 is the overview, other keys are not the map\'s', () => {
    const zoomed = viewForKey('+', overview(size), size)!;
    expect(zoomOf(zoomed, size)).toBeCloseTo(1.5, 9);
    expect(viewForKey('ArrowRight', zoomed, size)!.x).toBeGreaterThan(zoomed.x);
    expect(viewForKey('ArrowUp', zoomed, size)!.y).toBeLessThan(zoomed.y);
    expect(viewForKey('-', zoomed, size)).toEqual(overview(size));
    expect(viewForKey('0', zoomed, size)).toEqual(overview(size));
    expect(viewForKey('Enter', zoomed, size)).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { labelSize, MAX_ZOOM, overview, panBy, points, viewAround, viewForKey, zoomAt, zoomOf } from './map-view.ts';

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

  it('frames a box with a margin around it, centred, at the site\'s aspect, inside the site', () => {
    // A 64 × 16 building with 100 around it: 264 × 216 needed; the height decides (700 / 216).
    const view = viewAround(size, { x: 400, y: 300, w: 64, h: 16 }, 100);
    expect(view.h).toBeCloseTo(216, 9);
    expect(view.w / view.h).toBeCloseTo(1000 / 700, 9);
    expect(view.x + view.w / 2).toBeCloseTo(432, 9);
    expect(view.y + view.h / 2).toBeCloseTo(308, 9);
    // Near a corner the view stays on the site; a point zooms in no further than MAX_ZOOM; a huge box is the overview.
    expect(viewAround(size, { x: 5, y: 5, w: 0, h: 0 }, 100)).toMatchObject({ x: 0, y: 0 });
    expect(zoomOf(viewAround(size, { x: 500, y: 350, w: 0, h: 0 }, 1), size)).toBe(MAX_ZOOM);
    expect(viewAround(size, { x: 0, y: 0, w: 1000, h: 700 }, 50)).toEqual(overview(size));
  });

  it('frames at another aspect without cropping the box, still inside the site', () => {
    // 2:1 for a phone card: 264 wide is enough for the width, 216 high needs 432 wide.
    const view = viewAround(size, { x: 400, y: 40, w: 64, h: 16 }, 100, 2);
    expect(view).toEqual({ x: 216, y: 0, w: 432, h: 216 });
    // The box is inside the view even at the site's edge.
    expect(view.y).toBeLessThanOrEqual(40);
    expect(view.y + view.h).toBeGreaterThanOrEqual(56);
    // Never more than the site: at most 1000 × 500 at 2:1, centred on the box.
    expect(viewAround(size, { x: 0, y: 0, w: 1000, h: 700 }, 50, 2)).toEqual({ x: 0, y: 100, w: 1000, h: 500 });
  });

  it('writes SVG points and sizes a building label to its footprint', () => {
    expect(points([[0, 0], [10.5, 20]])).toBe('0,0 10.5,20');
    expect(labelSize({ w: 64, h: 16 }, 3)).toBeCloseTo(8.8, 9);
    expect(labelSize({ w: 200, h: 200 }, 3)).toBe(13.5);
  });
});

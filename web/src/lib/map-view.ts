/**
 * Zoom and pan of the site map as pure functions on the SVG viewBox. The
 * view never leaves the site and never shows more than all of it; the
 * overview is the whole site. Every map of the site (the control room's, a
 * ticket's location) frames itself with these.
 */
export interface View { readonly x: number; readonly y: number; readonly w: number; readonly h: number }

/** An outline or a polyline as the SVG points attribute. */
export function points(outline: readonly (readonly [number, number])[]): string {
  return outline.map(([x, y]) => `${x},${y}`).join(' ');
}

export const MAX_ZOOM = 10;
/** One key press or button click zooms by this factor; one arrow press pans this share of the view. */
export const ZOOM_STEP = 1.5;
export const PAN_STEP = 0.2;

export function overview(size: { w: number; h: number }): View {
  return { x: 0, y: 0, w: size.w, h: size.h };
}

/** How far in the view is zoomed: 1 at the overview. */
export function zoomOf(view: View, size: { w: number; h: number }): number {
  return size.w / view.w;
}

/** Keeps the view inside the site. */
function clamp(view: View, size: { w: number; h: number }): View {
  const x = Math.min(Math.max(view.x, 0), size.w - view.w);
  const y = Math.min(Math.max(view.y, 0), size.h - view.h);
  return { ...view, x, y };
}

/**
 * Zooms by `factor` (>1 in, <1 out) keeping the site point (cx, cy) where it
 * is on screen (the cursor, the pinch's middle, or the view's centre).
 */
export function zoomAt(view: View, size: { w: number; h: number }, factor: number, cx = view.x + view.w / 2, cy = view.y + view.h / 2): View {
  const zoom = Math.min(Math.max(zoomOf(view, size) * factor, 1), MAX_ZOOM);
  const w = size.w / zoom;
  const h = size.h / zoom;
  const scale = w / view.w;
  return clamp({ x: cx - (cx - view.x) * scale, y: cy - (cy - view.y) * scale, w, h }, size);
}

/** Moves the view by (dx, dy) site units. */
export function panBy(view: View, size: { w: number; h: number }, dx: number, dy: number): View {
  return clamp({ ...view, x: view.x + dx, y: view.y + dy }, size);
}

/** A building's id label: as large as fits its footprint, at most 4.5 glyph units (`u`). */
export function labelSize(footprint: { w: number; h: number }, u: number): number {
  return Math.min(footprint.w * 0.3, footprint.h * 0.55, u * 4.5);
}

/**
 * The view centred on `box` (a building's footprint, a device's spot) with
 * at least `margin` site units around it, `aspect` (width / height) wide, as
 * close as MAX_ZOOM allows and never outside the site.
 */
export function viewAround(size: { w: number; h: number }, box: View, margin: number, aspect = size.w / size.h): View {
  const needed = Math.max(box.w + 2 * margin, (box.h + 2 * margin) * aspect, size.w / MAX_ZOOM);
  const w = Math.min(needed, size.w, size.h * aspect);
  const h = w / aspect;
  return clamp({ x: box.x + box.w / 2 - w / 2, y: box.y + box.h / 2 - h / 2, w, h }, size);
}

export function viewBox(view: View): string {
  return `${view.x} ${view.y} ${view.w} ${view.h}`;
}

/** What a key does to the view, or null when the key is not a map key. */
export function viewForKey(key: string, view: View, size: { w: number; h: number }): View | null {
  switch (key) {
    case '+': case '=': return zoomAt(view, size, ZOOM_STEP);
    case '-': case '_': return zoomAt(view, size, 1 / ZOOM_STEP);
    case '0': return overview(size);
    case 'ArrowLeft': return panBy(view, size, -view.w * PAN_STEP, 0);
    case 'ArrowRight': return panBy(view, size, view.w * PAN_STEP, 0);
    case 'ArrowUp': return panBy(view, size, 0, -view.h * PAN_STEP);
    case 'ArrowDown': return panBy(view, size, 0, view.h * PAN_STEP);
    default: return null;
  }
}

/** Plane geometry for the site map (metres, x east, y south). */
import type { Point, Rect } from './types.ts';

const EPS = 1e-9;

function onSegment(p: Point, a: Point, b: Point): boolean {
  const cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
  if (Math.abs(cross) > EPS) return false;
  return p[0] >= Math.min(a[0], b[0]) - EPS && p[0] <= Math.max(a[0], b[0]) + EPS
    && p[1] >= Math.min(a[1], b[1]) - EPS && p[1] <= Math.max(a[1], b[1]) + EPS;
}

function edges(polygon: readonly Point[]): Array<[Point, Point]> {
  return polygon.map((p, i) => [p, polygon[(i + 1) % polygon.length]!]);
}

/** Inside or on the boundary of a simple polygon. */
export function pointInPolygon(p: Point, polygon: readonly Point[]): boolean {
  let inside = false;
  for (const [a, b] of edges(polygon)) {
    if (onSegment(p, a, b)) return true;
    if ((a[1] > p[1]) !== (b[1] > p[1]) && p[0] < ((b[0] - a[0]) * (p[1] - a[1])) / (b[1] - a[1]) + a[0]) inside = !inside;
  }
  return inside;
}

function rectCorners(r: Rect): Point[] {
  return [[r.x, r.y], [r.x + r.w, r.y], [r.x + r.w, r.y + r.h], [r.x, r.y + r.h]];
}

function strictlyInsideRect(p: Point, r: Rect): boolean {
  return p[0] > r.x + EPS && p[0] < r.x + r.w - EPS && p[1] > r.y + EPS && p[1] < r.y + r.h - EPS;
}

function segmentsCrossProperly(a: Point, b: Point, c: Point, d: Point): boolean {
  const orient = (p: Point, q: Point, r: Point) => Math.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]));
  const o1 = orient(a, b, c), o2 = orient(a, b, d), o3 = orient(c, d, a), o4 = orient(c, d, b);
  return o1 * o2 < 0 && o3 * o4 < 0;
}

/**
 * The rectangle lies within the polygon. Corners alone are not enough for a
 * concave outline (a notch can cut through the middle), so no outline vertex may
 * lie inside the rectangle and no outline edge may cross one of its sides.
 */
export function rectInPolygon(r: Rect, polygon: readonly Point[]): boolean {
  const corners = rectCorners(r);
  if (!corners.every((c) => pointInPolygon(c, polygon))) return false;
  if (polygon.some((v) => strictlyInsideRect(v, r))) return false;
  const sides = edges(corners);
  return !edges(polygon).some(([a, b]) => sides.some(([c, d]) => segmentsCrossProperly(a, b, c, d)));
}

/** The rectangles share some area (touching edges do not count). */
export function rectsOverlap(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

export function pointInRect(p: Point, r: Rect): boolean {
  return p[0] >= r.x && p[0] <= r.x + r.w && p[1] >= r.y && p[1] <= r.y + r.h;
}

function distanceToSegment(p: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2));
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

/** Zero inside the polygon, else the distance to its nearest edge. */
export function distanceToPolygon(p: Point, polygon: readonly Point[]): number {
  if (pointInPolygon(p, polygon)) return 0;
  return Math.min(...edges(polygon).map(([a, b]) => distanceToSegment(p, a, b)));
}

export function polylineLength(points: readonly Point[]): number {
  let total = 0;
  for (let i = 1; i < points.length; i++) total += Math.hypot(points[i]![0] - points[i - 1]![0], points[i]![1] - points[i - 1]![1]);
  return total;
}

/**
 * `count` points evenly spread along the polyline (half a step from each end),
 * moved `offset` metres to the right of the direction of travel.
 */
export function pointsAlong(points: readonly Point[], count: number, offset: number): Point[] {
  const total = polylineLength(points);
  const out: Point[] = [];
  let segment = 0;
  let segmentStart = 0;
  for (let i = 0; i < count; i++) {
    const at = ((i + 0.5) * total) / count;
    while (segment < points.length - 2) {
      const [a, b] = [points[segment]!, points[segment + 1]!];
      const length = Math.hypot(b[0] - a[0], b[1] - a[1]);
      if (at <= segmentStart + length) break;
      segmentStart += length;
      segment++;
    }
    const [a, b] = [points[segment]!, points[segment + 1]!];
    const length = Math.hypot(b[0] - a[0], b[1] - a[1]);
    const t = length === 0 ? 0 : (at - segmentStart) / length;
    const [ux, uy] = length === 0 ? [0, 0] : [(b[0] - a[0]) / length, (b[1] - a[1]) / length];
    // With y pointing south, (-uy, ux) is the right-hand normal.
    out.push([round(a[0] + t * (b[0] - a[0]) - uy * offset), round(a[1] + t * (b[1] - a[1]) + ux * offset)]);
  }
  return out;
}

/** Positions to the centimetre: keeps generated JSON short and stable. */
export function round(v: number): number {
  return Math.round(v * 100) / 100;
}

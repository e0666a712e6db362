/** Small statistics for the bench's figures. */

export interface Percentiles { p50: number; p95: number; p99: number; max: number; n: number }

/** Nearest-rank percentiles, rounded to 0.1. */
export function percentiles(values: readonly number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => round1(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
  return { p50: at(50), p95: at(95), p99: at(99), max: round1(sorted[sorted.length - 1]!), n: sorted.length };
}

/** Least-squares slope of y over x (units of y per unit of x); 0 with fewer than two points. */
export function slope(points: ReadonlyArray<readonly [x: number, y: number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export const round1 = (x: number) => Math.round(x * 10) / 10;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

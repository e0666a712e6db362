/**
 * Meter trends for managers, as pure functions: which meters a scope covers,
 * the previous period, totals, and the night flow of a bulk inlet.
 */
import type { Device, SiteIndex } from '../catalogue/types.ts';
import type { Bucket } from '../ports/time-series.ts';

export const UTILITIES = ['water', 'electricity'] as const;
export type Utility = (typeof UTILITIES)[number];

/** The meter kind and cumulative register of each utility. */
export const UTILITY_METER = {
  water: { kind: 'water-meter', metric: 'volume_m3', unit: 'm³' },
  electricity: { kind: 'electric-meter', metric: 'energy_kwh', unit: 'kWh' },
} as const satisfies Record<Utility, { kind: Device['kind']; metric: string; unit: string }>;

export type ScopeKind = 'site' | 'plot' | 'building' | 'unit' | 'device';

/** `site`, `plot:A`, `building:A-03`, `unit:A-03-0502` (a household or shop) or `device:WM-A-03-0502`. */
export const SCOPE_PATTERN = '^(site|(plot|building|unit|device):[A-Za-z0-9_.-]{1,64})$';

export interface Scope { readonly kind: ScopeKind; readonly id: string | null }

export interface ResolvedScope extends Scope {
  /** The household and shop meters of the utility in the scope (the one meter for a device). */
  readonly consumers: readonly Device[];
  /** The bulk inlet meters in the scope (water, site or plot); empty otherwise. */
  readonly inlets: readonly Device[];
}

export class ScopeError extends Error {
  constructor(readonly code: 'SCOPE_NOT_FOUND' | 'BAD_REQUEST', message: string) {
    super(message);
  }
}

export function parseScope(text: string): Scope {
  const match = new RegExp(SCOPE_PATTERN).exec(text);
  if (!match) throw new ScopeError('BAD_REQUEST', `A scope is site, plot:<id>, building:<id>, unit:<id> or device:<id>, not "${text}"`);
  const kind = match[2] as ScopeKind | undefined;
  return kind === undefined ? { kind: 'site', id: null } : { kind, id: text.slice(kind.length + 1) };
}

const isConsumer = (d: Device) => d.role === 'household' || d.role === 'shop';

/** The meters a scope covers for a utility; ScopeError when the scope names nothing in the site. */
export function resolveScope(site: SiteIndex, scope: Scope, utility: Utility): ResolvedScope {
  const kind = UTILITY_METER[utility].kind;
  const meters = site.site.devices.filter((d) => d.kind === kind);
  const notFound = (what: string) => new ScopeError('SCOPE_NOT_FOUND', `No ${what} "${scope.id}" in site ${site.site.id}`);
  const inletsOf = (inScope: (d: Device) => boolean) => (utility === 'water' ? meters.filter((d) => d.role === 'plot-inlet' && inScope(d)) : []);

  switch (scope.kind) {
    case 'site':
      return { ...scope, consumers: meters.filter(isConsumer), inlets: inletsOf(() => true) };
    case 'plot': {
      if (!site.plot(scope.id!)) throw notFound('plot');
      const inPlot = (d: Device) => d.plotId === scope.id;
      return { ...scope, consumers: meters.filter((d) => isConsumer(d) && inPlot(d)), inlets: inletsOf(inPlot) };
    }
    case 'building':
      if (!site.building(scope.id!)) throw notFound('building');
      return { ...scope, consumers: meters.filter((d) => isConsumer(d) && d.buildingId === scope.id), inlets: [] };
    case 'unit': {
      if (!site.unit(scope.id!)) throw notFound('household or shop');
      return { ...scope, consumers: meters.filter((d) => d.unitId === scope.id), inlets: [] };
    }
    case 'device': {
      const device = site.device(scope.id!);
      if (!device) throw notFound('device');
      if (device.kind !== kind) throw new ScopeError('BAD_REQUEST', `${device.id} is a ${device.kind}, not a ${kind}`);
      return { ...scope, consumers: [device], inlets: [] };
    }
  }
}

/** The period of the same length just before [from, to). */
export function previousPeriod(from: number, to: number): { from: number; to: number } {
  return { from: from - (to - from), to: from };
}

/** The sum of the non-empty buckets; null when all are empty. */
export function total(buckets: readonly Bucket[]): number | null {
  let sum: number | null = null;
  for (const b of buckets) if (b.value !== null) sum = (sum ?? 0) + b.value;
  return sum;
}

export interface NightFlow {
  /** The local calendar date of the night's early morning, YYYY-MM-DD. */
  readonly date: string;
  /** The smallest per-hour consumption between the two hours (e.g. m³/h); null when no hour of that night had data. */
  readonly value: number | null;
}

/**
 * Minimum night flow: for each local night, the smallest consumption among
 * the buckets that start at a local hour in [fromHour, toHour). Buckets must
 * be an hour wide. A leak shows as a night flow that never falls to near zero.
 */
export function nightFlow(hourly: readonly Bucket[], timeZone: string, fromHour = 2, toHour = 4): NightFlow[] {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hourCycle: 'h23' });
  const nights = new Map<string, number | null>();
  for (const bucket of hourly) {
    const p = Object.fromEntries(parts.formatToParts(bucket.ts).map((x) => [x.type, x.value]));
    const hour = Number(p.hour);
    if (hour < fromHour || hour >= toHour) continue;
    const date = `${p.year}-${p.month}-${p.day}`;
    const known = nights.get(date) ?? null;
    const value = bucket.value === null ? known : known === null ? bucket.value : Math.min(known, bucket.value);
    nights.set(date, value);
  }
  return [...nights].map(([date, value]) => ({ date, value }));
}

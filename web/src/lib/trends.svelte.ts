/**
 * The managers' trends view's state: what is asked (scope, utility, period),
 * what came back (the series with the previous period, water balance, night
 * flow, top consumers) with loading and error states, and the CSV of what is shown.
 */
import type { TopConsumersView, TrendsView } from '../../../server/src/routes/api-types.ts';
import { ApiRequestError, getJson } from './api.ts';
import type { FetchFn } from './api.ts';

export const PERIODS = ['day', 'week', 'month'] as const;
export type Period = (typeof PERIODS)[number];
export type Utility = TrendsView['utility'];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The length of each period and its bucket width. */
export const PERIOD_SPAN: Record<Period, { spanMs: number; everyMs: number }> = {
  day: { spanMs: DAY, everyMs: HOUR },
  week: { spanMs: 7 * DAY, everyMs: HOUR },
  month: { spanMs: 30 * DAY, everyMs: HOUR },
};
export const TOP_LIMIT = 10;

/** The period ending with the bucket that holds `now` (so the newest, partial hour shows). */
export function periodRange(period: Period, now: number): { from: number; to: number; everyMs: number } {
  const { spanMs, everyMs } = PERIOD_SPAN[period];
  const to = Math.floor(now / everyMs) * everyMs + everyMs;
  return { from: to - spanMs, to, everyMs };
}

export type TrendsLoad =
  | { readonly kind: 'idle' }
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly code: string; readonly message: string }
  | { readonly kind: 'ready'; readonly trends: TrendsView; readonly top: TopConsumersView };

export class TrendsStore {
  scope = $state('site');
  utility = $state<Utility>('water');
  period = $state<Period>('week');
  compare = $state(true);
  load = $state.raw<TrendsLoad>({ kind: 'idle' });

  readonly #fetch: FetchFn;
  readonly #now: () => number;
  /** Answers to superseded requests are dropped. */
  #request = 0;

  constructor(fetchFn: FetchFn, now: () => number = Date.now) {
    this.#fetch = fetchFn;
    this.#now = now;
  }

  async fetch(): Promise<void> {
    const request = ++this.#request;
    const { from, to, everyMs } = periodRange(this.period, this.#now());
    const query = new URLSearchParams({ scope: this.scope, utility: this.utility, from: String(from), to: String(to) });
    this.load = { kind: 'loading' };
    try {
      const [trends, top] = await Promise.all([
        getJson<TrendsView>(this.#fetch, `/api/trends?${query}&every=${everyMs}`),
        getJson<TopConsumersView>(this.#fetch, `/api/trends/top?${query}&limit=${TOP_LIMIT}`),
      ]);
      if (request === this.#request) this.load = { kind: 'ready', trends, top };
    } catch (err) {
      if (request !== this.#request) return;
      const code = err instanceof ApiRequestError ? err.code : 'CLIENT_ERROR';
      this.load = { kind: 'error', code, message: err instanceof Error ? err.message : String(err) };
    }
  }
}

/** How the CSV names its unit: ASCII, so that spreadsheets open it in any locale. */
const UNIT_ASCII: Record<string, string> = { 'm³': 'm3', kWh: 'kWh' };

/**
 * The shown series as CSV: one row per bucket, the time in ISO-8601 UTC, the
 * consumption, and the previous period's and the bulk inlet's when shown.
 */
export function trendsCsv(view: TrendsView, withPrevious: boolean): string {
  const unit = UNIT_ASCII[view.unit] ?? view.unit;
  const header = ['time', `consumption_${unit}`];
  if (withPrevious) header.push(`previous_period_${unit}`);
  if (view.balance) header.push(`bulk_inlet_${unit}`);
  const cell = (value: number | null | undefined) => (value === null || value === undefined ? '' : String(Math.round(value * 1000) / 1000));
  const rows = view.series.map((bucket, i) => {
    const row = [new Date(bucket.ts).toISOString(), cell(bucket.value)];
    if (withPrevious) row.push(cell(view.previous[i]?.value));
    if (view.balance) row.push(cell(view.balance.inlet[i]?.value));
    return row.join(',');
  });
  return `${[header.join(','), ...rows].join('\r\n')}\r\n`;
}

/** A file name that says what is in it: estatewatch-water-plot-A-2026-01-10.csv. */
export function csvFileName(view: TrendsView): string {
  const scope = view.scope.id === null ? view.scope.kind : `${view.scope.kind}-${view.scope.id}`;
  return `estatewatch-${view.utility}-${scope}-${new Date(view.from).toISOString().slice(0, 10)}.csv`;
}

/** The change from the previous period in percent; null when either is unknown or the previous is 0. */
export function changePct(current: number | null, previous: number | null): number | null {
  if (current === null || previous === null || previous === 0) return null;
  return ((current - previous) / previous) * 100;
}

/**
 * The managers' reports view's state: what is asked (period, a date inside
 * it, plot) and what came back (GET /api/reports), with loading and error
 * states. How it is shown and exported is in report-format.ts (loaded with the view).
 */
import type { ReportPeriod, ReportView } from '../../../server/src/routes/api-types.ts';
import { ApiRequestError, getJson } from './api.ts';
import type { FetchFn } from './api.ts';

export const REPORT_PERIODS: readonly ReportPeriod[] = ['day', 'week', 'month'];

export type ReportsLoad =
  | { readonly kind: 'idle' }
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly code: string; readonly message: string }
  | { readonly kind: 'ready'; readonly report: ReportView };

export class ReportsStore {
  period = $state<ReportPeriod>('week');
  /** A local date (YYYY-MM-DD) inside the period; null: today, as the server's site clock has it. */
  date = $state<string | null>(null);
  /** A plot id, or '' for the whole estate. */
  plot = $state('');
  load = $state.raw<ReportsLoad>({ kind: 'idle' });
  /** The last report that came back: still shown, dimmed, while the next one loads. */
  last = $state.raw<ReportView | null>(null);

  readonly #fetch: FetchFn;
  /** Answers to superseded requests are dropped. */
  #request = 0;

  constructor(fetchFn: FetchFn) {
    this.#fetch = fetchFn;
  }

  /** The query of the current choice (read synchronously, so an $effect calling fetch() follows every choice). */
  query(): string {
    const query = new URLSearchParams({ period: this.period });
    if (this.date !== null) query.set('date', this.date);
    if (this.plot !== '') query.set('plot', this.plot);
    return query.toString();
  }

  async fetch(): Promise<void> {
    const request = ++this.#request;
    const path = `/api/reports?${this.query()}`;
    this.load = { kind: 'loading' };
    try {
      const report = await getJson<ReportView>(this.#fetch, path);
      if (request !== this.#request) return;
      this.load = { kind: 'ready', report };
      this.last = report;
    } catch (err) {
      if (request !== this.#request) return;
      const code = err instanceof ApiRequestError ? err.code : 'CLIENT_ERROR';
      this.load = { kind: 'error', code, message: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Steps to the period before or after the one shown (the server names their dates). */
  step(direction: 'previous' | 'next'): void {
    const date = direction === 'previous' ? this.last?.previousDate : this.last?.nextDate;
    if (date) this.date = date;
  }
}

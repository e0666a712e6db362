import { describe, expect, it } from 'vitest';
import type { TopConsumersView, TrendsView } from '../../../server/src/routes/api-types.ts';
import type { FetchFn } from './api.ts';
import { changePct, csvFileName, periodRange, TrendsStore, trendsCsv } from './trends.svelte.ts';

const HOUR = 3_600_000;
const T = Date.UTC(2026, 0, 10);

function view(overrides: Partial<TrendsView> = {}): TrendsView {
  return {
    scope: { kind: 'plot', id: 'A' }, utility: 'water', metric: 'volume_m3', unit: 'm³', from: T, to: T + 2 * HOUR, everyMs: HOUR, meters: 2,
    series: [{ ts: T, value: 1.5 }, { ts: T + HOUR, value: null }],
    previous: [{ ts: T - 2 * HOUR, value: 1 }, { ts: T - HOUR, value: 2.25 }],
    total: 1.5, previousTotal: 3.25,
    balance: { inlet: [{ ts: T, value: 2 }, { ts: T + HOUR, value: 1 }], inletTotal: 3, consumersTotal: 1.5, loss: 1.5, lossPct: 50 },
    nightFlow: [],
    ...overrides,
  };
}

describe('periodRange', () => {
  it('ends with the bucket holding now, spanning the period', () => {
    expect(periodRange('day', T + 90 * 60_000)).toEqual({ from: T + 2 * HOUR - 24 * HOUR, to: T + 2 * HOUR, everyMs: HOUR });
    expect(periodRange('month', T).to - periodRange('month', T).from).toBe(30 * 24 * HOUR);
  });
});

describe('trendsCsv', () => {
  it('one row per bucket with what is shown: the previous period and the bulk inlet', () => {
    expect(trendsCsv(view(), true)).toBe([
      'time,consumption_m3,previous_period_m3,bulk_inlet_m3',
      '2026-01-10T00:00:00.000Z,1.5,1,2',
      '2026-01-10T01:00:00.000Z,,2.25,1',
      '',
    ].join('\r\n'));
  });

  it('leaves out what is not shown', () => {
    expect(trendsCsv(view({ balance: null, unit: 'kWh', utility: 'electricity' }), false).split('\r\n')[0]).toBe('time,consumption_kWh');
  });

  it('names the file after utility, scope and start', () => {
    expect(csvFileName(view())).toBe('estatewatch-water-plot-A-2026-01-10.csv');
    expect(csvFileName(view({ scope: { kind: 'site', id: null } }))).toBe('estatewatch-water-site-2026-01-10.csv');
  });
});

describe('changePct', () => {
  it('compares with the previous period, unknown when it cannot', () => {
    expect(changePct(150, 100)).toBe(50);
    expect(changePct(50, 0)).toBeNull();
    expect(changePct(null, 10)).toBeNull();
  });
});

describe('TrendsStore', () => {
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const top: TopConsumersView = { utility: 'water', unit: 'm³', from: T, to: T + HOUR, meters: 2, items: [] };

  it('asks for the scope, utility and period, then holds both answers', async () => {
    const requests: string[] = [];
    const fetchFn: FetchFn = async (path) => {
      requests.push(path);
      return json(path.startsWith('/api/trends/top') ? top : view());
    };
    const store = new TrendsStore(fetchFn, () => T);
    store.scope = 'plot:A';
    store.period = 'day';
    const pending = store.fetch();
    expect(store.load.kind).toBe('loading');
    await pending;
    expect(store.load.kind).toBe('ready');
    expect(requests[0]).toBe(`/api/trends?scope=plot%3AA&utility=water&from=${T + HOUR - 24 * HOUR}&to=${T + HOUR}&every=${HOUR}`);
    expect(requests[1]).toContain('/api/trends/top?scope=plot%3AA');
  });

  it('shows the server\'s error code, and keeps only the newest answer', async () => {
    let answer: (r: Response) => void = () => {};
    const slow = new Promise<Response>((resolve) => (answer = resolve));
    let calls = 0;
    const fetchFn: FetchFn = async () => (++calls <= 2 ? slow : json({ statusCode: 404, code: 'SCOPE_NOT_FOUND', message: 'No plot "Z"' }, 404));
    const store = new TrendsStore(fetchFn, () => T);
    const first = store.fetch();
    await store.fetch();
    expect(store.load).toMatchObject({ kind: 'error', code: 'SCOPE_NOT_FOUND' });
    answer(json(view()));
    await first;
    expect(store.load.kind).toBe('error');
  });
});

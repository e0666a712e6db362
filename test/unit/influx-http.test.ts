/**
 * The InfluxDB adapter's HTTP traffic against a local endpoint that records
 * every request and answers as the test says: the write path (batching,
 * headers, gzip, retries on 429/503, the bounded buffer), the query path
 * (Flux sent, annotated CSV mapped) and the retention set-up.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { setLogger } from '@influxdata/influxdb-client';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Device } from '../../server/src/catalogue/types.ts';
import type { Reading } from '../../server/src/ports/time-series.ts';
import { latestQuery, rangeQuery } from '../../server/src/adapters/influx/flux.ts';
import { InfluxTimeSeriesStore, type InfluxWriteTuning } from '../../server/src/adapters/influx/influx-time-series-store.ts';
import { readingToLine, seriesTags } from '../../server/src/adapters/influx/line-protocol.ts';
import { InfluxSetupError, rollupTasks, setupInfluxRetention } from '../../server/src/adapters/influx/rollups.ts';

interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly gzipped: boolean;
  readonly body: string;
  readonly at: number;
  /** The status the fake answered with. */
  answered?: number;
}
interface Answer { status: number; headers?: Record<string, string>; body?: string }

/** A stand-in for InfluxDB: records requests, answers /health with 200 and the rest with `answer`. */
async function fakeInflux(answer: (request: Recorded) => Answer) {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const gzipped = req.headers['content-encoding'] === 'gzip';
      const url = new URL(req.url ?? '/', 'http://localhost');
      const recorded: Recorded = {
        method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, gzipped,
        body: (gzipped ? gunzipSync(raw) : raw).toString('utf8'), at: Date.now(),
      };
      if (url.pathname === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"pass"}');
        return;
      }
      requests.push(recorded);
      const { status, headers, body } = answer(recorded);
      recorded.answered = status;
      res.writeHead(status, headers).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const METER: Device = {
  id: 'WM-A-01-0101', kind: 'water-meter', role: 'household', name: 'meter', nameZh: '水表', plotId: 'A', buildingId: 'A-01',
  unitId: 'A-01-0101', feederId: null, position: [0, 0],
};
const SITE = 'blue-valley';
const T0 = Date.UTC(2024, 0, 1);
const reading = (i: number): Reading => ({ deviceId: METER.id, ts: T0 + i * 1000, seq: i, values: { volume_m3: 100 + i / 10, battery_pct: 98 } });
const lineOf = (r: Reading) => readingToLine(r, seriesTags(SITE, r.deviceId, METER));

const FAST: Partial<InfluxWriteTuning> = {
  batchSize: 3, flushIntervalMs: 20, minRetryDelayMs: 10, maxRetryDelayMs: 2_000, retryJitterMs: 0, gzipThreshold: 1_000_000,
};

// The client logs every failed attempt; the tests provoke many and check the counters instead.
beforeAll(() => {
  setLogger({ error: () => undefined, warn: () => undefined });
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(answer: (request: Recorded) => Answer, tuning: Partial<InfluxWriteTuning> = {}, rollups = false) {
  const influx = await fakeInflux(answer);
  const store = new InfluxTimeSeriesStore(
    { url: influx.url, token: 'secret-token', org: 'Blue Valley', bucket: 'tel' },
    { site: SITE, device: (id) => (id === METER.id ? METER : undefined), write: { ...FAST, ...tuning }, rollups, timeoutMs: 2_000 },
  );
  cleanups.push(influx.close, () => store.close());
  return { influx, store };
}

const writes = (requests: readonly Recorded[]) => requests.filter((r) => r.path === '/api/v2/write');
/** Lines of the write requests answered with 204: what InfluxDB stored. */
const delivered = (requests: readonly Recorded[]) => writes(requests).filter((r) => r.answered === 204).flatMap((r) => r.body.split('\n'));

describe('InfluxTimeSeriesStore write path', () => {
  it('sends batches of batchSize lines, the rest after flushInterval, with org, bucket, precision and token', async () => {
    const { influx, store } = await setup(() => ({ status: 204 }));
    const readings = [0, 1, 2, 3, 4].map(reading);
    await store.write(readings);
    await vi.waitFor(() => expect(store.stats().written).toBe(5));

    const sent = writes(influx.requests);
    expect(sent).toHaveLength(2);
    for (const request of sent) {
      expect(request.method).toBe('POST');
      expect(Object.fromEntries(request.query)).toEqual({ org: 'Blue Valley', bucket: 'tel', precision: 'ms' });
      expect(request.headers.authorization).toBe('Token secret-token');
      expect(request.gzipped).toBe(false);
    }
    expect(sent.map((r) => r.body)).toEqual([readings.slice(0, 3).map(lineOf).join('\n'), readings.slice(3).map(lineOf).join('\n')]);
    expect(sent[0]!.body.split('\n')[0]).toBe(
      'water-meter,building=A-01,device=WM-A-01-0101,kind=water-meter,plot=A,site=blue-valley battery_pct=98,volume_m3=100,seq=0i 1704067200000',
    );
    expect(store.stats()).toEqual({ pending: 0, written: 5, dropped: 0, failing: false, lastError: null });
    expect(await store.health()).toEqual({ ok: true, engine: 'influxdb', detail: '5 lines written, 0 pending, 0 dropped' });
  });

  it('gzips bodies above gzipThreshold', async () => {
    const { influx, store } = await setup(() => ({ status: 204 }), { gzipThreshold: 10 });
    await store.write([reading(1)]);
    await vi.waitFor(() => expect(store.stats().written).toBe(1));
    const [request] = writes(influx.requests);
    expect(request!.gzipped).toBe(true);
    expect(request!.body).toBe(lineOf(reading(1)));
  });

  it('rejects a batch with an unwritable reading before sending anything', async () => {
    const { influx, store } = await setup(() => ({ status: 204 }));
    await expect(store.write([reading(1), { ...reading(2), values: { v: Number.NaN } }])).rejects.toMatchObject({ code: 'TIME_SERIES_WRITE_INVALID' });
    await store.close();
    expect(writes(influx.requests)).toHaveLength(0);
    expect(store.stats().pending).toBe(0);
  });

  it('retries on 503 (waiting Retry-After seconds) and 429, then delivers every line exactly once', async () => {
    const script: Answer[] = [
      { status: 503, headers: { 'retry-after': '1' }, body: '{"code":"unavailable","message":"starting"}' },
      { status: 429, body: '{"code":"too many requests","message":"slow down"}' },
      { status: 429 },
    ];
    const { influx, store } = await setup(() => script.shift() ?? { status: 204 });
    const readings = [0, 1, 2].map(reading);
    await store.write(readings);

    await vi.waitFor(() => expect(store.stats().failing).toBe(true));
    const unhealthy = await store.health();
    expect(unhealthy.ok).toBe(false);
    expect(unhealthy.detail).toMatch(/writes failing \(HTTP 503.*\); 3 lines waiting to be written/);

    await vi.waitFor(() => expect(store.stats().written).toBe(3), { timeout: 5_000 });
    const sent = writes(influx.requests);
    expect(sent).toHaveLength(4);
    expect(new Set(sent.map((r) => r.body)).size).toBe(1); // the same batch each time
    expect(sent[1]!.at - sent[0]!.at).toBeGreaterThanOrEqual(900); // Retry-After: 1 is one second, not one millisecond
    expect(delivered(influx.requests)).toEqual(readings.map(lineOf));
    expect(store.stats()).toMatchObject({ pending: 0, written: 3, dropped: 0, failing: false });
    expect((await store.health()).ok).toBe(true);
  });

  it('drops a batch InfluxDB rejects (400) without retrying it, and says so', async () => {
    const { influx, store } = await setup(() => ({ status: 400, headers: { 'content-type': 'application/json' }, body: '{"code":"invalid","message":"field type conflict"}' }));
    await store.write([0, 1, 2].map(reading));
    await vi.waitFor(() => expect(store.stats().dropped).toBe(3));
    expect(writes(influx.requests)).toHaveLength(1);
    const health = await store.health();
    expect(health.ok).toBe(false);
    expect(health.detail).toMatch(/3 lines dropped/);
    expect(health.detail).toMatch(/field type conflict/);
  });

  it('when InfluxDB stays down past the buffer bound, drops the oldest lines, counts them, and catches up when it returns', async () => {
    let down = true;
    const { influx, store } = await setup(() => (down ? { status: 503 } : { status: 204 }), {
      maxBufferLines: 6, maxRetries: 1_000, minRetryDelayMs: 20, maxRetryDelayMs: 40,
    });
    const readings = Array.from({ length: 12 }, (_, i) => reading(i));
    await store.write(readings); // four batches of three, all failing

    await vi.waitFor(() => expect(store.stats().dropped).toBeGreaterThan(0));
    const health = await store.health();
    expect(health.ok).toBe(false);
    expect(health.detail).toMatch(/lines dropped since start/);
    expect(store.stats().pending).toBeLessThanOrEqual(6);

    down = false;
    await vi.waitFor(() => expect(store.stats().pending).toBe(0), { timeout: 5_000 });
    const { written, dropped } = store.stats();
    expect(written + dropped).toBe(12);
    expect(written).toBeGreaterThan(0);
    const stored = delivered(influx.requests);
    expect(stored).toHaveLength(written);
    expect(new Set(stored).size).toBe(stored.length); // each line stored once
    expect(readings.map(lineOf)).toEqual(expect.arrayContaining(stored));
    expect(stored).toContain(lineOf(readings[11]!)); // the buffer gave up the oldest lines, not the newest
  });

  it('drops a batch once its retries are used up, counting it once', async () => {
    const { influx, store } = await setup(() => ({ status: 503 }), { maxRetries: 2 });
    await store.write([0, 1, 2].map(reading));
    await vi.waitFor(() => expect(store.stats().dropped).toBe(3));
    expect(writes(influx.requests)).toHaveLength(3); // the first attempt and two retries
    expect(store.stats()).toMatchObject({ pending: 0, written: 0, dropped: 3, failing: true });
  });

  it('close() while InfluxDB is down counts what could not be sent as dropped', async () => {
    const { store } = await setup(() => ({ status: 503 }), { maxRetries: 1_000, minRetryDelayMs: 60_000, maxRetryDelayMs: 60_000 });
    await store.write([0, 1, 2, 3].map(reading));
    await vi.waitFor(() => expect(store.stats().failing).toBe(true));
    await store.close();
    expect(store.stats()).toMatchObject({ pending: 0, written: 0, dropped: 4 });
  });

  it('close() sends what is still buffered', async () => {
    const { influx, store } = await setup(() => ({ status: 204 }), { flushIntervalMs: 60_000 });
    await store.write([reading(1)]);
    await store.close();
    expect(writes(influx.requests).map((r) => r.body)).toEqual([lineOf(reading(1))]);
    expect(store.stats()).toMatchObject({ written: 1, pending: 0, dropped: 0 });
    await expect(store.write([reading(2)])).rejects.toThrow(/closed/);
  });
});

/** An annotated CSV table as InfluxDB's /api/v2/query answers it. */
function csvTable(columns: readonly (readonly [name: string, type: string, group: boolean])[], rows: readonly (readonly string[])[]): string {
  return [
    `#datatype,string,long,${columns.map((c) => c[1]).join(',')}`,
    `#group,false,false,${columns.map((c) => c[2]).join(',')}`,
    `#default,_result,,${columns.map(() => '').join(',')}`,
    `,result,table,${columns.map((c) => c[0]).join(',')}`,
    ...rows.map((row, i) => `,,${i},${row.join(',')}`),
  ].join('\r\n');
}
const csv = (...tables: string[]) => `${tables.join('\r\n\r\n')}\r\n\r\n`;
const csvAnswer = (body: string): Answer => ({ status: 200, headers: { 'content-type': 'text/csv; charset=utf-8' }, body });
const queries = (requests: readonly Recorded[]) => requests.filter((r) => r.path === '/api/v2/query');

describe('InfluxTimeSeriesStore query path', () => {
  const latestColumns = (type: string) => [['device', 'string', true], ['_field', 'string', true], ['_value', type, false], ['_time', 'dateTime:RFC3339', false]] as const;

  it('latest(): sends the Flux, keeps per device the fields of its newest timestamp, seq apart', async () => {
    const body = csv(
      csvTable(latestColumns('double'), [
        ['WM-1', 'volume_m3', '12.5', '2024-01-01T00:15:00.250Z'],
        ['WM-1', 'battery_pct', '98', '2024-01-01T00:00:00Z'], // older message: not part of the newest reading
        ['EL-1', 'floor', '4', '2024-01-01T00:00:05Z'],
      ]),
      csvTable(latestColumns('long'), [['WM-1', 'seq', '7', '2024-01-01T00:15:00.250Z'], ['EL-1', 'seq', '3', '2024-01-01T00:00:05Z']]),
      csvTable(latestColumns('string'), [['EL-1', 'direction', '"up, fast"', '2024-01-01T00:00:05Z'], ['EL-1', 'door', '', '2024-01-01T00:00:05Z']]),
      csvTable(latestColumns('boolean'), [['EL-1', 'between_floors', 'false', '2024-01-01T00:00:05Z']]),
    );
    const { influx, store } = await setup(() => csvAnswer(body));
    const result = await store.latest(['WM-1', 'EL-1']);

    const [request] = queries(influx.requests);
    expect(request!.headers.authorization).toBe('Token secret-token');
    expect(Object.fromEntries(request!.query)).toEqual({ org: 'Blue Valley' });
    expect(JSON.parse(request!.body)).toMatchObject({ type: 'flux', query: latestQuery('tel', SITE, ['WM-1', 'EL-1']).toString() });
    expect(result).toEqual([
      { deviceId: 'EL-1', ts: Date.UTC(2024, 0, 1, 0, 0, 5), seq: 3, values: { floor: 4, direction: 'up, fast', door: '', between_floors: false } },
      { deviceId: 'WM-1', ts: Date.UTC(2024, 0, 1, 0, 15, 0, 250), seq: 7, values: { volume_m3: 12.5 } },
    ]);
  });

  it('latest([]) asks nothing', async () => {
    const { influx, store } = await setup(() => csvAnswer(''));
    expect(await store.latest([])).toEqual([]);
    expect(queries(influx.requests)).toHaveLength(0);
  });

  const rangeColumns = [['_value', 'double', false], ['_time', 'dateTime:RFC3339', false]] as const;

  it('range(): every bucket in [from, to), the clipped first window and empty ones included', async () => {
    const body = csv(csvTable(rangeColumns, [['1.5', '2024-01-01T00:30:00Z'], ['', '2024-01-01T01:00:00Z'], ['3', '2024-01-01T02:00:00Z']]));
    const { influx, store } = await setup(() => csvAnswer(body));
    const query = { deviceId: 'WM-1', metric: 'volume_m3', from: Date.UTC(2024, 0, 1, 0, 30), to: Date.UTC(2024, 0, 1, 4), everyMs: 3_600_000, agg: 'mean' as const };
    const buckets = await store.range(query);

    expect(JSON.parse(queries(influx.requests)[0]!.body).query).toBe(rangeQuery({ ...query, bucket: 'tel', site: SITE, resolution: 'raw' }).toString());
    expect(buckets).toEqual([
      { ts: Date.UTC(2024, 0, 1, 0), value: 1.5 },
      { ts: Date.UTC(2024, 0, 1, 1), value: null },
      { ts: Date.UTC(2024, 0, 1, 2), value: 3 },
      { ts: Date.UTC(2024, 0, 1, 3), value: null }, // not in the answer at all
    ]);
  });

  it('range() on the daily roll-up divides summed sums by summed counts', async () => {
    const columns = [['agg', 'string', true], ['_value', 'double', false], ['_time', 'dateTime:RFC3339', false]] as const;
    const body = csv(
      csvTable(columns, [['sum', '30', '2024-01-01T00:00:00Z'], ['sum', '10', '2024-01-02T00:00:00Z']]),
      csvTable(columns, [['count', '4', '2024-01-01T00:00:00Z'], ['count', '1', '2024-01-02T00:00:00Z']]),
    );
    const { influx, store } = await setup(() => csvAnswer(body), {}, true);
    const buckets = await store.range({ deviceId: 'WM-1', metric: 'power_kw', from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 0, 4), everyMs: 86_400_000, agg: 'mean' });

    expect(JSON.parse(queries(influx.requests)[0]!.body).query).toContain('from(bucket: "tel_1d")');
    expect(buckets).toEqual([
      { ts: Date.UTC(2024, 0, 1), value: 7.5 },
      { ts: Date.UTC(2024, 0, 2), value: 10 },
      { ts: Date.UTC(2024, 0, 3), value: null },
    ]);
  });

  it('range() rejects an invalid query without asking InfluxDB', async () => {
    const { influx, store } = await setup(() => csvAnswer(''));
    await expect(store.range({ deviceId: 'WM-1', metric: 'v', from: 10, to: 5, everyMs: 1, agg: 'mean' })).rejects.toMatchObject({ code: 'RANGE_QUERY_INVALID' });
    expect(queries(influx.requests)).toHaveLength(0);
  });

  it('a failing query surfaces as an error', async () => {
    const { store } = await setup(() => ({ status: 400, headers: { 'content-type': 'application/json' }, body: '{"code":"invalid","message":"compilation failed"}' }));
    await expect(store.latest()).rejects.toThrow(/compilation failed/);
  });
});

describe('setupInfluxRetention', () => {
  it('creates missing roll-up buckets and tasks, updates existing ones', async () => {
    const influx = await fakeInflux((r) => {
      const json = (status: number, value: unknown): Answer => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
      if (r.method === 'GET' && r.path === '/api/v2/orgs') return json(200, { orgs: [{ id: 'org1' }] });
      if (r.method === 'GET' && r.path === '/api/v2/buckets') return json(200, { buckets: r.query.get('name') === 'tel_1h' ? [{ id: 'b1' }] : [] });
      if (r.method === 'GET' && r.path === '/api/v2/tasks') return json(200, { tasks: r.query.get('name')?.endsWith('_1d') ? [{ id: 't2' }] : [] });
      return json(r.method === 'POST' ? 201 : 200, {});
    });
    cleanups.push(influx.close);
    const connection = { url: `${influx.url}/`, token: 'secret-token', org: 'Blue Valley', bucket: 'tel' };
    const result = await setupInfluxRetention(connection, { hourlyRetentionDays: 400 });

    expect(result).toEqual({
      buckets: [{ name: 'tel_1h', action: 'updated' }, { name: 'tel_1d', action: 'created' }],
      tasks: [{ name: 'estatewatch rollup tel_1h', action: 'created' }, { name: 'estatewatch rollup tel_1d', action: 'updated' }],
    });
    const calls = influx.requests.map((r) => `${r.method} ${r.path}?${r.query}`);
    expect(calls).toEqual([
      'GET /api/v2/orgs?org=Blue+Valley',
      'GET /api/v2/buckets?orgID=org1&name=tel_1h',
      'PATCH /api/v2/buckets/b1?',
      'GET /api/v2/buckets?orgID=org1&name=tel_1d',
      'POST /api/v2/buckets?',
      'GET /api/v2/tasks?orgID=org1&name=estatewatch+rollup+tel_1h',
      'POST /api/v2/tasks?',
      'GET /api/v2/tasks?orgID=org1&name=estatewatch+rollup+tel_1d',
      'PATCH /api/v2/tasks/t2?',
    ]);
    for (const r of influx.requests) expect(r.headers.authorization).toBe('Token secret-token');
    const bodies = influx.requests.filter((r) => r.method !== 'GET').map((r) => JSON.parse(r.body));
    const [hourly, daily] = rollupTasks('tel', 'Blue Valley');
    expect(bodies).toEqual([
      { retentionRules: [{ type: 'expire', everySeconds: 400 * 86_400 }] },
      { orgID: 'org1', name: 'tel_1d', retentionRules: [{ type: 'expire', everySeconds: 3650 * 86_400 }] },
      { orgID: 'org1', flux: hourly!.flux, status: 'active' },
      { flux: daily!.flux, status: 'active' },
    ]);
  });

  it('fails with a clear error when InfluxDB refuses', async () => {
    const influx = await fakeInflux(() => ({ status: 401, body: '{"code":"unauthorized","message":"unauthorized access"}' }));
    cleanups.push(influx.close);
    const attempt = setupInfluxRetention({ url: influx.url, token: 'wrong', org: 'o', bucket: 'b' });
    await expect(attempt).rejects.toBeInstanceOf(InfluxSetupError);
    await expect(setupInfluxRetention({ url: influx.url, token: 'wrong', org: 'o', bucket: 'b' }))
      .rejects.toMatchObject({ code: 'INFLUX_SETUP_FAILED', message: expect.stringMatching(/GET \/api\/v2\/orgs answered 401: .*unauthorized access/) });
  });
});

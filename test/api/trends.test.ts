/** GET /api/trends and /api/trends/top over readings written straight into the time-series store. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError, TopConsumersView, TrendsView } from '../../server/src/routes/api-types.ts';
import type { Reading } from '../../server/src/ports/time-series.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

const HOUR = 3_600_000;
/** 2026-01-10 00:00 in Asia/Shanghai (UTC+8), the site's time zone. */
const FROM = Date.UTC(2026, 0, 9, 16);
const TO = FROM + 24 * HOUR;
/** The bulk inlet's flow per local hour: low at night (02:00 and 03:00), 10 m³/h otherwise. */
const inletFlow = (hour: number) => (hour === 2 ? 1 : hour === 3 ? 3 : 10);

/** A cumulative register read half past every hour, and once before the day as the baseline. */
function register(deviceId: string, flow: (hour: number) => number): Reading[] {
  const readings: Reading[] = [{ deviceId, ts: FROM - HOUR / 2, seq: 0, values: { volume_m3: 1000 } }];
  let volume = 1000;
  for (let hour = 0; hour < 24; hour++) {
    volume += flow(hour);
    readings.push({ deviceId, ts: FROM + hour * HOUR + HOUR / 2, seq: hour + 1, values: { volume_m3: volume } });
  }
  return readings;
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  await server.app.telemetry.store.write([
    ...register('WM-C-INLET', inletFlow),
    ...register('WM-C-01-0101', () => 4),
    ...register('WM-C-S01', () => 5),
  ]);
});
afterAll(async () => { await server?.close(); });

const get = async <T>(url: string, as: 'manager' | 'reception' = 'manager') => {
  const response = await server.request({ url, as });
  return { status: response.statusCode, body: response.json() as T };
};

describe('GET /api/trends', () => {
  it('adds up a plot\'s household and shop meters per bucket, with the previous period and the water balance', async () => {
    const { status, body } = await get<TrendsView>(`/api/trends?scope=plot:C&utility=water&from=${FROM}&to=${TO}&every=1h`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ scope: { kind: 'plot', id: 'C' }, utility: 'water', metric: 'volume_m3', unit: 'm³', everyMs: HOUR, meters: 910 + 44 });
    expect(body.series.map((b) => b.value)).toEqual(Array(24).fill(9));
    expect(body.total).toBe(216);
    expect(body.previous.map((b) => b.ts)).toEqual(body.series.map((b) => b.ts - 24 * HOUR));
    // Only the baselines lie in the previous day: one reading each, no consumption.
    expect(body.previous.map((b) => b.value)).toEqual([...Array(23).fill(null), 0]);
    expect(body.previousTotal).toBe(0);
    expect(body.balance).toMatchObject({ inletTotal: 224, consumersTotal: 216, loss: 8 });
    expect(body.balance?.lossPct).toBeCloseTo((8 / 224) * 100, 9);
    expect(body.balance?.inlet.map((b) => b.value)).toEqual(Array.from({ length: 24 }, (_, h) => inletFlow(h)));
    expect(body.nightFlow).toEqual([{ date: '2026-01-10', value: 1 }]);
  });

  it('computes the night flow from hourly inlet data whatever the bucket width', async () => {
    const { body } = await get<TrendsView>(`/api/trends?scope=plot:C&utility=water&from=${FROM}&to=${TO}&every=6h`);
    // Buckets align to multiples of 6 h since the epoch (UTC): the day starts at 16:00 UTC, two hours into one.
    expect(body.series.map((b) => b.value)).toEqual([9 * 2, 9 * 6, 9 * 6, 9 * 6, 9 * 4]);
    expect(body.nightFlow).toEqual([{ date: '2026-01-10', value: 1 }]);
  });

  it('narrows to one household by its room, with no balance for a building or unit', async () => {
    const { body } = await get<TrendsView>(`/api/trends?scope=unit:C-01-0101&utility=water&from=${FROM}&to=${TO}&every=1d`);
    expect(body.meters).toBe(1);
    expect(body.total).toBe(96);
    expect(body.balance).toBeNull();
    expect(body.nightFlow).toBeNull();
  });

  it('has no water balance for electricity', async () => {
    const { body } = await get<TrendsView>(`/api/trends?scope=plot:C&utility=electricity&from=${FROM}&to=${TO}`);
    expect(body).toMatchObject({ metric: 'energy_kwh', unit: 'kWh', balance: null, nightFlow: null, total: null });
  });

  it.each([
    ['/api/trends?scope=plot:Z&utility=water', 404, 'SCOPE_NOT_FOUND'],
    ['/api/trends?scope=unit:C-99-0101&utility=water', 404, 'SCOPE_NOT_FOUND'],
    ['/api/trends?scope=device:EM-C-01-0101&utility=water', 400, 'BAD_REQUEST'],
    ['/api/trends?scope=plot&utility=water', 400, 'VALIDATION_FAILED'],
    ['/api/trends?scope=site&utility=gas', 400, 'VALIDATION_FAILED'],
    [`/api/trends?scope=site&utility=water&from=${TO}&to=${FROM}`, 400, 'BAD_REQUEST'],
    ['/api/trends?scope=site&utility=water&every=1m&from=2020-01-01&to=2021-01-01', 400, 'RANGE_TOO_LARGE'],
  ])('%s → %i %s', async (url, status, code) => {
    const response = await get<ApiError>(url);
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ code });
  });
});

describe('GET /api/trends/top', () => {
  it('lists the largest consumers first, leaving out meters without data', async () => {
    const { status, body } = await get<TopConsumersView>(`/api/trends/top?scope=plot:C&utility=water&from=${FROM}&to=${TO}&limit=5`);
    expect(status).toBe(200);
    expect(body.meters).toBe(954);
    expect(body.items).toEqual([
      { deviceId: 'WM-C-S01', unitId: 'C-S01', buildingId: null, plotId: 'C', role: 'shop', value: 120 },
      { deviceId: 'WM-C-01-0101', unitId: 'C-01-0101', buildingId: 'C-01', plotId: 'C', role: 'household', value: 96 },
    ]);
  });

  it('honours the limit', async () => {
    const { body } = await get<TopConsumersView>(`/api/trends/top?scope=site&utility=water&from=${FROM}&to=${TO}&limit=1`);
    expect(body.items.map((i) => i.deviceId)).toEqual(['WM-C-S01']);
  });
});

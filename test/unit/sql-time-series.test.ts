/**
 * What the SQL time-series store guarantees beyond the shared contract:
 * first write wins, sequence numbers break ties in time, strings are skipped,
 * and big batches cross the insert chunking. On PGlite, and on PostgreSQL
 * when TEST_DATABASE_URL is set.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../server/src/adapters/sql/database.ts';
import { SqlTimeSeriesStore } from '../../server/src/adapters/sql/time-series-store.ts';
import type { Reading } from '../../server/src/ports/time-series.ts';
import { TEST_ENGINES, type TestDatabase } from '../support/databases.ts';

const T0 = Date.UTC(2025, 0, 1);
const MINUTE = 60_000;
const reading = (deviceId: string, ts: number, seq: number, values: Reading['values']): Reading => ({ deviceId, ts, seq, values });

for (const { engine, open } of TEST_ENGINES) {
  describe(`SqlTimeSeriesStore on ${engine}`, () => {
    let test: TestDatabase;
    let store: SqlTimeSeriesStore;
    beforeAll(async () => {
      test = await open();
      store = new SqlTimeSeriesStore(test.database);
    });
    afterAll(() => test?.cleanup());

    it('keeps the first of two readings with the same (device, ts, seq)', async () => {
      await store.write([reading('dup', T0, 1, { kw: 1 })]);
      await store.write([reading('dup', T0, 1, { kw: 99 }), reading('dup', T0, 1, { kw: 98 })]);
      expect(await store.latest(['dup'])).toEqual([reading('dup', T0, 1, { kw: 1 })]);
    });

    it('breaks a tie in time by sequence number, for latest and for last', async () => {
      await store.write([reading('tie', T0, 8, { kw: 8 }), reading('tie', T0, 9, { kw: 9 }), reading('tie', T0, 7, { kw: 7 })]);
      expect(await store.latest(['tie'])).toEqual([reading('tie', T0, 9, { kw: 9 })]);
      const [bucket] = await store.range({ deviceId: 'tie', metric: 'kw', from: T0, to: T0 + MINUTE, everyMs: MINUTE, agg: 'last' });
      expect(bucket).toEqual({ ts: T0, value: 9 });
    });

    it('stores values as a JSON object, keeping numbers, booleans and strings', async () => {
      await store.write([reading('json', T0, 1, { n: 1.5, b: false, s: 'auto' })]);
      const [row] = await queryRows<{ kind: string }>(test.database.db, sql`select jsonb_typeof("values") as kind from readings where device_id = 'json'`);
      expect(row?.kind).toBe('object');
      expect((await store.latest(['json']))[0]?.values).toEqual({ n: 1.5, b: false, s: 'auto' });
    });

    it('keeps quotes, backslashes, braces, commas, NULL and non-ASCII in ids and values as they were', async () => {
      const odd = [
        reading('we"ird\\id,{x}', T0, 1, { 'k"ey\\': 'a "quoted" \\ back, {brace}', nothing: 'NULL', text: 'ü ✓ \n tab\t' }),
        reading('NULL', T0, 2, { on: true }),
      ];
      await store.write(odd);
      expect(await store.latest(odd.map((r) => r.deviceId))).toEqual([...odd].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1)));
    });

    it('skips string values: a string-only metric gives null buckets, a mixed one aggregates its numbers', async () => {
      await store.write([
        reading('str', T0, 1, { mode: 'auto', level: 2 }),
        reading('str', T0 + 1_000, 2, { mode: 'manual', level: 'unknown' }),
        reading('str', T0 + 2_000, 3, { level: 4 }),
      ]);
      const q = { deviceId: 'str', from: T0, to: T0 + MINUTE, everyMs: MINUTE } as const;
      expect(await store.range({ ...q, metric: 'mode', agg: 'last' })).toEqual([{ ts: T0, value: null }]);
      expect(await store.range({ ...q, metric: 'level', agg: 'mean' })).toEqual([{ ts: T0, value: 3 }]);
    });

    it('writes a batch larger than one INSERT statement holds', async () => {
      const batch = Array.from({ length: 12_001 }, (_, i) => reading('chunks', T0 + i, i, { one: 1 }));
      await store.write(batch);
      await store.write(batch.slice(4_000, 6_000)); // duplicates across a chunk border
      const [bucket] = await store.range({ deviceId: 'chunks', metric: 'one', from: T0, to: T0 + MINUTE, everyMs: MINUTE, agg: 'sum' });
      expect(bucket?.value).toBe(12_001);
    });

    it('accepts an empty batch', async () => {
      await expect(store.write([])).resolves.toBeUndefined();
    });

    it('rejects absurd queries with RANGE_QUERY_INVALID', async () => {
      const base = { deviceId: 'x', metric: 'kw', from: T0, to: T0 + MINUTE, everyMs: MINUTE, agg: 'mean' } as const;
      for (const bad of [{ everyMs: 0 }, { everyMs: 1.5 }, { to: T0 }, { from: Number.NaN }, { everyMs: 1, to: T0 + 10 * 24 * 3_600_000 }, { agg: 'median' }]) {
        await expect(store.range({ ...base, ...bad } as never)).rejects.toMatchObject({ code: 'RANGE_QUERY_INVALID' });
      }
    });

    it('reports its engine as healthy', async () => {
      expect(await store.health()).toEqual({ ok: true, engine });
    });
  });
}

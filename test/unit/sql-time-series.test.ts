/**
 * What the SQL time-series store guarantees beyond the shared contract:
 * first write wins, sequence numbers break ties in time, strings are skipped,
 * and big batches cross the insert chunking. On PGlite, and on PostgreSQL
 * when TEST_DATABASE_URL is set.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../server/src/adapters/sql/database.ts';
import { groupVersion, type RollupGroup } from '../../server/src/adapters/sql/rollups.ts';
import { SqlTimeSeriesStore } from '../../server/src/adapters/sql/time-series-store.ts';
import { AGGREGATES, type RangeQuery, type Reading, type TotalQuery } from '../../server/src/ports/time-series.ts';
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

    it('stores by COPY once the open hour is marked: escapes, and the first of a key written again', async () => {
      const hour = 3_600_000;
      const now = Math.floor(Date.now() / hour) * hour + hour / 2;
      const copying = new SqlTimeSeriesStore(test.database, { clock: { now: () => now } });
      const note = 'tab\there, new\nline, back\\slash and "quotes"';
      await copying.write([reading('copy', now, 1, { kw: 1 })]);
      await copying.write([reading('copy', now + 1, 2, { note })]);
      await copying.write([reading('copy', now, 1, { kw: 99 }), reading('copy', now + 2, 3, { kw: 3 }), reading('copy', now + 2, 3, { kw: 98 })]);
      const rows = await queryRows<{ seq: number; values: Reading['values'] }>(test.database.db,
        sql`select seq, "values" from readings where device_id = 'copy' order by seq`);
      expect(rows).toEqual([{ seq: 1, values: { kw: 1 } }, { seq: 2, values: { note } }, { seq: 3, values: { kw: 3 } }]);
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

/**
 * Roll-ups, seen from inside: which rows they hold, that queries read them
 * (a row altered by hand shows in the answer), late readings, group sums, and
 * a randomised history checked against a direct computation of the contract.
 */
for (const { engine, open } of TEST_ENGINES) {
  describe(`SqlTimeSeriesStore roll-ups on ${engine}`, () => {
    const HOUR = 3_600_000;
    const DAY = 24 * HOUR;
    const T = Math.floor((Date.now() - 3 * DAY) / DAY) * DAY;
    let test: TestDatabase;
    beforeAll(async () => {
      test = await open();
    });
    afterAll(() => test?.cleanup());
    const rows = <Row>(query: ReturnType<typeof sql>) => queryRows<Row>(test.database.db, query);

    it('keeps one hourly row per device, metric and hour, with the value before it, and clears the marks', async () => {
      const store = new SqlTimeSeriesStore(test.database);
      await store.write([
        reading('h-1', T - HOUR, 1, { kwh: 5, on: true, mode: 'auto' }),
        reading('h-1', T + 10 * MINUTE, 2, { kwh: 7, on: false }),
        reading('h-1', T + 20 * MINUTE, 3, { kwh: 6, on: true }),
        reading('h-1', T + 2 * HOUR, 4, { kwh: 9 }),
      ]);
      expect((await rows<{ n: number }>(sql`select count(*)::int as n from rollup_dirty where device_id = 'h-1'`))[0]?.n).toBe(3);
      await store.refresh();
      expect(await rows(sql`select metric, (extract(epoch from hour) * 1000)::float8 - ${T} as hour, n, sum, min, max, first, last, prev
        from readings_hourly where device_id = 'h-1' order by metric, hour`)).toEqual([
        { metric: 'kwh', hour: -HOUR, n: 1, sum: 5, min: 5, max: 5, first: 5, last: 5, prev: null },
        { metric: 'kwh', hour: 0, n: 2, sum: 13, min: 6, max: 7, first: 7, last: 6, prev: 5 },
        { metric: 'kwh', hour: 2 * HOUR, n: 1, sum: 9, min: 9, max: 9, first: 9, last: 9, prev: 6 },
        { metric: 'on', hour: -HOUR, n: 1, sum: 1, min: 1, max: 1, first: 1, last: 1, prev: null },
        { metric: 'on', hour: 0, n: 2, sum: 1, min: 0, max: 1, first: 0, last: 1, prev: 1 },
      ]);
      expect(await rows(sql`select device_id from rollup_dirty where device_id = 'h-1'`)).toEqual([]);
    });

    it('answers closed hours from the hourly rows and a marked hour from the raw readings', async () => {
      const store = new SqlTimeSeriesStore(test.database);
      await store.write([reading('h-2', T + MINUTE, 1, { kw: 2 }), reading('h-2', T + HOUR + MINUTE, 2, { kw: 3 })]);
      await store.refresh();
      // Altered by hand: the answer shows that the row is what is read.
      await test.database.execute(`update readings_hourly set sum = 1000 where device_id = 'h-2' and hour = $1::timestamptz`, [new Date(T).toISOString()]);
      const sums = async () => values(await store.range({ deviceId: 'h-2', metric: 'kw', agg: 'sum', from: T, to: T + 2 * HOUR, everyMs: HOUR }));
      expect(await sums()).toEqual([1000, 3]);
      // A late reading marks the hour: it is read raw (the true sum) until the next pass rebuilds the row.
      await store.write([reading('h-2', T + 30 * MINUTE, 3, { kw: 4 })]);
      expect(await sums()).toEqual([6, 3]);
      await store.refresh();
      expect(await sums()).toEqual([6, 3]);
      expect((await rows<{ sum: number }>(sql`select sum from readings_hourly where device_id = 'h-2' order by hour`)).map((r) => r.sum)).toEqual([6, 3]);
    });

    it('marks an older hour per device for a few devices and for every device for a crowd', async () => {
      const store = new SqlTimeSeriesStore(test.database);
      const hour = T - 10 * HOUR;
      await store.write([reading('few-1', hour + MINUTE, 1, { x: 1 }), reading('few-2', hour + MINUTE, 1, { x: 1 })]);
      expect(await rows(sql`select device_id from rollup_dirty where hour = ${new Date(hour).toISOString()}::timestamptz order by 1`))
        .toEqual([{ device_id: 'few-1' }, { device_id: 'few-2' }]);
      await store.write(Array.from({ length: 501 }, (_, i) => reading(`crowd-${i}`, hour + HOUR + MINUTE, 1, { x: 1 })));
      expect(await rows(sql`select device_id from rollup_dirty where hour = ${new Date(hour + HOUR).toISOString()}::timestamptz`)).toEqual([]);
      expect(await rows(sql`select 1 as marked from rollup_dirty_hours where hour = ${new Date(hour + HOUR).toISOString()}::timestamptz`)).toEqual([{ marked: 1 }]);
      await store.refresh();
      expect((await rows<{ n: number }>(sql`select count(*)::int as n from readings_hourly where device_id like 'crowd-%'`))[0]?.n).toBe(501);
      expect(await rows(sql`select hour from rollup_dirty_hours where hour < ${new Date(T).toISOString()}::timestamptz`)).toEqual([]);
    });

    it('marks an open hour once, again at every write from a minute before it ends, and rolls it up only a minute after', async () => {
      const hour = T + DAY + 5 * HOUR;
      let now = hour + 10 * MINUTE;
      const store = new SqlTimeSeriesStore(test.database, { clock: { now: () => now } });
      const gen = async () => (await rows<{ gen: number }>(sql`select gen::int as gen from rollup_dirty_hours where hour = ${new Date(hour).toISOString()}::timestamptz`))[0]?.gen;
      await store.write([reading('open-1', hour + MINUTE, 1, { kw: 1 })]);
      await store.write([reading('open-1', hour + 2 * MINUTE, 2, { kw: 2 })]);
      expect(await gen()).toBe(1);
      now = hour + HOUR - 30_000;
      await store.write([reading('open-1', hour + 3 * MINUTE, 3, { kw: 3 })]);
      expect(await gen()).toBe(2);
      now = hour + HOUR + 30_000;
      await store.refresh();
      expect(await gen()).toBe(2);
      now = hour + HOUR + 2 * MINUTE;
      await store.refresh();
      expect(await gen()).toBeUndefined();
      expect(values(await store.range({ deviceId: 'open-1', metric: 'kw', agg: 'sum', from: hour, to: hour + HOUR, everyMs: HOUR }))).toEqual([6]);
    });

    it('adds a first-seen device to latest_readings in the write, and newer values behind it', async () => {
      const store = new SqlTimeSeriesStore(test.database);
      await store.write([reading('lt', T, 1, { kw: 1 })]);
      const stored = () => rows<{ seq: number }>(sql`select seq from latest_readings where device_id = 'lt'`);
      expect(await stored()).toEqual([{ seq: 1 }]);
      await store.write([reading('lt', T + MINUTE, 2, { kw: 2 })]);
      expect(await stored()).toEqual([{ seq: 1 }]);
      expect(await store.latest(['lt'])).toEqual([reading('lt', T + MINUTE, 2, { kw: 2 })]);
      expect(await stored()).toEqual([{ seq: 2 }]);
      // An older reading written later does not replace it; close() writes what is pending.
      await store.write([reading('lt', T - MINUTE, 3, { kw: 3 }), reading('lt', T + 2 * MINUTE, 4, { kw: 4 })]);
      await store.close();
      expect(await stored()).toEqual([{ seq: 4 }]);
    });

    describe('group sums', () => {
      const group = { key: 'meters/A', deviceIds: ['g-a', 'g-b', 'g-c'], metrics: ['kwh'] };
      const all = ['g-a', 'g-b', 'g-c'];
      let store: SqlTimeSeriesStore;
      const total = (deviceIds: string[], everyMs = HOUR, from = T, to = T + 3 * HOUR) =>
        store.rangeTotal({ deviceIds, metric: 'kwh', agg: 'delta', from, to, everyMs }).then(values);
      beforeAll(async () => {
        store = new SqlTimeSeriesStore(test.database, { groups: [group] });
        await store.write([
          reading('g-a', T - HOUR, 1, { kwh: 10 }), reading('g-a', T + MINUTE, 2, { kwh: 11 }), reading('g-a', T + 2 * HOUR, 3, { kwh: 15 }),
          reading('g-b', T + HOUR, 1, { kwh: 100 }), reading('g-b', T + HOUR + 30 * MINUTE, 2, { kwh: 102 }),
          reading('g-c', T - DAY, 1, { kwh: 7 }),
          reading('g-x', T, 1, { kwh: 1 }), reading('g-x', T + 2 * HOUR, 2, { kwh: 4 }),
        ]);
        await store.refresh();
      });

      it('sums the members\' consumption per hour and per day', async () => {
        expect(await rows(sql`select (extract(epoch from hour) * 1000)::float8 - ${T} as hour, delta from readings_group_hourly
          where group_key = 'meters/A' and hour >= ${new Date(T).toISOString()}::timestamptz order by hour`))
          .toEqual([{ hour: 0, delta: 1 }, { hour: HOUR, delta: 2 }, { hour: 2 * HOUR, delta: 4 }]);
        expect(await rows(sql`select (extract(epoch from day) * 1000)::float8 - ${T} as day, delta from readings_group_daily where group_key = 'meters/A' order by day`))
          .toEqual([{ day: -DAY, delta: 0 }, { day: 0, delta: 7 }]);
      });

      it('reads a member with a late reading from raw readings, and corrects the sums on the next pass', async () => {
        expect(await total(all)).toEqual([1, 2, 4]);
        expect(await total(all, DAY, T, T + DAY)).toEqual([7]);
        await store.write([reading('g-b', T + 2 * HOUR + MINUTE, 3, { kwh: 103 })]);
        expect(await total(all)).toEqual([1, 2, 5]);
        await store.refresh();
        expect(await total(all)).toEqual([1, 2, 5]);
        expect(await total(all, DAY, T, T + DAY)).toEqual([8]);
      });

      it('answers a total covering the group from its sums, and one that does not from the members', async () => {
        expect(await total([...all, 'g-x'])).toEqual([1, 2, 8]);
        // Altered by hand: only the totals that cover the group show it.
        await test.database.execute(`update readings_group_hourly set delta = 50 where group_key = 'meters/A' and hour = $1::timestamptz`, [new Date(T + HOUR).toISOString()]);
        await test.database.execute(`update readings_group_daily set delta = 70 where group_key = 'meters/A' and day = $1::timestamptz`, [new Date(T).toISOString()]);
        expect(await total(all)).toEqual([1, 50, 5]);
        expect(await total(['g-a', 'g-b'])).toEqual([1, 2, 5]);
        expect(await total(all, DAY, T, T + DAY)).toEqual([70]);
        // Days only partly inside the range come from the hourly sums.
        expect(await total(all, DAY, T + HOUR, T + DAY)).toEqual([55]);
      });

      it('rebuilds a group whose members changed, and drops one no longer configured', async () => {
        const moved = new SqlTimeSeriesStore(test.database, { groups: [{ key: 'meters/B', deviceIds: ['g-a', 'g-x'], metrics: ['kwh'] }] });
        await moved.refresh();
        expect(await rows(sql`select group_key from rollup_groups order by 1`)).toEqual([{ group_key: 'meters/B' }]);
        expect(await rows(sql`select distinct group_key from readings_group_hourly`)).toEqual([{ group_key: 'meters/B' }]);
        const sums = await moved.rangeTotal({ deviceIds: ['g-a', 'g-x'], metric: 'kwh', agg: 'delta', from: T, to: T + 3 * HOUR, everyMs: HOUR });
        expect(values(sums)).toEqual([1, null, 7]);
      });
    });

    it('keeps a group of groups as the sum of its parts, and answers from it or, where one part is dirty earlier, from the parts', async () => {
      const left = { key: 'gg/left', deviceIds: ['gg-a', 'gg-b'], metrics: ['kwh'] };
      const right = { key: 'gg/right', deviceIds: ['gg-c'], metrics: ['kwh'] };
      const both = { key: 'gg/*', deviceIds: ['gg-a', 'gg-b', 'gg-c'], metrics: ['kwh'], parts: ['gg/left', 'gg/right'] };
      const store = new SqlTimeSeriesStore(test.database, { groups: [left, right, both] });
      await store.write([
        reading('gg-a', T - HOUR, 1, { kwh: 10 }), reading('gg-a', T + MINUTE, 2, { kwh: 11 }), reading('gg-a', T + 2 * HOUR, 3, { kwh: 15 }),
        reading('gg-b', T + HOUR, 1, { kwh: 100 }), reading('gg-b', T + HOUR + 30 * MINUTE, 2, { kwh: 102 }),
        reading('gg-c', T - HOUR, 1, { kwh: 50 }), reading('gg-c', T + HOUR, 2, { kwh: 53 }),
      ]);
      await store.refresh();
      const sums = (key: string) => rows<{ hour: number; delta: number }>(sql`select (extract(epoch from hour) * 1000)::float8 - ${T} as hour, delta
        from readings_group_hourly where group_key = ${key} and hour >= ${new Date(T).toISOString()}::timestamptz order by hour`);
      expect(await sums('gg/*')).toEqual([{ hour: 0, delta: 1 }, { hour: HOUR, delta: 5 }, { hour: 2 * HOUR, delta: 4 }]);
      expect((await rows<{ delta: number }>(sql`select delta from readings_group_daily where group_key = 'gg/*' and day = ${new Date(T).toISOString()}::timestamptz`))[0]?.delta).toBe(10);
      const total = async () => values(await store.rangeTotal({ deviceIds: both.deviceIds, metric: 'kwh', agg: 'delta', from: T, to: T + 3 * HOUR, everyMs: HOUR }));
      // Altered by hand: the total over every member reads the group of groups.
      await test.database.execute(`update readings_group_hourly set delta = 50 where group_key = 'gg/*' and hour = $1::timestamptz`, [new Date(T + 2 * HOUR).toISOString()]);
      expect(await total()).toEqual([1, 5, 50]);
      // A late reading in that hour, in one part: the parts answer (the true sums) until the pass recomputes the group of groups.
      await store.write([reading('gg-c', T + 2 * HOUR + MINUTE, 3, { kwh: 54 })]);
      expect(await total()).toEqual([1, 5, 5]);
      await store.refresh();
      expect(await sums('gg/*')).toEqual([{ hour: 0, delta: 1 }, { hour: HOUR, delta: 5 }, { hour: 2 * HOUR, delta: 5 }]);
      expect(await total()).toEqual([1, 5, 5]);
    });

    it('leaves the other buildings on their sums when one has a late reading, and keeps the plot\'s totals right', async () => {
      const buildings = [1, 2, 3].map((k) => ({ key: `plot/b${k}`, deviceIds: [`plot-${k}`], metrics: ['kwh'] }));
      const plot = { key: 'plot/*', deviceIds: ['plot-1', 'plot-2', 'plot-3'], metrics: ['kwh'], parts: buildings.map((b) => b.key) };
      const store = new SqlTimeSeriesStore(test.database, { groups: [...buildings, plot] });
      // Meter k uses k kWh an hour.
      await store.write([1, 2, 3].flatMap((k) => [0, 1, 2, 3].map((h) => reading(`plot-${k}`, T + (h - 1) * HOUR + MINUTE, h, { kwh: k * h }))));
      await store.refresh();
      const hourly = (key: string) => rows<{ hour: number; delta: number }>(sql`select (extract(epoch from hour) * 1000)::float8 - ${T} as hour, delta
        from readings_group_hourly where group_key = ${key} and hour >= ${new Date(T).toISOString()}::timestamptz order by hour`);
      expect(await hourly('plot/*')).toEqual([0, HOUR, 2 * HOUR].map((hour) => ({ hour, delta: 6 })));
      const total = async () => values(await store.rangeTotal({ deviceIds: plot.deviceIds, metric: 'kwh', agg: 'delta', from: T, to: T + 3 * HOUR, everyMs: HOUR }));
      // Altered by hand: which sums answer shows in the totals.
      const alter = (key: string, hour: number, delta: number) =>
        test.database.execute('update readings_group_hourly set delta = $1 where group_key = $2 and hour = $3::timestamptz', [delta, key, new Date(hour).toISOString()]);
      await alter('plot/*', T + HOUR, 1000);
      await alter('plot/b1', T + HOUR, 100);
      expect(await total()).toEqual([6, 1000, 6]);
      // Building 3's meter reads again late in the last hour: buildings 1 and 2 answer from their sums, building 3 from its sums, then raw.
      await store.write([reading('plot-3', T + 2 * HOUR + 30 * MINUTE, 9, { kwh: 10 })]);
      expect(await total()).toEqual([6, 105, 7]);
      await store.refresh();
      expect((await hourly('plot/*')).at(-1)).toEqual({ hour: 2 * HOUR, delta: 7 });
      expect(await total()).toEqual([6, 1000, 7]);
    });

    it('rebuilds the sums of parts whose members moved, and of a group of groups whose members changed', async () => {
      const meters = ['cat-1', 'cat-2', 'cat-3', 'cat-4'];
      const configure = (x: string[], y: string[]) => {
        const parts = [{ key: 'cat/x', deviceIds: x, metrics: ['kwh'] }, { key: 'cat/y', deviceIds: y, metrics: ['kwh'] }];
        return [...parts, { key: 'cat/*', deviceIds: [...x, ...y].sort(), metrics: ['kwh'], parts: ['cat/x', 'cat/y'] }];
      };
      // Meter k uses k kWh in the hour.
      await new SqlTimeSeriesStore(test.database).write(meters.flatMap((id, i) => [reading(id, T - MINUTE, 1, { kwh: 0 }), reading(id, T + 30 * MINUTE, 2, { kwh: i + 1 })]));
      const sums = async () => Object.fromEntries((await rows<{ key: string; delta: number }>(sql`select group_key as key, delta from readings_group_hourly
        where group_key like 'cat/%' and hour = ${new Date(T).toISOString()}::timestamptz`)).map((r) => [r.key, r.delta]));
      const built = async () => Object.fromEntries((await rows<{ key: string; version: string }>(sql`select group_key as key, version from rollup_groups`)).map((r) => [r.key, r.version]));
      const refreshWith = async (groups: RollupGroup[]) => {
        const store = new SqlTimeSeriesStore(test.database, { groups });
        await store.refresh();
        expect(await built()).toEqual(Object.fromEntries(groups.map((g) => [g.key, groupVersion(g)])));
        return store;
      };
      await refreshWith(configure(['cat-1', 'cat-2'], ['cat-3']));
      expect(await sums()).toEqual({ 'cat/x': 3, 'cat/y': 3, 'cat/*': 6 });
      // cat-2 moves to y: the parts are rebuilt, the group of groups (same members) keeps its version and the sum of its parts.
      await test.database.execute(`update readings_group_hourly set delta = 60 where group_key = 'cat/*'`, []);
      await refreshWith(configure(['cat-1'], ['cat-2', 'cat-3']));
      expect(await sums()).toEqual({ 'cat/x': 1, 'cat/y': 5, 'cat/*': 6 });
      // cat-4 joins y: both y and the group of groups are rebuilt, and answer.
      const store = await refreshWith(configure(['cat-1'], ['cat-2', 'cat-3', 'cat-4']));
      expect(await sums()).toEqual({ 'cat/x': 1, 'cat/y': 9, 'cat/*': 10 });
      expect(values(await store.rangeTotal({ deviceIds: meters, metric: 'kwh', agg: 'delta', from: T, to: T + HOUR, everyMs: HOUR }))).toEqual([10]);
    });

    it('refuses a group of groups whose parts do not hold its members', () => {
      const part = { key: 'p', deviceIds: ['a'], metrics: ['kwh'] };
      expect(() => new SqlTimeSeriesStore(test.database, { groups: [part, { key: 'pp', deviceIds: ['a', 'b'], metrics: ['kwh'], parts: ['p'] }] })).toThrow(/its parts/);
      expect(() => new SqlTimeSeriesStore(test.database, { groups: [{ key: 'pp', deviceIds: ['a'], metrics: ['kwh'], parts: ['p'] }] })).toThrow(/its parts/);
    });

    it('matches a direct computation of the contract over a random history written late, out of order and twice', async () => {
      const random = seeded(9);
      const devices = ['r-1', 'r-2', 'r-3', 'r-4'];
      const group = { key: 'random', deviceIds: ['r-1', 'r-2', 'r-3'], metrics: ['kwh'], parts: ['random/1-2', 'random/3'] };
      const parts = [{ key: 'random/1-2', deviceIds: ['r-1', 'r-2'], metrics: ['kwh'] }, { key: 'random/3', deviceIds: ['r-3'], metrics: ['kwh'] }];
      const store = new SqlTimeSeriesStore(test.database, { groups: [group, ...parts] });
      const start = T - 6 * HOUR;
      const history: Reading[] = [];
      for (const deviceId of devices) {
        let kwh = Math.round(random() * 1000);
        let seq = 0;
        for (let ts = start + Math.floor(random() * HOUR); ts < T + 2 * DAY; ts += Math.floor(random() * 3 * HOUR)) {
          kwh = random() < 0.03 ? 0 : Math.round((kwh + random() * 20) * 100) / 100;
          const measured: Record<string, number | boolean | string> = { kwh, kw: Math.round(random() * 500) / 100, on: random() < 0.5 };
          if (random() < 0.2) measured.level = random() < 0.5 ? 'high' : 3;
          history.push(reading(deviceId, ts, seq++, measured));
        }
      }
      // Written in shuffled batches, some twice, with passes in between: hours get rolled up, then late readings land in them.
      const shuffled = [...history].sort(() => random() - 0.5);
      for (let i = 0; i < shuffled.length; i += 40) {
        const batch = shuffled.slice(i, i + 40);
        await store.write(random() < 0.3 ? [...batch, ...batch.slice(0, 5)] : batch);
        if (random() < 0.4) await store.refresh();
        if (i % 200 === 0) await expectMatches(store, history.filter((r) => shuffled.indexOf(r) < i + 40));
      }
      await store.refresh();
      await expectMatches(store, history);

      async function expectMatches(s: SqlTimeSeriesStore, written: Reading[]) {
        const windows: Array<[number, number, number]> = [
          [T, T + DAY, HOUR], [T + 37 * MINUTE, T + 30 * HOUR + 13 * MINUTE, HOUR], [T - 5 * HOUR, T + 2 * DAY, 3 * HOUR],
          [T - DAY, T + 2 * DAY, DAY], [T + 20 * MINUTE, T + DAY, 90 * MINUTE],
        ];
        for (const [from, to, everyMs] of windows) {
          for (const deviceId of devices) {
            for (const metric of ['kwh', 'kw', 'on', 'level']) {
              for (const agg of AGGREGATES) {
                const q = { deviceId, metric, agg, from, to, everyMs };
                expectClose(values(await s.range(q)), referenceRange(written, q), JSON.stringify(q));
              }
            }
          }
          for (const agg of ['delta', 'mean', 'sum'] as const) {
            for (const ids of [devices, group.deviceIds, parts[0]!.deviceIds, ['r-1', 'r-4']]) {
              const q = { deviceIds: ids, metric: 'kwh', agg, from, to, everyMs };
              expectClose(values(await s.rangeTotal(q)), referenceTotal(written, q), JSON.stringify(q));
            }
          }
        }
        const totals = await s.deviceTotals({ deviceIds: devices, metric: 'kwh', agg: 'delta', from: T, to: T + DAY });
        expectClose(totals.map((t) => t.value), devices.map((d) => total(referenceTotal(written, { deviceIds: [d], metric: 'kwh', agg: 'delta', from: T, to: T + DAY, everyMs: DAY }))), 'deviceTotals');
      }
    }, 120_000);
  });
}

const values = (buckets: ReadonlyArray<{ value: number | null }>) => buckets.map((b) => b.value);
const total = (list: Array<number | null>) => (list.every((v) => v === null) ? null : list.reduce<number>((sum, v) => sum + (v ?? 0), 0));

function expectClose(actual: Array<number | null>, expected: Array<number | null>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  actual.forEach((value, i) => {
    const want = expected[i]!;
    if (want === null || value === null) expect(value, `${what} [${i}]`).toBe(want);
    else expect(Math.abs(value - want), `${what} [${i}]: ${value} vs ${want}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(want)));
  });
}

/** The port's contract computed directly from the readings: first of duplicates wins, numbers and booleans only. */
function points(written: readonly Reading[], deviceId: string, metric: string): Array<{ ts: number; seq: number; v: number }> {
  const seen = new Set<string>();
  const out: Array<{ ts: number; seq: number; v: number }> = [];
  for (const r of written) {
    const key = `${r.deviceId}|${r.ts}|${r.seq}`;
    if (r.deviceId !== deviceId || seen.has(key)) continue;
    seen.add(key);
    const value = r.values[metric];
    if (typeof value === 'number') out.push({ ts: r.ts, seq: r.seq, v: value });
    else if (typeof value === 'boolean') out.push({ ts: r.ts, seq: r.seq, v: value ? 1 : 0 });
  }
  return out.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
}

function bucketStarts(from: number, to: number, everyMs: number): number[] {
  const starts: number[] = [];
  for (let b = Math.floor(from / everyMs) * everyMs; b < to; b += everyMs) starts.push(b);
  return starts;
}

function referenceRange(written: readonly Reading[], q: RangeQuery): Array<number | null> {
  const pts = points(written, q.deviceId, q.metric);
  return bucketStarts(q.from, q.to, q.everyMs).map((b) => {
    const lo = Math.max(b, q.from);
    const inside = pts.filter((p) => p.ts >= lo && p.ts < Math.min(b + q.everyMs, q.to)).map((p) => p.v);
    if (inside.length === 0) return null;
    const before = pts.filter((p) => p.ts < lo).at(-1)?.v;
    switch (q.agg) {
      case 'mean': return inside.reduce((s, v) => s + v, 0) / inside.length;
      case 'min': return Math.min(...inside);
      case 'max': return Math.max(...inside);
      case 'sum': return inside.reduce((s, v) => s + v, 0);
      case 'last': return inside.at(-1)!;
      case 'delta': return before === undefined ? null : inside.at(-1)! - before;
    }
  });
}

function referenceTotal(written: readonly Reading[], q: TotalQuery): Array<number | null> {
  const perDevice = q.deviceIds.map((deviceId) => {
    if (q.agg !== 'delta') return referenceRange(written, { ...q, deviceId, agg: q.agg });
    const pts = points(written, deviceId, q.metric);
    const firstInRange = pts.find((p) => p.ts >= q.from && p.ts < q.to)?.v;
    let previous = pts.filter((p) => p.ts < q.from).at(-1)?.v ?? firstInRange;
    return bucketStarts(q.from, q.to, q.everyMs).map((b) => {
      const inside = pts.filter((p) => p.ts >= Math.max(b, q.from) && p.ts < Math.min(b + q.everyMs, q.to));
      if (inside.length === 0) return null;
      const delta = inside.at(-1)!.v - previous!;
      previous = inside.at(-1)!.v;
      return delta;
    });
  });
  return bucketStarts(q.from, q.to, q.everyMs).map((_, i) => total(perDevice.map((list) => list[i]!)));
}

/** A small deterministic generator (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

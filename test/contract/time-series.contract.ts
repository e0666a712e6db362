/**
 * The TimeSeriesStore contract: every adapter (the SQL tables, InfluxDB) runs
 * this same suite, so it speaks only through the port.
 *
 * makeStore() is called once for the suite, and again by the one test that
 * needs a store of its own; tests share the first store and keep apart through
 * unique device ids. Timestamps sit a couple of days before now, aligned to a
 * UTC day, so that stores with a retention period keep them.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bucket, RangeQuery, Reading, TimeSeriesStore } from '../../server/src/ports/time-series.ts';

export type MadeStore = { store: TimeSeriesStore; cleanup(): Promise<void> };

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export function describeTimeSeriesStoreContract(name: string, makeStore: () => Promise<MadeStore>): void {
  describe(`${name} (TimeSeriesStore contract)`, () => {
    let made: MadeStore;
    let store: TimeSeriesStore;
    const runId = randomBytes(4).toString('hex');
    /** A device id no other test (or run) uses. */
    const device = (label: string) => `contract-${runId}-${label}`;
    const T0 = Math.floor((Date.now() - 2 * DAY) / DAY) * DAY;
    const reading = (deviceId: string, ts: number, seq: number, values: Reading['values']): Reading => ({ deviceId, ts, seq, values });
    const values = (buckets: Bucket[]) => buckets.map((b) => b.value);
    const starts = (buckets: Bucket[]) => buckets.map((b) => b.ts - T0);
    const query = (deviceId: string, metric: string, agg: RangeQuery['agg'], from = T0, to = T0 + 4 * MINUTE, everyMs = MINUTE): RangeQuery =>
      ({ deviceId, metric, agg, from, to, everyMs });

    beforeAll(async () => {
      made = await makeStore();
      store = made.store;
    });
    afterAll(async () => {
      await made?.cleanup();
    });

    it('reports itself healthy', async () => {
      const health = await store.health();
      expect(health.ok).toBe(true);
      expect(health.engine).toEqual(expect.any(String));
    });

    it('returns the newest reading of each device, values as written', async () => {
      const pump = device('latest-pump');
      const light = device('latest-light');
      await store.write([
        reading(pump, T0, 1, { pressureBar: 3.5, running: true, mode: 'auto' }),
        reading(pump, T0 + MINUTE, 2, { pressureBar: 3.25, running: false, mode: 'manual' }),
        reading(light, T0 + 30 * SECOND, 7, { on: true }),
      ]);
      const latest = await store.latest([pump, light]);
      expect(sortById(latest)).toEqual(sortById([
        reading(pump, T0 + MINUTE, 2, { pressureBar: 3.25, running: false, mode: 'manual' }),
        reading(light, T0 + 30 * SECOND, 7, { on: true }),
      ]));
    });

    it('gives every device when none are named', async () => {
      const own = await makeStore();
      try {
        const a = device('all-a');
        const b = device('all-b');
        await own.store.write([reading(a, T0, 1, { x: 1 }), reading(b, T0, 1, { x: 2 }), reading(a, T0 + SECOND, 2, { x: 3 })]);
        expect(sortById(await own.store.latest())).toEqual([reading(a, T0 + SECOND, 2, { x: 3 }), reading(b, T0, 1, { x: 2 })]);
      } finally {
        await own.cleanup();
      }
    });

    it('answers latest() for a subset, leaving out unknown and unnamed devices', async () => {
      const [a, b, c] = [device('subset-a'), device('subset-b'), device('subset-c')];
      await store.write([reading(a, T0, 1, { x: 1 }), reading(b, T0, 1, { x: 2 }), reading(c, T0, 1, { x: 3 })]);
      const latest = await store.latest([a, c, device('subset-unknown')]);
      expect(latest.map((r) => r.deviceId).sort()).toEqual([a, c]);
      expect(await store.latest([])).toEqual([]);
    });

    it('ignores a reading written twice, in one batch or in two', async () => {
      const meter = device('dup');
      const twice = reading(meter, T0 + 10 * SECOND, 5, { kw: 2 });
      await store.write([twice, twice]);
      await store.write([twice]);
      expect(values(await store.range(query(meter, 'kw', 'sum', T0, T0 + MINUTE)))).toEqual([2]);
      expect(await store.latest([meter])).toEqual([twice]);
    });

    it('keeps out-of-order readings: the newest by event time stays the latest', async () => {
      const meter = device('ooo');
      await store.write([reading(meter, T0 + 3 * MINUTE, 30, { kw: 3 })]);
      await store.write([reading(meter, T0 + MINUTE, 10, { kw: 1 }), reading(meter, T0 + 2 * MINUTE, 20, { kw: 2 })]);
      expect(await store.latest([meter])).toEqual([reading(meter, T0 + 3 * MINUTE, 30, { kw: 3 })]);
      expect(values(await store.range(query(meter, 'kw', 'last')))).toEqual([null, 1, 2, 3]);
    });

    describe('range aggregates, with empty buckets as null', () => {
      const pump = device('agg');
      beforeAll(async () => {
        // Minute 0: 2, 4, 9 (last in time is 4); minute 1: empty; minute 2: -1; minute 3: empty.
        await store.write([
          reading(pump, T0 + 40 * SECOND, 3, { flow: 4 }),
          reading(pump, T0, 1, { flow: 2 }),
          reading(pump, T0 + 20 * SECOND, 2, { flow: 9 }),
          reading(pump, T0 + 2 * MINUTE + 5 * SECOND, 4, { flow: -1 }),
        ]);
      });

      it('every bucket in [from, to), aligned to the bucket width', async () => {
        const buckets = await store.range(query(pump, 'flow', 'mean'));
        expect(starts(buckets)).toEqual([0, MINUTE, 2 * MINUTE, 3 * MINUTE]);
      });
      it('mean', async () => {
        const [first, ...rest] = await store.range(query(pump, 'flow', 'mean'));
        expect(first?.value).toBeCloseTo(5, 9);
        expect(values(rest)).toEqual([null, -1, null]);
      });
      it('min', async () => expect(values(await store.range(query(pump, 'flow', 'min')))).toEqual([2, null, -1, null]));
      it('max', async () => expect(values(await store.range(query(pump, 'flow', 'max')))).toEqual([9, null, -1, null]));
      it('sum', async () => expect(values(await store.range(query(pump, 'flow', 'sum')))).toEqual([15, null, -1, null]));
      it('last (by event time, not by write order)', async () => {
        expect(values(await store.range(query(pump, 'flow', 'last')))).toEqual([4, null, -1, null]);
      });
      it('a metric the device never sent gives null buckets', async () => {
        expect(values(await store.range(query(pump, 'no-such-metric', 'max')))).toEqual([null, null, null, null]);
      });
    });

    it('counts a reading exactly at `from`, and not one exactly at `to` or just before `from`', async () => {
      const meter = device('edges');
      await store.write([
        reading(meter, T0 + MINUTE - 1, 1, { v: 100 }),
        reading(meter, T0 + MINUTE, 2, { v: 1 }),
        reading(meter, T0 + 2 * MINUTE - 1, 3, { v: 2 }),
        reading(meter, T0 + 2 * MINUTE, 4, { v: 4 }),
        reading(meter, T0 + 3 * MINUTE - 1, 5, { v: 8 }),
        reading(meter, T0 + 3 * MINUTE, 6, { v: 1000 }),
      ]);
      const buckets = await store.range(query(meter, 'v', 'sum', T0 + MINUTE, T0 + 3 * MINUTE));
      expect(starts(buckets)).toEqual([MINUTE, 2 * MINUTE]);
      expect(values(buckets)).toEqual([3, 12]);
    });

    it('aligns buckets to the epoch when `from` is not aligned, counting only readings from `from` on', async () => {
      const meter = device('unaligned');
      await store.write([
        reading(meter, T0 + 10 * SECOND, 1, { v: 100 }),
        reading(meter, T0 + 40 * SECOND, 2, { v: 1 }),
        reading(meter, T0 + 70 * SECOND, 3, { v: 2 }),
      ]);
      const buckets = await store.range(query(meter, 'v', 'sum', T0 + 30 * SECOND, T0 + 90 * SECOND));
      expect(starts(buckets)).toEqual([0, MINUTE]);
      expect(values(buckets)).toEqual([1, 2]);
    });

    it('delta: last value of each bucket minus the last value before it', async () => {
      const meter = device('delta');
      await store.write([
        reading(meter, T0 - 5 * MINUTE, 1, { kwh: 90 }), // before `from`: the baseline
        reading(meter, T0 - 30 * SECOND, 2, { kwh: 100 }), // the last one before `from`
        reading(meter, T0 + 10 * SECOND, 3, { kwh: 101 }),
        reading(meter, T0 + 50 * SECOND, 4, { kwh: 103.5 }),
        // minute 1 empty
        reading(meter, T0 + 2 * MINUTE + 30 * SECOND, 5, { kwh: 110 }),
        reading(meter, T0 + 3 * MINUTE + 30 * SECOND, 6, { kwh: 109 }), // a register reset shows as it is
      ]);
      const [first, second, third, fourth] = await store.range(query(meter, 'kwh', 'delta'));
      expect(first?.value).toBeCloseTo(3.5, 9);
      expect(second?.value).toBeNull();
      expect(third?.value).toBeCloseTo(6.5, 9);
      expect(fourth?.value).toBeCloseTo(-1, 9);
    });

    it('delta of the first bucket is null when nothing came before `from`', async () => {
      const meter = device('delta-new');
      await store.write([reading(meter, T0 + 10 * SECOND, 1, { kwh: 5 }), reading(meter, T0 + MINUTE, 2, { kwh: 7 })]);
      expect(values(await store.range(query(meter, 'kwh', 'delta', T0, T0 + 2 * MINUTE)))).toEqual([null, 2]);
    });

    it('aggregates booleans as 0 and 1', async () => {
      const light = device('bool');
      await store.write([
        reading(light, T0, 1, { on: true }),
        reading(light, T0 + 15 * SECOND, 2, { on: false }),
        reading(light, T0 + 30 * SECOND, 3, { on: true }),
        reading(light, T0 + 45 * SECOND, 4, { on: true }),
        reading(light, T0 + MINUTE, 5, { on: false }),
      ]);
      const mean = await store.range(query(light, 'on', 'mean', T0, T0 + 2 * MINUTE));
      expect(mean[0]?.value).toBeCloseTo(0.75, 9);
      expect(mean[1]?.value).toBe(0);
      expect(values(await store.range(query(light, 'on', 'last', T0, T0 + 2 * MINUTE)))).toEqual([1, 0]);
      expect(values(await store.range(query(light, 'on', 'sum', T0, T0 + 2 * MINUTE)))).toEqual([3, 0]);
    });

    it('gives an unknown device all its buckets, empty', async () => {
      const buckets = await store.range(query(device('nobody'), 'kw', 'mean', T0, T0 + HOUR, 15 * MINUTE));
      expect(starts(buckets)).toEqual([0, 15 * MINUTE, 30 * MINUTE, 45 * MINUTE]);
      expect(values(buckets)).toEqual([null, null, null, null]);
    });

    it('rejects a query it cannot answer with an error that has a code', async () => {
      const meter = device('invalid');
      for (const bad of [query(meter, 'kw', 'sum', T0, T0 + MINUTE, 0), query(meter, 'kw', 'sum', T0 + MINUTE, T0)]) {
        await expect(store.range(bad)).rejects.toMatchObject({ code: expect.any(String) });
      }
    });

    describe('totals over a set of devices', () => {
      const [m1, m2, fresh, quiet] = [device('tot-1'), device('tot-2'), device('tot-new'), device('tot-quiet')];
      const total = (agg: 'delta' | 'mean' | 'sum', deviceIds: string[], metric = 'kwh', from = T0, to = T0 + 3 * MINUTE) =>
        store.rangeTotal({ deviceIds, metric, agg, from, to, everyMs: MINUTE });
      beforeAll(async () => {
        await store.write([
          // m1: baseline 100 before `from`, then +2 in minute 0, nothing in minute 1, +5 in minute 2.
          reading(m1, T0 - 10 * MINUTE, 1, { kwh: 100, kw: 1 }),
          reading(m1, T0 + 20 * SECOND, 2, { kwh: 101, kw: 2 }),
          reading(m1, T0 + 40 * SECOND, 3, { kwh: 102, kw: 4 }),
          reading(m1, T0 + 2 * MINUTE + 10 * SECOND, 4, { kwh: 107, kw: 6 }),
          // m2: baseline 50, +1 in minute 0, +3 in minute 1.
          reading(m2, T0 - 30 * SECOND, 1, { kwh: 50, kw: 10 }),
          reading(m2, T0 + 30 * SECOND, 2, { kwh: 51, kw: 10 }),
          reading(m2, T0 + MINUTE + 30 * SECOND, 3, { kwh: 54, kw: 20 }),
          // fresh: no reading before `from`; counts from its first one: +4 in minute 1 (first 10 in the bucket), +1 in minute 2.
          reading(fresh, T0 + MINUTE + 5 * SECOND, 1, { kwh: 10 }),
          reading(fresh, T0 + MINUTE + 50 * SECOND, 2, { kwh: 14 }),
          reading(fresh, T0 + 2 * MINUTE + 50 * SECOND, 3, { kwh: 15 }),
          // quiet: only a reading long before.
          reading(quiet, T0 - DAY, 1, { kwh: 7 }),
        ]);
      });

      it('delta: each meter\'s consumption per bucket, added up', async () => {
        const buckets = await total('delta', [m1, m2]);
        expect(starts(buckets)).toEqual([0, MINUTE, 2 * MINUTE]);
        expect(values(buckets)).toEqual([3, 3, 5]);
      });

      it('delta: a meter new in the range counts from its first reading; a silent one adds nothing', async () => {
        expect(values(await total('delta', [m1, m2, fresh, quiet, device('tot-unknown')]))).toEqual([3, 7, 6]);
        expect(values(await total('delta', [quiet]))).toEqual([null, null, null]);
      });

      it('mean adds up the devices\' means; sum adds up every reading', async () => {
        expect(values(await total('mean', [m1, m2], 'kw'))).toEqual([13, 20, 6]);
        expect(values(await total('sum', [m1, m2], 'kw'))).toEqual([16, 20, 6]);
      });

      it('gives all buckets, empty, for no devices', async () => {
        expect(values(await total('delta', []))).toEqual([null, null, null]);
      });

      it('deviceTotals: one value per device over the whole range, matching the buckets', async () => {
        const ids = [m2, fresh, m1, quiet, device('tot-unknown')];
        const totals = await store.deviceTotals({ deviceIds: ids, metric: 'kwh', agg: 'delta', from: T0, to: T0 + 3 * MINUTE });
        expect(totals).toEqual([...ids].sort().map((deviceId) => ({ deviceId, value: { [m1]: 7, [m2]: 4, [fresh]: 5 }[deviceId] ?? null })));
        const buckets = await total('delta', ids);
        expect(buckets.reduce((sum, b) => sum + (b.value ?? 0), 0)).toBe(16);
        const means = await store.deviceTotals({ deviceIds: [m1], metric: 'kw', agg: 'mean', from: T0, to: T0 + 3 * MINUTE });
        expect(means[0]?.value).toBeCloseTo(4, 9);
        expect(await store.deviceTotals({ deviceIds: [], metric: 'kwh', agg: 'delta', from: T0, to: T0 + MINUTE })).toEqual([]);
      });

      it('rejects an aggregate it does not total, with a code', async () => {
        await expect(store.rangeTotal({ deviceIds: [m1], metric: 'kwh', agg: 'max' as 'sum', from: T0, to: T0 + MINUTE, everyMs: MINUTE }))
          .rejects.toMatchObject({ code: expect.any(String) });
      });
    });

    describe('hour-wide buckets: the same answers before and after refresh(), with late readings and an open hour', () => {
      const meter = device('roll-meter');
      const fresh = device('roll-fresh');
      const at = (hour: number, minute: number) => T0 + hour * HOUR + minute * MINUTE;
      const refresh = () => store.refresh?.() ?? Promise.resolve();
      const hourly = (deviceId: string, metric: string, agg: RangeQuery['agg']) => store.range(query(deviceId, metric, agg, T0, T0 + 4 * HOUR, HOUR));
      const total = (agg: 'delta' | 'mean' | 'sum', metric: string, from: number, to: number, everyMs: number) =>
        store.rangeTotal({ deviceIds: [meter, fresh, device('roll-unknown')], metric, agg, from, to, everyMs });

      /** Everything the tests below compare, in one object so that a difference shows whole. */
      const answers = async () => ({
        delta: values(await hourly(meter, 'kwh', 'delta')),
        mean: values(await hourly(meter, 'kw', 'mean')),
        min: values(await hourly(meter, 'kw', 'min')),
        max: values(await hourly(meter, 'kw', 'max')),
        sum: values(await hourly(meter, 'kw', 'sum')),
        last: values(await hourly(meter, 'kw', 'last')),
        freshDelta: values(await hourly(fresh, 'kwh', 'delta')),
        unalignedDelta: values(await store.range(query(meter, 'kwh', 'delta', at(0, 30), at(3, 30), HOUR))),
        unalignedMean: values(await store.range(query(meter, 'kw', 'mean', at(0, 30), at(3, 30), HOUR))),
        twoHourDelta: values(await store.range(query(meter, 'kwh', 'delta', T0, T0 + 4 * HOUR, 2 * HOUR))),
        dayDelta: values(await store.range(query(meter, 'kwh', 'delta', T0, T0 + DAY, DAY))),
        ninetyMinuteDelta: values(await store.range(query(meter, 'kwh', 'delta', T0, T0 + 270 * MINUTE, 90 * MINUTE))),
        totalDelta: values(await total('delta', 'kwh', T0, T0 + 4 * HOUR, HOUR)),
        totalDay: values(await total('delta', 'kwh', T0, T0 + DAY, DAY)),
        totalMean: values(await total('mean', 'kw', T0, T0 + 4 * HOUR, HOUR)),
        totalSum: values(await total('sum', 'kw', T0, T0 + 4 * HOUR, HOUR)),
        deviceTotals: Object.fromEntries((await store.deviceTotals({ deviceIds: [fresh, meter], metric: 'kwh', agg: 'delta', from: T0, to: T0 + 4 * HOUR }))
          .map((t) => [t.deviceId === meter ? 'meter' : 'fresh', t.value])),
      });
      const written = {
        delta: [3, 3, null, 5], mean: [3, 6, null, 2], min: [2, 6, null, 1], max: [4, 6, null, 3], sum: [6, 6, null, 4], last: [4, 6, null, 3],
        freshDelta: [null, null, null, 2],
        unalignedDelta: [2, 3, null, 4], unalignedMean: [4, 6, null, 1],
        twoHourDelta: [6, 5], dayDelta: [11], ninetyMinuteDelta: [6, null, 5],
        totalDelta: [3, 3, null, 7], totalDay: [13], totalMean: [3, 6, null, 2], totalSum: [6, 6, null, 4],
        deviceTotals: { meter: 11, fresh: 2 },
      };

      beforeAll(async () => {
        // meter: a baseline two hours before T0; two readings in hour 0, one in hour 1, none in hour 2, two in hour 3.
        // fresh: first reading ever in hour 1.
        await store.write([
          reading(meter, at(-2, 0), 1, { kwh: 100, kw: 1 }),
          reading(meter, at(0, 10), 2, { kwh: 101, kw: 2 }),
          reading(meter, at(0, 40), 3, { kwh: 103, kw: 4 }),
          reading(meter, at(1, 20), 4, { kwh: 106, kw: 6 }),
          reading(meter, at(3, 5), 5, { kwh: 110, kw: 1 }),
          reading(meter, at(3, 50), 6, { kwh: 111, kw: 3 }),
          reading(fresh, at(1, 30), 1, { kwh: 50 }),
          reading(fresh, at(3, 30), 2, { kwh: 52 }),
        ]);
      });

      it('answers from the raw readings', async () => {
        expect(await answers()).toEqual(written);
      });

      it('answers the same once the hours are rolled up', async () => {
        await refresh();
        expect(await answers()).toEqual(written);
      });

      it('counts a late reading in a rolled-up hour at once, and after the next refresh', async () => {
        await refresh();
        // Hour 1 gets a newer last value (107): its consumption grows by 1, hour 3's shrinks by 1.
        await store.write([reading(meter, at(1, 50), 7, { kwh: 107, kw: 8 })]);
        const late = {
          ...written,
          delta: [3, 4, null, 4], mean: [3, 7, null, 2], max: [4, 8, null, 3], sum: [6, 14, null, 4], last: [4, 8, null, 3],
          unalignedDelta: [2, 4, null, 3], unalignedMean: [4, 7, null, 1], twoHourDelta: [7, 4], ninetyMinuteDelta: [6, 1, 4],
          totalDelta: [3, 4, null, 6], totalMean: [3, 7, null, 2], totalSum: [6, 14, null, 4],
        };
        expect(await answers()).toEqual(late);
        await refresh();
        expect(await answers()).toEqual(late);
      });

      it('counts late readings that fill an empty rolled-up hour and come before a device\'s first one', async () => {
        await refresh();
        await store.write([
          reading(meter, at(2, 15), 8, { kwh: 108.5, kw: 5 }),
          reading(fresh, at(0, 5), 0, { kwh: 49 }),
        ]);
        const later = {
          delta: [3, 4, 1.5, 2.5], mean: [3, 7, 5, 2], min: [2, 6, 5, 1], max: [4, 8, 5, 3], sum: [6, 14, 5, 4], last: [4, 8, 5, 3],
          freshDelta: [null, 1, null, 2],
          unalignedDelta: [2, 4, 1.5, 1.5], unalignedMean: [4, 7, 5, 1],
          twoHourDelta: [7, 4], dayDelta: [11], ninetyMinuteDelta: [6, 2.5, 2.5],
          totalDelta: [3, 5, 1.5, 4.5], totalDay: [14], totalMean: [3, 7, 5, 2], totalSum: [6, 14, 5, 4],
          deviceTotals: { meter: 11, fresh: 3 },
        };
        expect(await answers()).toEqual(later);
        await refresh();
        expect(await answers()).toEqual(later);
      });

      it('reads the open hour from raw readings next to rolled-up ones', async () => {
        const live = device('roll-live');
        const openHour = Math.floor(Date.now() / HOUR) * HOUR;
        await store.write([
          reading(live, openHour - 2 * HOUR + MINUTE, 1, { kwh: 10, kw: 1 }),
          reading(live, openHour - HOUR + MINUTE, 2, { kwh: 12, kw: 2 }),
          reading(live, openHour, 3, { kwh: 15, kw: 3 }),
        ]);
        // Three-hour buckets (aligned to the epoch) hold rolled-up hours and the open one together or apart.
        const threeHours = Math.floor((openHour - 2 * HOUR) / (3 * HOUR)) * 3 * HOUR;
        const split = { 0: [2, null], 1: [1.5, 3], 2: [1, 2.5] }[(openHour - 2 * HOUR - threeHours) / HOUR as 0 | 1 | 2];
        const ask = async () => [
          values(await store.range(query(live, 'kwh', 'delta', openHour - 2 * HOUR, openHour + HOUR, HOUR))),
          values(await store.range(query(live, 'kw', 'mean', threeHours, threeHours + 6 * HOUR, 3 * HOUR))),
          values(await store.rangeTotal({ deviceIds: [live], metric: 'kwh', agg: 'delta', from: openHour - 2 * HOUR, to: openHour + HOUR, everyMs: HOUR })),
        ];
        const expected = [[null, 2, 3], split, [0, 2, 3]];
        expect(await ask()).toEqual(expected);
        await refresh();
        expect(await ask()).toEqual(expected);
      });
    });

    it('round-trips a large batch (5,000 readings)', async () => {
      const meter = device('bulk');
      const batch = Array.from({ length: 5_000 }, (_, i) => reading(meter, T0 + i * SECOND, i, { n: 1, i }));
      await store.write(batch);
      const total = await store.range(query(meter, 'n', 'sum', T0, T0 + 2 * HOUR, 2 * HOUR));
      expect(values(total)).toEqual([5_000]);
      const perHour = await store.range(query(meter, 'i', 'max', T0, T0 + 2 * HOUR, HOUR));
      expect(values(perHour)).toEqual([3_599, 4_999]);
      expect(await store.latest([meter])).toEqual([batch[4_999]]);
    });
  });
}

function sortById(readings: Reading[]): Reading[] {
  return [...readings].sort((a, b) => a.deviceId.localeCompare(b.deviceId));
}

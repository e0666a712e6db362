import type { MetricValue } from '../contract.ts';

/** One validated telemetry message, in event time. */
export interface Reading {
  readonly deviceId: string;
  /** The device's own timestamp, epoch milliseconds. */
  readonly ts: number;
  readonly seq: number;
  readonly values: Readonly<Record<string, MetricValue>>;
}

/**
 * mean/min/max/sum/last over each bucket; `delta` is the consumption of a
 * cumulative register: the last value of the bucket minus the last value before it.
 */
export const AGGREGATES = ['mean', 'min', 'max', 'sum', 'last', 'delta'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

export interface RangeQuery {
  readonly deviceId: string;
  readonly metric: string;
  /** Inclusive start, epoch ms. */
  readonly from: number;
  /** Exclusive end, epoch ms. */
  readonly to: number;
  /** Bucket width in ms; buckets are aligned to multiples of it since the epoch (UTC). */
  readonly everyMs: number;
  readonly agg: Aggregate;
}

/**
 * Aggregates over a set of devices: each device is aggregated per bucket as in
 * RangeQuery, then the devices' values are added up. `delta` gives the set's
 * consumption (the sum of each meter's own consumption), `mean` e.g. the
 * set's total power (the sum of each device's mean), `sum` the sum of every reading.
 */
export const TOTAL_AGGREGATES = ['delta', 'mean', 'sum'] as const;
export type TotalAggregate = (typeof TOTAL_AGGREGATES)[number];

export interface TotalQuery {
  readonly deviceIds: readonly string[];
  readonly metric: string;
  /** Inclusive start, epoch ms. */
  readonly from: number;
  /** Exclusive end, epoch ms. */
  readonly to: number;
  /** Bucket width in ms, aligned as in RangeQuery. */
  readonly everyMs: number;
  readonly agg: TotalAggregate;
}

/** One value per device over the whole of [from, to) (no buckets). */
export type DeviceTotalsQuery = Omit<TotalQuery, 'everyMs'>;

/** `value` is null when the device has nothing to aggregate (for delta: no reading in the range, or none before it). */
export interface DeviceTotal { readonly deviceId: string; readonly value: number | null }

/** A bucket starts at `ts`; `value` is null when the bucket holds no reading. */
export interface Bucket { readonly ts: number; readonly value: number | null }

export interface StoreHealth { readonly ok: boolean; readonly engine: string; readonly detail?: string }

/** Where telemetry is kept: the relational store's tables, or InfluxDB. */
export interface TimeSeriesStore {
  /** Idempotent: a reading with the same (deviceId, ts, seq) as a stored one is ignored. */
  write(readings: readonly Reading[]): Promise<void>;
  /** The newest reading of each device (all devices, or just those named). */
  latest(deviceIds?: readonly string[]): Promise<Reading[]>;
  /** Every bucket in [from, to), empty ones included (value null). Numeric and boolean (0/1) metrics only. */
  range(query: RangeQuery): Promise<Bucket[]>;
  /**
   * Every bucket in [from, to) with the devices' aggregates added up (see
   * TotalQuery); null where none of the devices has a value. Devices without
   * readings are left out of the sum, not counted as 0.
   */
  rangeTotal(query: TotalQuery): Promise<Bucket[]>;
  /** One entry per named device (unknown ones with value null), sorted by device id. */
  deviceTotals(query: DeviceTotalsQuery): Promise<DeviceTotal[]>;
  /**
   * Stores that keep their own roll-ups: brings them up to date with what was
   * written, for every closed hour (call it after a bulk load such as the
   * simulated history). Answers are the same without it, only slower over
   * hours not rolled up yet. InfluxDB's roll-ups are tasks on its own schedule.
   */
  refresh?(): Promise<void>;
  /**
   * Runs `load` (a bulk write such as the simulated history) with the store's
   * background roll-up passes held off: passes over a table still being
   * filled repeat their work hour after hour. Call refresh() afterwards.
   */
  bulkLoad?<T>(load: () => Promise<T>): Promise<T>;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

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
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

/**
 * Telemetry in InfluxDB 2, through `@influxdata/influxdb-client`.
 *
 * Writing: `write()` turns readings into line protocol (line-protocol.ts) and
 * hands them to the client's WriteApi, which sends batches (batchSize lines,
 * or whatever has gathered after flushIntervalMs), retries failed batches with
 * exponential back-off and jitter, and keeps failed batches in a retry buffer
 * bounded at maxBufferLines: when the bound is reached it drops the oldest
 * lines. `write()` resolves once the lines are queued, so a slow or absent
 * InfluxDB never stalls ingest; what happens next is counted (stats()) and
 * shown by health(). Memory beyond the retry buffer is bounded by the batches
 * in flight, at most ingest rate × request timeout.
 *
 * Idempotence: InfluxDB keeps one point per series (measurement + tags),
 * field and timestamp, and a second write of the same point overwrites it
 * with the same values, so a repeated reading is naturally ignored. The
 * limit: two readings of one device with the same ts and different seq also
 * land on the same point, and the later write wins (field by field), whereas
 * the SQL store keeps both. Devices do not send two messages in one millisecond.
 *
 * Reading: Flux (flux.ts) through the QueryApi; queries first flush the write
 * buffer so that a process reads its own writes.
 */
import { HttpError, InfluxDB, type QueryApi, type WriteApi } from '@influxdata/influxdb-client';
import type { Device } from '../../catalogue/types.ts';
import type { MetricValue } from '../../contract.ts';
import { systemClock, type Clock } from '../../ports/clock.ts';
import type {
  Bucket, DeviceTotal, DeviceTotalsQuery, RangeQuery, Reading, StoreHealth, TimeSeriesStore, TotalQuery,
} from '../../ports/time-series.ts';
import { validateRangeQuery, validateTotalQuery } from '../sql/time-series-store.ts';
import { latestQuery, rangeQuery, totalQuery } from './flux.ts';
import { readingsToLines, SEQ_FIELD, seriesTags } from './line-protocol.ts';
import { chooseResolution, rollupBucket } from './rollups.ts';

export interface InfluxConnection {
  readonly url: string;
  readonly token: string;
  readonly org: string;
  readonly bucket: string;
}

export interface InfluxWriteTuning {
  /** Lines per write request. */
  readonly batchSize: number;
  /** A batch that is not full is sent after this long. */
  readonly flushIntervalMs: number;
  /** Retries of a failed batch before its lines are dropped. */
  readonly maxRetries: number;
  readonly minRetryDelayMs: number;
  readonly maxRetryDelayMs: number;
  /** Random extra delay per retry, so that several servers do not retry in step. */
  readonly retryJitterMs: number;
  /** A batch still failing this long after its first attempt is dropped. */
  readonly maxRetryTimeMs: number;
  /** The retry buffer's bound; beyond it the oldest lines are dropped. */
  readonly maxBufferLines: number;
  /** Request bodies larger than this many bytes are gzipped. */
  readonly gzipThreshold: number;
}

/**
 * Sized for Blue Valley (a few hundred lines a second): about 20 minutes of
 * outage fit in the buffer, and a batch is retried for up to 30 minutes.
 */
export const DEFAULT_WRITE_TUNING: InfluxWriteTuning = {
  batchSize: 1_000,
  flushIntervalMs: 1_000,
  maxRetries: 20,
  minRetryDelayMs: 1_000,
  maxRetryDelayMs: 60_000,
  retryJitterMs: 500,
  maxRetryTimeMs: 30 * 60_000,
  maxBufferLines: 200_000,
  gzipThreshold: 1_000,
};

export interface InfluxStoreOptions {
  /** The site id: the `site` tag of every point, and a filter of every query. */
  readonly site: string;
  /** The catalogue's device lookup, for the plot, building and kind tags. */
  readonly device: (id: string) => Device | undefined;
  readonly write?: Partial<InfluxWriteTuning>;
  /** Per HTTP request (writes, queries, health ping). */
  readonly timeoutMs?: number;
  /** Read hourly/daily roll-ups for coarse ranges (needs setupInfluxRetention()). */
  readonly rollups?: boolean;
  /** How long a drop of lines keeps health red. */
  readonly dropAlarmMs?: number;
  readonly clock?: Clock;
}

export interface InfluxWriteStats {
  /** Lines queued, in flight or waiting for a retry. */
  readonly pending: number;
  readonly written: number;
  /** Lines given up on: retry buffer full, retries exhausted, rejected by InfluxDB (4xx), or still pending at close(). */
  readonly dropped: number;
  /** The last write attempt failed. */
  readonly failing: boolean;
  readonly lastError: string | null;
}

export class InfluxTimeSeriesStore implements TimeSeriesStore {
  private readonly writeApi: WriteApi;
  private readonly queryApi: QueryApi;
  private readonly tuning: InfluxWriteTuning;
  private readonly timeoutMs: number;
  private readonly dropAlarmMs: number;
  private readonly clock: Clock;
  private accepted = 0;
  private written = 0;
  private dropped = 0;
  private lastDropAt: number | null = null;
  private failing = false;
  private lastError: string | null = null;
  private closed = false;
  /** Batches already counted as dropped: the client may report one batch twice (a failure, then "max retry time exceeded"). */
  private readonly droppedBatches = new WeakSet<string[]>();

  constructor(private readonly connection: InfluxConnection, private readonly options: InfluxStoreOptions) {
    this.tuning = { ...DEFAULT_WRITE_TUNING, ...options.write };
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.dropAlarmMs = options.dropAlarmMs ?? 15 * 60_000;
    this.clock = options.clock ?? systemClock;
    const influx = new InfluxDB({ url: connection.url, token: connection.token, timeout: this.timeoutMs });
    const t = this.tuning;
    this.writeApi = influx.getWriteApi(connection.org, connection.bucket, 'ms', {
      batchSize: t.batchSize,
      flushInterval: t.flushIntervalMs,
      maxRetries: t.maxRetries,
      minRetryDelay: t.minRetryDelayMs,
      maxRetryDelay: t.maxRetryDelayMs,
      retryJitter: t.retryJitterMs,
      maxRetryTime: t.maxRetryTimeMs,
      maxBufferLines: t.maxBufferLines,
      gzipThreshold: t.gzipThreshold,
      writeSuccess: (lines) => {
        this.written += lines.length;
        this.failing = false;
      },
      writeFailed: (error, lines, attempt) => {
        this.failing = true;
        this.lastError = describeError(error);
        honourRetryAfterInSeconds(error, t.maxRetryDelayMs);
        if (isFinalFailure(error, attempt, t.maxRetries)) this.countDropped(lines);
      },
      writeRetrySkipped: (entry) => this.countDropped(entry.lines),
    });
    this.queryApi = influx.getQueryApi(connection.org);
  }

  async write(readings: readonly Reading[]): Promise<void> {
    if (this.closed) throw new Error('InfluxTimeSeriesStore is closed');
    const lines = readingsToLines(readings, (id) => seriesTags(this.options.site, id, this.options.device(id)));
    this.accepted += lines.length;
    this.writeApi.writeRecords(lines);
  }

  async latest(deviceIds?: readonly string[]): Promise<Reading[]> {
    if (deviceIds?.length === 0) return [];
    await this.flushQuietly();
    const rows = await this.queryApi.collectRows<LatestRow>(latestQuery(this.connection.bucket, this.options.site, deviceIds));
    return newestReadings(rows);
  }

  async range(query: RangeQuery): Promise<Bucket[]> {
    validateRangeQuery(query);
    const resolution = chooseResolution(query.everyMs, this.options.rollups ?? false);
    const bucket = resolution === 'raw' ? this.connection.bucket : rollupBucket(this.connection.bucket, resolution);
    await this.flushQuietly();
    const rows = await this.queryApi.collectRows<RangeRow>(rangeQuery({ ...query, bucket, site: this.options.site, resolution }));
    return toBuckets(query, rows);
  }

  async rangeTotal(query: TotalQuery): Promise<Bucket[]> {
    validateTotalQuery(query);
    if (query.deviceIds.length === 0) return toBuckets(query, []);
    const rows = await this.queryTotals(query, query.everyMs);
    return toBuckets(query, rows);
  }

  async deviceTotals(query: DeviceTotalsQuery): Promise<DeviceTotal[]> {
    validateTotalQuery({ ...query, everyMs: query.to - query.from });
    if (query.deviceIds.length === 0) return [];
    const rows = await this.queryTotals(query, null);
    const values = new Map(rows.map((row) => [row.device, row._value]));
    return [...new Set(query.deviceIds)].sort().map((deviceId) => ({ deviceId, value: values.get(deviceId) ?? null }));
  }

  private async queryTotals(query: DeviceTotalsQuery, everyMs: number | null): Promise<TotalRow[]> {
    // A roll-up serves whole hours (days): the range of deviceTotals must be made of them too.
    const resolution = chooseResolution(everyMs ?? gcdOf(query.from, query.to), this.options.rollups ?? false);
    const bucket = resolution === 'raw' || query.agg !== 'delta' ? this.connection.bucket : rollupBucket(this.connection.bucket, resolution);
    await this.flushQuietly();
    return this.queryApi.collectRows<TotalRow>(totalQuery({
      ...query, everyMs, bucket, site: this.options.site, resolution: bucket === this.connection.bucket ? 'raw' : resolution,
    }));
  }

  stats(): InfluxWriteStats {
    return {
      pending: Math.max(0, this.accepted - this.written - this.dropped),
      written: this.written,
      dropped: this.dropped,
      failing: this.failing,
      lastError: this.lastError,
    };
  }

  async health(): Promise<StoreHealth> {
    const stats = this.stats();
    const problems: string[] = [];
    const pingProblem = await this.ping();
    if (pingProblem) problems.push(`InfluxDB /health: ${pingProblem}`);
    if (stats.failing) problems.push(`writes failing (${stats.lastError}); ${stats.pending} lines waiting to be written`);
    if (this.lastDropAt !== null && this.clock.now() - this.lastDropAt < this.dropAlarmMs) {
      problems.push(`${stats.dropped} lines dropped since start (InfluxDB unreachable for longer than the write buffer holds, or lines rejected)`);
    }
    const counters = `${stats.written} lines written, ${stats.pending} pending, ${stats.dropped} dropped`;
    return problems.length === 0
      ? { ok: true, engine: 'influxdb', detail: counters }
      : { ok: false, engine: 'influxdb', detail: `${problems.join('; ')} (${counters})` };
  }

  /** Sends what is buffered (retrying once what waits for a retry), then stops; lines still unsent count as dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writeApi.flush(true).catch(() => undefined);
    await this.writeApi.close().catch(() => undefined);
    const lost = this.stats().pending;
    if (lost > 0) {
      this.dropped += lost;
      this.lastDropAt = this.clock.now();
    }
  }

  private countDropped(lines: string[]): void {
    if (this.droppedBatches.has(lines)) return;
    this.droppedBatches.add(lines);
    this.dropped += lines.length;
    this.lastDropAt = this.clock.now();
  }

  /** A failed flush leaves the lines with the retry logic; the query still runs on what is stored. */
  private async flushQuietly(): Promise<void> {
    await this.writeApi.flush().catch(() => undefined);
  }

  /** null when InfluxDB answers /health with success, else what went wrong. */
  private async ping(): Promise<string | null> {
    try {
      const response = await fetch(`${this.connection.url.replace(/\/+$/, '')}/health`, { signal: AbortSignal.timeout(this.timeoutMs) });
      if (response.ok) return null;
      return `status ${response.status} ${(await response.text()).slice(0, 200)}`;
    } catch (error) {
      return describeError(error);
    }
  }
}

/**
 * Whether the client (WriteApiImpl of @influxdata/influxdb-client 1.35) gives
 * up on a batch after this failure: it retries network errors and HTTP
 * statuses from 429 up while attempts remain and the batch's retry time has
 * not run out.
 */
export function isFinalFailure(error: Error, attempt: number, maxRetries: number): boolean {
  if (attempt > maxRetries) return true;
  if (error instanceof HttpError) return error.statusCode < 429;
  return error.message === 'Max retry time exceeded.';
}

/**
 * InfluxDB's Retry-After header is in seconds, but the client takes the
 * number as milliseconds: "Retry-After: 30" would be retried after 30 ms,
 * using up the retries within a second. This corrects the delay of the error
 * before the client asks it.
 */
export function honourRetryAfterInSeconds(error: Error, maxRetryDelayMs: number): void {
  if (!(error instanceof HttpError)) return;
  const seconds = error.retryAfter();
  if (seconds > 0) error.retryAfter = () => Math.min(seconds * 1000, maxRetryDelayMs);
}

function describeError(error: unknown): string {
  if (error instanceof HttpError) return `HTTP ${error.statusCode}${error.body ? `: ${error.body.slice(0, 200)}` : ''}`;
  if (error instanceof Error) return `${error.message}${'code' in error && error.code ? ` (${String(error.code)})` : ''}`;
  return String(error);
}

interface LatestRow { device: string; _field: string; _value: MetricValue; _time: string }

/** Per device, the fields at its newest timestamp: the metrics of its newest message. */
export function newestReadings(rows: readonly LatestRow[]): Reading[] {
  const newest = new Map<string, { ts: number; fields: Map<string, MetricValue> }>();
  for (const row of rows) {
    const ts = Date.parse(row._time);
    const entry = newest.get(row.device);
    if (!entry || ts > entry.ts) newest.set(row.device, { ts, fields: new Map([[row._field, row._value]]) });
    else if (ts === entry.ts) entry.fields.set(row._field, row._value);
  }
  return [...newest.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([deviceId, { ts, fields }]) => {
      const seq = fields.get(SEQ_FIELD);
      fields.delete(SEQ_FIELD);
      return { deviceId, ts, seq: typeof seq === 'number' ? seq : 0, values: Object.fromEntries(fields) };
    });
}

interface RangeRow { _time: string; _value: number | null; agg?: string }
interface TotalRow extends RangeRow { device: string }

/** The largest bucket width both ends of a range are aligned to (for choosing a roll-up). */
function gcdOf(a: number, b: number): number {
  let [x, y] = [Math.abs(a), Math.abs(b)];
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** Every bucket of the query, filled from the rows (a row's time may be `from` when Flux clipped the first window). */
export function toBuckets(query: Pick<RangeQuery, 'from' | 'to' | 'everyMs'>, rows: readonly RangeRow[]): Bucket[] {
  const alignDown = (ms: number) => Math.floor(ms / query.everyMs) * query.everyMs;
  const first = alignDown(query.from);
  const last = alignDown(query.to - 1);
  const values = new Map<number, number | null>();
  const sums = new Map<number, { sum: number; count: number }>();
  for (const row of rows) {
    const ts = alignDown(Date.parse(row._time));
    if (row.agg === undefined) {
      values.set(ts, row._value);
    } else if (row._value !== null) {
      // Roll-up mean: sum and count per bucket, divided below.
      const acc = sums.get(ts) ?? { sum: 0, count: 0 };
      if (row.agg === 'sum') acc.sum += row._value;
      if (row.agg === 'count') acc.count += row._value;
      sums.set(ts, acc);
    }
  }
  for (const [ts, { sum, count }] of sums) values.set(ts, count > 0 ? sum / count : null);
  const buckets: Bucket[] = [];
  for (let ts = first; ts <= last; ts += query.everyMs) buckets.push({ ts, value: values.get(ts) ?? null });
  return buckets;
}

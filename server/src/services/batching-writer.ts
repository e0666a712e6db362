/**
 * Collects items and hands them to `flush` in batches: when a batch is full or
 * when the oldest item has waited `maxDelayMs`. At most `concurrency` flushes
 * run at a time (one by default, which keeps batches in order). A failed
 * flush keeps its items and is retried with back-off, so a store that is
 * briefly down loses nothing; only past `maxPending` are the oldest items
 * shed, and every shed item is counted.
 *
 * Items are numbered as they are added (`position`); `settled` says up to
 * where every item is written or shed, however the flushes overlap, so a
 * caller can tell when what it handed over is stored (MQTT acknowledgements
 * after the write: services/write-watermark.ts).
 */
export interface BatchingWriterOptions<T> {
  flush: (batch: T[]) => Promise<void>;
  maxBatch: number;
  maxDelayMs: number;
  maxPending: number;
  /**
   * Flushes that may run at once (default 1). More overlap a store's round
   * trips and commits (PostgreSQL's pool), at the price of batches landing
   * out of order: only for items whose order the store does not depend on.
   */
  concurrency?: number;
  onError?: (error: unknown, batchSize: number) => void;
}

export interface BatchingWriterStats {
  pending: number;
  written: number;
  dropped: number;
  failedFlushes: number;
  lastError: string | null;
}

const MAX_BACKOFF_MS = 5_000;

export class BatchingWriter<T> {
  private queue: T[] = [];
  /** Each queued item's position, in step with `queue` and ascending (settled reads the head). */
  private positions: number[] = [];
  private added = 0;
  /** The scheduled flush: a timer, or an immediate when it is due now (a timer waits at least 1 ms). */
  private timer: { cancel(): void } | null = null;
  private timerDue = 0;
  /** The flushes in progress, each with the first (lowest) position of its batch. */
  private readonly flushing = new Map<Promise<boolean>, number>();
  private readonly flushedListeners = new Set<() => void>();
  private readonly concurrency: number;
  private backoffMs = 0;
  private closed = false;
  readonly stats: BatchingWriterStats = { pending: 0, written: 0, dropped: 0, failedFlushes: 0, lastError: null };

  constructor(private readonly options: BatchingWriterOptions<T>) {
    this.concurrency = Math.max(1, options.concurrency ?? 1);
  }

  /** How many items were ever added: the position the next one gets. */
  get position(): number {
    return this.added;
  }

  /** Every item added before this position is written (or shed, counted in `dropped`). */
  get settled(): number {
    let lowest = this.positions[0] ?? this.added;
    for (const first of this.flushing.values()) if (first < lowest) lowest = first;
    return lowest;
  }

  /** Calls `listener` after each flush, written or failed (`settled` or `stats.lastError` moved); returns the function that removes it. */
  onFlushed(listener: () => void): () => void {
    this.flushedListeners.add(listener);
    return () => { this.flushedListeners.delete(listener); };
  }

  add(item: T): void {
    if (this.closed) throw new Error('BatchingWriter is closed');
    this.queue.push(item);
    this.positions.push(this.added++);
    if (this.queue.length > this.options.maxPending) {
      const excess = this.queue.length - this.options.maxPending;
      this.queue.splice(0, excess);
      this.positions.splice(0, excess);
      this.stats.dropped += excess;
    }
    this.stats.pending = this.queue.length;
    if (this.queue.length >= this.options.maxBatch && this.backoffMs === 0) this.kick(0);
    else this.kick(this.backoffMs || this.options.maxDelayMs);
  }

  /** Writes everything pending; resolves when the queue is empty or a flush fails. */
  async drain(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    for (;;) {
      if (this.queue.length > 0 && this.flushing.size < this.concurrency) {
        void this.flushOnce();
        continue;
      }
      if (this.flushing.size === 0) return;
      if (!(await Promise.race(this.flushing.keys()))) return;
    }
  }

  /** Flushes what is pending (one attempt per batch) and refuses further items. */
  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
  }

  /** Schedules a flush in `delayMs`, unless every flush slot is busy or one is already due sooner. */
  private kick(delayMs: number): void {
    if (this.flushing.size >= this.concurrency) return;
    const due = Date.now() + delayMs;
    if (this.timer) {
      if (this.timerDue <= due) return;
      this.timer.cancel();
    }
    this.timerDue = due;
    const fire = () => {
      this.timer = null;
      this.startFlush();
    };
    if (delayMs <= 0) {
      const immediate = setImmediate(fire);
      this.timer = { cancel: () => clearImmediate(immediate) };
    } else {
      const timeout = setTimeout(fire, delayMs);
      this.timer = { cancel: () => clearTimeout(timeout) };
    }
  }

  /** A flush now, and when it ends, the next one as due. */
  private startFlush(): void {
    void this.flushOnce().then(() => {
      if (this.queue.length > 0 && !this.closed) this.kick(this.backoffMs || (this.queue.length >= this.options.maxBatch ? 0 : this.options.maxDelayMs));
    });
    // Another slot free and a full batch waiting: it need not wait for this one.
    if (this.flushing.size < this.concurrency && this.queue.length >= this.options.maxBatch && this.backoffMs === 0) this.kick(0);
  }

  /** Resolves with false when the flush failed. */
  private flushOnce(): Promise<boolean> {
    if (this.queue.length === 0) return Promise.resolve(true);
    const batch = this.queue.splice(0, this.options.maxBatch);
    const positions = this.positions.splice(0, batch.length);
    this.stats.pending = this.queue.length;
    const flush = (async () => {
      try {
        await this.options.flush(batch);
        this.stats.written += batch.length;
        this.backoffMs = 0;
        this.stats.lastError = null;
        return true;
      } catch (error) {
        // Back where its positions belong: ahead of what came later, behind another failed batch
        // that came earlier (two flushes run at once).
        const at = firstAbove(this.positions, positions[0]!);
        this.queue.splice(at, 0, ...batch);
        this.positions.splice(at, 0, ...positions);
        this.stats.failedFlushes += 1;
        this.stats.lastError = error instanceof Error ? error.message : String(error);
        this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(100, this.backoffMs * 2));
        this.options.onError?.(error, batch.length);
        return false;
      } finally {
        this.stats.pending = this.queue.length;
      }
    })();
    this.flushing.set(flush, positions[0]!);
    void flush.then(() => {
      this.flushing.delete(flush);
      for (const listener of this.flushedListeners) listener();
    });
    return flush;
  }
}

/** The index of the first element of the ascending `sorted` greater than `value` (its length when none is). */
function firstAbove(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! > value) high = mid;
    else low = mid + 1;
  }
  return low;
}

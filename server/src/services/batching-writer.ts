/**
 * Collects items and hands them to `flush` in batches: when a batch is full or
 * when the oldest item has waited `maxDelayMs`. At most `concurrency` flushes
 * run at a time (one by default, which keeps batches in order). A failed
 * flush keeps its items and is retried with back-off, so a store that is
 * briefly down loses nothing; only past `maxPending` are the oldest items
 * shed, and every shed item is counted.
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
  /** The scheduled flush: a timer, or an immediate when it is due now (a timer waits at least 1 ms). */
  private timer: { cancel(): void } | null = null;
  private timerDue = 0;
  private readonly flushing = new Set<Promise<boolean>>();
  private readonly concurrency: number;
  private backoffMs = 0;
  private closed = false;
  readonly stats: BatchingWriterStats = { pending: 0, written: 0, dropped: 0, failedFlushes: 0, lastError: null };

  constructor(private readonly options: BatchingWriterOptions<T>) {
    this.concurrency = Math.max(1, options.concurrency ?? 1);
  }

  add(item: T): void {
    if (this.closed) throw new Error('BatchingWriter is closed');
    this.queue.push(item);
    if (this.queue.length > this.options.maxPending) {
      const excess = this.queue.length - this.options.maxPending;
      this.queue.splice(0, excess);
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
      if (!(await Promise.race(this.flushing))) return;
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
    this.stats.pending = this.queue.length;
    const flush = (async () => {
      try {
        await this.options.flush(batch);
        this.stats.written += batch.length;
        this.backoffMs = 0;
        this.stats.lastError = null;
        return true;
      } catch (error) {
        this.queue.unshift(...batch);
        this.stats.failedFlushes += 1;
        this.stats.lastError = error instanceof Error ? error.message : String(error);
        this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(100, this.backoffMs * 2));
        this.options.onError?.(error, batch.length);
        return false;
      } finally {
        this.stats.pending = this.queue.length;
      }
    })();
    this.flushing.add(flush);
    void flush.then(() => this.flushing.delete(flush));
    return flush;
  }
}

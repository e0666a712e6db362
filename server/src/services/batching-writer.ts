/**
 * Collects items and hands them to `flush` in batches: when a batch is full or
 * when the oldest item has waited `maxDelayMs`. One flush runs at a time. A
 * failed flush keeps its items and is retried with back-off, so a store that is
 * briefly down loses nothing; only past `maxPending` are the oldest items shed,
 * and every shed item is counted.
 */
export interface BatchingWriterOptions<T> {
  flush: (batch: T[]) => Promise<void>;
  maxBatch: number;
  maxDelayMs: number;
  maxPending: number;
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
  private timer: NodeJS.Timeout | null = null;
  private timerDue = 0;
  private flushing: Promise<void> | null = null;
  private backoffMs = 0;
  private closed = false;
  readonly stats: BatchingWriterStats = { pending: 0, written: 0, dropped: 0, failedFlushes: 0, lastError: null };

  constructor(private readonly options: BatchingWriterOptions<T>) {}

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
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.queue.length > 0 || this.flushing) {
      if (this.flushing) await this.flushing;
      else if (!(await this.flushOnce())) return;
    }
  }

  /** Flushes what is pending (one attempt per batch) and refuses further items. */
  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
  }

  /** Schedules a flush in `delayMs`, unless one is running or already due sooner. */
  private kick(delayMs: number): void {
    if (this.flushing) return;
    const due = Date.now() + delayMs;
    if (this.timer) {
      if (this.timerDue <= due) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flushOnce().then(() => {
        if (this.queue.length > 0 && !this.closed) this.kick(this.backoffMs || (this.queue.length >= this.options.maxBatch ? 0 : this.options.maxDelayMs));
      });
    }, delayMs);
  }

  /** Returns false when the flush failed. */
  private async flushOnce(): Promise<boolean> {
    if (this.queue.length === 0) return true;
    const batch = this.queue.splice(0, this.options.maxBatch);
    let ok = true;
    this.flushing = (async () => {
      try {
        await this.options.flush(batch);
        this.stats.written += batch.length;
        this.backoffMs = 0;
        this.stats.lastError = null;
      } catch (error) {
        ok = false;
        this.queue.unshift(...batch);
        this.stats.failedFlushes += 1;
        this.stats.lastError = error instanceof Error ? error.message : String(error);
        this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(100, this.backoffMs * 2));
        this.options.onError?.(error, batch.length);
      } finally {
        this.stats.pending = this.queue.length;
      }
    })();
    await this.flushing;
    this.flushing = null;
    return ok;
  }
}

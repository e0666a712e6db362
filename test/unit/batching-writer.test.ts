import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchingWriter } from '../../server/src/services/batching-writer.ts';

describe('BatchingWriter', () => {
  afterEach(() => vi.useRealTimers());

  it('flushes a full batch at once and the rest after the delay', async () => {
    vi.useFakeTimers();
    const batches: number[][] = [];
    const writer = new BatchingWriter<number>({ flush: async (b) => { batches.push(b); }, maxBatch: 3, maxDelayMs: 100, maxPending: 100 });
    for (let i = 1; i <= 4; i += 1) writer.add(i);
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([[1, 2, 3]]);
    await vi.advanceTimersByTimeAsync(99);
    expect(batches).toEqual([[1, 2, 3]]);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([[1, 2, 3], [4]]);
    expect(writer.stats).toMatchObject({ pending: 0, written: 4, dropped: 0 });
  });

  it('keeps a failed batch and retries it with back-off, in order', async () => {
    vi.useFakeTimers();
    const delivered: number[] = [];
    let failures = 2;
    const writer = new BatchingWriter<number>({
      flush: async (b) => {
        if (failures > 0) { failures -= 1; throw new Error('database down'); }
        delivered.push(...b);
      },
      maxBatch: 10, maxDelayMs: 10, maxPending: 100,
    });
    writer.add(1);
    writer.add(2);
    await vi.advanceTimersByTimeAsync(10);
    expect(writer.stats).toMatchObject({ pending: 2, failedFlushes: 1, lastError: 'database down' });
    writer.add(3);
    await vi.advanceTimersByTimeAsync(100); // first back-off
    expect(writer.stats.failedFlushes).toBe(2);
    await vi.advanceTimersByTimeAsync(200); // doubled back-off
    expect(delivered).toEqual([1, 2, 3]);
    expect(writer.stats).toMatchObject({ pending: 0, written: 3, lastError: null });
  });

  it('sheds the oldest items past the bound and counts them', () => {
    const writer = new BatchingWriter<number>({ flush: async () => {}, maxBatch: 1000, maxDelayMs: 1000, maxPending: 3 });
    for (let i = 1; i <= 5; i += 1) writer.add(i);
    expect(writer.stats).toMatchObject({ pending: 3, dropped: 2 });
    return writer.close();
  });

  it('runs one flush at a time by default, and up to `concurrency` when asked', async () => {
    for (const concurrency of [undefined, 2]) {
      let running = 0;
      let most = 0;
      const releases: (() => void)[] = [];
      const delivered: number[] = [];
      const writer = new BatchingWriter<number>({
        flush: async (b) => {
          running += 1;
          most = Math.max(most, running);
          await new Promise<void>((resolve) => releases.push(resolve));
          delivered.push(...b);
          running -= 1;
        },
        maxBatch: 2, maxDelayMs: 10_000, maxPending: 100, ...(concurrency && { concurrency }),
      });
      // Full batches start their flushes on their own (timers), as many at once as allowed.
      for (let i = 1; i <= 8; i += 1) writer.add(i);
      while (delivered.length < 8) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        releases.splice(0).forEach((release) => release());
      }
      await writer.close();
      expect(most).toBe(concurrency ?? 1);
      expect([...delivered].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(writer.stats).toMatchObject({ pending: 0, written: 8 });
    }
  });

  it('settles positions as a prefix: flushes that end out of order, a failed batch retried, shed items', async () => {
    const pending: { batch: number[]; done: (error?: Error) => void }[] = [];
    let flushed = 0;
    const writer = new BatchingWriter<number>({
      flush: (batch) => new Promise<void>((resolve, reject) => pending.push({ batch, done: (error) => (error ? reject(error) : resolve()) })),
      maxBatch: 2, maxDelayMs: 10_000, maxPending: 100, concurrency: 2,
    });
    writer.onFlushed(() => { flushed += 1; });
    // A few turns of the event loop: a flush's end, and the next flush it starts.
    const turns = async () => { for (let i = 0; i < 3; i += 1) await new Promise((r) => setImmediate(r)); };
    const settle = async (index: number, error?: Error) => {
      pending.splice(index, 1)[0]!.done(error);
      await turns();
    };
    for (let i = 0; i < 6; i += 1) writer.add(i);
    await turns();
    expect(writer.position).toBe(6);
    expect(pending.map((p) => p.batch)).toEqual([[0, 1], [2, 3]]);
    expect(writer.settled).toBe(0);

    // The second batch is written first: nothing before it is, so the prefix stays; the next batch starts.
    await settle(1);
    expect(flushed).toBe(1);
    expect(writer.settled).toBe(0);
    expect(pending.map((p) => p.batch)).toEqual([[0, 1], [4, 5]]);
    // The first one fails while the third is being written: its items go back to the queue's head.
    await settle(0, new Error('database down'));
    expect(flushed).toBe(2);
    expect(writer.stats).toMatchObject({ pending: 2, lastError: 'database down' });
    await settle(0);
    expect(writer.settled).toBe(0);
    const drained = writer.drain();
    await turns();
    expect(pending.map((p) => p.batch)).toEqual([[0, 1]]);
    await settle(0);
    await drained;
    expect(writer.settled).toBe(6);
    expect(flushed).toBe(4);

    // Items shed past the bound count as settled (and dropped).
    const shedding = new BatchingWriter<number>({ flush: async () => {}, maxBatch: 10, maxDelayMs: 10_000, maxPending: 2 });
    for (let i = 0; i < 5; i += 1) shedding.add(i);
    expect(shedding.settled).toBe(3);
    expect(shedding.stats.dropped).toBe(3);
    await shedding.close();
    expect(shedding.settled).toBe(5);
  });

  it('puts failed batches back in the order they were added, whichever fails first', async () => {
    const pending: { batch: number[]; done: (error?: Error) => void }[] = [];
    const writer = new BatchingWriter<number>({
      flush: (batch) => new Promise<void>((resolve, reject) => pending.push({ batch, done: (error) => (error ? reject(error) : resolve()) })),
      maxBatch: 2, maxDelayMs: 10_000, maxPending: 100, concurrency: 2,
    });
    const turns = async () => { for (let i = 0; i < 3; i += 1) await new Promise((r) => setImmediate(r)); };
    for (let i = 0; i < 6; i += 1) writer.add(i);
    await turns();
    expect(pending.map((p) => p.batch)).toEqual([[0, 1], [2, 3]]);
    pending.shift()!.done(new Error('down'));
    await turns();
    pending.shift()!.done(new Error('down'));
    await turns();
    const written: number[][] = [];
    const drained = writer.drain();
    while (written.length < 3) {
      await turns();
      const next = pending.shift()!;
      written.push(next.batch);
      next.done();
    }
    await drained;
    expect(written).toEqual([[0, 1], [2, 3], [4, 5]]);
    expect(writer.settled).toBe(6);
  });

  it('writes everything on close and then refuses new items', async () => {
    const delivered: number[] = [];
    const writer = new BatchingWriter<number>({ flush: async (b) => { delivered.push(...b); }, maxBatch: 2, maxDelayMs: 10_000, maxPending: 100 });
    for (let i = 1; i <= 5; i += 1) writer.add(i);
    await writer.close();
    expect(delivered).toEqual([1, 2, 3, 4, 5]);
    expect(() => writer.add(6)).toThrow(/closed/);
  });
});

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

  it('writes everything on close and then refuses new items', async () => {
    const delivered: number[] = [];
    const writer = new BatchingWriter<number>({ flush: async (b) => { delivered.push(...b); }, maxBatch: 2, maxDelayMs: 10_000, maxPending: 100 });
    for (let i = 1; i <= 5; i += 1) writer.add(i);
    await writer.close();
    expect(delivered).toEqual([1, 2, 3, 4, 5]);
    expect(() => writer.add(6)).toThrow(/closed/);
  });
});

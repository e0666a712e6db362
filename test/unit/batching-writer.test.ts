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

  it('writes everything on close and then refuses new items', async () => {
    const delivered: number[] = [];
    const writer = new BatchingWriter<number>({ flush: async (b) => { delivered.push(...b); }, maxBatch: 2, maxDelayMs: 10_000, maxPending: 100 });
    for (let i = 1; i <= 5; i += 1) writer.add(i);
    await writer.close();
    expect(delivered).toEqual([1, 2, 3, 4, 5]);
    expect(() => writer.add(6)).toThrow(/closed/);
  });
});

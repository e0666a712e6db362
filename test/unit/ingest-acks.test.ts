/**
 * Acknowledging MQTT messages after the write: the PUBACK queue of one
 * connection (in order, a prefix at a time, one send per release) and the
 * watermark over the store writers that says when a mark is reached and when
 * to fall back to acknowledging on receipt. The mqtt.js and Mosquitto side is
 * in test/contract/ingest-acks.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { PubackQueue } from '../../server/src/adapters/mqtt/ingest-subscriber.ts';
import type { AckGate, AckMark } from '../../server/src/ports/ack-gate.ts';
import { BatchingWriter } from '../../server/src/services/batching-writer.ts';
import { WriteWatermark } from '../../server/src/services/write-watermark.ts';

/** A gate whose marks are counters: a mark is reached once `stored` passes it. */
class CountingGate implements AckGate {
  handed = 0;
  stored = 0;
  hold = true;
  readonly counted = { stored: 0, onReceipt: 0 };
  holding = () => this.hold;
  mark = (): AckMark => [this.handed];
  reached = (mark: AckMark) => this.stored >= mark[0]!;
  onProgress = () => () => {};
  acknowledged = (count: number, stored: boolean) => { this.counted[stored ? 'stored' : 'onReceipt'] += count; };
}

function queue(gate: AckGate) {
  const sent: number[][] = [];
  const acks = new PubackQueue(gate, (ids) => sent.push([...ids]));
  /** One read: each message handed to the store, then mqtt.js's PUBACK for it. */
  const read = (...ids: number[]) => {
    for (const id of ids) {
      if (gate instanceof CountingGate) gate.handed += 1;
      acks.hold(id);
    }
    acks.endOfRead();
  };
  return { acks, sent, read };
}

describe('PubackQueue', () => {
  it('holds PUBACKs until their messages are stored, and sends them in arrival order, each release at once', () => {
    const gate = new CountingGate();
    const { acks, sent, read } = queue(gate);
    read(7, 8);
    read(9);
    read(10, 11);
    expect(sent).toEqual([]);
    expect(acks.held).toBe(5);

    // The store got past the second read: the first two reads go, in one send.
    gate.stored = 3;
    acks.release();
    expect(sent).toEqual([[7, 8, 9]]);
    gate.stored = 5;
    acks.release();
    expect(sent).toEqual([[7, 8, 9], [10, 11]]);
    expect(acks.held).toBe(0);
    expect(gate.counted).toEqual({ stored: 5, onReceipt: 0 });
  });

  it('sends a read that needed no write at the end of the read, but never ahead of an earlier one', () => {
    const gate = new CountingGate();
    const { acks, sent, read } = queue(gate);
    read(1);
    // A status message: nothing handed to the store; still behind message 1.
    acks.hold(2);
    acks.endOfRead();
    expect(sent).toEqual([]);
    gate.stored = 1;
    acks.release();
    expect(sent).toEqual([[1, 2]]);
  });

  it('acknowledges everything held, and new messages on receipt, while the gate does not hold; counts them', () => {
    const gate = new CountingGate();
    const { sent, read } = queue(gate);
    read(1, 2);
    gate.hold = false;
    read(3);
    expect(sent).toEqual([[1, 2, 3]]);
    expect(gate.counted).toEqual({ stored: 0, onReceipt: 3 });
    gate.hold = true;
    read(4);
    expect(sent).toEqual([[1, 2, 3]]);
    gate.stored = 4;
    read(5);
    expect(sent).toEqual([[1, 2, 3], [4]]);
  });

  it('drops what it holds when the connection is gone (the broker sends those again), and wakes whoever waits for it to empty', async () => {
    const gate = new CountingGate();
    const { acks, sent, read } = queue(gate);
    read(1, 2);
    acks.hold(3);
    const idle = acks.idle(60_000);
    expect(acks.drop()).toEqual([1, 2, 3]);
    await idle;
    expect(acks.held).toBe(0);
    gate.stored = 3;
    acks.release();
    expect(sent).toEqual([]);
  });
});

describe('WriteWatermark', () => {
  function writers() {
    const flushes: { resolve: () => void; reject: (error: Error) => void }[] = [];
    const make = () => new BatchingWriter<number>({
      flush: () => new Promise<void>((resolve, reject) => flushes.push({ resolve, reject })),
      maxBatch: 2, maxDelayMs: 0, maxPending: 1_000,
    });
    return { readings: make(), deadLetters: make(), flushes };
  }
  const turns = async () => { for (let i = 0; i < 3; i += 1) await new Promise((r) => setImmediate(r)); };

  it('reaches a mark once every writer has stored what it held then, and calls back on each write', async () => {
    const { readings, deadLetters, flushes } = writers();
    const watermark = new WriteWatermark();
    watermark.track('readings', readings, 100);
    watermark.track('dead letters', deadLetters, 100);
    let progress = 0;
    watermark.onProgress(() => { progress += 1; });

    readings.add(1);
    deadLetters.add(1);
    const mark = watermark.mark();
    readings.add(2);
    expect(watermark.reached(mark)).toBe(false);
    await turns();
    flushes.shift()!.resolve();
    await turns();
    expect(progress).toBe(1);
    expect(watermark.reached(mark)).toBe(false);
    flushes.shift()!.resolve();
    await turns();
    expect(watermark.reached(mark)).toBe(true);
    readings.add(3);
    expect(watermark.reached(watermark.mark())).toBe(false);
  });

  it('stops holding while a writer fails or has more pending than its bound, and holds again once it is under half of it', async () => {
    const { readings, deadLetters, flushes } = writers();
    const watermark = new WriteWatermark();
    watermark.track('readings', readings, 3);
    watermark.track('dead letters', deadLetters, 100);
    expect(watermark.holding()).toBe(true);

    deadLetters.add(1);
    await turns();
    flushes.shift()!.reject(new Error('database down'));
    await turns();
    expect(watermark.holding()).toBe(false);
    expect(watermark.stats.mode).toBe('on-receipt');
    // Retried now rather than after the back-off.
    const retried = deadLetters.drain();
    await turns();
    flushes.shift()!.resolve();
    await retried;
    expect(watermark.holding()).toBe(true);

    for (let i = 0; i < 6; i += 1) readings.add(i);
    expect(readings.stats.pending).toBeGreaterThan(3);
    expect(watermark.holding()).toBe(false);
    // Under the bound again but not under half of it: still on receipt.
    while (readings.stats.pending > 2) {
      flushes.shift()?.resolve();
      await turns();
    }
    expect(readings.stats.pending).toBe(2);
    expect(watermark.holding()).toBe(false);
    while (readings.stats.pending > 0 || flushes.length > 0) {
      flushes.shift()?.resolve();
      await turns();
    }
    expect(watermark.holding()).toBe(true);
    expect(watermark.stats.mode).toBe('after-write');
  });
});

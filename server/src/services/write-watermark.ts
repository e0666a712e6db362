/**
 * When what ingest handed to the stores is durable, so that MQTT messages are
 * acknowledged to the broker only then (README "Fault tolerance"): a server
 * killed with SIGKILL leaves every message it had not stored unacknowledged,
 * and the broker gives it to the next consumer of the partition's session.
 *
 * It follows the batching writers a message's data goes to (readings, dead
 * letters, the alarm changes it caused) by position: a mark taken after
 * handling some messages holds each writer's position then, and is reached
 * once every writer has settled (written, or shed and counted) everything
 * added before it. Acknowledgements are released as a prefix of the arrival
 * order, as MQTT wants them, even though writes overlap.
 *
 * Holding acknowledgements stops the broker once a session's in-flight window
 * is full, and with it the alarms. So while a writer is failing (in back-off)
 * or has more pending than its bound, messages are acknowledged on receipt
 * instead — buffered in memory, as durable as the process — and counted; once
 * the writes succeed and pending is back under half the bound, acknowledgements
 * wait for them again.
 */
import type { AckGate, AckMark } from '../ports/ack-gate.ts';
import type { BatchingWriterStats } from './batching-writer.ts';

/** What is followed of a BatchingWriter. */
export interface SettlingWriter {
  readonly position: number;
  readonly settled: number;
  readonly stats: BatchingWriterStats;
  onFlushed(listener: () => void): () => void;
}

export interface AckStats {
  /** Acknowledged once what they carried was stored. */
  afterWrite: number;
  /** Acknowledged on receipt, before it was stored, while a writer was failing or behind. */
  onReceipt: number;
  /** 'after-write', or 'on-receipt' while a writer is failing or behind. */
  mode: 'after-write' | 'on-receipt';
}

interface ModeLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export class WriteWatermark implements AckGate {
  private readonly writers: { name: string; writer: SettlingWriter; maxPendingWhileHolding: number }[] = [];
  private readonly listeners = new Set<() => void>();
  private afterWrite = 0;
  private onReceipt = 0;
  private mode: AckStats['mode'] = 'after-write';

  constructor(private readonly log?: ModeLog) {}

  /**
   * Follows a writer. Past `maxPendingWhileHolding` pending items it counts as
   * behind: keep the bound below a session's in-flight window, or the broker
   * stops before the bound is ever passed.
   */
  track(name: string, writer: SettlingWriter, maxPendingWhileHolding: number): void {
    this.writers.push({ name, writer, maxPendingWhileHolding });
    writer.onFlushed(() => {
      for (const listener of this.listeners) {
        try {
          listener();
        } catch (err) {
          this.log?.error({ err }, 'releasing MQTT acknowledgements failed');
        }
      }
    });
  }

  /** The counters, and the mode as of now. */
  get stats(): AckStats {
    this.holding();
    return { afterWrite: this.afterWrite, onReceipt: this.onReceipt, mode: this.mode };
  }

  holding(): boolean {
    // Back to holding only once below half the bound, so that a store hovering at it does not flip the mode at every batch.
    const bound = (max: number) => (this.mode === 'on-receipt' ? max / 2 : max);
    const behind = this.writers.find(({ writer, maxPendingWhileHolding }) => writer.stats.lastError !== null || writer.stats.pending > bound(maxPendingWhileHolding));
    const mode = behind ? 'on-receipt' : 'after-write';
    if (mode !== this.mode) {
      this.mode = mode;
      if (behind) {
        const { pending, lastError } = behind.writer.stats;
        this.log?.warn({ writer: behind.name, pending, lastError }, 'MQTT messages are acknowledged on receipt (buffered in memory) while a store is failing or behind');
      } else this.log?.info({}, 'MQTT messages are acknowledged after the write again');
    }
    return !behind;
  }

  mark(): AckMark {
    return this.writers.map(({ writer }) => writer.position);
  }

  reached(mark: AckMark): boolean {
    for (let i = 0; i < this.writers.length; i++) if (this.writers[i]!.writer.settled < (mark[i] ?? 0)) return false;
    return true;
  }

  onProgress(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  acknowledged(count: number, stored: boolean): void {
    if (stored) this.afterWrite += count;
    else this.onReceipt += count;
  }
}

/**
 * Keeps this instance's share of the site's partitions (domain/partitions.ts)
 * through leases in the relational store. Every lease period / 3 it renews
 * what it holds, then takes or gives back partitions to reach its fair share.
 *
 * Handing a partition over is ordered so nothing is lost: the owner stops
 * consuming (its MQTT session stays on the broker and queues), stores what it
 * holds, and only then ends its lease; the next owner restores the partition's
 * state and resumes the same session.
 *
 * When the store is unreachable the owner keeps its partitions and goes on
 * (readings are buffered, alarms raised): the lease cannot be renewed, but
 * the MQTT session's unique client id still fences it — should another
 * instance take the lease and connect, the broker ends this one's session and
 * `fenced()` drops the partition here.
 */
import type { HeldLease } from '../adapters/sql/partition-lease-repository.ts';
import { planLeases, type Partition } from '../domain/partitions.ts';

export interface LeaseStore {
  heartbeat(siteId: string, instance: string, ttlMs: number): Promise<number>;
  leave(siteId: string, instance: string): Promise<void>;
  takenByOthers(partitions: readonly string[], instance: string): Promise<Set<string>>;
  acquire(partition: string, instance: string, ttlMs: number, force?: boolean): Promise<HeldLease | null>;
  /** The leases still held, with their new expiry. */
  renew(partitions: readonly string[], instance: string, ttlMs: number): Promise<Map<string, number>>;
  release(partitions: readonly string[], instance: string): Promise<void>;
  leases(partitions: readonly string[]): Promise<{ partition: string; owner: string; epoch: number }[]>;
}

export interface PartitionHandlers {
  /** The lease is ours at `epoch`: restore the partition's state, then start consuming. A throw gives the lease back. */
  acquire(partition: Partition, epoch: number): Promise<void>;
  /** An orderly hand-over: stop consuming, then store everything of the partition. */
  release(partition: Partition): Promise<void>;
  /** Taken over without a hand-over: stop consuming at once and store nothing more of its state. */
  lost(partition: Partition, why: string): void;
}

export interface CoordinatorLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface CoordinatorOptions {
  siteId: string;
  instance: string;
  partitions: readonly Partition[];
  store: LeaseStore;
  handlers: PartitionHandlers;
  leaseMs: number;
  /** PGlite: one process has the store, so leases are taken whatever their state. */
  exclusive: boolean;
  log: CoordinatorLog;
  /** Told after this instance gave partitions back, so that peers can take them without waiting a period. */
  onReleased?: () => void;
}

/** `expiresAt`: the lease's expiry as the store last answered (epoch ms, the database's clock); past while the store is unreachable. */
export interface OwnedPartition { readonly partition: Partition; readonly epoch: number; readonly expiresAt: number }

export class PartitionCoordinator {
  private readonly owned = new Map<string, OwnedPartition>();
  private readonly byId: ReadonlyMap<string, Partition>;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private again = false;
  private stopped = false;
  private storeDown = false;
  /** The first failure to take a partition over, during start(). */
  private firstError: unknown = undefined;

  constructor(private readonly options: CoordinatorOptions) {
    this.byId = new Map(options.partitions.map((p) => [p.id, p]));
  }

  /** Every lease period / 3: renewals, and takes or gives back partitions. */
  get periodMs(): number { return Math.max(50, Math.floor(this.options.leaseMs / 3)); }

  ownedPartitions(): OwnedPartition[] { return [...this.owned.values()]; }

  owns(partitionId: string): boolean { return this.owned.has(partitionId); }

  /**
   * Runs the first round (so that a lone instance owns its partitions when
   * start resolves), then one every period. Rejects when partitions were
   * free but none could be taken (the broker unreachable, say): a server
   * that starts should be able to work.
   */
  async start(): Promise<void> {
    this.firstError = null;
    await this.cycle();
    if (this.owned.size === 0 && this.firstError !== null) {
      await this.stop();
      throw this.firstError;
    }
    this.timer = setInterval(() => { void this.cycle(); }, this.periodMs);
  }

  /** A peer gave partitions back: look now instead of at the next period. */
  nudge(): void { void this.cycle(); }

  /**
   * Whether this instance still holds the partition's lease at the epoch it
   * took it with: asked before a partition's MQTT connection reconnects, so
   * that a connection the broker closed because a new owner connected does
   * not take the session back. Rejects when the store does not answer.
   */
  async stillOwns(partitionId: string): Promise<boolean> {
    const owned = this.owned.get(partitionId);
    if (!owned) return false;
    if (this.options.exclusive) return true;
    const [lease] = await this.options.store.leases([partitionId]);
    return lease?.owner === this.options.instance && lease.epoch === owned.epoch;
  }

  /** The partition's connection stopped because another one has its session. */
  fenced(partitionId: string): void {
    const owned = this.owned.get(partitionId);
    if (!owned) return;
    this.owned.delete(partitionId);
    this.options.handlers.lost(owned.partition, 'another consumer took the MQTT session over');
  }

  /** Hands every partition over in order and leaves the site's members. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    const ids = [...this.owned.keys()];
    for (const id of ids) await this.handOver(id);
    await this.options.store.release(ids, this.options.instance)
      .then(() => { if (ids.length > 0) this.options.onReleased?.(); })
      .catch((error: unknown) => this.options.log.warn({ err: error }, 'partition leases not released; they expire by themselves'));
    await this.options.store.leave(this.options.siteId, this.options.instance).catch(() => {});
  }

  /** One round; rounds never overlap (a round asked for during one runs right after it). */
  cycle(): Promise<void> {
    if (this.stopped) return this.running;
    if (this.again) return this.running;
    this.again = true;
    this.running = this.running.then(async () => {
      this.again = false;
      if (this.stopped) return;
      try {
        await this.round();
        if (this.storeDown) this.options.log.info({}, 'partition leases: the store answers again');
        this.storeDown = false;
      } catch (error) {
        if (!this.storeDown) {
          this.options.log.warn({ err: error, owned: [...this.owned.keys()] },
            'partition leases: store unreachable; keeping the partitions held (the MQTT session fences them)');
        }
        this.storeDown = true;
      }
    });
    return this.running;
  }

  private async round(): Promise<void> {
    const { store, instance, siteId, leaseMs, exclusive, log } = this.options;
    const all = [...this.byId.keys()];
    const live = exclusive ? 1 : await store.heartbeat(siteId, instance, leaseMs);

    const held = [...this.owned.keys()];
    const renewed = await store.renew(held, instance, leaseMs);
    for (const id of held) {
      const owned = this.owned.get(id);
      // Fenced while the store answered: already dropped.
      if (!owned) continue;
      const expiresAt = renewed.get(id);
      if (expiresAt !== undefined) {
        this.owned.set(id, { ...owned, expiresAt });
        continue;
      }
      this.owned.delete(id);
      this.options.handlers.lost(owned.partition, 'the lease was taken over while the store was unreachable');
    }

    const takenByOthers = exclusive ? new Set<string>() : await store.takenByOthers(all, instance);
    const plan = planLeases({ all, owned: [...this.owned.keys()], takenByOthers, live, instance });
    for (const id of plan.release) await this.handOver(id);
    if (plan.release.length > 0) {
      await store.release(plan.release, instance);
      log.info({ partitions: plan.release, live }, 'partitions handed over (fair share)');
      this.options.onReleased?.();
    }
    for (const id of plan.acquire) {
      if (this.stopped) return;
      const lease = await store.acquire(id, instance, leaseMs, exclusive);
      if (lease === null) continue;
      const { epoch, expiresAt } = lease;
      const partition = this.byId.get(id)!;
      // Owned while it is being taken: its connection may already ask stillOwns().
      this.owned.set(id, { partition, epoch, expiresAt });
      try {
        await this.options.handlers.acquire(partition, epoch);
      } catch (error) {
        this.owned.delete(id);
        log.error({ err: error, partition: id }, 'taking the partition over failed; giving its lease back');
        this.firstError ??= error;
        await this.options.handlers.release(partition).catch(() => {});
        await store.release([id], instance);
        continue;
      }
      log.info({ partition: id, epoch, live }, 'partition taken');
    }
  }

  private async handOver(id: string): Promise<void> {
    const owned = this.owned.get(id);
    if (!owned) return;
    try {
      await this.options.handlers.release(owned.partition);
    } catch (error) {
      this.options.log.error({ err: error, partition: id }, 'handing the partition over did not complete');
    }
    this.owned.delete(id);
  }
}

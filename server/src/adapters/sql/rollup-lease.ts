/**
 * Which server instance runs the roll-up passes (time-series-store.ts): the
 * one holding the `rollups` row of partition_leases, the table the plot
 * partitions' leases live in (README "Scale-out"). Passes are idempotent, so
 * the lease only saves work: without it every instance would recompute the
 * same hours. The holder renews it every third of its length; when it stops
 * (SIGTERM) it ends the lease at once, and when it dies the lease expires,
 * and the next instance to ask takes it over.
 *
 * One row for the whole database (the roll-up tables are not per site).
 * Expiry is judged by the database's clock, as for the partitions.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { queryRows, type Database } from './database.ts';
import type { PassLease } from './time-series-store.ts';

export const ROLLUP_LEASE = 'rollups';

export class RollupLease implements PassLease {
  /** Like a cluster instance's name (host-pid-random), so that partition_leases shows which process runs the passes. */
  readonly owner = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private holding = false;
  private timer: NodeJS.Timeout | null = null;
  private renewing: Promise<void> = Promise.resolve();

  constructor(private readonly database: Database, private readonly ttlMs: number) {}

  get held(): boolean { return this.holding; }

  /** Takes or renews the lease now, then every third of its length. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.ttlMs / 3))).unref();
    void this.renew();
  }

  /** Stops renewing and ends the lease if held, so that another instance takes the passes over at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.renewing;
    if (!this.holding) return;
    this.holding = false;
    await this.database.db.execute(sql`update partition_leases set expires_at = now() where partition = ${ROLLUP_LEASE} and owner = ${this.owner}`)
      .catch(() => { /* it expires by itself */ });
  }

  /** One take-or-renew; an unreachable store counts as not held (the passes could not run anyway). */
  renew(): Promise<void> {
    this.renewing = this.renewing.then(async () => {
      try {
        const rows = await queryRows<{ owner: string }>(this.database.db, sql`
          insert into partition_leases (partition, owner, epoch, expires_at)
          values (${ROLLUP_LEASE}, ${this.owner}, 1, now() + ${Math.round(this.ttlMs)}::int * interval '1 millisecond')
          on conflict (partition) do update
            set epoch = partition_leases.epoch + (partition_leases.owner <> excluded.owner)::int, owner = excluded.owner, expires_at = excluded.expires_at
            where partition_leases.owner = excluded.owner or partition_leases.expires_at <= now()
          returning owner`);
        this.holding = rows.length > 0;
      } catch {
        this.holding = false;
      }
    });
    return this.renewing;
  }
}

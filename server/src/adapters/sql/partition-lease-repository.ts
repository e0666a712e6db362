/**
 * Partition leases in the relational store (drizzle/0005_partition_leases.sql).
 *
 * A lease is a row: owner, epoch and expiry. Expiry is judged by the
 * database's clock (now()), never an instance's, so clock skew between
 * instances cannot make two owners. The epoch grows at every change of owner
 * and fences the snapshot writes of a former owner.
 *
 * A row rather than pg_advisory_lock: an advisory lock lives on one session,
 * so it needs a dedicated connection outside the pool, is lost silently
 * with that connection, does not survive a transaction-mode pooler
 * (PgBouncer), and cannot say who holds it. A row works through any pool, on
 * PGlite too, and `SELECT * FROM partition_leases` shows who owns what.
 */
import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type Database } from './database.ts';
import { encodeSnapshot } from './snapshot-codec.ts';

export interface LeaseRow { partition: string; owner: string; epoch: number; live: boolean }

/** A lease as taken or renewed: its epoch and when it expires (by the database's clock, epoch ms). */
export interface HeldLease { epoch: number; expiresAt: number }

const ttl = (ttlMs: number): SQL => sql`(now() + ${Math.round(ttlMs)}::int * interval '1 millisecond')`;
const expiresAtMs = sql`(date_part('epoch', expires_at) * 1000)::float8`;
const list = (items: readonly string[]): SQL => sql.join(items.map((i) => sql`${i}`), sql`, `);

export class PartitionLeaseRepository {
  constructor(private readonly database: Database) {}

  /** Marks this instance live for `ttlMs` and returns how many instances of the site are live. */
  async heartbeat(siteId: string, instance: string, ttlMs: number): Promise<number> {
    const { db } = this.database;
    await db.execute(sql`insert into partition_members (site_id, instance, expires_at) values (${siteId}, ${instance}, ${ttl(ttlMs)})
      on conflict (site_id, instance) do update set expires_at = excluded.expires_at`);
    await db.execute(sql`delete from partition_members where expires_at < now() - interval '1 hour'`);
    const [row] = await queryRows<{ live: number }>(db, sql`select count(*)::int as live from partition_members where site_id = ${siteId} and expires_at > now()`);
    return Math.max(1, row?.live ?? 1);
  }

  async leave(siteId: string, instance: string): Promise<void> {
    await this.database.db.execute(sql`delete from partition_members where site_id = ${siteId} and instance = ${instance}`);
  }

  /** Of these partitions, the ones another instance holds an unexpired lease on. */
  async takenByOthers(partitions: readonly string[], instance: string): Promise<Set<string>> {
    if (partitions.length === 0) return new Set();
    const rows = await queryRows<{ partition: string }>(this.database.db,
      sql`select partition from partition_leases where partition in (${list(partitions)}) and owner <> ${instance} and expires_at > now()`);
    return new Set(rows.map((r) => r.partition));
  }

  /**
   * Takes the lease if it is free, expired or already ours (or, with `force`,
   * whatever its state: a PGlite store has one process by construction).
   * Returns the new epoch and expiry, or null when someone else holds it.
   */
  async acquire(partition: string, instance: string, ttlMs: number, force = false): Promise<HeldLease | null> {
    const rows = await queryRows<{ epoch: number; expires_at: number }>(this.database.db, sql`
      insert into partition_leases (partition, owner, epoch, expires_at) values (${partition}, ${instance}, 1, ${ttl(ttlMs)})
      on conflict (partition) do update set owner = excluded.owner, epoch = partition_leases.epoch + 1, expires_at = excluded.expires_at
        where partition_leases.expires_at <= now() or partition_leases.owner = excluded.owner or ${force}::boolean
      returning epoch::float8 as epoch, ${expiresAtMs} as expires_at`);
    return rows[0] ? { epoch: Number(rows[0].epoch), expiresAt: Number(rows[0].expires_at) } : null;
  }

  /** Extends the leases this instance still holds; returns those with their new expiry (a missing one was taken over). */
  async renew(partitions: readonly string[], instance: string, ttlMs: number): Promise<Map<string, number>> {
    if (partitions.length === 0) return new Map();
    const rows = await queryRows<{ partition: string; expires_at: number }>(this.database.db, sql`
      update partition_leases set expires_at = ${ttl(ttlMs)}
      where owner = ${instance} and partition in (${list(partitions)}) returning partition, ${expiresAtMs} as expires_at`);
    return new Map(rows.map((r) => [r.partition, Number(r.expires_at)]));
  }

  /** Ends the leases at once (keeping owner and epoch), so that another instance may take them now. */
  async release(partitions: readonly string[], instance: string): Promise<void> {
    if (partitions.length === 0) return;
    await this.database.db.execute(sql`update partition_leases set expires_at = now() where owner = ${instance} and partition in (${list(partitions)})`);
  }

  async leases(partitions: readonly string[]): Promise<LeaseRow[]> {
    if (partitions.length === 0) return [];
    const rows = await queryRows<LeaseRow>(this.database.db, sql`
      select partition, owner, epoch::float8 as epoch, expires_at > now() as live from partition_leases
      where partition in (${list(partitions)}) order by partition`);
    return rows.map((r) => ({ ...r, epoch: Number(r.epoch) }));
  }

  /**
   * Saves a partition's engine snapshot under `key` only while this instance
   * still holds the partition's lease at `epoch`, in one statement: a former
   * owner that wakes up late cannot overwrite its successor's state. Returns
   * whether it was saved. Stored compressed (snapshot-codec.ts).
   */
  async saveSnapshotFenced(fence: { partition: string; instance: string; epoch: number }, key: string, snapshot: string, savedAt: number): Promise<boolean> {
    const stored = await encodeSnapshot(snapshot);
    const rows = await queryRows<{ site_id: string }>(this.database.db, sql`
      insert into alarm_engine_state (site_id, snapshot, saved_at)
      select ${key}, ${stored}, ${new Date(savedAt).toISOString()}::timestamptz
      where exists (select 1 from partition_leases where partition = ${fence.partition} and owner = ${fence.instance} and epoch = ${fence.epoch})
      on conflict (site_id) do update set snapshot = excluded.snapshot, saved_at = excluded.saved_at
      returning site_id`);
    return rows.length > 0;
  }
}

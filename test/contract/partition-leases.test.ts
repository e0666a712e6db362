/**
 * Partition leases on both relational engines: who may take a lease, the
 * epoch that fences a former owner, and two coordinators sharing a site's
 * partitions through one store (handlers recorded, no MQTT).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../server/src/adapters/sql/database.ts';
import { PartitionLeaseRepository } from '../../server/src/adapters/sql/partition-lease-repository.ts';
import { partitionOf, type Partition } from '../../server/src/domain/partitions.ts';
import { PartitionCoordinator } from '../../server/src/services/partition-coordinator.ts';
import { TEST_ENGINES, type TestDatabase } from '../support/databases.ts';

const silent = { info() {}, warn() {}, error() {} };

describe.each(TEST_ENGINES)('partition leases on $engine', ({ open }) => {
  let db: TestDatabase;
  let leases: PartitionLeaseRepository;
  beforeAll(async () => {
    db = await open();
    leases = new PartitionLeaseRepository(db.database);
  });
  afterAll(async () => db?.cleanup());

  it('one owner at a time; a release lets the next in with a higher epoch; the former owner cannot renew', async () => {
    expect((await leases.acquire('s1/A', 'i1', 60_000))?.epoch).toBe(1);
    expect(await leases.acquire('s1/A', 'i2', 60_000)).toBeNull();
    expect(await leases.takenByOthers(['s1/A', 's1/B'], 'i2')).toEqual(new Set(['s1/A']));
    await leases.release(['s1/A'], 'i1');
    expect((await leases.acquire('s1/A', 'i2', 60_000))?.epoch).toBe(2);
    expect(await leases.renew(['s1/A'], 'i1', 60_000)).toEqual(new Map());
    expect([...(await leases.renew(['s1/A'], 'i2', 60_000)).keys()]).toEqual(['s1/A']);
    expect(await leases.leases(['s1/A'])).toEqual([{ partition: 's1/A', owner: 'i2', epoch: 2, live: true }]);
  });

  it('an expired lease is free; force takes a live one', async () => {
    expect((await leases.acquire('s1/B', 'i1', 1))?.epoch).toBe(1);
    await new Promise((r) => setTimeout(r, 20));
    expect((await leases.acquire('s1/B', 'i2', 60_000))?.epoch).toBe(2);
    expect((await leases.acquire('s1/B', 'i3', 60_000, true))?.epoch).toBe(3);
  });

  it('tells the expiry of a lease taken and renewed, a lease period after the database\'s now', async () => {
    const dbNow = async () => Number((await queryRows<{ now: number }>(db.database.db, sql`select (date_part('epoch', now()) * 1000)::float8 as now`))[0]!.now);
    const before = await dbNow();
    const taken = (await leases.acquire('s1/D', 'i1', 60_000))!;
    expect(taken.expiresAt).toBeGreaterThanOrEqual(before + 60_000);
    expect(taken.expiresAt).toBeLessThanOrEqual((await dbNow()) + 60_000);
    const renewed = (await leases.renew(['s1/D'], 'i1', 120_000)).get('s1/D')!;
    expect(renewed).toBeGreaterThanOrEqual(taken.expiresAt + 60_000);
    expect(renewed).toBeLessThanOrEqual((await dbNow()) + 120_000);
  });

  it('saves a snapshot only for the owner at its epoch', async () => {
    const { epoch } = (await leases.acquire('s1/C', 'i1', 60_000))!;
    expect(await leases.saveSnapshotFenced({ partition: 's1/C', instance: 'i1', epoch }, 's1/C', '{"v":1}', Date.now())).toBe(true);
    await leases.release(['s1/C'], 'i1');
    await leases.acquire('s1/C', 'i2', 60_000);
    expect(await leases.saveSnapshotFenced({ partition: 's1/C', instance: 'i1', epoch }, 's1/C', '{"v":"late"}', Date.now())).toBe(false);
  });

  it('counts the live members of a site', async () => {
    expect(await leases.heartbeat('s2', 'i1', 60_000)).toBe(1);
    expect(await leases.heartbeat('s2', 'i2', 60_000)).toBe(2);
    await leases.leave('s2', 'i2');
    expect(await leases.heartbeat('s2', 'i1', 60_000)).toBe(1);
  });

  it('two coordinators split the partitions, hand over in order, and one takes all back when the other stops', async () => {
    const partitions = ['A', 'B', 'C'].map((p) => partitionOf('s3', p));
    const calls: string[] = [];
    const coordinator = (instance: string) => new PartitionCoordinator({
      siteId: 's3', instance, partitions, store: leases, leaseMs: 60_000, exclusive: false, log: silent,
      handlers: {
        acquire: async (p: Partition, epoch: number) => { calls.push(`${instance} acquire ${p.plotId} @${epoch}`); },
        release: async (p: Partition) => { calls.push(`${instance} release ${p.plotId}`); },
        lost: (p: Partition) => { calls.push(`${instance} lost ${p.plotId}`); },
      },
    });
    const one = coordinator('i1');
    const two = coordinator('i2');
    await one.cycle();
    expect(one.ownedPartitions()).toHaveLength(3);
    const [first] = one.ownedPartitions();
    await one.cycle(); // renews: each lease's expiry moves on, its epoch stays
    expect(one.ownedPartitions()[0]).toMatchObject({ partition: first!.partition, epoch: first!.epoch });
    expect(one.ownedPartitions()[0]!.expiresAt).toBeGreaterThan(first!.expiresAt);
    await two.cycle();
    expect(two.ownedPartitions()).toHaveLength(0);
    await one.cycle(); // sees two live members: gives one back
    await two.cycle();
    expect([one.ownedPartitions().length, two.ownedPartitions().length]).toEqual([2, 1]);
    const moved = two.ownedPartitions()[0]!.partition.plotId;
    expect(calls.indexOf(`i1 release ${moved}`)).toBeLessThan(calls.findIndex((c) => c.startsWith(`i2 acquire ${moved}`)));

    await two.stop();
    await one.cycle();
    expect(one.ownedPartitions()).toHaveLength(3);
    expect(await one.stillOwns(partitions[0]!.id)).toBe(true);
    await one.stop();
    expect(calls.filter((c) => c.includes(' lost '))).toEqual([]);
  });
});

import fp from 'fastify-plugin';
import { PartitionLeaseRepository } from '../adapters/sql/partition-lease-repository.ts';
import { partitionClientId, sitePartitions, type Partition } from '../domain/partitions.ts';
import { PartitionCoordinator, type OwnedPartition } from '../services/partition-coordinator.ts';

export interface Partitions {
  /** Every partition of the site (one per plot). */
  readonly all: readonly Partition[];
  /** The partitions this instance owns now. */
  owned(): Partition[];
  /** The same with each lease's epoch and expiry. */
  leases(): OwnedPartition[];
  ownsPlot(plotId: string): boolean;
  ownsAll(): boolean;
}

declare module 'fastify' {
  interface FastifyInstance { partitions: Partitions }
}

/**
 * Scale-out (README "Scale-out"): this instance's share of the site's
 * partitions, held through leases in the relational store. Taking a partition
 * restores its alarm engine, then subscribes to its topics under its stable
 * client id; handing one over unsubscribes first (the broker queues for the
 * session), stores the engine's state, then ends the lease. With PGlite the
 * process is alone and owns every partition at once.
 *
 * Registered after the alarms, so that no message flows before an engine is
 * restored, and closed before them (onClose runs in reverse), so that every
 * partition is handed over while the writers are still open.
 */
export default fp(async (app) => {
  const all = sitePartitions(app.site.site);
  const leases = new PartitionLeaseRepository(app.database);
  const group = app.config.mqtt.shareGroup;

  const coordinator: PartitionCoordinator = new PartitionCoordinator({
    siteId: app.site.site.id,
    instance: app.cluster.instance,
    partitions: all,
    store: leases,
    leaseMs: app.config.partitions.leaseMs,
    exclusive: app.database.engine === 'pglite',
    log: app.log,
    onReleased: () => app.cluster.tell('partitions:released', null),
    handlers: {
      acquire: async (partition, epoch) => {
        await app.alarms.partitions.takeOver(partition, epoch);
        try {
          await app.ingest.subscriber.subscribe({
            id: partition.id,
            topic: partition.topic,
            clientId: partitionClientId(group, partition),
            mayReconnect: () => coordinator.stillOwns(partition.id),
            onFenced: () => coordinator.fenced(partition.id),
          });
        } catch (error) {
          app.alarms.partitions.drop(partition);
          throw error;
        }
      },
      release: async (partition) => {
        await app.ingest.subscriber.unsubscribe(partition.id);
        await app.alarms.partitions.handOver(partition);
      },
      lost: (partition, why) => {
        app.log.warn({ partition: partition.id }, `partition lost: ${why}`);
        void app.ingest.subscriber.unsubscribe(partition.id);
        app.alarms.partitions.drop(partition);
      },
    },
  });
  // A peer that gave partitions back: take them now rather than at the next period.
  app.cluster.listen('partitions:released', () => coordinator.nudge());

  const ownedPlots = () => new Set(coordinator.ownedPartitions().map((o) => o.partition.plotId));
  app.decorate('partitions', {
    all,
    owned: () => coordinator.ownedPartitions().map((o) => o.partition),
    leases: () => coordinator.ownedPartitions(),
    ownsPlot: (plotId: string) => ownedPlots().has(plotId),
    ownsAll: () => coordinator.ownedPartitions().length === all.length,
  } satisfies Partitions);

  await coordinator.start();
  app.log.info({ owned: coordinator.ownedPartitions().map((o) => o.partition.id), of: all.length }, 'partitions');
  app.addHook('onClose', async () => coordinator.stop());
}, { name: 'partitions', dependencies: ['config', 'catalogue', 'database', 'ingest', 'push', 'alarms'] });

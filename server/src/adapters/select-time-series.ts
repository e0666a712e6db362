/**
 * The time-series seam's one selector: InfluxDB when INFLUX_URL is set, the
 * relational store's tables otherwise. No other module names a driver.
 */
import type { SiteIndex } from '../catalogue/types.ts';
import type { Config } from '../config/config.ts';
import type { Clock } from '../ports/clock.ts';
import type { TimeSeriesStore } from '../ports/time-series.ts';
import { InfluxTimeSeriesStore } from './influx/influx-time-series-store.ts';
import { setupInfluxRetention } from './influx/rollups.ts';
import type { Database } from './sql/database.ts';
import { RollupLease } from './sql/rollup-lease.ts';
import { groupsFromCatalogue } from './sql/rollups.ts';
import { SqlTimeSeriesStore } from './sql/time-series-store.ts';

export async function selectTimeSeriesStore(config: Config, database: Database, site: SiteIndex, clock: Clock): Promise<TimeSeriesStore> {
  // Roll-up passes and latest values run in the background; the catalogue's meter groups keep plot and site totals fast.
  // On PostgreSQL several instances may share the tables: one of them, the lease's holder, runs the passes.
  if (!config.influx) {
    const lease = database.engine === 'postgres' ? new RollupLease(database, config.partitions.leaseMs) : undefined;
    return new SqlTimeSeriesStore(database, { clock, groups: groupsFromCatalogue(site.site.devices), background: true, lease });
  }
  // Creates the hourly and daily roll-up buckets and tasks once (idempotent), so long ranges read roll-ups.
  await setupInfluxRetention(config.influx);
  return new InfluxTimeSeriesStore(config.influx, { site: site.site.id, device: (id) => site.device(id), rollups: true, clock });
}

/**
 * Scale-out partitions: a site's devices are split by plot, and each plot is
 * a partition that one server instance owns at a time (README "Scale-out").
 *
 * Why the plot: every piece of the alarm engine's state that spans devices
 * stays inside a plot — a feeder's root cause and its vote of silent devices
 * (each plot has its own substation and feeders), and flood mode (per plot) —
 * so an owner that sees all of a plot's messages judges them exactly as one
 * server seeing the whole site would. A finer cut (the building) would split
 * a feeder's devices between owners. The plot is also a topic segment
 * (estate/{site}/{plot}/…), so a partition is one MQTT topic filter.
 *
 * Pure: which partitions there are, and which to take or give back.
 */
import { TOPIC_ROOT } from '../contract.ts';
import type { EngineSnapshot } from './alarms/engine.ts';
import type { Site } from '../catalogue/types.ts';

export interface Partition {
  /** `{site}/{plot}`: the lease's key. */
  readonly id: string;
  readonly siteId: string;
  readonly plotId: string;
  /** The MQTT filter of every device topic in the partition. */
  readonly topic: string;
}

export function partitionOf(siteId: string, plotId: string): Partition {
  return { id: `${siteId}/${plotId}`, siteId, plotId, topic: `${TOPIC_ROOT}/${siteId}/${plotId}/#` };
}

/** One partition per plot that has devices, in the catalogue's order. */
export function sitePartitions(site: Pick<Site, 'id' | 'plots' | 'devices'>): Partition[] {
  const plots = [...site.plots.map((p) => p.id), ...site.devices.map((d) => d.plotId)];
  const withDevices = new Set(site.devices.map((d) => d.plotId));
  return [...new Set(plots)].filter((p) => withDevices.has(p)).map((p) => partitionOf(site.id, p));
}

/**
 * The MQTT client id of a partition's persistent session: stable, so the
 * broker keeps queueing for it while the partition changes owner, and unique,
 * so a second connection with it takes the session over (the second fence).
 */
export function partitionClientId(group: string, partition: Partition): string {
  return `${group}-${partition.siteId}-${partition.plotId}`;
}

export interface LeaseView {
  /** Every partition of the site. */
  readonly all: readonly string[];
  /** Held by this instance. */
  readonly owned: readonly string[];
  /** Held by another instance whose lease has not expired. */
  readonly takenByOthers: ReadonlySet<string>;
  /** Live instances of the site, this one included (at least 1). */
  readonly live: number;
  readonly instance: string;
}

export interface LeasePlan { readonly acquire: readonly string[]; readonly release: readonly string[] }

/**
 * Each instance aims at its fair share, ceil(partitions / live instances):
 * above it, it gives back the surplus (a newcomer takes them); below it, it
 * takes free or expired partitions. The order is a per-instance hash, so two
 * instances starting together reach for different partitions first.
 */
export function planLeases(view: LeaseView): LeasePlan {
  const fair = Math.ceil(view.all.length / Math.max(1, view.live));
  const rank = (p: string) => fnv1a(`${view.instance}|${p}`);
  const byRank = (a: string, b: string) => rank(a) - rank(b) || (a < b ? -1 : 1);
  if (view.owned.length > fair) {
    return { acquire: [], release: [...view.owned].sort(byRank).slice(fair) };
  }
  const owned = new Set(view.owned);
  const free = view.all.filter((p) => !owned.has(p) && !view.takenByOthers.has(p)).sort(byRank);
  return { acquire: free.slice(0, fair - view.owned.length), release: [] };
}

/**
 * The part of a whole-site engine snapshot (saved before partitions existed)
 * that concerns one plot. Field by field, whatever fields the snapshot has:
 * an entry is a device id, an alarm (its plotId), or a [key, state] pair
 * keyed by a plot, a device, `${deviceId}:${ruleId}` or a feeder `${substationId}/F${n}`.
 */
export function snapshotOfPlot(snapshot: EngineSnapshot, plotOf: (deviceId: string) => string | undefined, plotIds: ReadonlySet<string>, plotId: string): EngineSnapshot {
  const plotOfKey = (key: string): string | undefined =>
    plotIds.has(key) ? key : plotOf(key) ?? plotOf(key.slice(0, Math.max(0, key.indexOf(':')))) ?? plotOf(key.slice(0, Math.max(0, key.lastIndexOf('/'))));
  const plotOfEntry = (entry: unknown): string | undefined => {
    if (typeof entry === 'string') return plotOfKey(entry);
    if (Array.isArray(entry) && typeof entry[0] === 'string') return plotOfKey(entry[0]);
    if (typeof entry === 'object' && entry !== null && 'plotId' in entry) return String(entry.plotId);
    return undefined;
  };
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(snapshot)) out[field] = Array.isArray(value) ? value.filter((e) => plotOfEntry(e) === plotId) : value;
  return out as unknown as EngineSnapshot;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

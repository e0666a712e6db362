/** Roll-ups of live device status: worst state per building, counts per kind. */
import { DEVICE_KINDS } from '../../../server/src/catalogue/kinds.ts';
import type { DeviceKind } from '../../../server/src/catalogue/kinds.ts';
import type { Device } from '../../../server/src/catalogue/types.ts';
import type { DeviceState, LiveStatus } from '../../../server/src/push/events.ts';
import type { SiteModel } from './site-model.ts';

/** Higher is worse: an offline device outranks one that has not reported yet. */
const SEVERITY: Record<LiveStatus, number> = { online: 0, unknown: 1, offline: 2 };

export function worse(a: LiveStatus, b: LiveStatus): LiveStatus {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}

export interface StatusCounts { online: number; offline: number; unknown: number; total: number }

export interface GroupSummary { worst: LiveStatus; counts: StatusCounts }

export interface EstateSummary {
  total: StatusCounts;
  byKind: Record<DeviceKind, StatusCounts>;
  /** Every building with at least one device. */
  byBuilding: Map<string, GroupSummary>;
}

export function emptyCounts(): StatusCounts {
  return { online: 0, offline: 0, unknown: 0, total: 0 };
}

/** A device without a state yet counts as unknown. */
export function statusOf(states: ReadonlyMap<string, DeviceState>, id: string): LiveStatus {
  return states.get(id)?.status ?? 'unknown';
}

export function countStatuses(devices: readonly Device[], states: ReadonlyMap<string, DeviceState>): StatusCounts {
  const counts = emptyCounts();
  for (const device of devices) {
    counts[statusOf(states, device.id)] += 1;
    counts.total += 1;
  }
  return counts;
}

export function summarise(model: SiteModel, states: ReadonlyMap<string, DeviceState>): EstateSummary {
  const total = emptyCounts();
  const byKind = Object.fromEntries(DEVICE_KINDS.map((kind) => [kind, emptyCounts()])) as Record<DeviceKind, StatusCounts>;
  const byBuilding = new Map<string, GroupSummary>();
  for (const device of model.devices.values()) {
    const status = statusOf(states, device.id);
    total[status] += 1;
    total.total += 1;
    byKind[device.kind][status] += 1;
    byKind[device.kind].total += 1;
    if (device.buildingId) {
      let group = byBuilding.get(device.buildingId);
      if (!group) {
        group = { worst: 'online', counts: emptyCounts() };
        byBuilding.set(device.buildingId, group);
      }
      group.worst = worse(group.worst, status);
      group.counts[status] += 1;
      group.counts.total += 1;
    }
  }
  return { total, byKind, byBuilding };
}

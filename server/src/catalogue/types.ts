/**
 * The expanded site: what the server, the simulators and the web read. It is
 * derived from a compact, validated site file (see spec.ts / blue-valley.json)
 * by expand.ts; nothing else builds it.
 *
 * Map geometry is in metres on a flat plane, x to the east and y to the south,
 * origin at the site's north-west corner, so that it is also SVG user space.
 */
import type { DeviceKind } from './kinds.ts';

export type Point = readonly [x: number, y: number];

export interface Rect { readonly x: number; readonly y: number; readonly w: number; readonly h: number }

export interface Contact {
  readonly role: 'fire' | 'police' | 'sub-district-office' | 'community-office' | 'local-police-station' | string;
  readonly name: string;
  readonly nameZh: string;
  readonly phone: string;
}

export interface Plot {
  readonly id: string; // 'A'
  readonly name: string;
  readonly buildings: number;
  readonly households: number;
  readonly shops: number;
  readonly parkingSpaces: number;
  readonly parkingUsable: number;
  readonly nonMotorSpaces: number;
  readonly garages: number;
  readonly managementRoomsM2: number;
  readonly note?: string;
  readonly outline: readonly Point[];
  readonly substationId: string;
}

export interface Building {
  readonly id: string; // 'A-03'
  readonly plotId: string;
  readonly floors: number;
  readonly unitsPerFloor: number;
  readonly households: number;
  readonly stairwells: number;
  readonly elevators: number;
  readonly footprint: Rect;
  /** Power topology: the substation feeder that supplies this building. */
  readonly feederId: string;
}

export type UnitUse = 'residential' | 'commercial';

export interface Unit {
  readonly id: string; // 'A-03-0502' (building, floor, unit) or 'A-S07' (shop)
  readonly plotId: string;
  readonly buildingId: string | null; // shops stand along the plot's street front
  readonly floor: number | null;
  readonly use: UnitUse;
  /** Shops whose water use never stops (laundries, restaurants): exempt from the continuous-flow rule. */
  readonly continuousUse: boolean;
}

export interface Feeder {
  readonly id: string; // 'SS-A/F1'
  readonly substationId: string;
  readonly buildingIds: readonly string[];
}

/** What a device measures or serves, beyond its kind. */
export type DeviceRole =
  | 'household' | 'shop' | 'building' | 'pump-room' | 'plot-inlet' | 'plot-main' | 'fire-pump-room'
  | 'duty' | 'assist' | 'standby'
  | 'electric' | 'jockey' | 'diesel'
  | 'site';

export interface Device {
  readonly id: string; // e.g. 'WM-A-03-0502', 'BP-A-1', 'EL-B-02-3'
  readonly kind: DeviceKind;
  readonly role: DeviceRole;
  readonly name: string;
  /** The name as the Chinese UI shows it. */
  readonly nameZh: string;
  readonly plotId: string;
  readonly buildingId: string | null;
  readonly unitId: string | null;
  /** The power source this device hangs off: a feeder id; null where it has its own supply. */
  readonly feederId: string | null;
  readonly position: Point;
}

export interface Road { readonly id: string; readonly name: string; readonly points: readonly Point[]; readonly width: number }

export interface Site {
  readonly id: string; // 'blue-valley' (the {site} segment of every topic)
  readonly name: string;
  readonly nameZh: string;
  readonly latitude: number;
  readonly longitude: number;
  readonly timezone: string;
  readonly size: { readonly w: number; readonly h: number };
  readonly plots: readonly Plot[];
  readonly buildings: readonly Building[];
  readonly units: readonly Unit[];
  readonly feeders: readonly Feeder[];
  readonly devices: readonly Device[];
  readonly roads: readonly Road[];
  readonly contacts: readonly Contact[];
}

/** Lookups over a Site, built once by indexSite() in catalogue/site-index.ts. */
export interface SiteIndex {
  readonly site: Site;
  device(id: string): Device | undefined;
  unit(id: string): Unit | undefined;
  building(id: string): Building | undefined;
  plot(id: string): Plot | undefined;
  feeder(id: string): Feeder | undefined;
  /** Every device supplied by the feeder (through its buildings, or directly). */
  devicesOnFeeder(feederId: string): readonly Device[];
  devicesInBuilding(buildingId: string): readonly Device[];
}

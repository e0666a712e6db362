/**
 * What every model may read besides its own state: the site, local time, the
 * sky and the shared demand. Built once per simulation; read-only for models.
 */
import type { Building, Device, Feeder, Site, Unit } from '../../server/src/catalogue/types.ts';
import { Demand } from './demand.ts';
import { localTime, utcOffsetMinutes, type LocalTime } from './sim-clock.ts';
import { sunTimes, type SunTimes } from '../../server/src/domain/sun.ts';

/** A feeder without power over [from, to). */
export interface FeederOutage { readonly feederId: string; readonly from: number; readonly to?: number }

/** The first elevator of each building is its fire lift: on the generator's emergency bus, it keeps running in an outage. */
export const isFireLift = (device: Device): boolean => device.kind === 'elevator' && device.id.endsWith('-1');

export class SimEnv {
  readonly utcOffsetMin: number;
  readonly demand: Demand;
  private readonly buildings: ReadonlyMap<string, Building>;
  private readonly units: ReadonlyMap<string, Unit>;
  private readonly feeders: ReadonlyMap<string, readonly Feeder[]>;
  private readonly sunByDay = new Map<number, SunTimes>();

  constructor(readonly site: Site, readonly seed: number, readonly outages: readonly FeederOutage[] = []) {
    this.utcOffsetMin = utcOffsetMinutes(site.timezone);
    this.buildings = new Map(site.buildings.map((b) => [b.id, b]));
    this.units = new Map(site.units.map((u) => [u.id, u]));
    const feeders = new Map<string, Feeder[]>();
    for (const f of site.feeders) feeders.set(f.substationId, [...(feeders.get(f.substationId) ?? []), f]);
    this.feeders = feeders;
    this.demand = new Demand(site, seed, this.utcOffsetMin, (t) => this.isDark(t));
  }

  local(t: number): LocalTime {
    return localTime(t, this.utcOffsetMin);
  }

  building(id: string | null): Building | undefined {
    return id === null ? undefined : this.buildings.get(id);
  }

  unit(id: string | null): Unit | undefined {
    return id === null ? undefined : this.units.get(id);
  }

  /** The feeders of a substation, in catalogue order: feeder n is metric feeder_n. */
  feedersOf(substationId: string): readonly Feeder[] {
    return this.feeders.get(substationId) ?? [];
  }

  /** Sunrise and sunset of the local day that contains t. */
  sun(t: number): SunTimes {
    const lt = this.local(t);
    let times = this.sunByDay.get(lt.dayNumber);
    if (times === undefined) {
      times = sunTimes(lt.midnightMs + 12 * 3_600_000, this.site.latitude, this.site.longitude);
      this.sunByDay.set(lt.dayNumber, times);
    }
    return times;
  }

  /**
   * Whether t is between sunset and the next sunrise. A controller may switch
   * on `afterSunsetMs` late and off `beforeSunriseMs` early.
   */
  isDark(t: number, afterSunsetMs = 0, beforeSunriseMs = 0): boolean {
    const sun = this.sun(t);
    if (sun.kind !== 'normal') return sun.kind === 'polar-night';
    return t < sun.sunriseMs - beforeSunriseMs || t >= sun.sunsetMs + afterSunsetMs;
  }

  feederDown(feederId: string | null, t: number): boolean {
    return feederId !== null && this.outages.some((o) => o.feederId === feederId && t >= o.from && (o.to === undefined || t < o.to));
  }

  /** Whether the device has power at t: its feeder is up, or the generator carries it. */
  powered(device: Device, t: number): boolean {
    return !this.feederDown(device.feederId, t) || isFireLift(device);
  }

  /** The generator's emergency load at t: since when, and how many fire lifts on dead feeders it carries (null: mains everywhere). */
  emergency(t: number): { readonly since: number; readonly fireLifts: number } | null {
    let since = Infinity;
    let fireLifts = 0;
    for (const o of this.outages) {
      if (t < o.from || (o.to !== undefined && t >= o.to)) continue;
      since = Math.min(since, o.from);
      const feeder = this.site.feeders.find((f) => f.id === o.feederId);
      for (const b of feeder?.buildingIds ?? []) fireLifts += (this.buildings.get(b)?.elevators ?? 0) > 0 ? 1 : 0;
    }
    return since === Infinity ? null : { since, fireLifts };
  }
}

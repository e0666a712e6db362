/**
 * Water and electricity demand of every unit, building and plant room, as
 * piecewise-constant rates over 5-minute slots. A rate depends only on
 * (seed, consumer, slot), so a household meter and its plot's inlet meter see
 * the same water: the inlet is the exact sum of the households plus the loss,
 * whichever devices happen to be simulated.
 */
import type { Site } from '../../server/src/catalogue/types.ts';
import { AT_HOME, BUILDING_TRAFFIC, HOUSEHOLD_ELECTRIC, HOUSEHOLD_WATER, at, outdoorTempC, waterSeasonFactor } from './profiles.ts';
import { Rng, noiseAt, streamSeed } from './random.ts';
import { localTime, type LocalTime } from './sim-clock.ts';
import { boosterPlantKw } from './models/booster-pump.ts';

export const SLOT_MS = 5 * 60_000;
/** Water lost between a plot's inlet and its consumers: a share of the flow plus a constant seepage. */
export const PLOT_LOSS_SHARE = 0.03;
export const PLOT_SEEPAGE_M3H = 0.05;
/** Share of days a household is away (no water, base electricity only). */
const AWAY_SHARE = 0.03;
const GROUP_CACHE_SLOTS = 96;
const LOCAL_CACHE_SLOTS = 4_096;

interface Household { kind: 'household'; size: number; waterM3PerDay: number; baseKw: number; acFactor: number }
interface Shop { kind: 'shop'; continuous: boolean; opens: number; closes: number; waterM3PerDay: number; baseKw: number; openKw: number }
type UnitProfile = (Household | Shop) & { noise: number; plotId: string; buildingId: string | null };

interface Common { kind: 'building' | 'pump-room' | 'street-lights'; plotId: string; buildingId: string | null; noise: number; households: number; elevators: number; lights: number }

export class Demand {
  private readonly units = new Map<string, UnitProfile>();
  private readonly commons = new Map<string, Common>();
  private readonly waterGroups = new Map<string, string[]>();
  private readonly electricGroups = new Map<string, string[]>();
  private readonly cache = new Map<string, Map<number, number>>();
  private readonly localBySlot = new Map<number, LocalTime>();

  constructor(
    site: Site,
    seed: number,
    private readonly offsetMin: number,
    private readonly isDark: (t: number) => boolean,
  ) {
    const addTo = (groups: Map<string, string[]>, group: string, id: string) => {
      const list = groups.get(group);
      if (list) list.push(id);
      else groups.set(group, [id]);
    };
    for (const unit of site.units) {
      const rng = new Rng(streamSeed(seed, `${unit.id}#demand`));
      const base = { noise: streamSeed(seed, `${unit.id}#noise`), plotId: unit.plotId, buildingId: unit.buildingId };
      if (unit.use === 'residential') {
        const size = rng.pick([[1, 15], [2, 30], [3, 28], [4, 17], [5, 10]] as const);
        this.units.set(unit.id, {
          ...base, kind: 'household', size,
          waterM3PerDay: size * rng.uniform(0.11, 0.15),
          baseKw: rng.uniform(0.06, 0.15),
          acFactor: rng.uniform(0.5, 1.5),
        });
      } else {
        const continuous = unit.continuousUse;
        this.units.set(unit.id, {
          ...base, kind: 'shop', continuous,
          opens: rng.pick([[8, 1], [9, 2], [10, 1]] as const),
          closes: rng.pick([[20, 1], [21, 2], [22, 1]] as const),
          waterM3PerDay: continuous ? rng.uniform(3, 6) : rng.uniform(0.3, 1.5),
          baseKw: rng.uniform(0.2, 0.6),
          openKw: continuous ? rng.uniform(4, 10) : rng.uniform(2, 6),
        });
      }
      addTo(this.waterGroups, `plot:${unit.plotId}`, unit.id);
      addTo(this.electricGroups, `plot:${unit.plotId}`, unit.id);
      if (unit.buildingId !== null) {
        addTo(this.waterGroups, `building:${unit.buildingId}`, unit.id);
        addTo(this.electricGroups, `building:${unit.buildingId}`, unit.id);
      }
    }
    const noCommon = { households: 0, elevators: 0, lights: 0, buildingId: null };
    for (const b of site.buildings) {
      const id = `building:${b.id}`;
      this.commons.set(id, { ...noCommon, kind: 'building', plotId: b.plotId, buildingId: b.id, noise: streamSeed(seed, `${id}#noise`), households: b.households, elevators: b.elevators });
      addTo(this.electricGroups, `plot:${b.plotId}`, id);
    }
    for (const plot of site.plots) {
      const pumpRoom = `pump-room:${plot.id}`;
      this.commons.set(pumpRoom, { ...noCommon, kind: 'pump-room', plotId: plot.id, noise: 0 });
      addTo(this.electricGroups, `plot:${plot.id}`, pumpRoom);
      const lights = site.devices.filter((d) => d.kind === 'street-light' && d.plotId === plot.id).length;
      const streetLights = `street-lights:${plot.id}`;
      this.commons.set(streetLights, { ...noCommon, kind: 'street-lights', plotId: plot.id, noise: 0, lights });
      addTo(this.electricGroups, `plot:${plot.id}`, streetLights);
    }
  }

  /** Mean water use of a unit, m³/day, before season and weekday (for sizing and tests). */
  dailyWaterM3(unitId: string): number {
    return this.units.get(unitId)?.waterM3PerDay ?? 0;
  }

  /** Whether the unit's residents are away (on a trip) on the local day that contains t. */
  isAway(unitId: string, t: number): boolean {
    const unit = this.units.get(unitId);
    return unit?.kind === 'household' && noiseAt(unit.noise, this.local(slotOf(t)).dayNumber, 1) < AWAY_SHARE;
  }

  /** Water flow of one unit at t, m³/s. */
  unitWaterRate(unitId: string, t: number): number {
    const unit = this.units.get(unitId);
    return unit === undefined ? 0 : this.waterRate(unit, slotOf(t));
  }

  /** Water used by one unit over [t0, t1], m³. */
  unitWaterVolume(unitId: string, t0: number, t1: number): number {
    const unit = this.units.get(unitId);
    return unit === undefined ? 0 : integrate(t0, t1, (slot) => this.waterRate(unit, slot));
  }

  /** Water flow of a group ('plot:A', 'building:A-03') at t, m³/s. */
  groupWaterRate(group: string, t: number): number {
    return this.waterGroupRate(group, slotOf(t));
  }

  groupWaterVolume(group: string, t0: number, t1: number): number {
    return integrate(t0, t1, (slot) => this.waterGroupRate(group, slot));
  }

  /** What a plot's bulk inlet meter passes over [t0, t1]: consumption plus loss, m³. */
  plotInletVolume(plotId: string, t0: number, t1: number): number {
    const consumed = this.groupWaterVolume(`plot:${plotId}`, t0, t1);
    return consumed * (1 + PLOT_LOSS_SHARE) + (PLOT_SEEPAGE_M3H * (t1 - t0)) / 3_600_000;
  }

  /** Electric power of a unit or a common load ('building:A-03' as a common load, 'pump-room:A'), kW. */
  electricKw(consumer: string, t: number): number {
    return this.consumerKw(consumer, slotOf(t));
  }

  electricKwh(consumer: string, t0: number, t1: number): number {
    return integrate(t0, t1, (slot) => this.consumerKw(consumer, slot)) / 3600;
  }

  /** Electric power of every unit and common load of a plot, kW. */
  plotElectricKw(plotId: string, t: number): number {
    return this.electricGroupKw(`plot:${plotId}`, slotOf(t));
  }

  plotElectricKwh(plotId: string, t0: number, t1: number): number {
    return integrate(t0, t1, (slot) => this.electricGroupKw(`plot:${plotId}`, slot)) / 3600;
  }

  /** Every meter asks for the same few slots' local time: computed once per slot. */
  private local(slot: number): LocalTime {
    let lt = this.localBySlot.get(slot);
    if (lt === undefined) {
      if (this.localBySlot.size >= LOCAL_CACHE_SLOTS) this.localBySlot.clear();
      lt = localTime(slot * SLOT_MS + SLOT_MS / 2, this.offsetMin);
      this.localBySlot.set(slot, lt);
    }
    return lt;
  }

  private waterRate(unit: UnitProfile, slot: number): number {
    const lt = this.local(slot);
    const u = (salt: number) => noiseAt(unit.noise, slot, salt);
    if (unit.kind === 'household') {
      if (this.isAwayOn(unit, lt)) return 0;
      const profile = at(HOUSEHOLD_WATER, lt.hour);
      const mean = (unit.waterM3PerDay * waterSeasonFactor(lt) * (lt.weekend ? 1.08 : 1) * profile) / 86_400;
      return bursty(mean, Math.min(0.9, 0.35 * profile), u(2), u(3));
    }
    const open = lt.hour >= unit.opens && lt.hour < unit.closes;
    const openHours = unit.closes - unit.opens;
    const weekday = lt.weekend ? 1.15 : 1;
    if (unit.continuous) {
      // Laundries and restaurants never stop: busier while open, never zero.
      const shape = open ? 24 / (openHours + 0.25 * (24 - openHours)) : 6 / (openHours + 0.25 * (24 - openHours));
      return ((unit.waterM3PerDay * weekday * shape) / 86_400) * (0.5 + u(3));
    }
    if (!open) return 0;
    return bursty((unit.waterM3PerDay * weekday) / (openHours * 3600), 0.6, u(2), u(3));
  }

  private isAwayOn(unit: UnitProfile, lt: LocalTime): boolean {
    return noiseAt(unit.noise, lt.dayNumber, 1) < AWAY_SHARE;
  }

  private consumerKw(consumer: string, slot: number): number {
    const unit = this.units.get(consumer);
    if (unit !== undefined) return this.unitKw(unit, slot);
    const common = this.commons.get(consumer);
    return common === undefined ? 0 : this.commonKw(common, slot);
  }

  private unitKw(unit: UnitProfile, slot: number): number {
    const lt = this.local(slot);
    const u = noiseAt(unit.noise, slot, 4);
    if (unit.kind === 'household') {
      if (this.isAwayOn(unit, lt)) return unit.baseKw;
      const appliances = unit.size * 0.09 * at(HOUSEHOLD_ELECTRIC, lt.hour) * (0.5 + u);
      const temp = outdoorTempC(lt);
      const climate = (Math.max(0, temp - 26) * 0.18 + Math.max(0, 10 - temp) * 0.05) * unit.acFactor * at(AT_HOME, lt.hour);
      return unit.baseKw + appliances + climate;
    }
    const open = lt.hour >= unit.opens && lt.hour < unit.closes;
    return unit.baseKw + (open ? unit.openKw * (0.7 + 0.6 * u) : 0);
  }

  private commonKw(common: Common, slot: number): number {
    const t = slot * SLOT_MS + SLOT_MS / 2;
    switch (common.kind) {
      case 'building': {
        const traffic = at(BUILDING_TRAFFIC, this.local(slot).hour);
        const lighting = this.isDark(t) ? 0.5 : 0.1;
        return 0.8 + 0.012 * common.households + lighting + common.elevators * (0.6 + 1.2 * traffic) * (0.8 + 0.4 * noiseAt(common.noise, slot, 5));
      }
      case 'pump-room':
        return 0.4 + boosterPlantKw(this.waterGroupRate(`plot:${common.plotId}`, slot) * 3600);
      case 'street-lights':
        return this.isDark(t) ? common.lights * 0.1 : 0;
    }
  }

  private waterGroupRate(group: string, slot: number): number {
    return this.cached(`water ${group}`, slot, () => {
      let sum = 0;
      for (const id of this.waterGroups.get(group) ?? []) sum += this.waterRate(this.units.get(id)!, slot);
      return sum;
    });
  }

  private electricGroupKw(group: string, slot: number): number {
    return this.cached(`electric ${group}`, slot, () => {
      let sum = 0;
      for (const id of this.electricGroups.get(group) ?? []) sum += this.consumerKw(id, slot);
      return sum;
    });
  }

  /** Group sums cost a pass over ~1,000 units, so each slot is summed once and kept a while. */
  private cached(key: string, slot: number, compute: () => number): number {
    let slots = this.cache.get(key);
    if (slots === undefined) this.cache.set(key, (slots = new Map()));
    const hit = slots.get(slot);
    if (hit !== undefined) return hit;
    const value = compute();
    slots.set(slot, value);
    if (slots.size > GROUP_CACHE_SLOTS) slots.delete(slots.keys().next().value!);
    return value;
  }
}

export function slotOf(t: number): number {
  return Math.floor(t / SLOT_MS);
}

/**
 * Water is used in bursts: in a slot the consumer is active with probability
 * `active` and then draws mean/active (±50%), so the mean is kept and quiet
 * slots are truly zero — a normal household shows no continuous flow.
 */
function bursty(mean: number, active: number, uActive: number, uAmount: number): number {
  if (active <= 0 || uActive >= active) return 0;
  return (mean / active) * (0.5 + uAmount);
}

/** ∫ rate over [t0, t1] for a rate constant within each slot (rate per second → total). */
function integrate(t0: number, t1: number, rate: (slot: number) => number): number {
  let total = 0;
  for (let slot = slotOf(t0); slot * SLOT_MS < t1; slot++) {
    const from = Math.max(t0, slot * SLOT_MS);
    const to = Math.min(t1, (slot + 1) * SLOT_MS);
    if (to > from) total += (rate(slot) * (to - from)) / 1000;
  }
  return total;
}

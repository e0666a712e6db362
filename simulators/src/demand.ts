/**
 * Water and electricity demand of every unit, building and plant room, as
 * piecewise-constant rates over 5-minute slots. A rate depends only on
 * (seed, consumer, slot), so a household meter and its plot's inlet meter see
 * the same water: the inlet is the exact sum of the households plus the loss,
 * whichever devices happen to be simulated.
 *
 * Every meter of the estate asks for the same few slots, so what depends only
 * on the slot (local time, profiles, climate, darkness) is computed once per
 * slot, each unit's rate once per slot, and each group's sum once per slot.
 * Hot paths create no closures: history generation runs them tens of millions
 * of times.
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
/** Slots whose constants and group sums are kept (two weeks); cleared when full. */
const SLOT_CACHE = 4_096;
/** Slots whose per-unit rates are kept: reports come in time order, so the last hour or two is what is asked for. */
const UNIT_RING = 32;

/** One unit's demand parameters; households and shops share one shape so the hot code stays monomorphic. */
interface UnitProfile {
  readonly household: boolean;
  readonly noise: number;
  readonly waterM3PerDay: number;
  readonly baseKw: number;
  /** Household only. */
  readonly size: number;
  readonly acFactor: number;
  /** Shop only: a laundry or restaurant that never stops. */
  readonly continuous: boolean;
  readonly opens: number;
  readonly closes: number;
  readonly openKw: number;
}

type CommonKind = 'building' | 'pump-room' | 'street-lights';
interface Common { readonly kind: CommonKind; readonly noise: number; readonly households: number; readonly elevators: number; readonly lights: number; readonly waterGroup: number }

/** What depends only on the slot, and the group sums of the slot (NaN until computed). */
interface Slot {
  readonly lt: LocalTime;
  readonly season: number;
  readonly weekendWater: number;
  readonly shopWeekday: number;
  readonly profileWater: number;
  readonly activeWater: number;
  readonly profileElectric: number;
  readonly climate: number;
  readonly atHome: number;
  readonly traffic: number;
  readonly dark: boolean;
  readonly waterGroups: Float64Array;
  readonly electricGroups: Float64Array;
}

/** Per-unit rates of one slot (NaN until computed). */
interface UnitRates { slot: number; readonly water: Float64Array; readonly kw: Float64Array }

/** What `rate` and `integrate` compute: plain numbers, so the hot loop passes no closure. */
const UNIT_WATER = 0;
const GROUP_WATER = 1;
const CONSUMER_KW = 2;
const GROUP_KW = 3;
type Rate = typeof UNIT_WATER | typeof GROUP_WATER | typeof CONSUMER_KW | typeof GROUP_KW;

export class Demand {
  private readonly units: UnitProfile[] = [];
  private readonly unitIndex = new Map<string, number>();
  /** Electric consumers: the units (same indices), then the common loads. */
  private readonly commons: Common[] = [];
  private readonly consumerIndex = new Map<string, number>();
  private readonly waterGroupIndex = new Map<string, number>();
  private readonly waterMembers: Int32Array[] = [];
  private readonly electricGroupIndex = new Map<string, number>();
  private readonly electricMembers: Int32Array[] = [];
  private readonly slots = new Map<number, Slot>();
  private readonly ring: UnitRates[] = [];

  constructor(
    site: Site,
    seed: number,
    private readonly offsetMin: number,
    private readonly isDark: (t: number) => boolean,
  ) {
    const waterGroups = new Map<string, number[]>();
    const electricGroups = new Map<string, number[]>();
    const addTo = (groups: Map<string, number[]>, group: string, index: number) => {
      const list = groups.get(group);
      if (list) list.push(index);
      else groups.set(group, [index]);
    };
    for (const unit of site.units) {
      const rng = new Rng(streamSeed(seed, `${unit.id}#demand`));
      const noise = streamSeed(seed, `${unit.id}#noise`);
      let profile: UnitProfile;
      if (unit.use === 'residential') {
        const size = rng.pick([[1, 15], [2, 30], [3, 28], [4, 17], [5, 10]] as const);
        const waterM3PerDay = size * rng.uniform(0.11, 0.15);
        const baseKw = rng.uniform(0.06, 0.15);
        const acFactor = rng.uniform(0.5, 1.5);
        profile = { household: true, noise, waterM3PerDay, baseKw, size, acFactor, continuous: false, opens: 0, closes: 0, openKw: 0 };
      } else {
        const continuous = unit.continuousUse;
        const opens = rng.pick([[8, 1], [9, 2], [10, 1]] as const);
        const closes = rng.pick([[20, 1], [21, 2], [22, 1]] as const);
        const waterM3PerDay = continuous ? rng.uniform(3, 6) : rng.uniform(0.3, 1.5);
        const baseKw = rng.uniform(0.2, 0.6);
        const openKw = continuous ? rng.uniform(4, 10) : rng.uniform(2, 6);
        profile = { household: false, noise, waterM3PerDay, baseKw, size: 0, acFactor: 0, continuous, opens, closes, openKw };
      }
      const index = this.units.length;
      this.units.push(profile);
      this.unitIndex.set(unit.id, index);
      this.consumerIndex.set(unit.id, index);
      addTo(waterGroups, `plot:${unit.plotId}`, index);
      addTo(electricGroups, `plot:${unit.plotId}`, index);
      if (unit.buildingId !== null) {
        addTo(waterGroups, `building:${unit.buildingId}`, index);
        addTo(electricGroups, `building:${unit.buildingId}`, index);
      }
    }
    const waterGroupOf = (group: string) => [...waterGroups.keys()].indexOf(group);
    const addCommon = (id: string, common: Omit<Common, 'waterGroup'> & { waterGroup?: string }) => {
      const index = this.units.length + this.commons.length;
      this.commons.push({ ...common, waterGroup: common.waterGroup === undefined ? -1 : waterGroupOf(common.waterGroup) });
      this.consumerIndex.set(id, index);
      return index;
    };
    const none = { noise: 0, households: 0, elevators: 0, lights: 0 };
    for (const b of site.buildings) {
      const id = `building:${b.id}`;
      addTo(electricGroups, `plot:${b.plotId}`, addCommon(id, { ...none, kind: 'building', noise: streamSeed(seed, `${id}#noise`), households: b.households, elevators: b.elevators }));
    }
    for (const plot of site.plots) {
      addTo(electricGroups, `plot:${plot.id}`, addCommon(`pump-room:${plot.id}`, { ...none, kind: 'pump-room', waterGroup: `plot:${plot.id}` }));
      const lights = site.devices.filter((d) => d.kind === 'street-light' && d.plotId === plot.id).length;
      addTo(electricGroups, `plot:${plot.id}`, addCommon(`street-lights:${plot.id}`, { ...none, kind: 'street-lights', lights }));
    }
    for (const [group, members] of waterGroups) {
      this.waterGroupIndex.set(group, this.waterMembers.length);
      this.waterMembers.push(Int32Array.from(members));
    }
    for (const [group, members] of electricGroups) {
      this.electricGroupIndex.set(group, this.electricMembers.length);
      this.electricMembers.push(Int32Array.from(members));
    }
    const consumers = this.units.length + this.commons.length;
    for (let i = 0; i < UNIT_RING; i++) this.ring.push({ slot: NaN, water: new Float64Array(this.units.length), kw: new Float64Array(consumers) });
  }

  /** Mean water use of a unit, m³/day, before season and weekday (for sizing and tests). */
  dailyWaterM3(unitId: string): number {
    const i = this.unitIndex.get(unitId);
    return i === undefined ? 0 : this.units[i]!.waterM3PerDay;
  }

  /** Whether the unit's residents are away (on a trip) on the local day that contains t. */
  isAway(unitId: string, t: number): boolean {
    const i = this.unitIndex.get(unitId);
    return i !== undefined && this.units[i]!.household && this.awayOn(this.units[i]!, this.slot(slotOf(t)).lt);
  }

  /** Water flow of one unit at t, m³/s. */
  unitWaterRate(unitId: string, t: number): number {
    const i = this.unitIndex.get(unitId);
    return i === undefined ? 0 : this.rate(UNIT_WATER, i, slotOf(t));
  }

  /** Water used by one unit over [t0, t1], m³. */
  unitWaterVolume(unitId: string, t0: number, t1: number): number {
    const i = this.unitIndex.get(unitId);
    return i === undefined ? 0 : this.integrate(UNIT_WATER, i, t0, t1);
  }

  /** Water flow of a group ('plot:A', 'building:A-03') at t, m³/s. */
  groupWaterRate(group: string, t: number): number {
    const g = this.waterGroupIndex.get(group);
    return g === undefined ? 0 : this.rate(GROUP_WATER, g, slotOf(t));
  }

  groupWaterVolume(group: string, t0: number, t1: number): number {
    const g = this.waterGroupIndex.get(group);
    return g === undefined ? 0 : this.integrate(GROUP_WATER, g, t0, t1);
  }

  /** What a plot's bulk inlet meter passes over [t0, t1]: consumption plus loss, m³. */
  plotInletVolume(plotId: string, t0: number, t1: number): number {
    const consumed = this.groupWaterVolume(`plot:${plotId}`, t0, t1);
    return consumed * (1 + PLOT_LOSS_SHARE) + (PLOT_SEEPAGE_M3H * (t1 - t0)) / 3_600_000;
  }

  /** Electric power of a unit or a common load ('building:A-03' as a common load, 'pump-room:A'), kW. */
  electricKw(consumer: string, t: number): number {
    const c = this.consumerIndex.get(consumer);
    return c === undefined ? 0 : this.rate(CONSUMER_KW, c, slotOf(t));
  }

  electricKwh(consumer: string, t0: number, t1: number): number {
    const c = this.consumerIndex.get(consumer);
    return c === undefined ? 0 : this.integrate(CONSUMER_KW, c, t0, t1) / 3600;
  }

  /** Electric power of every unit and common load of a plot, kW. */
  plotElectricKw(plotId: string, t: number): number {
    const g = this.electricGroupIndex.get(`plot:${plotId}`);
    return g === undefined ? 0 : this.rate(GROUP_KW, g, slotOf(t));
  }

  plotElectricKwh(plotId: string, t0: number, t1: number): number {
    const g = this.electricGroupIndex.get(`plot:${plotId}`);
    return g === undefined ? 0 : this.integrate(GROUP_KW, g, t0, t1) / 3600;
  }

  /** ∫ rate over [t0, t1] for a rate constant within each slot (rate per second → total). */
  private integrate(what: Rate, index: number, t0: number, t1: number): number {
    let total = 0;
    for (let slot = slotOf(t0); slot * SLOT_MS < t1; slot++) {
      const from = Math.max(t0, slot * SLOT_MS);
      const to = Math.min(t1, (slot + 1) * SLOT_MS);
      if (to > from) total += (this.rate(what, index, slot) * (to - from)) / 1000;
    }
    return total;
  }

  private rate(what: Rate, index: number, slot: number): number {
    switch (what) {
      case UNIT_WATER: return this.unitWater(index, slot);
      case GROUP_WATER: return this.groupWater(index, slot);
      case CONSUMER_KW: return this.consumerKw(index, slot);
      case GROUP_KW: return this.groupKw(index, slot);
    }
  }

  private slot(slot: number): Slot {
    let s = this.slots.get(slot);
    if (s !== undefined) return s;
    if (this.slots.size >= SLOT_CACHE) this.slots.clear();
    const mid = slot * SLOT_MS + SLOT_MS / 2;
    const lt = localTime(mid, this.offsetMin);
    const profileWater = at(HOUSEHOLD_WATER, lt.hour);
    const temp = outdoorTempC(lt);
    s = {
      lt,
      season: waterSeasonFactor(lt),
      weekendWater: lt.weekend ? 1.08 : 1,
      shopWeekday: lt.weekend ? 1.15 : 1,
      profileWater,
      activeWater: Math.min(0.9, 0.35 * profileWater),
      profileElectric: at(HOUSEHOLD_ELECTRIC, lt.hour),
      climate: Math.max(0, temp - 26) * 0.18 + Math.max(0, 10 - temp) * 0.05,
      atHome: at(AT_HOME, lt.hour),
      traffic: at(BUILDING_TRAFFIC, lt.hour),
      dark: this.isDark(mid),
      waterGroups: new Float64Array(this.waterMembers.length).fill(NaN),
      electricGroups: new Float64Array(this.electricMembers.length).fill(NaN),
    };
    this.slots.set(slot, s);
    return s;
  }

  /** The per-unit rates of a slot, recycling the ring entry of a slot long past. */
  private unitRates(slot: number): UnitRates {
    const r = this.ring[((slot % UNIT_RING) + UNIT_RING) % UNIT_RING]!;
    if (r.slot !== slot) {
      r.slot = slot;
      r.water.fill(NaN);
      r.kw.fill(NaN);
    }
    return r;
  }

  private unitWater(i: number, slot: number): number {
    const rates = this.unitRates(slot);
    let v = rates.water[i]!;
    if (Number.isNaN(v)) rates.water[i] = v = this.computeUnitWater(this.units[i]!, this.slot(slot), slot);
    return v;
  }

  private consumerKw(c: number, slot: number): number {
    const rates = this.unitRates(slot);
    let v = rates.kw[c]!;
    if (Number.isNaN(v)) {
      const s = this.slot(slot);
      v = c < this.units.length ? this.computeUnitKw(this.units[c]!, s, slot) : this.computeCommonKw(this.commons[c - this.units.length]!, s, slot);
      rates.kw[c] = v;
    }
    return v;
  }

  private groupWater(g: number, slot: number): number {
    const s = this.slot(slot);
    let sum = s.waterGroups[g]!;
    if (!Number.isNaN(sum)) return sum;
    sum = 0;
    const members = this.waterMembers[g]!;
    for (let k = 0; k < members.length; k++) sum += this.unitWater(members[k]!, slot);
    s.waterGroups[g] = sum;
    return sum;
  }

  private groupKw(g: number, slot: number): number {
    const s = this.slot(slot);
    let sum = s.electricGroups[g]!;
    if (!Number.isNaN(sum)) return sum;
    sum = 0;
    const members = this.electricMembers[g]!;
    for (let k = 0; k < members.length; k++) sum += this.consumerKw(members[k]!, slot);
    s.electricGroups[g] = sum;
    return sum;
  }

  private awayOn(unit: UnitProfile, lt: LocalTime): boolean {
    return noiseAt(unit.noise, lt.dayNumber, 1) < AWAY_SHARE;
  }

  private computeUnitWater(unit: UnitProfile, s: Slot, slot: number): number {
    if (unit.household) {
      if (this.awayOn(unit, s.lt)) return 0;
      const mean = (unit.waterM3PerDay * s.season * s.weekendWater * s.profileWater) / 86_400;
      return bursty(mean, s.activeWater, noiseAt(unit.noise, slot, 2), noiseAt(unit.noise, slot, 3));
    }
    const hour = s.lt.hour;
    const open = hour >= unit.opens && hour < unit.closes;
    const openHours = unit.closes - unit.opens;
    if (unit.continuous) {
      // Laundries and restaurants never stop: busier while open, never zero.
      const shape = open ? 24 / (openHours + 0.25 * (24 - openHours)) : 6 / (openHours + 0.25 * (24 - openHours));
      return ((unit.waterM3PerDay * s.shopWeekday * shape) / 86_400) * (0.5 + noiseAt(unit.noise, slot, 3));
    }
    if (!open) return 0;
    return bursty((unit.waterM3PerDay * s.shopWeekday) / (openHours * 3600), 0.6, noiseAt(unit.noise, slot, 2), noiseAt(unit.noise, slot, 3));
  }

  private computeUnitKw(unit: UnitProfile, s: Slot, slot: number): number {
    const u = noiseAt(unit.noise, slot, 4);
    if (unit.household) {
      if (this.awayOn(unit, s.lt)) return unit.baseKw;
      const appliances = unit.size * 0.09 * s.profileElectric * (0.5 + u);
      const climate = s.climate * unit.acFactor * s.atHome;
      return unit.baseKw + appliances + climate;
    }
    const open = s.lt.hour >= unit.opens && s.lt.hour < unit.closes;
    return unit.baseKw + (open ? unit.openKw * (0.7 + 0.6 * u) : 0);
  }

  private computeCommonKw(common: Common, s: Slot, slot: number): number {
    switch (common.kind) {
      case 'building': {
        const lighting = s.dark ? 0.5 : 0.1;
        return 0.8 + 0.012 * common.households + lighting + common.elevators * (0.6 + 1.2 * s.traffic) * (0.8 + 0.4 * noiseAt(common.noise, slot, 5));
      }
      case 'pump-room':
        return 0.4 + boosterPlantKw(common.waterGroup < 0 ? 0 : this.groupWater(common.waterGroup, slot) * 3600);
      case 'street-lights':
        return s.dark ? common.lights * 0.1 : 0;
    }
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

/**
 * Electric meters: cumulative kWh integrating the shared demand, present kW,
 * and phase voltage (~230 V, a little lower at the evening peak).
 */
import type { Device } from '../../../server/src/catalogue/types.ts';
import { SimError } from '../errors.ts';
import type { SimEnv } from '../env.ts';
import { HOUSEHOLD_ELECTRIC, at } from '../profiles.ts';
import { clamp, lastNumber, round, type Model } from './model.ts';
import { firePumpRoomKw } from './fire-pump.ts';

export interface ElectricMeterState {
  readonly energyKwh: number;
  /** This meter's offset from nominal voltage: its place on the feeder. */
  readonly voltageBias: number;
}

/** What the meter measures: a unit's or a common load's consumer id, the plot, or the fire pump room (no closures: this runs for every report). */
type Supply = { readonly consumer: string } | { readonly plot: string } | { readonly firePumpRoom: true };

function supplyOf(device: Device): Supply {
  switch (device.role) {
    case 'household':
    case 'shop':
      return { consumer: device.unitId ?? '' };
    case 'building':
      return { consumer: `building:${device.buildingId}` };
    case 'pump-room':
      return { consumer: `pump-room:${device.plotId}` };
    case 'plot-main':
      return { plot: device.plotId };
    case 'fire-pump-room':
      return { firePumpRoom: true };
    default:
      throw new SimError('SIM_UNSUPPORTED_DEVICE', `electric meter ${device.id}: no model for role "${device.role}"`);
  }
}

function kwAt(supply: Supply, env: SimEnv, t: number): number {
  if ('consumer' in supply) return env.demand.electricKw(supply.consumer, t);
  if ('plot' in supply) return env.demand.plotElectricKw(supply.plot, t);
  return firePumpRoomKw(env, t);
}

function kwhOver(supply: Supply, env: SimEnv, t0: number, t1: number): number {
  if ('consumer' in supply) return env.demand.electricKwh(supply.consumer, t0, t1);
  if ('plot' in supply) return env.demand.plotElectricKwh(supply.plot, t0, t1);
  return firePumpRoomKwh(env, t0, t1);
}

/** Energy of a load that changes faster than the demand slots (fire pumps cycling), sampled every 10 s. */
function firePumpRoomKwh(env: SimEnv, t0: number, t1: number): number {
  let kwh = 0;
  for (let from = t0; from < t1; from += 10_000) {
    const to = Math.min(t1, from + 10_000);
    kwh += (firePumpRoomKw(env, (from + to) / 2) * (to - from)) / 3_600_000;
  }
  return kwh;
}

export const electricMeter: Model<ElectricMeterState> = {
  init({ device, rng }) {
    supplyOf(device); // rejects a role we cannot simulate before the run starts
    const yearsInService = rng.uniform(0.2, 8);
    const dailyKwh = device.role === 'household' ? 9 : device.role === 'shop' ? 40 : device.role === 'plot-main' ? 12_000 : 60;
    return { energyKwh: round(yearsInService * 365 * dailyKwh * rng.uniform(0.7, 1.3), 2), voltageBias: rng.uniform(-2.5, 2.5) };
  },

  step(state, t, dtMs, { device, rng, env }) {
    const supply = supplyOf(device);
    const energyKwh = state.energyKwh + kwhOver(supply, env, t - dtMs, t);
    const eveningSag = 1.5 * (at(HOUSEHOLD_ELECTRIC, env.local(t).hour) - 1);
    const voltage = clamp(230 + state.voltageBias - eveningSag + rng.normal(0, 0.6), 215, 245);
    return {
      state: { ...state, energyKwh },
      telemetry: { energy_kwh: round(energyKwh, 2), power_kw: round(kwAt(supply, env, t), 3), voltage_v: round(voltage, 1) },
    };
  },

  resume: (state, last) => ({ ...state, energyKwh: lastNumber(last, 'energy_kwh', state.energyKwh) }),
};

/**
 * Electric meters: cumulative kWh integrating the shared demand, present kW,
 * and phase voltage (~230 V, a little lower at the evening peak).
 */
import type { Device } from '../../../server/src/catalogue/types.ts';
import { SimError } from '../errors.ts';
import type { SimEnv } from '../env.ts';
import { HOUSEHOLD_ELECTRIC, at } from '../profiles.ts';
import { clamp, round, type Model } from './model.ts';
import { firePumpRoomKw } from './fire-pump.ts';

export interface ElectricMeterState {
  readonly energyKwh: number;
  /** This meter's offset from nominal voltage: its place on the feeder. */
  readonly voltageBias: number;
}

interface Supply {
  kw(t: number): number;
  kwh(t0: number, t1: number): number;
}

function supplyOf(device: Device, env: SimEnv): Supply {
  const d = env.demand;
  const consumer = (id: string): Supply => ({ kw: (t) => d.electricKw(id, t), kwh: (t0, t1) => d.electricKwh(id, t0, t1) });
  switch (device.role) {
    case 'household':
    case 'shop':
      return consumer(device.unitId ?? '');
    case 'building':
      return consumer(`building:${device.buildingId}`);
    case 'pump-room':
      return consumer(`pump-room:${device.plotId}`);
    case 'plot-main':
      return { kw: (t) => d.plotElectricKw(device.plotId, t), kwh: (t0, t1) => d.plotElectricKwh(device.plotId, t0, t1) };
    case 'fire-pump-room':
      return { kw: (t) => firePumpRoomKw(env, t), kwh: (t0, t1) => sampledKwh((t) => firePumpRoomKw(env, t), t0, t1) };
    default:
      throw new SimError('SIM_UNSUPPORTED_DEVICE', `electric meter ${device.id}: no model for role "${device.role}"`);
  }
}

/** Energy of a load that changes faster than the demand slots (fire pumps cycling), sampled every 10 s. */
function sampledKwh(kw: (t: number) => number, t0: number, t1: number): number {
  let kwh = 0;
  for (let from = t0; from < t1; from += 10_000) {
    const to = Math.min(t1, from + 10_000);
    kwh += (kw((from + to) / 2) * (to - from)) / 3_600_000;
  }
  return kwh;
}

export const electricMeter: Model<ElectricMeterState> = {
  init({ device, rng, env }) {
    supplyOf(device, env); // rejects a role we cannot simulate before the run starts
    const yearsInService = rng.uniform(0.2, 8);
    const dailyKwh = device.role === 'household' ? 9 : device.role === 'shop' ? 40 : device.role === 'plot-main' ? 12_000 : 60;
    return { energyKwh: round(yearsInService * 365 * dailyKwh * rng.uniform(0.7, 1.3), 2), voltageBias: rng.uniform(-2.5, 2.5) };
  },

  step(state, t, dtMs, { device, rng, env }) {
    const supply = supplyOf(device, env);
    const energyKwh = state.energyKwh + supply.kwh(t - dtMs, t);
    const eveningSag = 1.5 * (at(HOUSEHOLD_ELECTRIC, env.local(t).hour) - 1);
    const voltage = clamp(230 + state.voltageBias - eveningSag + rng.normal(0, 0.6), 215, 245);
    return {
      state: { ...state, energyKwh },
      telemetry: { energy_kwh: round(energyKwh, 2), power_kw: round(supply.kw(t), 3), voltage_v: round(voltage, 1) },
    };
  },
};

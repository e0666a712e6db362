/**
 * Water meters: a cumulative register in m³ that integrates the shared demand,
 * so a plot's inlet meter is the sum of its households plus the loss.
 */
import type { Device } from '../../../server/src/catalogue/types.ts';
import { SimError } from '../errors.ts';
import type { SimEnv } from '../env.ts';
import { lastNumber, round, type Model } from './model.ts';

export interface WaterMeterState {
  readonly volumeM3: number;
  readonly batteryPct: number;
}

/** A lithium cell lasts a meter 6–10 years: about a percent every month and a half. */
const BATTERY_DRAIN_PCT_PER_H = 0.0012;

/** Water through the meter over [t0, t1], m³, by what the meter measures. */
function volumeThrough(device: Device, env: SimEnv, t0: number, t1: number): number {
  switch (device.role) {
    case 'household':
    case 'shop':
      return env.demand.unitWaterVolume(device.unitId ?? '', t0, t1);
    case 'building':
      return env.demand.groupWaterVolume(`building:${device.buildingId}`, t0, t1);
    case 'plot-inlet':
      return env.demand.plotInletVolume(device.plotId, t0, t1);
    default:
      throw new SimError('SIM_UNSUPPORTED_DEVICE', `water meter ${device.id}: no model for role "${device.role}"`);
  }
}

export const waterMeter: Model<WaterMeterState> = {
  init({ device, rng, env }, t) {
    volumeThrough(device, env, t, t); // rejects a role we cannot simulate before the run starts
    const yearsInService = rng.uniform(0.2, 8);
    const dailyM3 = device.role === 'plot-inlet' ? 400 : device.role === 'building' ? 15 : 0.4;
    return {
      volumeM3: round(yearsInService * 365 * dailyM3 * rng.uniform(0.7, 1.3), 3),
      batteryPct: rng.uniform(55, 100),
    };
  },

  step(state, t, dtMs, { device, env }) {
    const volumeM3 = state.volumeM3 + volumeThrough(device, env, t - dtMs, t);
    const batteryPct = Math.max(0, state.batteryPct - (BATTERY_DRAIN_PCT_PER_H * dtMs) / 3_600_000);
    return {
      state: { volumeM3, batteryPct },
      telemetry: { volume_m3: round(volumeM3, 3), battery_pct: round(batteryPct, 1) },
    };
  },

  resume: (state, last) => ({ volumeM3: lastNumber(last, 'volume_m3', state.volumeM3), batteryPct: lastNumber(last, 'battery_pct', state.batteryPct) }),
};

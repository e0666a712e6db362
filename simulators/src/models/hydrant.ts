/**
 * Outdoor fire hydrants on the municipal main: static pressure that sags a
 * little at the demand peaks and rises at night; water temperature follows
 * the season.
 */
import { HOUSEHOLD_WATER, at, mainsWaterTempC } from '../profiles.ts';
import { clamp, lastNumber, round, type Model } from './model.ts';

export interface HydrantState {
  /** This hydrant's pressure at average demand: its height and distance along the main. */
  readonly basePressureMpa: number;
  readonly batteryPct: number;
}

const BATTERY_DRAIN_PCT_PER_H = 0.0012;

export const hydrant: Model<HydrantState> = {
  init({ rng }) {
    return { basePressureMpa: rng.uniform(0.36, 0.44), batteryPct: rng.uniform(60, 100) };
  },

  step(state, t, dtMs, { rng, env }) {
    const lt = env.local(t);
    const sag = 0.025 * (at(HOUSEHOLD_WATER, lt.hour) - 1);
    const batteryPct = Math.max(0, state.batteryPct - (BATTERY_DRAIN_PCT_PER_H * dtMs) / 3_600_000);
    return {
      state: { ...state, batteryPct },
      telemetry: {
        pressure_mpa: round(clamp(state.basePressureMpa - sag + rng.normal(0, 0.004), 0.3, 0.5), 3),
        temp_c: round(mainsWaterTempC(lt) + rng.normal(0, 0.15), 1),
        battery_pct: round(batteryPct, 1),
      },
    };
  },

  resume: (state, last) => ({ ...state, batteryPct: lastNumber(last, 'battery_pct', state.batteryPct) }),
};

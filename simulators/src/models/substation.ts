/**
 * A plot's 10 kV / 0.4 kV substation: LV bus voltage that sags with load, the
 * plot's total load from the shared demand, grid frequency, and one status
 * flag per outgoing feeder (closed unless the environment has it out).
 */
import { clamp, round, type Model } from './model.ts';

export interface SubstationState {
  /** The tap setting: each transformer's no-load voltage differs a little. */
  readonly noLoadV: number;
  readonly feeders: number;
}

/** Metrics feeder_1 … feeder_8 exist; a substation with more feeders reports the first eight. */
const MAX_FEEDERS = 8;
const TRANSFORMER_KVA = 2_500;

export const substation: Model<SubstationState> = {
  init({ device, rng, env }) {
    return { noLoadV: rng.uniform(403, 408), feeders: Math.min(MAX_FEEDERS, env.feedersOf(device.id).length) };
  },

  step(state, t, _dtMs, { device, rng, env }) {
    const loadKw = env.demand.plotElectricKw(device.plotId, t) * 1.02 * rng.uniform(0.99, 1.01); // plus distribution losses
    const telemetry: Record<string, number | boolean> = {
      voltage_v: round(clamp(state.noLoadV - (10 * loadKw) / TRANSFORMER_KVA + rng.normal(0, 0.6), 380, 420), 1),
      load_kw: round(loadKw, 1),
      frequency_hz: round(clamp(50 + rng.normal(0, 0.015), 49.9, 50.1), 3),
    };
    for (let n = 1; n <= state.feeders; n++) telemetry[`feeder_${n}`] = !env.feederDown(`${device.id}/F${n}`, t);
    return { state, telemetry };
  },
};

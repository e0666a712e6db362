/**
 * A stairwell's lighting circuit: motion sensors on each landing light the
 * lamp for a minute. Activations follow the building's traffic by hour.
 */
import { SimError } from '../errors.ts';
import { BUILDING_TRAFFIC, at } from '../profiles.ts';
import { lastNumber, round, type Model } from './model.ts';

export interface StairLightState {
  readonly activations: number;
  /** Mean activations per hour over a day. */
  readonly activationsPerHour: number;
  readonly landings: number;
}

const LAMP_W = 8;
const CONTROLLER_W = 2;
const LIT_MS = 60_000;
/** Most people take the lift; some walk, and every landing's sensor counts them. */
const ACTIVATIONS_PER_HOUSEHOLD_PER_DAY = 2.5;

export const stairLight: Model<StairLightState> = {
  init({ device, rng, env }) {
    const building = env.building(device.buildingId);
    if (building === undefined) throw new SimError('SIM_UNSUPPORTED_DEVICE', `stair light ${device.id}: building "${device.buildingId}" is not in the site`);
    const households = building.households / Math.max(1, building.stairwells);
    return {
      activations: rng.int(5_000, 500_000),
      activationsPerHour: (households * ACTIVATIONS_PER_HOUSEHOLD_PER_DAY) / 24,
      landings: building.floors,
    };
  },

  step(state, t, dtMs, { rng, env }) {
    const perHour = state.activationsPerHour * at(BUILDING_TRAFFIC, env.local(t).hour);
    const activations = state.activations + rng.poisson((perHour * dtMs) / 3_600_000);
    const lampsLit = Math.min(state.landings, rng.poisson((perHour * LIT_MS) / 3_600_000));
    return {
      state: { ...state, activations },
      telemetry: { activations, power_w: round(CONTROLLER_W + lampsLit * LAMP_W * rng.uniform(0.97, 1.03), 1), circuit_ok: true },
    };
  },

  resume: (state, last) => ({ ...state, activations: lastNumber(last, 'activations', state.activations) }),
};

/**
 * Domestic booster pumps, three per plot pump room. The duty pump runs on a
 * variable-speed drive and holds the outlet at the set point against the plot's
 * demand; the assist pump joins above a flow threshold (with hysteresis); the
 * standby pump waits for a failure.
 *
 * The pump-room controller rotates the roles every day at 02:00, the quietest
 * hour, so that the three pumps share the wear: the next pump takes the duty,
 * yesterday's duty pump rests as standby, and the standby becomes the assist.
 * The catalogue's roles (BP-x-1 duty, -2 assist, -3 standby) are the pumps'
 * roles on every third day (rotation day ≡ 0 mod 3); every model computes the
 * rotation from the time alone, so the three pumps always agree on it.
 */
import type { Device, DeviceRole } from '../../../server/src/catalogue/types.ts';
import type { SimEnv } from '../env.ts';
import { SimError } from '../errors.ts';
import { clamp, lastNumber, round, type Model } from './model.ts';

export const BOOSTER = {
  setPointMpa: 0.45,
  /** Normal control band around the set point. */
  bandMpa: 0.03,
  capacityM3h: 25,
  assistStartM3h: 20,
  assistStopM3h: 14,
} as const;

/** Electric power of one pump delivering `flowM3h` at the set-point head (idle losses plus hydraulics at ~60 %). */
export function pumpKw(flowM3h: number): number {
  return 0.8 + 0.2 * flowM3h;
}

/** Power of the whole plant for a plot demand, as the pump-room meter sees it. */
export function boosterPlantKw(flowM3h: number): number {
  return flowM3h > BOOSTER.assistStartM3h ? 2 * pumpKw(flowM3h / 2) : pumpKw(flowM3h);
}

export interface BoosterPumpState {
  readonly assistOn: boolean;
  readonly running: boolean;
  readonly runHours: number;
  readonly starts: number;
  /** Each pump's own vibration level: bearings and mounting differ. */
  readonly vibrationMms: number;
}

export type PumpRole = 'duty' | 'assist' | 'standby';
const ROLES: readonly PumpRole[] = ['duty', 'assist', 'standby'];
/** Local hour at which the controller hands the duty on. */
export const ROTATION_HOUR = 2;

function pumpRole(role: DeviceRole, id: string): PumpRole {
  if (role === 'duty' || role === 'assist' || role === 'standby') return role;
  throw new SimError('SIM_UNSUPPORTED_DEVICE', `booster pump ${id}: no model for role "${role}"`);
}

/** The role a booster pump has at t: its catalogue role moved on by one place each day since the epoch. */
export function boosterRoleAt(device: Device, env: SimEnv, t: number): PumpRole {
  const position = ROLES.indexOf(pumpRole(device.role, device.id));
  const day = env.local(t - ROTATION_HOUR * 3_600_000).dayNumber;
  return ROLES[(((position - day) % 3) + 3) % 3]!;
}

export const boosterPump: Model<BoosterPumpState> = {
  init({ device, rng, env }, t) {
    return {
      assistOn: false,
      running: boosterRoleAt(device, env, t) === 'duty',
      // Rotation shares the wear: the pumps of a room have run about as long as each other.
      runHours: rng.uniform(9_000, 11_000),
      starts: rng.int(1_500, 3_000),
      vibrationMms: rng.uniform(2.0, 2.8),
    };
  },

  step(state, t, dtMs, { device, rng, env }) {
    const role = boosterRoleAt(device, env, t);
    const demandM3h = env.demand.groupWaterRate(`plot:${device.plotId}`, t) * 3600;
    const assistOn = state.assistOn ? demandM3h > BOOSTER.assistStopM3h : demandM3h > BOOSTER.assistStartM3h;
    const running = role === 'duty' || (role === 'assist' && assistOn);
    const flowM3h = running ? (assistOn ? demandM3h / 2 : demandM3h) : 0;
    const kw = running ? pumpKw(flowM3h) * rng.uniform(0.98, 1.02) : 0;
    // The header pressure every pump's outlet sensor sees: held in band while the plant runs.
    const pressure = BOOSTER.setPointMpa + clamp(rng.normal(0, 0.006), -BOOSTER.bandMpa, BOOSTER.bandMpa);
    const starts = running && !state.running ? state.starts + 1 : state.starts;
    const runHours = state.runHours + (running && state.running ? dtMs / 3_600_000 : 0);
    return {
      state: { ...state, assistOn, running, starts, runHours },
      telemetry: {
        running,
        pressure_mpa: round(pressure, 3),
        vibration_mms: round(running ? state.vibrationMms + rng.normal(0, 0.08) : rng.uniform(0.05, 0.2), 2),
        run_hours: round(runHours, 2),
        starts,
        current_a: round(kw * 1.767, 1), // 380 V three-phase, power factor 0.86
        power_kw: round(kw, 2),
      },
    };
  },

  resume: (state, last) => ({ ...state, runHours: lastNumber(last, 'run_hours', state.runHours), starts: lastNumber(last, 'starts', state.starts) }),
};

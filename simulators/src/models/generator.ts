/**
 * The site's diesel standby generator: on standby with its block heater and
 * battery charger, it runs a 15-minute no-load test every Tuesday at 10:00.
 * When a feeder loses power it starts and carries the fire lifts (env.emergency).
 */
import type { SimEnv } from '../env.ts';
import { clamp, lastNumber, round, timeWhere, type Model, type SimEvent } from './model.ts';

type GenState = 'standby' | 'cranking' | 'running';

const TEST = { weekday: 2, startH: 10, durationMin: 15 } as const;
const CRANKING_MS = 8_000;
const FUEL_PCT_PER_H = 0.8; // 8 L/h at no load from a 1,000 L tank
const STANDBY_COOLANT_C = 40; // block heater
const RUNNING_COOLANT_C = 82;

export interface GeneratorState {
  readonly state: GenState;
  readonly runHours: number;
  readonly fuelPct: number;
  readonly coolantC: number;
  readonly batteryFloatV: number;
}

function testElapsedMs(env: SimEnv, t: number): number {
  const lt = env.local(t);
  const elapsed = (lt.hour - TEST.startH) * 3_600_000;
  return lt.weekday === TEST.weekday && elapsed >= 0 && elapsed < TEST.durationMin * 60_000 ? elapsed : -1;
}

function stateAt(env: SimEnv, t: number): GenState {
  const emergency = env.emergency(t);
  if (emergency !== null) return t - emergency.since < CRANKING_MS ? 'cranking' : 'running';
  const elapsed = testElapsedMs(env, t);
  return elapsed < 0 ? 'standby' : elapsed < CRANKING_MS ? 'cranking' : 'running';
}

export const generator: Model<GeneratorState> = {
  init({ rng, env }, t) {
    return {
      state: stateAt(env, t),
      runHours: rng.uniform(50, 400),
      fuelPct: rng.uniform(85, 98),
      coolantC: STANDBY_COOLANT_C,
      batteryFloatV: rng.uniform(26.5, 26.9),
    };
  },

  step(prev, t, dtMs, { rng, env }) {
    const state = stateAt(env, t);
    const runMs = timeWhere(t - dtMs, t, (x) => stateAt(env, x) === 'running', 10_000);
    let fuelPct = prev.fuelPct - (FUEL_PCT_PER_H * runMs) / 3_600_000;
    if (state === 'standby' && fuelPct < 75) fuelPct = 95; // topped up after the test
    // Coolant relaxes towards its target: a 6-minute warm-up, a 20-minute cool-down.
    const [target, tauMs] = state === 'running' ? [RUNNING_COOLANT_C, 6 * 60_000] : [STANDBY_COOLANT_C, 20 * 60_000];
    const coolantC = target + (prev.coolantC - target) * Math.exp(-dtMs / tauMs);
    const batteryV = state === 'cranking' ? 23.4 : state === 'running' ? 27.3 : prev.batteryFloatV;

    const events: SimEvent[] = [];
    const emergency = env.emergency(t);
    if (prev.state === 'standby' && state !== 'standby') events.push({ event: 'start', data: { reason: emergency ? 'mains-loss' : 'weekly-test' } });
    if (prev.state !== 'standby' && state === 'standby') events.push({ event: 'stop', data: { reason: emergency ? 'mains-restored' : 'test-complete' } });

    const runHours = prev.runHours + runMs / 3_600_000;
    return {
      state: { ...prev, state, runHours, fuelPct, coolantC },
      telemetry: {
        state,
        battery_v: round(batteryV + rng.normal(0, 0.05), 2),
        fuel_pct: round(clamp(fuelPct, 0, 100), 1),
        coolant_c: round(coolantC + rng.normal(0, 0.2), 1),
        oil_kpa: state === 'running' ? round(380 + rng.normal(0, 8), 0) : 0,
        // A no-load test, or the fire lifts it carries in an outage (about 7.5 kW each while they travel).
        load_kw: state === 'running' && emergency ? round(emergency.fireLifts * 7.5 * rng.uniform(0.3, 0.8), 1) : 0,
        run_hours: round(runHours, 2),
        mains_ok: emergency === null,
      },
      ...(events.length > 0 ? { events } : {}),
    };
  },

  resume: (state, last) => ({ ...state, runHours: lastNumber(last, 'run_hours', state.runHours), fuelPct: lastNumber(last, 'fuel_pct', state.fuelPct) }),
};

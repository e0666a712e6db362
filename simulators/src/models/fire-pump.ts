/**
 * The fire pump room: the jockey pump cycles to hold the fire main near
 * 0.8 MPa against its slow leakage; the diesel pump runs 30 min every week and
 * the electric pump 10 min every month (NFPA 25 test runs). Everything follows
 * from the time, so the three pumps agree on the pressure they all see.
 */
import type { DeviceRole } from '../../../server/src/catalogue/types.ts';
import { SimError } from '../errors.ts';
import type { SimEnv } from '../env.ts';
import { streamSeed } from '../random.ts';
import { clamp, lastNumber, round, timeWhere, type Model, type SimEvent } from './model.ts';

export const FIRE_MAIN = {
  setPointMpa: 0.8,
  jockeyCutInMpa: 0.76,
  jockeyCutOutMpa: 0.84,
  /** Main-pump discharge during a test run, held by its pressure-relief valve. */
  testRunMpa: 0.83,
  cycleMs: 50 * 60_000,
  jockeyRunMs: 90_000,
} as const;

/** Test windows in local time: Monday 09:00 diesel for 30 min; the first Monday of a month 09:40 electric for 10 min. */
const TESTS = {
  diesel: { weekday: 1, startH: 9, durationMin: 30, firstWeekOnly: false },
  electric: { weekday: 1, startH: 9 + 40 / 60, durationMin: 10, firstWeekOnly: true },
} as const;

const RUN_KW: Record<'electric' | 'jockey' | 'diesel', number> = { electric: 38, jockey: 2.2, diesel: 0 }; // the diesel draws no mains power
const DIESEL_FUEL_PCT_PER_H = 3.75; // 15 L/h from a 400 L day tank
const CRANKING_MS = 8_000;
const SAMPLE_MS = 10_000;

type FireRole = keyof typeof RUN_KW;

function fireRole(role: DeviceRole, id: string): FireRole {
  if (role === 'electric' || role === 'jockey' || role === 'diesel') return role;
  throw new SimError('SIM_UNSUPPORTED_DEVICE', `fire pump ${id}: no model for role "${role}"`);
}

function inTestRun(role: 'electric' | 'diesel', env: SimEnv, t: number): boolean {
  const test = TESTS[role];
  const lt = env.local(t);
  if (lt.weekday !== test.weekday || (test.firstWeekOnly && lt.dayOfMonth > 7)) return false;
  return lt.hour >= test.startH && lt.hour < test.startH + test.durationMin / 60;
}

/** Milliseconds since the diesel test began, or -1 outside it. */
function dieselTestElapsed(env: SimEnv, t: number): number {
  if (!inTestRun('diesel', env, t)) return -1;
  const lt = env.local(t);
  return (lt.hour - TESTS.diesel.startH) * 3_600_000;
}

function jockeyCycle(env: SimEnv, t: number): number {
  const phase = streamSeed(env.seed, 'fire-main') % FIRE_MAIN.cycleMs;
  return (((t - phase) % FIRE_MAIN.cycleMs) + FIRE_MAIN.cycleMs) % FIRE_MAIN.cycleMs;
}

function testRunning(env: SimEnv, t: number): boolean {
  return inTestRun('diesel', env, t) || inTestRun('electric', env, t);
}

export function firePumpRunning(role: FireRole, env: SimEnv, t: number): boolean {
  if (role === 'jockey') return !testRunning(env, t) && jockeyCycle(env, t) < FIRE_MAIN.jockeyRunMs;
  return inTestRun(role, env, t);
}

/** Fire-main pressure: a saw-tooth between the jockey's cut-in and cut-out, or the test-run pressure. */
export function fireMainPressure(env: SimEnv, t: number): number {
  if (testRunning(env, t)) return FIRE_MAIN.testRunMpa;
  const c = jockeyCycle(env, t);
  const span = FIRE_MAIN.jockeyCutOutMpa - FIRE_MAIN.jockeyCutInMpa;
  if (c < FIRE_MAIN.jockeyRunMs) return FIRE_MAIN.jockeyCutInMpa + (span * c) / FIRE_MAIN.jockeyRunMs;
  return FIRE_MAIN.jockeyCutOutMpa - (span * (c - FIRE_MAIN.jockeyRunMs)) / (FIRE_MAIN.cycleMs - FIRE_MAIN.jockeyRunMs);
}

/** What the fire pump room draws from the mains: lighting and chargers plus the electric pumps that run. */
export function firePumpRoomKw(env: SimEnv, t: number): number {
  const pumps = (['electric', 'jockey'] as const).reduce((kw, role) => kw + (firePumpRunning(role, env, t) ? RUN_KW[role] : 0), 0);
  return 0.3 + pumps;
}

export interface FirePumpState {
  readonly running: boolean;
  readonly runHours: number;
  readonly starts: number;
  readonly vibrationMms: number;
  /** Diesel only. */
  readonly fuelPct: number;
  readonly batteryFloatV: number;
}

export const firePump: Model<FirePumpState> = {
  init({ device, rng, env }, t) {
    const role = fireRole(device.role, device.id);
    return {
      running: firePumpRunning(role, env, t),
      runHours: rng.uniform(20, role === 'jockey' ? 3000 : 300),
      starts: rng.int(200, role === 'jockey' ? 40_000 : 600),
      vibrationMms: rng.uniform(2.0, 2.8),
      fuelPct: rng.uniform(85, 98),
      batteryFloatV: rng.uniform(26.5, 26.9),
    };
  },

  step(state, t, dtMs, { device, rng, env }) {
    const role = fireRole(device.role, device.id);
    const isRunning = (x: number) => firePumpRunning(role, env, x);
    const running = isRunning(t);
    let starts = state.starts;
    for (let x = t - dtMs + SAMPLE_MS, was = state.running; x <= t; x += SAMPLE_MS) {
      const now = isRunning(x);
      if (now && !was) starts++;
      was = now;
    }
    const runMs = timeWhere(t - dtMs, t, isRunning, SAMPLE_MS);
    const events: SimEvent[] = [];
    if (role !== 'jockey' && running !== state.running) events.push({ event: running ? 'start' : 'stop', data: { reason: 'test-run' } });

    const kw = running ? RUN_KW[role] * rng.uniform(0.97, 1.03) : 0;
    const telemetry: Record<string, number | boolean> = {
      running,
      pressure_mpa: round(fireMainPressure(env, t) + clamp(rng.normal(0, 0.003), -0.008, 0.008), 3),
      vibration_mms: round(running ? state.vibrationMms + rng.normal(0, 0.08) : rng.uniform(0.05, 0.2), 2),
      run_hours: round(state.runHours + runMs / 3_600_000, 2),
      starts,
      current_a: round(kw * 1.767, 1), // 380 V three-phase, power factor 0.86
      power_kw: round(kw, 2),
    };

    let fuelPct = state.fuelPct;
    if (role === 'diesel') {
      fuelPct -= (DIESEL_FUEL_PCT_PER_H * runMs) / 3_600_000;
      if (!running && fuelPct < 75) fuelPct = 95; // the weekly check tops the day tank up
      const elapsed = dieselTestElapsed(env, t);
      const batteryV = elapsed >= 0 && elapsed < CRANKING_MS ? 23.4 : running ? 27.2 : state.batteryFloatV;
      telemetry.battery_v = round(batteryV + rng.normal(0, 0.05), 2);
      telemetry.fuel_pct = round(clamp(fuelPct, 0, 100), 1);
    }
    return {
      state: { ...state, running, starts, fuelPct, runHours: state.runHours + runMs / 3_600_000 },
      telemetry,
      ...(events.length > 0 ? { events } : {}),
    };
  },

  resume: (state, last) => ({
    ...state,
    runHours: lastNumber(last, 'run_hours', state.runHours),
    starts: lastNumber(last, 'starts', state.starts),
    fuelPct: lastNumber(last, 'fuel_pct', state.fuelPct),
  }),
};

/**
 * A passenger elevator as a small event-driven machine: calls arrive as a
 * Poisson process whose rate follows the building's traffic by hour (down in
 * the morning, up in the evening); each call is a pickup leg and a delivery
 * leg, each leg a move and a door cycle.
 */
import { SimError } from '../errors.ts';
import { BUILDING_TRAFFIC, at } from '../profiles.ts';
import type { Rng } from '../random.ts';
import { lastNumber, round, type Model, type ModelContext } from './model.ts';

type Phase = 'idle' | 'moving' | 'opening' | 'open' | 'closing';

interface Call { readonly from: number; readonly to: number; readonly passengers: number }

export interface ElevatorState {
  readonly topFloor: number;
  /** Mean calls per hour over a day; the hour's traffic profile shapes it. */
  readonly callsPerHour: number;
  readonly floor: number;
  readonly phase: Phase;
  readonly phaseEndsAt: number;
  readonly moveFrom: number;
  readonly moveStartedAt: number;
  readonly task: { readonly call: Call; readonly leg: 'pickup' | 'deliver' } | null;
  readonly queue: readonly Call[];
  /** When the next call arrives, or when the arrival rate is looked at again (see nextArrival). */
  readonly nextArrivalAt: number;
  readonly nextIsCall: boolean;
  readonly loadKg: number;
  readonly trips: number;
  readonly doorCycles: number;
}

const CALLS_PER_HOUSEHOLD_PER_DAY = 5;
const DOOR_OPENING_MS = 2_000;
const DOOR_OPEN_MS = 4_000;
const DOOR_CLOSING_MS = 3_000;
const MAX_QUEUE = 12;
/** Rates change with the hour, so a long quiet gap is cut and the rate looked at again (exact for a Poisson process). */
const RECHECK_MS = 10 * 60_000;

const moveMs = (from: number, to: number) => 3_000 + 1_500 * Math.abs(to - from);

function nextArrival(rng: Rng, ctx: ModelContext, callsPerHour: number, t: number): { nextArrivalAt: number; nextIsCall: boolean } {
  const rate = (callsPerHour * at(BUILDING_TRAFFIC, ctx.env.local(t).hour)) / 3_600_000;
  const gap = rng.exponential(rate);
  return gap > RECHECK_MS ? { nextArrivalAt: t + RECHECK_MS, nextIsCall: false } : { nextArrivalAt: t + gap, nextIsCall: true };
}

function newCall(rng: Rng, ctx: ModelContext, topFloor: number, t: number): Call {
  const hour = ctx.env.local(t).hour;
  const upper = rng.int(2, topFloor);
  const downBias = hour >= 6 && hour < 10 ? 0.75 : hour >= 16 && hour < 21 ? 0.25 : 0.5;
  const passengers = rng.pick([[1, 60], [2, 25], [3, 10], [4, 5]] as const);
  return rng.chance(downBias) ? { from: upper, to: 1, passengers } : { from: 1, to: upper, passengers };
}

type Task = NonNullable<ElevatorState['task']>;

const legTarget = (task: Task) => (task.leg === 'pickup' ? task.call.from : task.call.to);

function startLeg(s: ElevatorState, task: Task, now: number): ElevatorState {
  const target = legTarget(task);
  return target === s.floor
    ? { ...s, task, phase: 'opening', phaseEndsAt: now + DOOR_OPENING_MS }
    : { ...s, task, phase: 'moving', moveFrom: s.floor, moveStartedAt: now, phaseEndsAt: now + moveMs(s.floor, target) };
}

function startNextCall(s: ElevatorState, now: number): ElevatorState {
  const [call, ...queue] = s.queue;
  return call === undefined ? s : startLeg({ ...s, queue }, { call, leg: 'pickup' }, now);
}

/** The state once the current phase has ended (at s.phaseEndsAt). */
function finishPhase(s: ElevatorState, rng: Rng): ElevatorState {
  const now = s.phaseEndsAt;
  const task = s.task;
  if (task === null) return s; // idle: never ends by itself
  switch (s.phase) {
    case 'moving':
      return { ...s, floor: legTarget(task), trips: s.trips + 1, phase: 'opening', phaseEndsAt: now + DOOR_OPENING_MS };
    case 'opening': {
      const loadKg = task.leg === 'pickup' ? Math.max(0, task.call.passengers * rng.normal(68, 12)) : 0;
      return { ...s, loadKg, phase: 'open', phaseEndsAt: now + DOOR_OPEN_MS + 1_000 * task.call.passengers };
    }
    case 'open':
      return { ...s, phase: 'closing', phaseEndsAt: now + DOOR_CLOSING_MS };
    case 'idle':
      return s;
    case 'closing': {
      const closed = { ...s, doorCycles: s.doorCycles + 1 };
      if (task.leg === 'pickup') return startLeg(closed, { call: task.call, leg: 'deliver' }, now);
      return startNextCall({ ...closed, task: null, phase: 'idle', phaseEndsAt: Infinity }, now);
    }
  }
}

/** Registers of an elevator already in service: a door cycle per trip, a few more for re-openings. */
function counters(rng: Rng): { trips: number; doorCycles: number } {
  const trips = rng.int(10_000, 400_000);
  return { trips, doorCycles: Math.round(trips * rng.uniform(1.0, 1.05)) };
}

export const elevator: Model<ElevatorState> = {
  init(ctx, t) {
    const { device, rng, env } = ctx;
    const building = env.building(device.buildingId);
    if (building === undefined) throw new SimError('SIM_UNSUPPORTED_DEVICE', `elevator ${device.id}: building "${device.buildingId}" is not in the site`);
    const callsPerHour = (building.households / Math.max(1, building.elevators)) * CALLS_PER_HOUSEHOLD_PER_DAY / 24;
    return {
      topFloor: Math.max(2, building.floors),
      callsPerHour,
      floor: 1,
      phase: 'idle',
      phaseEndsAt: Infinity,
      moveFrom: 1,
      moveStartedAt: t,
      task: null,
      queue: [],
      ...nextArrival(rng, ctx, callsPerHour, t),
      loadKg: 0,
      ...counters(rng),
    };
  },

  step(state, t, _dtMs, ctx) {
    const { rng } = ctx;
    let s = state;
    for (;;) {
      if (Math.min(s.phaseEndsAt, s.nextArrivalAt) > t) break;
      if (s.nextArrivalAt <= s.phaseEndsAt) {
        const arrival = s.nextArrivalAt;
        const queue = s.nextIsCall && s.queue.length < MAX_QUEUE ? [...s.queue, newCall(rng, ctx, s.topFloor, arrival)] : s.queue;
        s = { ...s, queue, ...nextArrival(rng, ctx, s.callsPerHour, arrival) };
        if (s.phase === 'idle') s = startNextCall(s, arrival);
      } else {
        s = finishPhase(s, rng);
      }
    }

    const moving = s.phase === 'moving';
    const target = s.task === null ? s.floor : legTarget(s.task);
    const progress = moving ? Math.min(1, (t - s.moveStartedAt) / (s.phaseEndsAt - s.moveStartedAt)) : 0;
    const door = s.phase === 'open' ? 'open' : s.phase === 'opening' ? 'opening' : s.phase === 'closing' ? 'closing' : 'closed';
    return {
      state: s,
      telemetry: {
        floor: moving ? Math.round(s.moveFrom + (target - s.moveFrom) * progress) : s.floor,
        between_floors: moving,
        direction: moving ? (target > s.moveFrom ? 'up' : 'down') : 'idle',
        door,
        load_kg: round(s.loadKg, 0),
        trips: s.trips,
        door_cycles: s.doorCycles,
        fault_code: 0,
      },
    };
  },

  resume: (state, last) => ({ ...state, trips: lastNumber(last, 'trips', state.trips), doorCycles: lastNumber(last, 'door_cycles', state.doorCycles) }),
};

/** One model per device kind, and the glue that runs a model for one device. */
import type { DeviceKind } from '../../../server/src/catalogue/kinds.ts';
import { boosterPump } from './booster-pump.ts';
import { electricMeter } from './electric-meter.ts';
import { elevator } from './elevator.ts';
import { firePump } from './fire-pump.ts';
import { generator } from './generator.ts';
import { hydrant } from './hydrant.ts';
import type { MetricValue } from '../../../server/src/contract.ts';
import type { Model, ModelContext, StepResult } from './model.ts';
import { stairLight } from './stair-light.ts';
import { streetLight } from './street-light.ts';
import { substation } from './substation.ts';
import { waterMeter } from './water-meter.ts';

/** A model bound to one device, holding its state between reports. */
export interface DeviceRunner {
  /** Advances the device to simulated time t and returns what it reports. */
  report(t: number): Omit<StepResult<unknown>, 'state'>;
}

/** Runs `model` for one device from t0; with `reported` (what it reported last, before t0) it resumes from there. */
export function bind<S>(model: Model<S>, ctx: ModelContext, t0: number, reported?: Readonly<Record<string, MetricValue>>): DeviceRunner {
  const fresh = model.init(ctx, t0);
  let state = reported !== undefined && model.resume ? model.resume(fresh, reported) : fresh;
  let last = t0;
  return {
    report(t) {
      const { state: next, ...out } = model.step(state, t, t - last, ctx);
      state = next;
      last = t;
      return out;
    },
  };
}

type Binder = (ctx: ModelContext, t0: number) => DeviceRunner;
const binder = <S>(model: Model<S>): Binder => (ctx, t0) => bind(model, ctx, t0);

/** The healthy model of each kind (faults wrap these). */
export const KIND_MODELS: Readonly<Record<DeviceKind, Model<any>>> = {
  'water-meter': waterMeter,
  'electric-meter': electricMeter,
  'booster-pump': boosterPump,
  'fire-pump': firePump,
  elevator,
  generator,
  hydrant,
  'street-light': streetLight,
  'stair-light': stairLight,
  substation,
};

export const MODELS: Readonly<Record<DeviceKind, Binder>> = {
  'water-meter': binder(waterMeter),
  'electric-meter': binder(electricMeter),
  'booster-pump': binder(boosterPump),
  'fire-pump': binder(firePump),
  elevator: binder(elevator),
  generator: binder(generator),
  hydrant: binder(hydrant),
  'street-light': binder(streetLight),
  'stair-light': binder(stairLight),
  substation: binder(substation),
};

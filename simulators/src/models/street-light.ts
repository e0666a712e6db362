/**
 * Street lights with an astronomical controller: on a few minutes after
 * sunset, off a few minutes before sunrise, for the site's latitude and
 * longitude.
 */
import { lastNumber, round, timeWhere, type Model } from './model.ts';

export interface StreetLightState {
  readonly ratedW: number;
  readonly lampHours: number;
  /** Each controller's own switching margins: clocks and settings differ a little. */
  readonly afterSunsetMs: number;
  readonly beforeSunriseMs: number;
}

export const streetLight: Model<StreetLightState> = {
  init({ rng }) {
    return {
      ratedW: rng.uniform(96, 104),
      lampHours: rng.uniform(500, 25_000),
      afterSunsetMs: rng.uniform(0, 5) * 60_000,
      beforeSunriseMs: rng.uniform(0, 5) * 60_000,
    };
  },

  step(state, t, dtMs, { rng, env }) {
    const lit = (x: number) => env.isDark(x, state.afterSunsetMs, state.beforeSunriseMs);
    const on = lit(t);
    const lampHours = state.lampHours + timeWhere(t - dtMs, t, lit) / 3_600_000;
    return {
      state: { ...state, lampHours },
      telemetry: { on, power_w: on ? round(state.ratedW + rng.normal(0, 0.5), 1) : 0, lamp_hours: round(lampHours, 2) },
    };
  },

  resume: (state, last) => ({ ...state, lampHours: lastNumber(last, 'lamp_hours', state.lampHours) }),
};

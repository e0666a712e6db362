/**
 * How people use the estate over a day and a year: hourly profiles (mean 1
 * over the day) and a simple climate for the site (Chengdu-like, 30.6°N).
 */
import type { LocalTime } from './sim-clock.ts';

type Hourly = readonly number[]; // 24 values, value h applies at h:00

function normalised(values: readonly number[]): Hourly {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.map((v) => v / mean);
}

/** Household water: morning and evening peaks, near zero 02:00–04:00. */
export const HOUSEHOLD_WATER: Hourly = normalised([
  0.35, 0.15, 0.06, 0.05, 0.08, 0.3, 1.2, 2.2, 2.0, 1.3, 0.9, 1.0,
  1.3, 1.0, 0.7, 0.7, 0.8, 1.1, 1.6, 2.1, 2.2, 1.8, 1.2, 0.7,
]);

/** Household electricity (without heating and cooling): evening peak. */
export const HOUSEHOLD_ELECTRIC: Hourly = normalised([
  0.55, 0.45, 0.4, 0.4, 0.4, 0.5, 0.9, 1.2, 1.0, 0.8, 0.8, 0.9,
  1.0, 0.9, 0.8, 0.8, 0.9, 1.2, 1.6, 1.9, 2.0, 1.8, 1.4, 0.9,
]);

/** People moving in and out of buildings: elevators and stairs. */
export const BUILDING_TRAFFIC: Hourly = normalised([
  0.1, 0.05, 0.03, 0.03, 0.05, 0.2, 0.8, 1.8, 1.6, 0.9, 0.8, 0.9,
  1.2, 1.0, 0.8, 0.8, 1.0, 1.6, 1.9, 1.6, 1.3, 1.0, 0.6, 0.3,
]);

/** Share of residents at home, for heating and cooling. */
export const AT_HOME: Hourly = [
  1, 1, 1, 1, 1, 1, 0.9, 0.6, 0.4, 0.4, 0.4, 0.5,
  0.6, 0.5, 0.4, 0.4, 0.5, 0.7, 0.9, 1, 1, 1, 1, 1,
];

/** The profile's value at a fractional hour, linear between the hours. */
export function at(profile: Hourly, hour: number): number {
  const h = Math.floor(hour) % 24;
  const next = (h + 1) % 24;
  const f = hour - Math.floor(hour);
  return profile[h]! * (1 - f) + profile[next]! * f;
}

const yearAngle = (lt: LocalTime, peakDay: number) => (2 * Math.PI * (lt.dayOfYear - peakDay)) / 365;

/** Outdoor air: 7 °C mean in January, 27 °C in late July, ±4 °C over the day (warmest at 15:00). */
export function outdoorTempC(lt: LocalTime): number {
  return 17 + 10 * Math.cos(yearAngle(lt, 205)) + 4 * Math.cos((2 * Math.PI * (lt.hour - 15)) / 24);
}

/** Water in buried mains lags the air and swings less. */
export function mainsWaterTempC(lt: LocalTime): number {
  return 17 + 8 * Math.cos(yearAngle(lt, 220));
}

/** People use more water in summer. */
export function waterSeasonFactor(lt: LocalTime): number {
  return 1 + 0.12 * Math.cos(yearAngle(lt, 200));
}

/** Wall-clock time, injectable so that tests and accelerated simulations control it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

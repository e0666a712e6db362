/**
 * Seeded randomness. Every device draws from its own stream, derived from
 * (seed, deviceId), so adding or removing a device never changes what the
 * others do, and one seed always gives the same run.
 */

/** FNV-1a over the UTF-16 code units: a stable 32-bit hash of a name. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Mixes two 32-bit integers into one well-spread 32-bit integer (murmur3 finaliser). */
export function mix32(a: number, b: number): number {
  let h = (a ^ Math.imul(b ^ (b >>> 16), 0x85ebca6b)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The seed of a named stream (a device id, or a device id plus a purpose). */
export function streamSeed(seed: number, name: string): number {
  return mix32(seed >>> 0, hashString(name));
}

/**
 * A uniform number in [0, 1) that depends only on (streamSeed, n, salt): noise
 * that anyone can recompute for time slot n without replaying a sequence.
 */
export function noiseAt(seed: number, n: number, salt = 0): number {
  return mix32(mix32(seed, n | 0), salt) / 4294967296;
}

/** mulberry32: small, fast, good enough for simulation. */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Normal by Box–Muller; one draw per call keeps the stream easy to follow. */
  normal(mean = 0, sd = 1): number {
    const u = 1 - this.next(); // (0, 1]: log(0) never happens
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Waiting time of a Poisson process with `ratePerMs`, in ms. */
  exponential(ratePerMs: number): number {
    return -Math.log(1 - this.next()) / ratePerMs;
  }

  /** Count of a Poisson process with mean `mean` (Knuth for small means, normal above). */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 30) return Math.max(0, Math.round(this.normal(mean, Math.sqrt(mean))));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /** Picks from weighted choices: [[value, weight], ...]. */
  pick<T>(choices: readonly (readonly [T, number])[]): T {
    const total = choices.reduce((sum, [, w]) => sum + w, 0);
    let r = this.next() * total;
    for (const [value, weight] of choices) {
      r -= weight;
      if (r < 0) return value;
    }
    return choices[choices.length - 1]![0];
  }
}

/** The random stream of one device (or one device's named purpose). */
export function deviceRng(seed: number, deviceId: string, purpose = ''): Rng {
  return new Rng(streamSeed(seed, purpose === '' ? deviceId : `${deviceId}#${purpose}`));
}

/**
 * Message rates: the speed that makes a fleet send a target number of messages
 * per wall-clock second (`--rate`), and the achieved rate the CLI reports.
 */
import { KINDS, type DeviceKind } from '../../server/src/catalogue/kinds.ts';
import type { Device } from '../../server/src/catalogue/types.ts';

/** Telemetry messages per simulated second of these devices, each at its report interval. */
export function messagesPerSimSecond(devices: readonly Device[], intervalsS: Partial<Record<DeviceKind, number>> = {}): number {
  return devices.reduce((sum, d) => sum + 1 / (intervalsS[d.kind] ?? KINDS[d.kind].reportIntervalS), 0);
}

/** The speed at which `sites` copies of `devices` send `rate` telemetry messages per wall-clock second. */
export function speedForRate(rate: number, devices: readonly Device[], intervalsS: Partial<Record<DeviceKind, number>> = {}, sites = 1): number {
  return rate / (messagesPerSimSecond(devices, intervalsS) * sites);
}

export interface RateSample {
  /** Messages per second since the previous sample. */
  readonly recent: number;
  /** Messages per second since the meter started. */
  readonly overall: number;
}

/** Achieved rate from a growing message count, sampled now and then (the CLI's periodic line). */
export class RateMeter {
  private lastCount: number;
  private lastAt: number;

  constructor(private readonly startCount: number, private readonly startAt: number) {
    this.lastCount = startCount;
    this.lastAt = startAt;
  }

  sample(count: number, at: number): RateSample {
    const recent = at > this.lastAt ? ((count - this.lastCount) * 1000) / (at - this.lastAt) : 0;
    const overall = at > this.startAt ? ((count - this.startCount) * 1000) / (at - this.startAt) : 0;
    this.lastCount = count;
    this.lastAt = at;
    return { recent, overall };
  }
}

/**
 * Counts failed logins per username and per client address, and locks out a
 * key that failed too often within a window. A lock-out refuses even the
 * right password until it ends, so guessing cannot continue through it; a
 * successful login clears the username's count. In memory: one server
 * instance's view (the route's rate limit caps the request rate as well).
 */
import type { Clock } from '../ports/clock.ts';

export interface ThrottleRule {
  /** Failures within `windowMs` that trigger a lock-out. */
  maxFailures: number;
  windowMs: number;
  lockMs: number;
}

export const USERNAME_RULE: ThrottleRule = { maxFailures: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };
export const ADDRESS_RULE: ThrottleRule = { maxFailures: 30, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };
/** Beyond this many tracked keys the oldest are forgotten, so a flood of usernames cannot exhaust memory. */
const MAX_KEYS = 50_000;

interface Entry { failures: number[]; lockedUntil: number }

class FailureCounter {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly rule: ThrottleRule) {}

  lockedFor(key: string, now: number): number {
    const entry = this.entries.get(key);
    return entry && entry.lockedUntil > now ? entry.lockedUntil - now : 0;
  }

  /** Returns true when this failure starts a lock-out. */
  fail(key: string, now: number): boolean {
    const entry = this.entries.get(key) ?? { failures: [], lockedUntil: 0 };
    this.entries.delete(key); // re-inserted last: the map stays in least-recently-failed order
    entry.failures = entry.failures.filter((t) => now - t < this.rule.windowMs);
    entry.failures.push(now);
    let locked = false;
    if (entry.failures.length >= this.rule.maxFailures) {
      entry.lockedUntil = now + this.rule.lockMs;
      entry.failures = [];
      locked = true;
    }
    this.entries.set(key, entry);
    if (this.entries.size > MAX_KEYS) this.entries.delete(this.entries.keys().next().value!);
    return locked;
  }

  clear(key: string): void {
    this.entries.delete(key);
  }
}

export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterMs: number; by: 'username' | 'address' };

export class LoginThrottle {
  private readonly byUsername: FailureCounter;
  private readonly byAddress: FailureCounter;

  constructor(private readonly clock: Clock, usernameRule = USERNAME_RULE, addressRule = ADDRESS_RULE) {
    this.byUsername = new FailureCounter(usernameRule);
    this.byAddress = new FailureCounter(addressRule);
  }

  check(username: string, address: string): ThrottleVerdict {
    const now = this.clock.now();
    const user = this.byUsername.lockedFor(username.toLowerCase(), now);
    if (user > 0) return { allowed: false, retryAfterMs: user, by: 'username' };
    const ip = this.byAddress.lockedFor(address, now);
    if (ip > 0) return { allowed: false, retryAfterMs: ip, by: 'address' };
    return { allowed: true };
  }

  /** Returns which keys this failure locked out (for the audit log). */
  failed(username: string, address: string): { username: boolean; address: boolean } {
    const now = this.clock.now();
    return { username: this.byUsername.fail(username.toLowerCase(), now), address: this.byAddress.fail(address, now) };
  }

  succeeded(username: string): void {
    this.byUsername.clear(username.toLowerCase());
  }
}

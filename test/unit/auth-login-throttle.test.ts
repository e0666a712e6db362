import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../server/src/auth/login-throttle.ts';

function clockAt(start: number) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

describe('LoginThrottle', () => {
  const rule = { maxFailures: 3, windowMs: 60_000, lockMs: 300_000 };

  it('locks a username out after repeated failures, even for the right password, until the lock ends', () => {
    const clock = clockAt(0);
    const throttle = new LoginThrottle(clock, rule, { maxFailures: 100, windowMs: 60_000, lockMs: 60_000 });
    expect(throttle.failed('Ann', '10.0.0.1').username).toBe(false);
    throttle.failed('ann', '10.0.0.2');
    expect(throttle.check('ann', '10.0.0.3')).toEqual({ allowed: true });
    expect(throttle.failed('ANN', '10.0.0.4')).toEqual({ username: true, address: false });
    expect(throttle.check('ann', '10.0.0.9')).toEqual({ allowed: false, by: 'username', retryAfterMs: 300_000 });
    expect(throttle.check('bob', '10.0.0.9')).toEqual({ allowed: true });
    clock.t = 300_000;
    expect(throttle.check('ann', '10.0.0.9')).toEqual({ allowed: true });
  });

  it('forgets failures outside the window and after a successful login', () => {
    const clock = clockAt(0);
    const throttle = new LoginThrottle(clock, rule, rule);
    throttle.failed('ann', 'a');
    throttle.failed('ann', 'b');
    clock.t = 61_000;
    throttle.failed('ann', 'c');
    expect(throttle.check('ann', 'd').allowed).toBe(true);
    throttle.failed('ann', 'e');
    throttle.succeeded('ann');
    throttle.failed('ann', 'f');
    expect(throttle.check('ann', 'g').allowed).toBe(true);
  });

  it('locks out an address that tries many usernames', () => {
    const clock = clockAt(0);
    const throttle = new LoginThrottle(clock, { ...rule, maxFailures: 100 }, rule);
    for (const name of ['a', 'b', 'c']) throttle.failed(name, '192.0.2.7');
    expect(throttle.check('zed', '192.0.2.7')).toMatchObject({ allowed: false, by: 'address' });
    expect(throttle.check('zed', '192.0.2.8').allowed).toBe(true);
  });
});

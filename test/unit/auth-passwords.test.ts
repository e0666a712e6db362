import { describe, expect, it } from 'vitest';
import { hashPassword, needsRehash, passwordProblem, SCRYPT_PARAMS, verifyPassword } from '../../server/src/auth/passwords.ts';

describe('password hashing (scrypt)', () => {
  it('verifies the right password only, with a per-user salt and the parameters in the hash', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(new RegExp(`^scrypt\\$${SCRYPT_PARAMS.logN}\\$${SCRYPT_PARAMS.r}\\$${SCRYPT_PARAMS.p}\\$`));
    expect(a).not.toBe(b); // different salts
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
  });

  it('refuses hashes it did not write and asks to re-hash weaker ones', async () => {
    expect(await verifyPassword('x', 'plain-text')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$99$8$1$AA==$AA==')).toBe(false);
    const weak = await hashPassword('a weak old hash', { logN: 10, r: 8, p: 1 });
    expect(await verifyPassword('a weak old hash', weak)).toBe(true);
    expect(needsRehash(weak)).toBe(true);
    expect(needsRehash(await hashPassword('today'))).toBe(false);
  });

  it('says what is wrong with a new password', () => {
    expect(passwordProblem('short', 'ann')).toMatch(/at least 12/);
    expect(passwordProblem('ann-is-my-password', 'ann')).toMatch(/username/);
    expect(passwordProblem('a long enough passphrase', 'ann')).toBeNull();
  });
});

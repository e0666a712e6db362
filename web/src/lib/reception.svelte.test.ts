import { describe, expect, it } from 'vitest';
import { SITE } from './testing/fixtures.ts';
import { checkRoom, countdown, isPendingLetter } from './reception.svelte.ts';

describe('checkRoom', () => {
  it('turns a building and a unit into the room id, checked against floors and units per floor', () => {
    expect(checkRoom(SITE.buildings, 'a-01', '0502')).toEqual({ ok: true, buildingId: 'A-01', plotId: 'A', room: 'A-01-0502' });
    expect(checkRoom(SITE.buildings, 'A-01', '502')).toEqual({ ok: true, buildingId: 'A-01', plotId: 'A', room: 'A-01-0502' });
    expect(checkRoom(SITE.buildings, 'A-02', '')).toEqual({ ok: true, buildingId: 'A-02', plotId: 'A', room: null });
  });

  it.each([['Z-09', '0101', 'unknownBuilding'], ['A-01', '1903', 'unknownUnit'], ['A-01', '0103', 'unknownUnit'], ['A-01', '0100', 'unknownUnit'], ['A-01', 'x1', 'unknownUnit']])(
    '%s %s → %s', (building, unit, error) => {
      expect(checkRoom(SITE.buildings, building, unit)).toEqual({ ok: false, error });
    });
});

describe('countdown and letters', () => {
  it('counts down to the deadline and up after it', () => {
    expect(countdown(600_000, 0)).toEqual({ late: false, text: '10:00' });
    expect(countdown(600_000, 599_001)).toEqual({ late: false, text: '00:00' });
    expect(countdown(600_000, 665_000)).toEqual({ late: true, text: '01:05' });
  });

  it('keeps letters until they are handed over', () => {
    const letter = { source: 'letter', letterDueAt: 1, handedOverAt: null, status: 'open' } as const;
    expect(isPendingLetter(letter)).toBe(true);
    expect(isPendingLetter({ ...letter, handedOverAt: 2 })).toBe(false);
    expect(isPendingLetter({ ...letter, source: 'phone' })).toBe(false);
  });
});

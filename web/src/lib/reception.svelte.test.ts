import { describe, expect, it } from 'vitest';
import { SITE } from './testing/fixtures.ts';
import { checkRoom, countdown, intakeProblems, IntakeDraft, isPendingLetter, ReceptionStore } from './reception.svelte.ts';

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

describe('intake form', () => {
  const fields = { building: 'A-01', unit: '0502', title: 'Leaking tap', callbackPhone: '' };

  it('needs a building that exists, a unit it has, a title, and a phone number the server accepts', () => {
    const room = (building: string, unit: string) => (building === '' ? null : checkRoom(SITE.buildings, building, unit));
    expect(intakeProblems(fields, room('A-01', '0502'))).toEqual([]);
    expect(intakeProblems({ ...fields, building: '', title: ' ' }, null)).toEqual(['buildingRequired', 'titleRequired']);
    expect(intakeProblems(fields, room('Z-09', ''))).toEqual(['unknownBuilding']);
    expect(intakeProblems(fields, room('A-01', '1901'))).toEqual(['unknownUnit']);
    expect(intakeProblems({ ...fields, callbackPhone: '138-0000 (1111)' }, room('A-01', ''))).toEqual([]);
    expect(intakeProblems({ ...fields, callbackPhone: 'call me' }, room('A-01', ''))).toEqual(['badPhone']);
  });

  it('looks the room up as it is typed, sends nothing while there are problems, and keeps source and building after a ticket', () => {
    const draft = new IntakeDraft(() => SITE.buildings);
    expect(draft.room).toBeNull();
    expect(draft.toForm()).toBeNull();
    draft.building = 'a-02';
    draft.unit = '1802';
    expect(draft.room).toEqual({ ok: true, buildingId: 'A-02', plotId: 'A', room: 'A-02-1802' });
    expect(draft.problems).toEqual(['titleRequired']);
    draft.title = 'No hot water';
    draft.source = 'letter';
    draft.callbackPhone = '13800001111';
    expect(draft.toForm()).toEqual({
      source: 'letter', buildingId: 'A-02', plotId: 'A', room: 'A-02-1802', location: '', title: 'No hot water', description: '', neededBy: '', callbackPhone: '13800001111',
    });
    draft.clear();
    expect([draft.source, draft.building, draft.unit, draft.title, draft.callbackPhone]).toEqual(['letter', 'a-02', '', '', '']);
  });

  it('sends the ticket as the API takes it, leaving out what is blank', async () => {
    const sent: unknown[] = [];
    const store = new ReceptionStore(async (url, init) => {
      if (init?.method === 'POST') { sent.push(JSON.parse(String(init.body))); return Response.json({ id: 9 }, { status: 201 }); }
      return Response.json(url.startsWith('/api/callbacks') ? [] : { items: [], total: 0, limit: 200, offset: 0 });
    });
    const result = await store.create({
      source: 'phone', buildingId: 'A-01', plotId: 'A', room: 'A-01-0502', location: ' ', title: ' Leak ', description: '', neededBy: '', callbackPhone: ' 138 0000 1111 ',
    });
    expect(result).toEqual({ ok: true, value: { id: 9 } });
    expect(sent).toEqual([{ kind: 'reception', source: 'phone', title: 'Leak', plot: 'A', building: 'A-01', room: 'A-01-0502', callbackPhone: '138 0000 1111' }]);
  });
});

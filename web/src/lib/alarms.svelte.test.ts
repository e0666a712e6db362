import { describe, expect, it } from 'vitest';
import type { AlarmView } from '../../../server/src/push/events.ts';
import { alarmsAt, AlarmStore, groupAlarms, listedAlarms, worstAlarmByBuilding, worstAlarmByDevice } from './alarms.svelte.ts';
import { alarm as testAlarm } from './testing/alarms.ts';

/** P3 unless told: the orderings below compare against it. */
const alarm = (id: string, over: Partial<AlarmView> = {}): AlarmView => testAlarm(id, { priority: 3, ...over });

describe('listedAlarms', () => {
  it('orders by priority, then unacknowledged first, then newest, and leaves out what is not annunciated', () => {
    const list = listedAlarms([
      alarm('p3-old', { lastActiveAt: 1 }),
      alarm('p3-new', { lastActiveAt: 5 }),
      alarm('p3-acked', { state: 'ack', lastActiveAt: 9 }),
      alarm('p1', { priority: 1, state: 'ack' }),
      alarm('shelved', { priority: 1, annunciated: false }),
      alarm('p2-returned', { priority: 2, state: 'rtn-unack' }),
    ]);
    expect(list.map((a) => a.id)).toEqual(['p1', 'p2-returned', 'p3-new', 'p3-old', 'p3-acked']);
  });
});

describe('groupAlarms', () => {
  const root = alarm('SS-B:feeder', { plotId: 'B', buildingId: null, priority: 2 });
  const alarms = [
    alarm('EL-B-01:fault', { plotId: 'B', priority: 1 }),
    root,
    // Suppressed by the root: not on the list, but it makes SS-B:feeder a root cause.
    alarm('EL-B-02:fault', { plotId: 'B', suppressedBy: 'SS-B:feeder', annunciated: false }),
    alarm('HY-A-03:low', { plotId: 'A', priority: 4 }),
  ];

  it('is one ordinary group without a flood', () => {
    const groups = groupAlarms(alarms, new Set());
    expect(groups).toHaveLength(1);
    expect(groups[0]!.floodPlotId).toBeNull();
    expect(groups[0]!.alarms.map((a) => a.id)).toEqual(['EL-B-01:fault', 'SS-B:feeder', 'HY-A-03:low']);
  });

  it("puts a flooding plot's alarms in their own group, root causes first, before the rest", () => {
    const groups = groupAlarms(alarms, new Set(['B']));
    expect(groups.map((g) => g.floodPlotId)).toEqual(['B', null]);
    expect(groups[0]!.alarms.map((a) => a.id)).toEqual(['SS-B:feeder', 'EL-B-01:fault']);
    expect(groups[0]!.roots).toBe(1);
    expect(groups[1]!.alarms.map((a) => a.id)).toEqual(['HY-A-03:low']);
  });
});

describe('worstAlarmByBuilding', () => {
  it("keeps each building's highest priority and blinks while any of its alarms is unacknowledged", () => {
    const worst = worstAlarmByBuilding([
      alarm('a', { buildingId: 'A-01', priority: 3, state: 'ack' }),
      alarm('b', { buildingId: 'A-01', priority: 2, state: 'ack' }),
      alarm('c', { buildingId: 'A-02', priority: 4 }),
      alarm('d', { buildingId: 'A-02', priority: 1, annunciated: false }),
      alarm('e', { buildingId: null, priority: 1 }),
    ]);
    expect(Object.fromEntries(worst)).toEqual({ 'A-01': { priority: 2, unacknowledged: false }, 'A-02': { priority: 4, unacknowledged: true } });
  });
});

describe('worstAlarmByDevice', () => {
  it("keeps each device's highest listed priority, blinking while any is unacknowledged", () => {
    const worst = worstAlarmByDevice([
      alarm('HY-A-03:low', { priority: 2, state: 'ack' }),
      alarm('HY-A-03:freeze', { priority: 3 }),
      alarm('BP-A-1:dry', { priority: 1, annunciated: false }),
    ]);
    expect(Object.fromEntries(worst)).toEqual({ 'HY-A-03': { priority: 2, unacknowledged: true } });
  });
});

describe('alarmsAt', () => {
  const all = [
    alarm('EL-A-01-1:fault', { priority: 2, buildingId: 'A-01' }),
    alarm('EL-A-01-2:fault', { priority: 1, buildingId: 'A-01', annunciated: false, shelved: { by: 'op', at: 1, until: 2, reason: 'r' } }),
    alarm('EL-A-01-2:door', { priority: 3, buildingId: 'A-01' }),
    alarm('EL-A-01-1:old', { buildingId: 'A-01', state: 'normal', annunciated: false }),
    alarm('EL-A-02-1:fault', { buildingId: 'A-02' }),
    alarm('HY-A-03:low', { buildingId: null, plotId: 'A' }),
    alarm('HY-B-01:low', { buildingId: null, plotId: 'B' }),
  ];

  it("lists a building's alarms that are not normal, listed ones first in the list's order, then the shelved", () => {
    expect(alarmsAt(all, { kind: 'building', id: 'A-01' }).map((a) => a.id)).toEqual(['EL-A-01-1:fault', 'EL-A-01-2:door', 'EL-A-01-2:fault']);
  });

  it("lists one device's alarms, and a plot's alarms outside its buildings", () => {
    expect(alarmsAt(all, { kind: 'device', id: 'EL-A-01-2' }).map((a) => a.id)).toEqual(['EL-A-01-2:door', 'EL-A-01-2:fault']);
    expect(alarmsAt(all, { kind: 'plot', id: 'A' }).map((a) => a.id)).toEqual(['HY-A-03:low']);
    expect(alarmsAt(all, { kind: 'device', id: 'EL-C-01-1' })).toEqual([]);
  });
});

describe('AlarmStore', () => {
  it('applies changes, drops alarms that return to normal and sounds only for alarms that newly need acknowledging', () => {
    const sounded: string[] = [];
    const store = new AlarmStore(async () => new Response('{}'), (a) => sounded.push(a.id));
    store.replaceAll({ alarms: [alarm('x')], flooding: ['C'] });
    expect(store.flooding.has('C')).toBe(true);
    store.apply([alarm('x'), alarm('y', { priority: 1 })]);
    expect(sounded).toEqual(['y']);
    expect(store.groups.flatMap((g) => g.alarms.map((a) => a.id))).toEqual(['y', 'x']); // P1 first
    store.apply([alarm('x', { state: 'normal', annunciated: false }), alarm('y', { count: 2 })]);
    expect([...store.alarms.keys()]).toEqual(['y']);
    expect(sounded).toEqual(['y', 'y']);
    store.setFlood('C', false);
    expect(store.flooding.size).toBe(0);
  });

  it('posts an acknowledgement and applies the answer; a refusal comes back with its code', async () => {
    const calls: { url: string; init?: RequestInit }[] = [];
    let answer: Response = Response.json(alarm('x', { state: 'ack' }));
    const store = new AlarmStore(async (url, init) => { calls.push({ url, ...(init && { init }) }); return answer; });
    store.replaceAll({ alarms: [alarm('x')], flooding: [] });
    await expect(store.acknowledge('x')).resolves.toEqual({ ok: true });
    expect(calls[0]!.url).toBe('/api/alarms/x/ack');
    expect(calls[0]!.init?.method).toBe('POST');
    expect(store.alarms.get('x')!.state).toBe('ack');
    answer = Response.json({ code: 'SHELVE_REASON_REQUIRED', message: 'needs a reason' }, { status: 400 });
    await expect(store.shelve('x', ' ', 60)).resolves.toEqual({ ok: false, code: 'SHELVE_REASON_REQUIRED', message: 'needs a reason' });
    expect(JSON.parse(String(calls[1]!.init?.body))).toEqual({ reason: ' ', minutes: 60 });
  });

  it('acknowledges with a trimmed comment (none when blank) and unshelves', async () => {
    const calls: { url: string; body: unknown }[] = [];
    const answers = [alarm('x', { state: 'ack' }), alarm('x', { state: 'ack' }), alarm('x', { state: 'ack', shelved: null, annunciated: true })];
    const store = new AlarmStore(async (url, init) => { calls.push({ url, body: JSON.parse(String(init?.body)) }); return Response.json(answers.shift()); });
    store.replaceAll({ alarms: [alarm('x', { shelved: { by: 'op', at: 1, until: 2, reason: 'r' }, annunciated: false })], flooding: [] });
    await store.acknowledge('x', '  pump room checked ');
    await store.acknowledge('x', '   ');
    await expect(store.unshelve('x')).resolves.toEqual({ ok: true });
    expect(calls).toEqual([
      { url: '/api/alarms/x/ack', body: { comment: 'pump room checked' } },
      { url: '/api/alarms/x/ack', body: {} },
      { url: '/api/alarms/x/unshelve', body: {} },
    ]);
    expect(store.alarms.get('x')!.shelved).toBeNull();
  });

  it('reports a network failure as NETWORK', async () => {
    const store = new AlarmStore(async () => { throw new TypeError('Failed to fetch'); });
    await expect(store.unshelve('x')).resolves.toEqual({ ok: false, code: 'NETWORK', message: 'Failed to fetch' });
  });
});

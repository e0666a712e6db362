import { describe, expect, it } from 'vitest';
import { loadSite } from '../../server/src/catalogue/load.ts';
import { indexSite } from '../../server/src/catalogue/site-index.ts';
import { nightFlow, parseScope, previousPeriod, resolveScope, total } from '../../server/src/domain/trends.ts';

const HOUR = 3_600_000;

describe('parseScope', () => {
  it.each([
    ['site', { kind: 'site', id: null }],
    ['plot:A', { kind: 'plot', id: 'A' }],
    ['building:A-03', { kind: 'building', id: 'A-03' }],
    ['unit:A-03-0502', { kind: 'unit', id: 'A-03-0502' }],
    ['device:WM-A-03-0502', { kind: 'device', id: 'WM-A-03-0502' }],
  ])('%s', (text, scope) => expect(parseScope(text)).toEqual(scope));

  it.each(['', 'plot', 'plot:', 'estate:A', 'plot:A B', 'site:x'])('rejects %j with a code', (text) => {
    expect(() => parseScope(text)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });
});

describe('resolveScope on Blue Valley', () => {
  const site = indexSite(loadSite(null));
  it('a plot: its households and shops, and its bulk inlet for water only', () => {
    const water = resolveScope(site, parseScope('plot:A'), 'water');
    expect(water.consumers).toHaveLength(1090 + 58);
    expect(water.consumers.every((d) => d.kind === 'water-meter' && d.plotId === 'A' && (d.role === 'household' || d.role === 'shop'))).toBe(true);
    expect(water.inlets.map((d) => d.id)).toEqual(['WM-A-INLET']);
    expect(resolveScope(site, parseScope('plot:A'), 'electricity').inlets).toEqual([]);
  });
  it('the site: every household and shop, the three inlets', () => {
    const water = resolveScope(site, parseScope('site'), 'water');
    expect(water.consumers).toHaveLength(2688 + 102);
    expect(water.inlets.map((d) => d.id).sort()).toEqual(['WM-A-INLET', 'WM-B-INLET', 'WM-C-INLET']);
  });
  it('a building, a room and a device', () => {
    expect(resolveScope(site, parseScope('building:A-03'), 'electricity').consumers.every((d) => d.buildingId === 'A-03' && d.kind === 'electric-meter')).toBe(true);
    expect(resolveScope(site, parseScope('unit:A-03-0502'), 'electricity').consumers.map((d) => d.id)).toEqual(['EM-A-03-0502']);
    expect(resolveScope(site, parseScope('device:WM-A-INLET'), 'water').consumers.map((d) => d.id)).toEqual(['WM-A-INLET']);
  });
  it('names what it cannot find', () => {
    expect(() => resolveScope(site, parseScope('building:Z-01'), 'water')).toThrow(expect.objectContaining({ code: 'SCOPE_NOT_FOUND' }));
    expect(() => resolveScope(site, parseScope('device:EM-A-MAIN'), 'water')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });
});

describe('nightFlow', () => {
  // 2026-01-10 00:00 in Shanghai is 2026-01-09 16:00 UTC.
  const midnight = Date.UTC(2026, 0, 9, 16);
  const hours = (values: (number | null)[]) => values.map((value, h) => ({ ts: midnight + h * HOUR, value }));

  it('takes the smallest hourly flow from 02:00 to 04:00 local time, per night', () => {
    const day = [9, 9, 4, 2.5, 1, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9];
    expect(nightFlow(hours([...day, ...day.map((v) => v + 1)]), 'Asia/Shanghai')).toEqual([
      { date: '2026-01-10', value: 2.5 },
      { date: '2026-01-11', value: 3.5 },
    ]);
  });

  it('is null for a night without data, and ignores an empty hour next to a full one', () => {
    expect(nightFlow(hours([0, 0, null, null, 0]), 'Asia/Shanghai')).toEqual([{ date: '2026-01-10', value: null }]);
    expect(nightFlow(hours([0, 0, null, 7, 0]), 'Asia/Shanghai')).toEqual([{ date: '2026-01-10', value: 7 }]);
  });

  it('follows the time zone', () => {
    expect(nightFlow(hours([5, 6, 7]), 'UTC')).toEqual([]); // 16:00–18:00 UTC
  });
});

describe('previousPeriod and total', () => {
  it('the same length just before', () => expect(previousPeriod(100, 160)).toEqual({ from: 40, to: 100 }));
  it('sums what is there; null when nothing is', () => {
    expect(total([{ ts: 0, value: 1 }, { ts: 1, value: null }, { ts: 2, value: 2.5 }])).toBe(3.5);
    expect(total([{ ts: 0, value: null }])).toBeNull();
  });
});

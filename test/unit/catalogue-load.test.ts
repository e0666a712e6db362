import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pointsAlong, rectInPolygon } from '../../server/src/catalogue/geometry.ts';
import { loadSite, parseSiteSpec, SiteFileError, siteSummary } from '../../server/src/catalogue/load.ts';
import type { Point } from '../../server/src/catalogue/types.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const tinyRaw = () => JSON.parse(readFileSync(fixture('tiny-site.json'), 'utf8'));

function problemsOf(action: () => unknown): { code: string; problems: readonly string[] } {
  try {
    action();
  } catch (err) {
    expect(err).toBeInstanceOf(SiteFileError);
    const e = err as SiteFileError;
    return { code: e.code, problems: e.problems };
  }
  throw new Error('expected a SiteFileError');
}

describe('SITE_FILE', () => {
  it('loads a tiny one-plot site', () => {
    const site = loadSite(fixture('tiny-site.json'));
    expect(site.id).toBe('tiny-court');
    expect(site.plots.map((p) => p.id)).toEqual(['T']);
    expect(siteSummary(site).totals).toMatchObject({ buildings: 2, households: 30, shops: 3, elevators: 1, stairwells: 3 });
    expect(site.units.map((u) => u.id).slice(0, 4)).toEqual(['T-01-0101', 'T-01-0102', 'T-01-0103', 'T-01-0201']);
    expect(site.units.filter((u) => u.continuousUse).map((u) => u.id)).toEqual(['T-S02']);
    expect(site.devices.filter((d) => d.kind === 'elevator').map((d) => d.id)).toEqual(['EL-T-01-1']);
    expect(site.devices.filter((d) => d.kind === 'stair-light').map((d) => d.id)).toEqual(['ST-T-01-1', 'ST-T-02-1', 'ST-T-02-2']);
  });

  it('reports every shape problem of a broken file in one error, each with its JSON path', () => {
    const { code, problems } = problemsOf(() => loadSite(fixture('broken-site.json')));
    expect(code).toBe('SITE_FILE_INVALID');
    const paths = problems.map((p) => p.split(':')[0]);
    expect(paths).toEqual(expect.arrayContaining([
      '/site/id', '/site/latitude', '/contacts/0/phone', '/plots/0/handbook/managementRoomsM2',
      '/plots/0/buildings/0/colour', '/plots/0/buildings/0/floors', '/roads/0/points',
    ]));
    expect(problems).toHaveLength(7);
  });

  it('reports every meaning problem in one error', () => {
    const raw = tinyRaw();
    const plot = raw.plots[0];
    plot.handbook.households = 31; // buildings add up to 30
    plot.buildings[1].id = 'T-01'; // duplicate, and T-02 on the feeder is now unknown
    plot.buildings.push({ id: 'T-03', floors: 6, unitsPerFloor: 2, households: 12, stairwells: 1, elevators: 0, footprint: { x: 180, y: 20, w: 40, h: 15 } });
    plot.buildings.push({ id: 'T-04', floors: 6, unitsPerFloor: 2, households: 10, stairwells: 1, elevators: 0, footprint: { x: 35, y: 25, w: 10, h: 5 } });
    plot.substation.feeders[1].buildings = ['T-03', 'T-04', 'X-09'];
    plot.shopFront.continuousUse.push({ number: 9, business: 'restaurant' });
    raw.firePumpRoom.feederId = 'SS-Q/F1';
    const { code, problems } = problemsOf(() => parseSiteSpec(raw, 'mutated tiny site'));
    expect(code).toBe('SITE_FILE_INVALID');
    const expected: Array<[string, RegExp]> = [
      ['/plots/0/handbook/households', /buildings add up to 52/],
      ['/plots/0/handbook/buildings', /handbook says 2 buildings, the plot lists 4/],
      ['/plots/0/buildings/1/id', /duplicate id "T-01"/],
      ['/plots/0/substation/feeders/0/buildings/1', /unknown building "T-02"/],
      ['/plots/0/substation/feeders/1/buildings/2', /unknown building "X-09"/],
      ['/plots/0/buildings/2/footprint', /outside the outline of plot T/],
      ['/plots/0/buildings/3/footprint', /overlaps building "T-01"/],
      ['/plots/0/buildings/3/households', /10 households, but 6 floors × 2 units = 12/],
      ['/plots/0/shopFront/continuousUse/1/number', /shop 9 does not exist/],
      ['/firePumpRoom/feederId', /unknown feeder "SS-Q\/F1"/],
    ];
    for (const [path, message] of expected) {
      expect(problems.filter((p) => p.startsWith(`${path}: `) && message.test(p)), `${path} ${message}`).toHaveLength(1);
    }
  });

  it('requires each building on exactly one feeder, feeders named in order', () => {
    const raw = tinyRaw();
    raw.plots[0].substation.feeders = [{ id: 'SS-T/F2', buildings: ['T-01'] }, { id: 'SS-T/F1', buildings: ['T-01'] }];
    const { problems } = problemsOf(() => parseSiteSpec(raw, 'feeders'));
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^\/plots\/0\/substation\/feeders\/0\/id: feeder 1 of SS-T must be named "SS-T\/F1"/),
      expect.stringMatching(/^\/plots\/0\/substation\/feeders\/1\/buildings\/0: building "T-01" is already on feeder SS-T\/F2/),
      expect.stringMatching(/^\/plots\/0\/buildings\/1: building "T-02" is on no feeder of SS-T/),
    ]));
  });

  it('checks generated devices too: a pump room at the map edge puts pumps off the map', () => {
    const raw = tinyRaw();
    raw.plots[0].pumpRoom.position = [0, 60];
    const { problems } = problemsOf(() => parseSiteSpec(raw, 'edge'));
    expect(problems).toEqual([expect.stringMatching(/^device BP-T-1: \(-4, 60\) lies outside the 200 × 150 m map/)]);
  });

  it('says when the file is missing or not JSON', () => {
    expect(problemsOf(() => loadSite(fixture('no-such-site.json'))).code).toBe('SITE_FILE_UNREADABLE');
    const dir = mkdtempSync(join(tmpdir(), 'estatewatch-site-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{ "site": ');
    const { code, problems } = problemsOf(() => loadSite(file));
    expect(code).toBe('SITE_FILE_INVALID');
    expect(problems[0]).toMatch(/^not valid JSON/);
  });

  it('names the file and lists the problems in the message', () => {
    try {
      loadSite(fixture('broken-site.json'));
    } catch (err) {
      expect((err as Error).message).toContain('broken-site.json');
      expect((err as Error).message).toContain('  - /site/latitude: ');
      return;
    }
    throw new Error('expected a SiteFileError');
  });
});

describe('geometry', () => {
  const square: Point[] = [[0, 0], [100, 0], [100, 100], [0, 100]];

  it('rejects a rectangle that a notch in a concave outline cuts through', () => {
    const rect = { x: 10, y: 10, w: 80, h: 20 };
    expect(rectInPolygon(rect, square)).toBe(true);
    const notched: Point[] = [[0, 0], [49, 0], [50, 60], [51, 0], [100, 0], [100, 100], [0, 100]];
    expect(rectInPolygon(rect, notched)).toBe(false);
    expect(rectInPolygon({ x: 90, y: 90, w: 20, h: 5 }, square)).toBe(false);
  });

  it('spaces points evenly along a polyline, to the right of travel (y points south)', () => {
    expect(pointsAlong([[0, 0], [100, 0]], 4, 5)).toEqual([[12.5, 5], [37.5, 5], [62.5, 5], [87.5, 5]]);
    expect(pointsAlong([[0, 0], [0, 50], [50, 50]], 2, 2)).toEqual([[-2, 25], [25, 52]]);
  });
});

/**
 * The checks a schema cannot express: ids unique and resolvable, the handbook's
 * figures equal to the detail, every building on exactly one feeder, geometry
 * that fits. Each problem is reported as "<JSON path>: <what is wrong>", all of
 * them at once, so that a broken file is fixed in one pass.
 */
import { Value } from '@sinclair/typebox/value';
import { expandSite } from './expand.ts';
import { rectInPolygon, rectsOverlap } from './geometry.ts';
import { SiteSpecSchema, type SiteSpec } from './spec.ts';
import type { Point } from './types.ts';

/** Shape problems (types, missing or unknown keys, ranges), with JSON paths. */
export function schemaProblems(raw: unknown): string[] {
  // One problem per path: a missing key would otherwise also report its wrong type.
  const byPath = new Map<string, string>();
  for (const e of Value.Errors(SiteSpecSchema, raw)) {
    const path = e.path || '/';
    if (!byPath.has(path)) byPath.set(path, e.schema.description ? `${e.message} (${e.schema.description})` : e.message);
  }
  return [...byPath].map(([path, message]) => `${path}: ${message}`);
}

/** Meaning problems of a well-shaped spec. */
export function semanticProblems(spec: SiteSpec): string[] {
  const problems: string[] = [];
  const report = (path: string, message: string) => problems.push(`${path}: ${message}`);
  const { w, h } = spec.site.size;
  const inMap = (p: Point) => p[0] >= 0 && p[0] <= w && p[1] >= 0 && p[1] <= h;
  const checkInMap = (path: string, p: Point) => { if (!inMap(p)) report(path, `(${p[0]}, ${p[1]}) lies outside the ${w} × ${h} m map`); };

  const firstSeen = new Map<string, string>();
  const claimId = (path: string, id: string) => {
    const earlier = firstSeen.get(id);
    if (earlier !== undefined) report(path, `duplicate id "${id}" (first used at ${earlier})`);
    else firstSeen.set(id, path);
  };

  const plotIds = new Set(spec.plots.map((p) => p.id));
  const feederPlot = new Map<string, string>();
  const buildingPlot = new Map<string, string>();
  for (const plot of spec.plots) {
    plot.substation.feeders.forEach((f) => feederPlot.set(f.id, plot.id));
    plot.buildings.forEach((b) => buildingPlot.set(b.id, plot.id));
  }
  const checkFeederRef = (path: string, feederId: string, plotId: string) => {
    const owner = feederPlot.get(feederId);
    if (owner === undefined) report(path, `unknown feeder "${feederId}"`);
    else if (owner !== plotId) report(path, `feeder "${feederId}" belongs to plot ${owner}, not plot ${plotId}`);
  };

  spec.plots.forEach((plot, pi) => {
    const at = `/plots/${pi}`;
    claimId(`${at}/id`, `plot ${plot.id}`);
    plot.outline.forEach((p, i) => checkInMap(`${at}/outline/${i}`, p));

    const ss = plot.substation;
    claimId(`${at}/substation/id`, ss.id);
    if (ss.id !== `SS-${plot.id}`) report(`${at}/substation/id`, `substation of plot ${plot.id} must be named "SS-${plot.id}"`);
    checkInMap(`${at}/substation/position`, ss.position);

    const onFeeder = new Map<string, string>();
    ss.feeders.forEach((f, fi) => {
      const fat = `${at}/substation/feeders/${fi}`;
      claimId(`${fat}/id`, f.id);
      // The substation reports feeder n as metric feeder_n, so the ids must follow the list order.
      if (f.id !== `${ss.id}/F${fi + 1}`) report(`${fat}/id`, `feeder ${fi + 1} of ${ss.id} must be named "${ss.id}/F${fi + 1}"`);
      f.buildings.forEach((b, bi) => {
        const bat = `${fat}/buildings/${bi}`;
        const owner = buildingPlot.get(b);
        if (owner === undefined) report(bat, `unknown building "${b}"`);
        else if (owner !== plot.id) report(bat, `building "${b}" is in plot ${owner}, not plot ${plot.id}`);
        const other = onFeeder.get(b);
        if (other !== undefined) report(bat, `building "${b}" is already on feeder ${other}`);
        else onFeeder.set(b, f.id);
      });
    });

    checkFeederRef(`${at}/pumpRoom/feederId`, plot.pumpRoom.feederId, plot.id);
    checkInMap(`${at}/pumpRoom/position`, plot.pumpRoom.position);
    checkFeederRef(`${at}/streetLightFeederId`, plot.streetLightFeederId, plot.id);
    plot.hydrants.forEach((p, i) => checkInMap(`${at}/hydrants/${i}`, p));

    const hb = plot.handbook;
    if (hb.parkingUsable > hb.parkingSpaces) report(`${at}/handbook/parkingUsable`, `${hb.parkingUsable} usable of only ${hb.parkingSpaces} parking spaces`);
    if (hb.buildings !== plot.buildings.length) report(`${at}/handbook/buildings`, `handbook says ${hb.buildings} buildings, the plot lists ${plot.buildings.length}`);
    const households = plot.buildings.reduce((sum, b) => sum + b.households, 0);
    if (hb.households !== households) report(`${at}/handbook/households`, `handbook says ${hb.households} households, the buildings add up to ${households}`);

    if (plot.shopFront === undefined) {
      if (hb.shops > 0) report(`${at}/shopFront`, `plot has ${hb.shops} shops but no shop front to place them on`);
    } else {
      if (hb.shops > 99) report(`${at}/handbook/shops`, 'at most 99 shops per plot (shop ids have two digits)');
      checkFeederRef(`${at}/shopFront/feederId`, plot.shopFront.feederId, plot.id);
      plot.shopFront.line.forEach((p, i) => checkInMap(`${at}/shopFront/line/${i}`, p));
      const seen = new Set<number>();
      plot.shopFront.continuousUse.forEach((c, i) => {
        if (c.number > hb.shops) report(`${at}/shopFront/continuousUse/${i}/number`, `shop ${c.number} does not exist (the plot has ${hb.shops})`);
        if (seen.has(c.number)) report(`${at}/shopFront/continuousUse/${i}/number`, `shop ${c.number} is listed twice`);
        seen.add(c.number);
      });
    }

    plot.buildings.forEach((b, bi) => {
      const bat = `${at}/buildings/${bi}`;
      claimId(`${bat}/id`, b.id);
      if (!b.id.startsWith(`${plot.id}-`)) report(`${bat}/id`, `building "${b.id}" in plot ${plot.id} must be named "${plot.id}-nn"`);
      if (b.households !== b.floors * b.unitsPerFloor) {
        report(`${bat}/households`, `${b.households} households, but ${b.floors} floors × ${b.unitsPerFloor} units = ${b.floors * b.unitsPerFloor}`);
      }
      if (!onFeeder.has(b.id)) report(bat, `building "${b.id}" is on no feeder of ${ss.id}`);
      if (plot.outline.length >= 3 && !rectInPolygon(b.footprint, plot.outline)) report(`${bat}/footprint`, `building "${b.id}" lies (partly) outside the outline of plot ${plot.id}`);
      plot.buildings.slice(0, bi).forEach((other) => {
        if (rectsOverlap(b.footprint, other.footprint)) report(`${bat}/footprint`, `building "${b.id}" overlaps building "${other.id}"`);
      });
    });
  });

  const fpr = spec.firePumpRoom;
  if (!plotIds.has(fpr.plotId)) report('/firePumpRoom/plotId', `unknown plot "${fpr.plotId}"`);
  else checkFeederRef('/firePumpRoom/feederId', fpr.feederId, fpr.plotId);
  checkInMap('/firePumpRoom/position', fpr.position);
  if (!plotIds.has(spec.generator.plotId)) report('/generator/plotId', `unknown plot "${spec.generator.plotId}"`);
  checkInMap('/generator/position', spec.generator.position);

  spec.roads.forEach((r, ri) => {
    claimId(`/roads/${ri}/id`, `road ${r.id}`);
    r.points.forEach((p, i) => checkInMap(`/roads/${ri}/points/${i}`, p));
  });

  if (problems.length > 0) return problems;

  // The generated devices get the same scrutiny: offsets around a room near the
  // map's edge, or a building id that collides with a generated one.
  const site = expandSite(spec);
  const deviceIds = new Set<string>();
  for (const d of site.devices) {
    if (deviceIds.has(d.id)) report(`device ${d.id}`, 'generated twice (two things would publish under one id)');
    deviceIds.add(d.id);
    if (!inMap(d.position)) report(`device ${d.id}`, `(${d.position[0]}, ${d.position[1]}) lies outside the ${w} × ${h} m map`);
  }
  return problems;
}


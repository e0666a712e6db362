import { describe, expect, it } from 'vitest';
import { KINDS } from '../../server/src/catalogue/kinds.ts';
import type { Device } from '../../server/src/catalogue/types.ts';
import { PLOT_LOSS_SHARE, PLOT_SEEPAGE_M3H } from '../../simulators/src/demand.ts';
import { SimEnv } from '../../simulators/src/env.ts';
import { BOOSTER, boosterRoleAt } from '../../simulators/src/models/booster-pump.ts';
import { FIRE_MAIN } from '../../simulators/src/models/fire-pump.ts';
import { bind } from '../../simulators/src/models/index.ts';
import { waterMeter } from '../../simulators/src/models/water-meter.ts';
import { deviceRng } from '../../simulators/src/random.ts';
import { localTime } from '../../simulators/src/sim-clock.ts';
import { Simulation, type SimMessage } from '../../simulators/src/simulation.ts';
import { sunTimes } from '../../server/src/domain/sun.ts';
import { SIM_DEVICES, at, metricProblems, registerProblems, simSite, simulate, telemetryByDevice, type Report } from '../support/sim-site.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const site = simSite();
// A summer week from Monday 2025-06-16 and a winter day, computed once.
const summerWeek = simulate(site, 7, at(2025, 6, 16), at(2025, 6, 23));
const winterDay = simulate(site, 7, at(2025, 12, 21), at(2025, 12, 22));
const weekByDevice = telemetryByDevice(summerWeek);
const winterByDevice = telemetryByDevice(winterDay);
const week = (id: string): Report[] => weekByDevice.get(id) ?? [];
const hourOf = (ts: number) => localTime(ts, 480).hour;

describe.each([
  ['a summer week', summerWeek, weekByDevice],
  ['a winter day', winterDay, winterByDevice],
] as const)('every message of %s', (_name, messages, byDevice) => {
  it('names only known metrics, each inside its kind\'s range', () => {
    expect(metricProblems(messages).slice(0, 10)).toEqual([]);
  });

  it('never lets a cumulative register decrease', () => {
    expect(registerProblems(messages)).toEqual([]);
  });

  it('reports every device at its kind\'s interval, with seq counting from 1', () => {
    const problems: string[] = [];
    for (const device of SIM_DEVICES) {
      const reports = byDevice.get(device.id) ?? [];
      const intervalMs = KINDS[device.kind].reportIntervalS * 1000;
      if (reports.length < DAY / intervalMs - 1) problems.push(`${device.id}: only ${reports.length} reports`);
      reports.forEach((r, i) => {
        if (r.seq !== i + 1) problems.push(`${device.id}: seq ${r.seq} at position ${i + 1}`);
        if (i > 0 && r.ts - reports[i - 1]!.ts !== intervalMs) problems.push(`${device.id}: ${r.ts - reports[i - 1]!.ts} ms between reports`);
      });
    }
    expect(problems.slice(0, 10)).toEqual([]);
  });
});

describe('street lights', () => {
  it.each([
    ['summer', at(2025, 6, 21), weekByDevice],
    ['winter', at(2025, 12, 21), winterByDevice],
  ] as const)('are on only between sunset and sunrise on a %s day', (_name, midnight, byDevice) => {
    const sun = sunTimes(midnight + 12 * HOUR, site.latitude, site.longitude);
    if (sun.kind !== 'normal') throw new Error('expected a normal day');
    const reports = (byDevice.get('SL-A-001') ?? []).filter((r) => r.ts >= midnight && r.ts < midnight + DAY);
    const margin = 6 * 60_000; // the controller switches at most 5 minutes inside the night
    const problems = reports.flatMap((r) => {
      const night = r.ts < sun.sunriseMs || r.ts >= sun.sunsetMs;
      const deepNight = r.ts < sun.sunriseMs - margin || r.ts >= sun.sunsetMs + margin;
      const power = r.m.power_w as number;
      const ok = r.m.on ? night && power > 90 && power < 110 : !deepNight && power === 0;
      return ok ? [] : [`${new Date(r.ts).toISOString()}: on=${r.m.on} power=${power}`];
    });
    expect(problems).toEqual([]);
    expect(reports.length).toBe(288);
    const nightHours = (DAY - (sun.sunsetMs - sun.sunriseMs)) / HOUR;
    const lampHours = (reports.at(-1)!.m.lamp_hours as number) - (reports[0]!.m.lamp_hours as number);
    expect(lampHours).toBeGreaterThan(nightHours - 0.4);
    expect(lampHours).toBeLessThan(nightHours + 0.1);
  });

  it('burn longer on winter nights than on summer nights', () => {
    const burned = (byDevice: Map<string, Report[]>, midnight: number) => {
      const r = (byDevice.get('SL-A-002') ?? []).filter((x) => x.ts >= midnight && x.ts < midnight + DAY);
      return (r.at(-1)!.m.lamp_hours as number) - (r[0]!.m.lamp_hours as number);
    };
    expect(burned(winterByDevice, at(2025, 12, 21))).toBeGreaterThan(burned(weekByDevice, at(2025, 6, 21)) + 2.5);
  });
});

describe('pumps in normal operation', () => {
  it('hold the booster outlet within ±0.05 MPa of the set point', () => {
    for (const id of ['BP-A-1', 'BP-A-2', 'BP-A-3']) {
      const pressures = week(id).map((r) => r.m.pressure_mpa as number);
      expect(pressures.length).toBeGreaterThan(60_000);
      expect(pressures.filter((p) => Math.abs(p - BOOSTER.setPointMpa) > 0.05)).toEqual([]);
    }
  });

  it('keep the duty pump running and the standby pump stopped, rotating the roles every day at 02:00', () => {
    const env = new SimEnv(site, 7);
    const pumps = SIM_DEVICES.filter((d) => d.kind === 'booster-pump');
    const dutyOf: string[] = [];
    // Whole rotation days, leaving out the 10 s around each handover (the pumps report at their own phases).
    for (let day = at(2025, 6, 16, 2); day + DAY <= at(2025, 6, 23); day += DAY) {
      const inDay = (r: Report) => r.ts >= day + 10_000 && r.ts < day + DAY - 10_000;
      const runs = pumps.filter((d) => week(d.id).filter(inDay).every((r) => r.m.running === true && (r.m.power_kw as number) > 0));
      const rests = pumps.filter((d) => week(d.id).filter(inDay).every((r) => r.m.running === false && r.m.power_kw === 0));
      expect(runs.map((d) => d.id), new Date(day).toISOString()).toHaveLength(1); // the test site's few households never call the assist pump
      expect(rests).toHaveLength(2);
      expect(boosterRoleAt(runs[0]!, env, day + HOUR)).toBe('duty');
      dutyOf.push(runs[0]!.id);
    }
    // The next pump in line takes over each day: every pump has its turn.
    expect(dutyOf).toHaveLength(6);
    dutyOf.forEach((id, i) => i > 0 && expect(Number(id.at(-1)), id).toBe((Number(dutyOf[i - 1]!.at(-1)) % 3) + 1));
    const vibration = pumps.flatMap((d) => week(d.id).filter((r) => r.m.running).map((r) => r.m.vibration_mms as number));
    expect(Math.min(...vibration)).toBeGreaterThan(1.5);
    expect(Math.max(...vibration)).toBeLessThan(3.5);
  });

  it('share the wear: over the week each pump runs for its days of duty and starts once per turn', () => {
    const gained = (id: string, metric: string) => (week(id).at(-1)!.m[metric] as number) - (week(id)[0]!.m[metric] as number);
    const runHours = ['BP-A-1', 'BP-A-2', 'BP-A-3'].map((id) => gained(id, 'run_hours'));
    expect(runHours.reduce((a, b) => a + b, 0)).toBeCloseTo(7 * 24, -1);
    for (const h of runHours) {
      expect(h).toBeGreaterThan(2 * 24 - 1); // 7 days over 3 pumps: two or three days each
      expect(h).toBeLessThan(3 * 24 + 1);
    }
    const starts = ['BP-A-1', 'BP-A-2', 'BP-A-3'].map((id) => gained(id, 'starts'));
    expect(starts.reduce((a, b) => a + b, 0)).toBe(7); // one handover a day, 02:00 on the 16th to the 22nd
  });

  it('hold the fire main within ±0.05 MPa of 0.8, the jockey starting about once every 50 minutes', () => {
    for (const id of ['FP-ELECTRIC', 'FP-JOCKEY', 'FP-DIESEL']) {
      const pressures = week(id).map((r) => r.m.pressure_mpa as number);
      expect(pressures.filter((p) => Math.abs(p - FIRE_MAIN.setPointMpa) > 0.05)).toEqual([]);
    }
    const jockey = week('FP-JOCKEY');
    const starts = (jockey.at(-1)!.m.starts as number) - (jockey[0]!.m.starts as number);
    expect(starts).toBeGreaterThan(7 * 24 * 60 / 50 - 3);
    expect(starts).toBeLessThan(7 * 24 * 60 / 50 + 1);
  });

  it('test-run the diesel fire pump every Monday 09:00–09:30 and the electric one on the first Monday 09:40', () => {
    const runningAt = (id: string) => week(id).filter((r) => r.m.running).map((r) => r.ts);
    const diesel = runningAt('FP-DIESEL');
    expect(diesel.length).toBeGreaterThan(170); // 30 min at 10 s
    expect(diesel.every((ts) => ts >= at(2025, 6, 16, 9) && ts < at(2025, 6, 16, 9, 30))).toBe(true);
    expect(runningAt('FP-ELECTRIC')).toEqual([]); // 16 June is the third Monday
    const events = summerWeek.filter((m) => m.device.id === 'FP-DIESEL' && m.channel === 'event').map((m) => m.channel === 'event' && m.payload.event);
    expect(events).toEqual(['start', 'stop']);
    const fuel = week('FP-DIESEL').map((r) => r.m.fuel_pct as number);
    expect(fuel[0]! - fuel.at(-1)!).toBeCloseTo(30 / 60 * 3.75, 0);
  });
});

describe('generator', () => {
  it('runs its no-load test on Tuesday 10:00–10:15 and otherwise stands by on a charged battery', () => {
    const reports = week('GEN-1');
    const running = reports.filter((r) => r.m.state !== 'standby');
    expect(running.length).toBeGreaterThan(85);
    expect(running.every((r) => r.ts >= at(2025, 6, 17, 10) && r.ts < at(2025, 6, 17, 10, 15))).toBe(true);
    expect(Math.max(...running.map((r) => r.m.coolant_c as number))).toBeGreaterThan(70);
    const standby = reports.filter((x) => x.m.state === 'standby');
    expect(standby.filter((r) => (r.m.battery_v as number) < 24 || (r.m.battery_v as number) > 27.5 || r.m.oil_kpa !== 0)).toEqual([]);
    const events = summerWeek.filter((m) => m.device.id === 'GEN-1' && m.channel === 'event');
    expect(events.map((m) => (m.channel === 'event' ? [m.payload.event, m.payload.seq] : []))).toEqual([['start', 1], ['stop', 2]]);
  });
});

describe('elevators', () => {
  const reports = week('EL-A-01-1');

  it('stay within the building and never move with the door open', () => {
    const floors = new Set(reports.map((r) => r.m.floor));
    expect([...floors].sort()).toEqual([1, 2, 3, 4]);
    expect(reports.filter((r) => r.m.door !== 'closed' && (r.m.direction !== 'idle' || r.m.between_floors))).toEqual([]);
    expect(reports.some((r) => r.m.door === 'open')).toBe(true);
    expect(reports.some((r) => r.m.direction === 'up')).toBe(true);
    expect(reports.some((r) => r.m.direction === 'down')).toBe(true);
    expect(reports.some((r) => (r.m.load_kg as number) > 0)).toBe(true);
  });

  it('are busy at the morning peak and nearly still at night', () => {
    const tripsIn = (fromH: number, toH: number) => {
      let trips = 0;
      for (let i = 1; i < reports.length; i++) {
        const h = hourOf(reports[i]!.ts);
        if (h >= fromH && h < toH) trips += (reports[i]!.m.trips as number) - (reports[i - 1]!.m.trips as number);
      }
      return trips;
    };
    expect(tripsIn(7, 9)).toBeGreaterThan(3 * tripsIn(2, 4) + 5);
    const first = reports[0]!.m;
    const last = reports.at(-1)!.m;
    const trips = (last.trips as number) - (first.trips as number);
    const doorCycles = (last.door_cycles as number) - (first.door_cycles as number);
    expect(doorCycles).toBeGreaterThanOrEqual(trips * 0.9);
    expect(doorCycles).toBeLessThanOrEqual(trips * 2 + 2);
  });
});

describe('meters', () => {
  const env = new SimEnv(site, 7);
  const bindMeter = (device: Device, t0: number) => bind(waterMeter, { device, rng: deviceRng(7, device.id), env }, t0);

  it('make the plot inlet the sum of households and shops plus the background loss', () => {
    const t0 = at(2025, 6, 21);
    const meters = SIM_DEVICES.filter((d) => d.kind === 'water-meter').map((d) => ({ d, meter: bindMeter(d, t0) }));
    const read = (t: number) => new Map(meters.map(({ d, meter }) => [d.id, meter.report(t).telemetry.volume_m3 as number]));
    let previous = read(t0 + 900_000);
    for (let t = t0 + HOUR; t <= t0 + 2 * DAY; t += HOUR) {
      const now = read(t);
      const delta = (id: string) => now.get(id)! - previous.get(id)!;
      const consumers = meters.filter(({ d }) => d.role !== 'plot-inlet').reduce((sum, { d }) => sum + delta(d.id), 0);
      const inlet = delta('WM-A-INLET');
      const hours = (t - (t === t0 + HOUR ? t0 + 900_000 : t - HOUR)) / HOUR;
      const expected = consumers * (1 + PLOT_LOSS_SHARE) + PLOT_SEEPAGE_M3H * hours;
      expect(Math.abs(inlet - expected)).toBeLessThanOrEqual(0.001 * (meters.length + 1)); // rounding to litres
      expect(inlet).toBeGreaterThanOrEqual(consumers);
      previous = now;
    }
  });

  it('use almost no water between 02:00 and 04:00 and most at the morning and evening peaks', () => {
    const volume = (fromH: number, toH: number) => {
      let v = 0;
      for (let day = at(2025, 6, 1); day < at(2025, 6, 29); day += DAY) v += env.demand.groupWaterVolume('building:A-01', day + fromH * HOUR, day + toH * HOUR);
      return v;
    };
    expect(volume(2, 4)).toBeLessThan(0.1 * volume(7, 9));
    expect(volume(2, 4)).toBeLessThan(0.1 * volume(19, 21));
  });

  it('show quiet spells in a normal household, so it never looks like a continuous leak', () => {
    const reports = week('WM-A-01-0101');
    let longestFlowH = 0;
    let runStart = reports[0]!.ts;
    for (let i = 1; i < reports.length; i++) {
      if (reports[i]!.m.volume_m3 === reports[i - 1]!.m.volume_m3) runStart = reports[i]!.ts;
      longestFlowH = Math.max(longestFlowH, (reports[i]!.ts - runStart) / HOUR);
    }
    expect(longestFlowH).toBeLessThan(12);
  });

  it('keep electric meters near 230 V and substations near 400 V with every feeder closed', () => {
    const meterVolts = SIM_DEVICES.filter((d) => d.kind === 'electric-meter').flatMap((d) => week(d.id).map((r) => r.m.voltage_v as number));
    expect(meterVolts.filter((v) => v < 220 || v > 240)).toEqual([]);
    const substation = week('SS-A');
    expect(substation.filter((r) => (r.m.voltage_v as number) < 390 || (r.m.voltage_v as number) > 415)).toEqual([]);
    expect(new Set(substation.map((r) => JSON.stringify(Object.entries(r.m).filter(([k]) => k.startsWith('feeder_')))))).toEqual(
      new Set([JSON.stringify([['feeder_1', true], ['feeder_2', true]])]),
    );
  });

  it('make the substation carry what the plot main meter measures', () => {
    const main = week('EM-A-MAIN');
    const sub = week('SS-A');
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const ratio = mean(sub.map((r) => r.m.load_kw as number)) / mean(main.map((r) => r.m.power_kw as number));
    expect(ratio).toBeGreaterThan(0.98);
    expect(ratio).toBeLessThan(1.06);
  });
});

describe('determinism', () => {
  const from = at(2025, 3, 10, 6);
  const to = from + 6 * HOUR;
  const json = (messages: SimMessage[]) => messages.map((m) => `${m.device.id} ${m.channel} ${JSON.stringify(m.payload)}`);

  it('gives identical messages for one seed and different ones for another', () => {
    const a = json(simulate(site, 11, from, to));
    expect(json(simulate(site, 11, from, to))).toEqual(a);
    const b = json(simulate(site, 12, from, to));
    expect(b).not.toEqual(a);
    expect(b.length).toBeGreaterThan(0);
  });

  it('gives the same messages whether time advances in one step or in many', () => {
    const sim = new Simulation({ site, seed: 11, startMs: from });
    const stepped: SimMessage[] = [];
    for (let t = from; t <= to; t += 7_777) sim.advanceTo(t, (m) => stepped.push(m));
    sim.advanceTo(to, (m) => stepped.push(m));
    expect(json(stepped)).toEqual(json(simulate(site, 11, from, to)));

    const chunked = new Simulation({ site, seed: 11, startMs: from });
    const inChunks: SimMessage[] = [];
    while (chunked.time < to) chunked.advanceTo(to, (m) => inChunks.push(m), 7);
    expect(json(inChunks)).toEqual(json(stepped));
  });

  it('leaves every other device unchanged when a device is added', () => {
    const extra: Device = { ...SIM_DEVICES.find((d) => d.id === 'HY-A-01')!, id: 'HY-A-99' };
    const withExtra = json(simulate(simSite(undefined, [extra]), 11, from, to).filter((m) => m.device.id !== 'HY-A-99'));
    expect(withExtra.sort()).toEqual(json(simulate(site, 11, from, to)).sort());
  });
});

describe('bad input', () => {
  it('refuses a device whose role has no model', () => {
    const odd: Device = { ...SIM_DEVICES[0]!, id: 'WM-ODD', role: 'jockey' };
    expect(() => new Simulation({ site: simSite(undefined, [odd]), seed: 1, startMs: 0 })).toThrow(expect.objectContaining({ code: 'SIM_UNSUPPORTED_DEVICE' }));
  });

  it('refuses a filter that selects nothing or names an unknown plot', () => {
    expect(() => new Simulation({ site, seed: 1, startMs: 0, filter: { plot: 'Z' } })).toThrow(expect.objectContaining({ code: 'SIM_EMPTY_SELECTION' }));
    expect(() => new Simulation({ site, seed: 1, startMs: 0, filter: { building: 'A-01', kind: 'generator' } })).toThrow(expect.objectContaining({ code: 'SIM_EMPTY_SELECTION' }));
    expect(new Simulation({ site, seed: 1, startMs: 0, filter: { building: 'A-01', kind: 'elevator' } }).devices.map((d) => d.id)).toEqual(['EL-A-01-1', 'EL-A-01-2']);
  });

  it('refuses a seed that is not an integer and an interval that is not positive', () => {
    expect(() => new Simulation({ site, seed: 1.5, startMs: 0 })).toThrow(expect.objectContaining({ code: 'SIM_BAD_OPTION' }));
    expect(() => new Simulation({ site, seed: 1, startMs: 0, intervalsS: { elevator: 0 } })).toThrow(expect.objectContaining({ code: 'SIM_BAD_OPTION' }));
  });
});

/** The whole Blue Valley fleet, from the real catalogue, over an evening peak hour in summer. */
import { describe, expect, it } from 'vitest';
import { KINDS } from '../../server/src/catalogue/kinds.ts';
import { loadSite } from '../../server/src/catalogue/load.ts';
import { SimEnv } from '../../simulators/src/env.ts';
import { BOOSTER, boosterRoleAt, type PumpRole } from '../../simulators/src/models/booster-pump.ts';
import { at, metricProblems, registerProblems, simulate, telemetryByDevice } from '../support/sim-site.ts';

const HOUR = 3_600_000;
const site = loadSite(null);
const from = at(2025, 7, 15, 19, 30); // a Tuesday
const messages = simulate(site, 7, from, from + HOUR);
const byDevice = telemetryByDevice(messages);

describe('Blue Valley, one summer evening hour', () => {
  it('runs every device of the catalogue at its kind\'s interval', () => {
    const wrong = site.devices.filter((d) => {
      const count = byDevice.get(d.id)?.length ?? 0;
      const expected = HOUR / (KINDS[d.kind].reportIntervalS * 1000);
      return count < Math.floor(expected) || count > Math.ceil(expected) + 1;
    });
    expect(wrong.map((d) => d.id)).toEqual([]);
    expect(byDevice.size).toBe(site.devices.length);
  });

  it('keeps every value inside its kind\'s range and every register rising', () => {
    expect(metricProblems(messages).slice(0, 10)).toEqual([]);
    expect(registerProblems(messages).slice(0, 10)).toEqual([]);
  });

  it('brings in the assist pumps at the evening peak and holds the set point', () => {
    const env = new SimEnv(site, 7);
    const pumps = site.devices.filter((d) => d.kind === 'booster-pump');
    // The roles of the day: on 15 July the rotation has moved each pump one place from the catalogue.
    expect(pumps.filter((d) => boosterRoleAt(d, env, from) === 'duty').map((d) => d.id)).toEqual(['BP-A-2', 'BP-B-2', 'BP-C-2']);
    const running = (role: PumpRole) => pumps.filter((d) => boosterRoleAt(d, env, from) === role && byDevice.get(d.id)!.some((r) => r.m.running));
    expect(running('duty')).toHaveLength(site.plots.length);
    expect(running('assist').length).toBeGreaterThan(0);
    expect(running('standby')).toEqual([]);
    const pressures = pumps.flatMap((d) => byDevice.get(d.id)!.map((r) => r.m.pressure_mpa as number));
    expect(pressures.filter((p) => Math.abs(p - BOOSTER.setPointMpa) > 0.05)).toEqual([]);
  });

  it('gives each plot a daily water use and a load its households could plausibly have', () => {
    const env = new SimEnv(site, 7);
    const day = at(2025, 7, 15);
    for (const plot of site.plots) {
      const perHousehold = env.demand.groupWaterVolume(`plot:${plot.id}`, day, day + 24 * HOUR) / (plot.households + plot.shops);
      expect(perHousehold, plot.id).toBeGreaterThan(0.25);
      expect(perHousehold, plot.id).toBeLessThan(0.6);
      const kw = env.demand.plotElectricKw(plot.id, from);
      expect(kw / plot.households, plot.id).toBeGreaterThan(0.3);
      expect(kw / plot.households, plot.id).toBeLessThan(3);
    }
  });
});

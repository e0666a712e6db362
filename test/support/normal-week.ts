/**
 * Seven normal days of one plot through the AlarmEngine must raise no alarm.
 * One file per plot so they run in parallel: every rule is judged within a
 * plot (feeders hang off the plot's substation), so three plots judged apart
 * are the whole site judged at once.
 *
 * Occupancy: every household but those away on some day of the week (as
 * the model has them), which would have told the office of their trip.
 *
 * Intervals, for time: water meters keep their 15 min (the leak rule needs
 * quarter-hours); electric meters report every 30 min, elevators every 20 s,
 * pumps, substations and the generator every 30 s (all still inside their silence
 * limits: 45 min and 60 s); lights and hydrants at their 5 min. Messages skip
 * the JSON round trip (the truth table covers validation).
 */
import { describe, expect, it } from 'vitest';
import { loadSite } from '../../server/src/catalogue/load.ts';
import { runWithEngine } from './scenario-run.ts';

const DAY = 86_400_000;

export function normalWeek(plotId: string, start: string): void {
  describe(`plot ${plotId}: seven normal days from ${start}`, () => {
    it('raise no alarm at all', { timeout: 300_000 }, () => {
      const fromMs = Date.parse(start);
      const result = runWithEngine({
        site: loadSite(null), seed: 7, fromMs, toMs: fromMs + 7 * DAY, filter: { plot: plotId },
        // A household away on any day of the week told the office: it is not on the welfare watch.
        occupied: (unitId, env) => !Array.from({ length: 7 }, (_, d) => env.demand.isAway(unitId, fromMs + d * DAY + DAY / 2)).some(Boolean),
        intervalsS: { 'electric-meter': 1800, elevator: 20, 'booster-pump': 30, 'fire-pump': 30, generator: 30, substation: 30 }, tickMs: 30_000, validate: false,
      });
      expect(result.messages).toBeGreaterThan(100_000);
      expect(result.alarms.map((a) => `${a.id} ${a.message ?? ''}`)).toEqual([]);
    });
  });
}

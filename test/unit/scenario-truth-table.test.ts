/**
 * The scenario catalogue as the truth table of the anomaly engine: each
 * scenario, simulated around its devices in event time and passed through
 * ingest validation and the AlarmEngine, raises exactly its expected alarms on
 * the expected devices within their detection times, and nothing else.
 */
import { describe, expect, it } from 'vitest';
import { loadSite } from '../../server/src/catalogue/load.ts';
import { RULES } from '../../server/src/domain/alarms/rules.ts';
import { SimEnv } from '../../simulators/src/env.ts';
import { SCENARIOS, observeMs, scenarioStartMs, type Scenario } from '../../simulators/src/scenarios.ts';
import { runWithEngine } from '../support/scenario-run.ts';

const site = loadSite(null);
const SEED = 7;
/** Monday 13 January 2025, 00:00 in the site's zone: a winter week (for the freeze scenario). */
const BASE = Date.parse('2025-01-13T00:00:00+08:00');
const HOUR = 3_600_000;
const env = new SimEnv(site, SEED);

function judge(scenario: Scenario) {
  const warmup = scenario.warmupMs ?? HOUR;
  const faultAt = scenarioStartMs(scenario, BASE + warmup, env);
  const result = runWithEngine({
    site, seed: SEED, fromMs: faultAt - warmup, toMs: faultAt + observeMs(scenario) + 1,
    filter: scenario.scope, injections: scenario.inject(faultAt),
    ...(scenario.judgeIntervalsS ? { intervalsS: scenario.judgeIntervalsS } : {}),
  });
  return { faultAt, ...result };
}

describe('scenario catalogue', () => {
  it('has unique ids, devices of the site and rules the engine knows', () => {
    expect(new Set(SCENARIOS.map((s) => s.id)).size).toBe(SCENARIOS.length);
    const ruleIds = new Set(RULES.map((r) => r.id));
    for (const s of SCENARIOS) {
      for (const a of s.expected.alarms) {
        expect(ruleIds.has(a.ruleId), `${s.id}: ${a.ruleId}`).toBe(true);
        expect(site.devices.some((d) => d.id === a.deviceId), `${s.id}: ${a.deviceId}`).toBe(true);
      }
    }
  });
});

describe.each(SCENARIOS.map((s) => [s.id, s] as const))('scenario %s', (_id, scenario) => {
  it('raises its expected alarms in time, and no other', { timeout: 240_000 }, () => {
    const { faultAt, annunciated, alarms, deadLetters } = judge(scenario);
    for (const expected of scenario.expected.alarms) {
      const id = `${expected.deviceId}:${expected.ruleId}`;
      const at = annunciated.get(id);
      expect(at, `${id} raised`).toBeDefined();
      expect(at! - faultAt, `${id} detection time`).toBeLessThanOrEqual(expected.withinMs);
      expect(at! - faultAt, `${id} not before the fault`).toBeGreaterThanOrEqual(0);
      if (expected.chattering) expect(alarms.find((a) => a.id === id)?.chattering, `${id} chattering`).toBe(true);
    }
    const expectedIds = new Set(scenario.expected.alarms.map((a) => `${a.deviceId}:${a.ruleId}`));
    expect([...annunciated.keys()].filter((id) => !expectedIds.has(id))).toEqual([]);
    if (scenario.expected.suppressesOthers) {
      const others = alarms.filter((a) => !expectedIds.has(a.id));
      expect(others.length, 'downstream alarms exist').toBeGreaterThan(0);
      expect(others.filter((a) => a.suppressedBy === null).map((a) => a.id)).toEqual([]);
    }
    expect([...new Set(deadLetters)].sort()).toEqual([...(scenario.expected.deadLetters ?? [])].sort());
  });
});

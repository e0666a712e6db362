import { describe, expect, it } from 'vitest';
import { KINDS } from '../../server/src/catalogue/kinds.ts';
import { isSilent } from '../../server/src/domain/alarms/detectors.ts';
import { RULES, type SilenceDetector } from '../../server/src/domain/alarms/rules.ts';
import { MINUTE, SECOND, expected, run, type Step } from '../support/alarm-site.ts';

const bar = (pressure_mpa: number) => ({ pressure_mpa });
const load = (load_kw: number) => ({ load_kw });

describe('rate-of-change and flat-line detectors', () => {
  it.each<[string, string, Step[], string]>([
    // hydrant.pressure-drop: falling faster than 0.02 MPa/min, over a 15-min window, judged from a 5-min span.
    ['hydrant.pressure-drop', 'exactly at the limit is normal, just faster is a drop', [[0, bar(0.35)], [5 * MINUTE, bar(0.25)], [10 * MINUTE, bar(0.149)]], 'uca'],
    ['hydrant.pressure-drop', 'a span shorter than 5 min cannot be judged', [[0, bar(0.35)], [4 * MINUTE, bar(0.1)]], 'uu'],
    ['hydrant.pressure-drop', 'readings older than the window no longer count', [[0, bar(0.35)], [5 * MINUTE, bar(0.35)], [10 * MINUTE, bar(0.35)], [15 * MINUTE, bar(0.25)]], 'ucc c'],
    ['hydrant.pressure-drop', 'a rise is not a drop', [[0, bar(0.2)], [5 * MINUTE, bar(0.6)]], 'uc'],
    ['hydrant.pressure-drop', 'late readings are ignored', [[0, bar(0.35)], [10 * MINUTE, bar(0.35)], [5 * MINUTE, bar(0.05)]], 'ucu'],
    // substation.load-stuck: the same value (tolerance 0) for 30 min.
    ['substation.load-stuck', 'frozen for 30 min', [[0, load(500)], [30 * MINUTE - 1, load(500)], [30 * MINUTE, load(500)], [31 * MINUTE, load(500.1)]], 'ccac'],
    ['substation.load-stuck', 'any change restarts the window', [[0, load(500)], [20 * MINUTE, load(501)], [45 * MINUTE, load(501)], [50 * MINUTE, load(501)]], 'ccca'],
  ])('%s: %s', (ruleId, _name, steps, codes) => {
    expect(run(ruleId, steps)).toEqual(expected(codes));
  });
});

describe('silence (wall clock)', () => {
  const silence = RULES.find((r) => r.id === 'device.silent')!.detector as SilenceDetector;

  it.each([
    // elevator: 3 × 5 s is less than the 60 s floor
    ['elevator', 60 * SECOND, false],
    ['elevator', 60 * SECOND + 1, true],
    // hydrant: 3 × 300 s
    ['hydrant', 900 * SECOND, false],
    ['hydrant', 900 * SECOND + 1, true],
    // water meter: 3 × 900 s
    ['water-meter', 45 * MINUTE, false],
    ['water-meter', 45 * MINUTE + 1, true],
  ] as const)('%s quiet for %i ms: silent %s', (kind, quietMs, silent) => {
    expect(isSilent(silence, KINDS[kind].reportIntervalS, 1_000_000, 1_000_000 + quietMs)).toBe(silent);
  });
});

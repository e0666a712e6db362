import { describe, expect, it } from 'vitest';
import { KINDS } from '../../server/src/catalogue/kinds.ts';
import { RULES, type Predicate, type Rule } from '../../server/src/domain/alarms/rules.ts';

/** Every metric a rule reads, with the type it expects. */
function metricsOf(rule: Rule): { metric: string; type: 'number' | 'boolean' | 'string' }[] {
  const d = rule.detector;
  switch (d.type) {
    case 'threshold': case 'rate-of-change': case 'flat-line': case 'register-decrease': case 'register-jump': case 'continuous-use': case 'no-use': case 'register-stale':
    case 'night-flow': case 'own-baseline': case 'water-balance':
      return [{ metric: d.metric, type: 'number' }];
    case 'trend':
      return [{ metric: d.metric, type: 'number' }, ...(d.while ? [{ metric: d.while.metric, type: typeof d.while.value as 'number' | 'boolean' | 'string' }] : [])];
    case 'register-increase':
      return [{ metric: d.metric, type: 'number' }, ...(d.per ? [{ metric: d.per.metric, type: 'number' as const }] : [])];
    case 'condition':
      return [
        ...d.all.flatMap((p: Predicate) => ('metric' in p ? [{ metric: p.metric, type: typeof p.value as 'number' | 'boolean' | 'string' }] : [])),
        ...(d.steady ?? []).map((metric) => ({ metric, type: KINDS[rule.kinds[0]!].metrics[metric]?.type ?? 'number' })),
      ];
    case 'silence': case 'offline': case 'feeder-lost':
      return [];
  }
}

describe('rule catalogue', () => {
  it('has unique ids', () => {
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
  });

  it.each(RULES.map((r) => [r.id, r] as const))('%s reads only metrics its kinds report, with the right type', (_id, rule) => {
    for (const kind of rule.kinds) {
      for (const { metric, type } of metricsOf(rule)) {
        expect(KINDS[kind].metrics[metric]?.type, `${kind}.${metric}`).toBe(type);
      }
    }
  });

  it.each(RULES.map((r) => [r.id, r] as const))('%s has English and Chinese text', (_id, rule) => {
    expect(rule.title.en.length).toBeGreaterThan(5);
    expect(rule.title.zh).toMatch(/[\u4e00-\u9fff]/);
  });

  it('registers used for decreases, jumps and counts are cumulative', () => {
    for (const rule of RULES) {
      const d = rule.detector;
      if (d.type !== 'register-decrease' && d.type !== 'register-jump' && d.type !== 'register-increase' && d.type !== 'continuous-use' && d.type !== 'no-use'
        && d.type !== 'night-flow' && d.type !== 'own-baseline' && d.type !== 'water-balance') continue;
      for (const kind of rule.kinds) expect(KINDS[kind].metrics[d.metric]?.cumulative, `${rule.id} ${kind}.${d.metric}`).toBe(true);
    }
  });

  it('entrapment, fire-pump failure and generator fail-to-start are priority 1 emergencies', () => {
    for (const id of ['elevator.entrapment', 'fire-pump.dry-run', 'generator.fail-to-start']) {
      expect(RULES.find((r) => r.id === id)).toMatchObject({ priority: 1, ticket: 'emergency' });
    }
  });

  it('every feeder a substation can report has an outage rule that is a root cause', () => {
    for (let n = 1; n <= 8; n++) {
      expect(RULES.find((r) => r.id === `substation.feeder-outage-${n}`)?.outageOfFeeder).toBe(n);
      expect(KINDS.substation.metrics[`feeder_${n}`]?.type).toBe('boolean');
    }
  });
});

/**
 * Detector functions: (rule, state, reading, context) → (state, condition).
 * Pure and in EVENT time: every duration is measured between readings' own
 * timestamps, so a day of hourly readings uploaded in one batch, or a replay
 * at 3600×, is judged exactly like live data.
 *
 * Order: a reading counts only if (ts, seq) is after the last one this
 * detector used. An older one (late, out of order) or the same (duplicate) is
 * ignored — it was stored, but judging it now against a newer state could
 * only raise false alarms. A reading without the detector's metric is
 * ignored too and does not move that mark.
 *
 * The returned condition is the level after this reading: 'active' or
 * 'clear'; 'unchanged' when the reading could not be judged (ignored, or the
 * first sample of a detector that needs two). The alarm lifecycle turns
 * levels into transitions.
 *
 * All state is plain JSON (the engine snapshots it).
 */
import type { Device } from '../../catalogue/types.ts';
import type { MetricValue } from '../../contract.ts';
import type { Reading } from '../../ports/time-series.ts';
import type {
  Comparison, ConditionDetector, ContinuousUseDetector, FlatLineDetector, NoUseDetector, Predicate, RateOfChangeDetector, RegisterStaleDetector,
  ReadingDetector, ReadingRule, RegisterDecreaseDetector, RegisterIncreaseDetector, RegisterJumpDetector, SilenceDetector,
  ThresholdDetector,
} from './rules.ts';

/** What a detector may know about a device beyond its readings. */
export interface DetectorContext {
  readonly device: Device;
  /** Exempt from the continuous-flow rule (a shop with continuous use). */
  readonly exempt: boolean;
  /** Someone lives in the unit (the zero-use rule only applies then). */
  readonly occupied: boolean;
  /** Street lights are scheduled on at this event time. */
  readonly isNight: (ts: number) => boolean;
}

export type Condition = 'active' | 'clear' | 'unchanged';

interface Sample { readonly ts: number; readonly value: number }

/** Delay timer shared by threshold and condition: `since` is when the raw state began to differ from `active`. */
interface Debounce { readonly active: boolean; readonly since: number | null }

export type DetectorMemory =
  | { readonly type: 'threshold'; readonly debounce: Debounce }
  | {
    readonly type: 'condition';
    readonly debounce: Debounce;
    readonly known: Readonly<Record<string, MetricValue>>;
    /** Values of the steady metrics when the current abnormal run began. */
    readonly ref: Readonly<Record<string, MetricValue | null>> | null;
  }
  | { readonly type: 'rate-of-change'; readonly samples: readonly Sample[] }
  | { readonly type: 'flat-line'; readonly ref: Sample | null }
  | { readonly type: 'register-decrease'; readonly last: number | null }
  | { readonly type: 'register-jump'; readonly last: Sample | null }
  | { readonly type: 'register-increase'; readonly samples: readonly { readonly ts: number; readonly value: number; readonly per: number | null }[] }
  | {
    readonly type: 'continuous-use';
    readonly last: Sample | null;
    /** Start of the bucket the latest reading was attributed to, and whether it saw use. */
    readonly bucket: number | null;
    readonly bucketUsed: boolean;
    /** Start of the first bucket of the current unbroken run of buckets with use. */
    readonly runStart: number | null;
  }
  | { readonly type: 'no-use'; readonly last: number | null; readonly since: number | null }
  | { readonly type: 'register-stale'; readonly last: number | null; readonly since: number | null };

export interface DetectorState {
  /** Event time and seq of the newest reading this detector used; null before the first. */
  readonly lastTs: number | null;
  readonly lastSeq: number | null;
  readonly memory: DetectorMemory;
}

export interface Evaluation {
  readonly state: DetectorState;
  readonly condition: Condition;
  readonly value?: MetricValue;
  readonly message?: string;
}

interface Step {
  readonly memory: DetectorMemory;
  readonly condition: Condition;
  readonly value?: MetricValue;
  readonly message?: string;
}

export function evaluate(rule: ReadingRule, state: DetectorState | undefined, reading: Reading, ctx: DetectorContext): Evaluation {
  const current = state ?? initialState(rule.detector);
  if (!isAfter(reading, current)) return { state: current, condition: 'unchanged' };
  // A rule whose detector changed type since the state was saved starts afresh.
  const memory = current.memory.type === rule.detector.type ? current.memory : initialMemory(rule.detector);
  const step = stepDetector(rule.detector, memory, reading, ctx);
  if (step === null) return { state: current, condition: 'unchanged' };
  return {
    state: { lastTs: reading.ts, lastSeq: reading.seq, memory: step.memory },
    condition: step.condition,
    ...(step.value !== undefined && { value: step.value }),
    ...(step.message !== undefined && { message: step.message }),
  };
}

export function initialState(detector: ReadingDetector): DetectorState {
  return { lastTs: null, lastSeq: null, memory: initialMemory(detector) };
}

function isAfter(reading: Reading, state: DetectorState): boolean {
  if (state.lastTs === null || state.lastSeq === null) return true;
  return reading.ts > state.lastTs || (reading.ts === state.lastTs && reading.seq > state.lastSeq);
}

function initialMemory(detector: ReadingDetector): DetectorMemory {
  switch (detector.type) {
    case 'threshold': return { type: 'threshold', debounce: { active: false, since: null } };
    case 'condition': return { type: 'condition', debounce: { active: false, since: null }, known: {}, ref: null };
    case 'rate-of-change': return { type: 'rate-of-change', samples: [] };
    case 'flat-line': return { type: 'flat-line', ref: null };
    case 'register-decrease': return { type: 'register-decrease', last: null };
    case 'register-jump': return { type: 'register-jump', last: null };
    case 'register-increase': return { type: 'register-increase', samples: [] };
    case 'continuous-use': return { type: 'continuous-use', last: null, bucket: null, bucketUsed: false, runStart: null };
    case 'no-use': return { type: 'no-use', last: null, since: null };
    case 'register-stale': return { type: 'register-stale', last: null, since: null };
  }
}

/** null: the reading does not carry what this detector needs. */
function stepDetector(detector: ReadingDetector, memory: DetectorMemory, reading: Reading, ctx: DetectorContext): Step | null {
  // initialMemory() guarantees the memory matches the detector; the casts only tell the compiler so.
  switch (detector.type) {
    case 'threshold': return stepThreshold(detector, memory as Memory<'threshold'>, reading);
    case 'condition': return stepCondition(detector, memory as Memory<'condition'>, reading, ctx);
    case 'rate-of-change': return stepRateOfChange(detector, memory as Memory<'rate-of-change'>, reading);
    case 'flat-line': return stepFlatLine(detector, memory as Memory<'flat-line'>, reading);
    case 'register-decrease': return stepRegisterDecrease(detector, memory as Memory<'register-decrease'>, reading);
    case 'register-jump': return stepRegisterJump(detector, memory as Memory<'register-jump'>, reading);
    case 'register-increase': return stepRegisterIncrease(detector, memory as Memory<'register-increase'>, reading);
    case 'continuous-use': return stepContinuousUse(detector, memory as Memory<'continuous-use'>, reading, ctx);
    case 'no-use': return stepIdle(detector, memory as Memory<'no-use'>, reading, ctx.occupied);
    case 'register-stale': return stepIdle(detector, memory as Memory<'register-stale'>, reading, true);
  }
}

type Memory<T extends DetectorMemory['type']> = Extract<DetectorMemory, { type: T }>;

const SYMBOL: Record<Comparison | 'eq' | 'ne', string> = { gt: '>', ge: '≥', lt: '<', le: '≤', eq: '=', ne: '≠' };

function numberOf(reading: Reading, metric: string): number | undefined {
  const value = reading.values[metric];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function compare(value: number, op: Comparison, limit: number): boolean {
  switch (op) {
    case 'gt': return value > limit;
    case 'ge': return value >= limit;
    case 'lt': return value < limit;
    case 'le': return value <= limit;
  }
}

const level = (active: boolean): Condition => (active ? 'active' : 'clear');

/**
 * On-delay / off-delay timer in event time. 'hold' (inside the deadband)
 * keeps the state and cancels a pending change: the value is neither
 * abnormal nor normal, so neither delay may run.
 */
function debounce(d: Debounce, raw: 'abnormal' | 'normal' | 'hold', ts: number, onDelayMs: number, offDelayMs: number): Debounce {
  if (raw === 'hold' || (raw === 'abnormal') === d.active) return { active: d.active, since: null };
  const since = d.since ?? ts;
  const delay = d.active ? offDelayMs : onDelayMs;
  return ts - since >= delay ? { active: !d.active, since: null } : { active: d.active, since };
}

function stepThreshold(d: ThresholdDetector, m: Memory<'threshold'>, reading: Reading): Step | null {
  const value = numberOf(reading, d.metric);
  if (value === undefined) return null;
  // Normal only beyond the deadband: the same comparison against the limit moved back by the deadband.
  const backLimit = d.op === 'gt' || d.op === 'ge' ? d.limit - d.deadband : d.limit + d.deadband;
  const raw = compare(value, d.op, d.limit) ? 'abnormal' : compare(value, d.op, backLimit) ? 'hold' : 'normal';
  const next = debounce(m.debounce, raw, reading.ts, d.onDelayMs, d.offDelayMs);
  return {
    memory: { type: 'threshold', debounce: next }, condition: level(next.active), value,
    message: `${d.metric} ${value} (limit ${SYMBOL[d.op]} ${d.limit})`,
  };
}

function predicateHolds(p: Predicate, known: Readonly<Record<string, MetricValue>>, ts: number, ctx: DetectorContext): boolean | undefined {
  if ('schedule' in p) return ctx.isNight(ts) === (p.schedule === 'night');
  const value = known[p.metric];
  if (value === undefined) return undefined;
  if (p.op === 'eq') return value === p.value;
  if (p.op === 'ne') return value !== p.value;
  return typeof value === 'number' && typeof p.value === 'number' ? compare(value, p.op, p.value) : undefined;
}

function conditionMetrics(d: ConditionDetector): string[] {
  const metrics = d.all.flatMap((p) => ('metric' in p ? [p.metric] : []));
  return [...metrics, ...(d.steady ?? []), ...(d.report !== undefined ? [d.report] : [])];
}

function stepCondition(d: ConditionDetector, m: Memory<'condition'>, reading: Reading, ctx: DetectorContext): Step | null {
  const metrics = conditionMetrics(d);
  if (!metrics.some((metric) => reading.values[metric] !== undefined)) return null;
  const known: Record<string, MetricValue> = { ...m.known };
  for (const metric of metrics) {
    const value = reading.values[metric];
    if (value !== undefined) known[metric] = value;
  }
  const verdicts = d.all.map((p) => predicateHolds(p, known, reading.ts, ctx));
  const reportMetric = d.report ?? metrics[0];
  const value = reportMetric === undefined ? undefined : known[reportMetric];
  const withValue = value === undefined ? {} : { value };
  if (verdicts.includes(undefined)) {
    return { memory: { ...m, known }, condition: 'unchanged', ...withValue };
  }

  const holds = verdicts.every(Boolean);
  const steadyNow = Object.fromEntries((d.steady ?? []).map((metric) => [metric, known[metric] ?? null]));
  const moved = holds && m.ref !== null && Object.keys(steadyNow).some((metric) => steadyNow[metric] !== m.ref?.[metric]);
  let next: Debounce;
  if (!holds) next = debounce(m.debounce, 'normal', reading.ts, d.onDelayMs, d.offDelayMs);
  else if (moved) {
    // The old abnormal run ended (an active condition clears, subject to its off-delay) and a new one starts now.
    const ended = debounce(m.debounce, 'normal', reading.ts, d.onDelayMs, d.offDelayMs);
    next = ended.active ? ended : debounce({ active: false, since: null }, 'abnormal', reading.ts, d.onDelayMs, d.offDelayMs);
  } else next = debounce(m.debounce, 'abnormal', reading.ts, d.onDelayMs, d.offDelayMs);
  const ref = holds ? (moved || m.ref === null ? steadyNow : m.ref) : null;
  return {
    memory: { type: 'condition', debounce: next, known, ref }, condition: level(next.active), ...withValue,
    message: d.all.map((p) => ('schedule' in p ? `scheduled ${p.schedule}` : `${p.metric} ${SYMBOL[p.op]} ${String(p.value)} (is ${String(known[p.metric])})`)).join(', '),
  };
}

function stepRateOfChange(d: RateOfChangeDetector, m: Memory<'rate-of-change'>, reading: Reading): Step | null {
  const value = numberOf(reading, d.metric);
  if (value === undefined) return null;
  const samples = [...m.samples.filter((s) => s.ts > reading.ts - d.windowMs), { ts: reading.ts, value }];
  const memory: DetectorMemory = { type: 'rate-of-change', samples };
  const oldest = samples[0]!;
  const span = reading.ts - oldest.ts;
  if (span < d.minSpanMs) return { memory, condition: 'unchanged', value };
  const perMinute = ((value - oldest.value) / span) * 60_000;
  const abnormal = d.direction === 'rise' ? perMinute > d.limitPerMinute : perMinute < -d.limitPerMinute;
  return {
    memory, condition: level(abnormal), value,
    message: `${d.metric} changing ${round(perMinute)}/min (limit ${d.direction === 'rise' ? '+' : '−'}${d.limitPerMinute}/min)`,
  };
}

function stepFlatLine(d: FlatLineDetector, m: Memory<'flat-line'>, reading: Reading): Step | null {
  const value = numberOf(reading, d.metric);
  if (value === undefined) return null;
  const moved = m.ref === null || Math.abs(value - m.ref.value) > d.tolerance;
  const ref = moved ? { ts: reading.ts, value } : m.ref!;
  const stuckMs = reading.ts - ref.ts;
  return {
    memory: { type: 'flat-line', ref }, condition: level(stuckMs >= d.windowMs), value,
    message: `${d.metric} unchanged at ${value} for ${Math.round(stuckMs / 60_000)} min`,
  };
}

function stepRegisterDecrease(d: RegisterDecreaseDetector, m: Memory<'register-decrease'>, reading: Reading): Step | null {
  const value = numberOf(reading, d.metric);
  if (value === undefined) return null;
  // The new value becomes the baseline, so one reset raises one alarm, not one per reading after it.
  const memory: DetectorMemory = { type: 'register-decrease', last: value };
  if (m.last === null) return { memory, condition: 'unchanged', value };
  return { memory, condition: level(value < m.last), value, message: `${d.metric} went from ${m.last} to ${value}` };
}

function stepRegisterJump(d: RegisterJumpDetector, m: Memory<'register-jump'>, reading: Reading): Step | null {
  const value = numberOf(reading, d.metric);
  if (value === undefined) return null;
  const memory: DetectorMemory = { type: 'register-jump', last: { ts: reading.ts, value } };
  if (m.last === null) return { memory, condition: 'unchanged', value };
  const increase = value - m.last.value;
  const allowed = d.maxPerHour * (Math.max(reading.ts - m.last.ts, d.minSpanMs) / 3_600_000);
  return {
    memory, condition: level(increase > allowed), value,
    message: `${d.metric} rose by ${round(increase)} in ${Math.round((reading.ts - m.last.ts) / 60_000)} min (at most ${round(allowed)} plausible)`,
  };
}

function stepRegisterIncrease(d: RegisterIncreaseDetector, m: Memory<'register-increase'>, reading: Reading): Step | null {
  const value = numberOf(reading, d.metric);
  const per = d.per === undefined ? null : numberOf(reading, d.per.metric);
  if (value === undefined || per === undefined) return null;
  const latest = m.samples.at(-1);
  // A register that went back (meter swap, controller reset) starts a new series.
  const restarted = latest !== undefined && (value < latest.value || (per !== null && latest.per !== null && per < latest.per));
  const all = [...(restarted ? [] : m.samples), { ts: reading.ts, value, per }];
  // Baseline: the newest sample at or before the window's start, or the oldest there is.
  let base = 0;
  for (let i = 0; i < all.length; i++) if (all[i]!.ts <= reading.ts - d.windowMs) base = i;
  const samples = all.slice(base);
  const memory: DetectorMemory = { type: 'register-increase', samples };
  const first = samples[0]!;
  const increase = value - first.value;
  if (d.per === undefined || per === null || first.per === null) {
    return { memory, condition: level(increase > d.max), value: increase, message: `${d.metric} +${increase} in the last ${d.windowMs / 60_000} min (limit ${d.max})` };
  }
  const perIncrease = per - first.per;
  if (perIncrease < d.per.min) return { memory, condition: 'clear', value: increase };
  const ratio = increase / perIncrease;
  return {
    memory, condition: level(ratio > d.max), value: round(ratio),
    message: `${round(ratio)} ${d.metric} per ${d.per.metric} in the last ${d.windowMs / 60_000} min (limit ${d.max})`,
  };
}

/**
 * A reading's use (its increase over the reading before) belongs to the
 * bucket holding the end of its interval: bucketOf(ts − 1), so that a reading
 * exactly on the hour closes the hour before it. The run of buckets with use
 * breaks when a bucket closes without use, or when readings skip a bucket
 * (no evidence for it either way). The condition clears once such a bucket
 * has closed, so a leak alarm lasts at least to the end of the hour.
 */
function stepContinuousUse(d: ContinuousUseDetector, m: Memory<'continuous-use'>, reading: Reading, ctx: DetectorContext): Step | null {
  const value = numberOf(reading, d.metric);
  if (value === undefined) return null;
  const last = { ts: reading.ts, value };
  if (ctx.exempt) return { memory: { type: 'continuous-use', last, bucket: null, bucketUsed: false, runStart: null }, condition: 'clear', value };
  if (m.last === null) return { memory: { ...m, last }, condition: 'unchanged', value };

  const used = value > m.last.value;
  const bucket = Math.floor((reading.ts - 1) / d.bucketMs) * d.bucketMs;
  let { runStart } = m;
  let bucketUsed: boolean;
  if (bucket === m.bucket) bucketUsed = m.bucketUsed || used;
  else {
    const continues = m.bucket !== null && m.bucketUsed && bucket - m.bucket === d.bucketMs;
    if (!continues) runStart = null;
    bucketUsed = used;
  }
  if (bucketUsed && runStart === null) runStart = bucket;
  const runMs = runStart === null ? 0 : (bucketUsed ? bucket + d.bucketMs : bucket) - runStart;
  const runBuckets = runMs / d.bucketMs;
  return {
    memory: { type: 'continuous-use', last, bucket, bucketUsed, runStart }, condition: level(runBuckets >= d.buckets), value,
    message: `use in each of the last ${runBuckets} × ${d.bucketMs / 60_000} min`,
  };
}

/** A register that has not grown for periodMs; `applies` gates the verdict (no-use only counts in an occupied unit). */
function stepIdle(d: NoUseDetector | RegisterStaleDetector, m: Memory<'no-use' | 'register-stale'>, reading: Reading, applies: boolean): Step | null {
  const value = numberOf(reading, d.metric);
  if (value === undefined) return null;
  if (m.last === null || m.since === null) return { memory: { type: d.type, last: value, since: reading.ts }, condition: 'unchanged', value };
  const since = value > m.last ? reading.ts : m.since;
  const idleMs = reading.ts - since;
  return {
    memory: { type: d.type, last: value, since }, condition: level(applies && idleMs >= d.periodMs), value,
    message: `no ${d.metric} added for ${round(idleMs / 3_600_000)} h`,
  };
}

/** Wall-clock silence: strictly more than max(factor × interval, minMs) since the device's last message. */
export function isSilent(d: SilenceDetector, reportIntervalS: number, lastSeenAt: number, now: number): boolean {
  return now - lastSeenAt > Math.max(d.factor * reportIntervalS * 1000, d.minMs);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

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
import { KINDS } from '../../catalogue/kinds.ts';
import type { Device } from '../../catalogue/types.ts';
import type { MetricValue } from '../../contract.ts';
import type { Reading } from '../../ports/time-series.ts';
import { trackHours, type HourTrack } from './hourly.ts';
import type { LocalClock } from './local-clock.ts';
import type {
  Comparison, ConditionDetector, ContinuousUseDetector, FlatLineDetector, NightFlowDetector, NoUseDetector, OwnBaselineDetector, Predicate,
  RateOfChangeDetector, RegisterStaleDetector, ReadingDetector, ReadingRule, RegisterDecreaseDetector, RegisterIncreaseDetector,
  RegisterJumpDetector, SilenceDetector, ThresholdDetector, TrendDetector,
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
  /** The site's local time (night window, hour of day). */
  readonly local: LocalClock;
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
  | {
    readonly type: 'register-increase';
    /** Where the register or `per` changed, in event-time order, from the newest at or before the window's start on (stepRegisterIncrease). */
    readonly samples: readonly { readonly ts: number; readonly value: number; readonly per: number | null }[];
  }
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
  | { readonly type: 'register-stale'; readonly last: number | null; readonly since: number | null }
  | {
    readonly type: 'night-flow';
    readonly last: Sample | null;
    /** The night being collected: its local day, lowest flow so far and how much of the window readings covered. */
    readonly night: { readonly day: number; readonly min: number; readonly coveredMs: number } | null;
    /** Learned minima, oldest first. */
    readonly minima: readonly number[];
  }
  | {
    readonly type: 'own-baseline';
    readonly track: HourTrack | null;
    /** Per local hour of day (0…23): the learned mean use, and on how many days it was learned. */
    readonly mean: readonly number[];
    readonly days: readonly number[];
  }
  | {
    readonly type: 'trend';
    readonly debounce: Debounce;
    /** The gating metric's last known value. */
    readonly gate: MetricValue | null;
    /** Per bucket: its start, the sums of reading times and values, and the count. */
    readonly buckets: readonly { readonly start: number; readonly sumTs: number; readonly sum: number; readonly n: number }[];
  };

export interface DetectorState {
  /** Event time and seq of the newest reading this detector used; null before the first. */
  readonly lastTs: number | null;
  readonly lastSeq: number | null;
  readonly memory: DetectorMemory;
  /**
   * Set when the engine was restored with an active alarm but without this
   * detector's state (the alarms table alone): the fresh detector's 'clear'
   * is held back until it has watched for settleMs() of event time since its
   * first reading (`since`), or until it finds the condition active itself.
   * Without it, the fresh detector's pending on-delay would clear the alarm
   * and raise it once more.
   */
  readonly resume?: { readonly since: number | null };
}

export interface Evaluation {
  readonly state: DetectorState;
  readonly condition: Condition;
  readonly value?: MetricValue;
  /**
   * What an alarm shows: given when the reading is abnormal or the condition
   * active, not for a normal reading (nobody shows it, and formatting one for
   * every rule on every reading cost a quarter of the engine's time).
   */
  readonly message?: string;
}

interface Step {
  readonly memory: DetectorMemory;
  readonly condition: Condition;
  readonly value?: MetricValue;
  /** See Evaluation.message. */
  readonly message?: string;
}

export function evaluate(rule: ReadingRule, state: DetectorState | undefined, reading: Reading, ctx: DetectorContext): Evaluation {
  const current = state ?? initialState(rule.detector);
  if (!isAfter(reading, current)) return { state: current, condition: 'unchanged' };
  // A rule whose detector changed type since the state was saved starts afresh.
  const memory = current.memory.type === rule.detector.type ? current.memory : initialMemory(rule.detector);
  const step = stepDetector(rule.detector, memory, reading, ctx);
  if (step === null) return { state: current, condition: 'unchanged' };
  if (current.resume === undefined) return evaluation({ lastTs: reading.ts, lastSeq: reading.seq, memory: step.memory }, step.condition, step);
  const { condition, resume } = resumed(rule.detector, current.resume, step.condition, reading.ts);
  return evaluation({ lastTs: reading.ts, lastSeq: reading.seq, memory: step.memory, ...(resume && { resume }) }, condition, step);
}

/** Built without spreads: this runs for every rule on every reading. */
function evaluation(state: DetectorState, condition: Condition, { value, message }: Step): Evaluation {
  if (value === undefined) return message === undefined ? { state, condition } : { state, condition, message };
  return message === undefined ? { state, condition, value } : { state, condition, value, message };
}

export function initialState(detector: ReadingDetector): DetectorState {
  return { lastTs: null, lastSeq: null, memory: initialMemory(detector) };
}

/** A fresh detector for an alarm that is active from before a restart (see DetectorState.resume). */
export function resumeState(detector: ReadingDetector): DetectorState {
  return { ...initialState(detector), resume: { since: null } };
}

/**
 * How long a fresh detector must watch before its 'clear' can be trusted:
 * the longest it may take to find a condition that is still there active.
 */
export function settleMs(detector: ReadingDetector): number {
  switch (detector.type) {
    case 'threshold': case 'condition': return detector.onDelayMs;
    case 'flat-line': case 'register-increase': case 'trend': return detector.windowMs;
    case 'continuous-use': return detector.buckets * detector.bucketMs;
    case 'no-use': case 'register-stale': return detector.periodMs;
    // These say nothing (unchanged) until they can judge: their first verdict is already sound.
    case 'rate-of-change': case 'register-decrease': case 'register-jump': case 'night-flow': case 'own-baseline': return 0;
  }
}

function resumed(detector: ReadingDetector, resume: DetectorState['resume'], condition: Condition, ts: number): { condition: Condition; resume?: { since: number | null } } {
  if (resume === undefined || condition === 'active') return { condition };
  if (condition === 'unchanged') return { condition, resume };
  const since = resume.since ?? ts;
  return ts - since >= settleMs(detector) ? { condition } : { condition: 'unchanged', resume: { since } };
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
    case 'night-flow': return { type: 'night-flow', last: null, night: null, minima: [] };
    case 'own-baseline': return { type: 'own-baseline', track: null, mean: new Array<number>(24).fill(0), days: new Array<number>(24).fill(0) };
    case 'trend': return { type: 'trend', debounce: { active: false, since: null }, gate: null, buckets: [] };
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
    case 'night-flow': return stepNightFlow(detector, memory as Memory<'night-flow'>, reading, ctx);
    case 'own-baseline': return stepOwnBaseline(detector, memory as Memory<'own-baseline'>, reading, ctx);
    case 'trend': return stepTrend(detector, memory as Memory<'trend'>, reading, ctx);
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
  // An unchanged timer is returned as it is (no allocation per reading).
  if (raw === 'hold' || (raw === 'abnormal') === d.active) return d.since === null ? d : { active: d.active, since: null };
  const since = d.since ?? ts;
  const delay = d.active ? offDelayMs : onDelayMs;
  if (ts - since >= delay) return { active: !d.active, since: null };
  return since === d.since ? d : { active: d.active, since };
}

function stepThreshold(d: ThresholdDetector, m: Memory<'threshold'>, reading: Reading): Step | null {
  const value = numberOf(reading, d.metric);
  if (value === undefined) return null;
  // Normal only beyond the deadband: the same comparison against the limit moved back by the deadband.
  const backLimit = d.op === 'gt' || d.op === 'ge' ? d.limit - d.deadband : d.limit + d.deadband;
  const raw = compare(value, d.op, d.limit) ? 'abnormal' : compare(value, d.op, backLimit) ? 'hold' : 'normal';
  const next = debounce(m.debounce, raw, reading.ts, d.onDelayMs, d.offDelayMs);
  return {
    memory: next === m.debounce ? m : { type: 'threshold', debounce: next }, condition: level(next.active), value,
    message: raw === 'abnormal' || next.active ? `${d.metric} ${value} (limit ${SYMBOL[d.op]} ${d.limit})` : undefined,
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

/** The metrics a condition reads, worked out once per detector (rules are constants). */
const conditionMetricsOf = new WeakMap<ConditionDetector, readonly string[]>();

function conditionMetrics(d: ConditionDetector): readonly string[] {
  let metrics = conditionMetricsOf.get(d);
  if (metrics === undefined) {
    metrics = [...d.all.flatMap((p) => ('metric' in p ? [p.metric] : [])), ...(d.steady ?? []), ...(d.report !== undefined ? [d.report] : [])];
    conditionMetricsOf.set(d, metrics);
  }
  return metrics;
}

function stepCondition(d: ConditionDetector, m: Memory<'condition'>, reading: Reading, ctx: DetectorContext): Step | null {
  const metrics = conditionMetrics(d);
  // Most readings repeat what is known: `known` is copied only when a value changed, and the memory is kept when nothing did.
  let known = m.known;
  let copy: Record<string, MetricValue> | null = null;
  let seen = false;
  for (const metric of metrics) {
    const value = reading.values[metric];
    if (value === undefined) continue;
    seen = true;
    if (known[metric] === value) continue;
    known = copy ??= { ...m.known };
    copy[metric] = value;
  }
  if (!seen) return null;
  const reportMetric = d.report ?? metrics[0];
  const value = reportMetric === undefined ? undefined : known[reportMetric];
  let holds = true;
  for (const p of d.all) {
    const verdict = predicateHolds(p, known, reading.ts, ctx);
    if (verdict === undefined) return { memory: known === m.known ? m : { ...m, known }, condition: 'unchanged', value };
    holds &&= verdict;
  }

  const steady = d.steady ?? [];
  const moved = holds && m.ref !== null && steady.some((metric) => (known[metric] ?? null) !== m.ref?.[metric]);
  let next: Debounce;
  if (!holds) next = debounce(m.debounce, 'normal', reading.ts, d.onDelayMs, d.offDelayMs);
  else if (moved) {
    // The old abnormal run ended (an active condition clears, subject to its off-delay) and a new one starts now.
    const ended = debounce(m.debounce, 'normal', reading.ts, d.onDelayMs, d.offDelayMs);
    next = ended.active ? ended : debounce({ active: false, since: null }, 'abnormal', reading.ts, d.onDelayMs, d.offDelayMs);
  } else next = debounce(m.debounce, 'abnormal', reading.ts, d.onDelayMs, d.offDelayMs);
  const ref = holds ? (moved || m.ref === null ? Object.fromEntries(steady.map((metric) => [metric, known[metric] ?? null])) : m.ref) : null;
  return {
    memory: known === m.known && next === m.debounce && ref === m.ref ? m : { type: 'condition', debounce: next, known, ref },
    condition: level(next.active), value,
    message: holds || next.active ? d.all.map((p) => ('schedule' in p ? `scheduled ${p.schedule}` : `${p.metric} ${SYMBOL[p.op]} ${String(p.value)} (is ${String(known[p.metric])})`)).join(', ') : undefined,
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
    message: abnormal ? `${d.metric} changing ${round(perMinute)}/min (limit ${d.direction === 'rise' ? '+' : '−'}${d.limitPerMinute}/min)` : undefined,
  };
}

function stepFlatLine(d: FlatLineDetector, m: Memory<'flat-line'>, reading: Reading): Step | null {
  const value = numberOf(reading, d.metric);
  if (value === undefined) return null;
  const moved = m.ref === null || Math.abs(value - m.ref.value) > d.tolerance;
  const ref = moved ? { ts: reading.ts, value } : m.ref!;
  const stuckMs = reading.ts - ref.ts;
  const stuck = stuckMs >= d.windowMs;
  return {
    memory: { type: 'flat-line', ref }, condition: level(stuck), value,
    message: stuck ? `${d.metric} unchanged at ${value} for ${Math.round(stuckMs / 60_000)} min` : undefined,
  };
}

function stepRegisterDecrease(d: RegisterDecreaseDetector, m: Memory<'register-decrease'>, reading: Reading): Step | null {
  const value = numberOf(reading, d.metric);
  if (value === undefined) return null;
  // The new value becomes the baseline, so one reset raises one alarm, not one per reading after it.
  const memory: DetectorMemory = { type: 'register-decrease', last: value };
  if (m.last === null) return { memory, condition: 'unchanged', value };
  const reversed = value < m.last;
  return { memory, condition: level(reversed), value, message: reversed ? `${d.metric} went from ${m.last} to ${value}` : undefined };
}

function stepRegisterJump(d: RegisterJumpDetector, m: Memory<'register-jump'>, reading: Reading): Step | null {
  const value = numberOf(reading, d.metric);
  if (value === undefined) return null;
  const memory: DetectorMemory = { type: 'register-jump', last: { ts: reading.ts, value } };
  if (m.last === null) return { memory, condition: 'unchanged', value };
  const increase = value - m.last.value;
  const allowed = d.maxPerHour * (Math.max(reading.ts - m.last.ts, d.minSpanMs) / 3_600_000);
  const jumped = increase > allowed;
  return {
    memory, condition: level(jumped), value,
    message: jumped ? `${d.metric} rose by ${round(increase)} in ${Math.round((reading.ts - m.last.ts) / 60_000)} min (at most ${round(allowed)} plausible)` : undefined,
  };
}

/**
 * The samples kept are the readings where the register (or `per`) changed,
 * from the newest at or before the window's start on: the value at the
 * window's start is that of the newest change at or before it, so the
 * readings of a run of equal values add nothing. Most readings change
 * nothing (a pump reports every few seconds, it starts a few times an hour)
 * and then neither copy nor allocate the samples.
 */
function stepRegisterIncrease(d: RegisterIncreaseDetector, m: Memory<'register-increase'>, reading: Reading): Step | null {
  const value = numberOf(reading, d.metric);
  const per = d.per === undefined ? null : numberOf(reading, d.per.metric);
  if (value === undefined || per === undefined) return null;
  const latest = m.samples.at(-1);
  // A register that went back (meter swap, controller reset) starts a new series.
  const restarted = latest !== undefined && (value < latest.value || (per !== null && latest.per !== null && per < latest.per));
  const changed = latest === undefined || restarted || value !== latest.value || per !== latest.per;
  let samples = changed ? [...(restarted ? [] : m.samples), { ts: reading.ts, value, per }] : m.samples;
  // Baseline: the newest sample at or before the window's start, or the oldest there is (samples are in event-time order).
  const windowStart = reading.ts - d.windowMs;
  let base = 0;
  while (base + 1 < samples.length && samples[base + 1]!.ts <= windowStart) base++;
  if (base > 0) samples = samples.slice(base);
  const memory: DetectorMemory = samples === m.samples ? m : { type: 'register-increase', samples };
  const first = samples[0]!;
  const increase = value - first.value;
  if (d.per === undefined || per === null || first.per === null) {
    const above = increase > d.max;
    return { memory, condition: level(above), value: increase, message: above ? `${d.metric} +${increase} in the last ${d.windowMs / 60_000} min (limit ${d.max})` : undefined };
  }
  const perIncrease = per - first.per;
  if (perIncrease < d.per.min) return { memory, condition: 'clear', value: increase };
  const ratio = increase / perIncrease;
  const above = ratio > d.max;
  return {
    memory, condition: level(above), value: round(ratio),
    message: above ? `${round(ratio)} ${d.metric} per ${d.per.metric} in the last ${d.windowMs / 60_000} min (limit ${d.max})` : undefined,
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
  const leaking = runBuckets >= d.buckets;
  return {
    memory: { type: 'continuous-use', last, bucket, bucketUsed, runStart }, condition: level(leaking), value,
    message: leaking ? `use in each of the last ${runBuckets} × ${d.bucketMs / 60_000} min` : undefined,
  };
}

/** A register that has not grown for periodMs; `applies` gates the verdict (no-use only counts in an occupied unit). */
function stepIdle(d: NoUseDetector | RegisterStaleDetector, m: Memory<'no-use' | 'register-stale'>, reading: Reading, applies: boolean): Step | null {
  const value = numberOf(reading, d.metric);
  if (value === undefined) return null;
  if (m.last === null || m.since === null) return { memory: { type: d.type, last: value, since: reading.ts }, condition: 'unchanged', value };
  const since = value > m.last ? reading.ts : m.since;
  const idleMs = reading.ts - since;
  const idle = applies && idleMs >= d.periodMs;
  return {
    memory: { type: d.type, last: value, since }, condition: level(idle), value,
    message: idle ? `no ${d.metric} added for ${round(idleMs / 3_600_000)} h` : undefined,
  };
}

const HOUR_MS = 3_600_000;

interface NightVerdict { readonly abnormal: boolean; readonly min: number; readonly baseline: number; readonly limit: number }

/**
 * Collects each night's lowest flow between consecutive readings and judges
 * the night once a reading is past its window (rules.ts NightFlowDetector).
 */
function stepNightFlow(d: NightFlowDetector, m: Memory<'night-flow'>, reading: Reading, { local, device }: DetectorContext): Step | null {
  const value = numberOf(reading, d.metric);
  if (value === undefined) return null;
  let { night, minima } = m;
  let verdict: NightVerdict | null = null;
  const judge = (closing: NonNullable<typeof night>): void => {
    const judged = judgeNight(d, closing, minima);
    minima = judged.minima;
    verdict = judged.verdict ?? verdict;
  };

  const span = m.last === null ? 0 : reading.ts - m.last.ts;
  if (m.last !== null && span > 0 && span <= d.maxGapMs && value >= m.last.value) {
    const mid = local(m.last.ts + span / 2);
    if (mid.hour >= d.fromHour && mid.hour < d.toHour) {
      const flow = ((value - m.last.value) / span) * HOUR_MS;
      if (night !== null && night.day !== mid.day) {
        judge(night);
        night = null;
      }
      night = night === null ? { day: mid.day, min: flow, coveredMs: span } : { day: night.day, min: Math.min(night.min, flow), coveredMs: night.coveredMs + span };
    }
  }
  const at = local(reading.ts);
  if (night !== null && (at.day > night.day || at.hour >= d.toHour)) {
    judge(night);
    night = null;
  }

  const memory: DetectorMemory = { type: 'night-flow', last: { ts: reading.ts, value }, night, minima };
  const v = verdict as NightVerdict | null;
  if (v === null) return { memory, condition: 'unchanged', value };
  return {
    memory, condition: level(v.abnormal), value: round(v.min),
    message: `lowest flow ${pad(d.fromHour)}:00–${pad(d.toHour)}:00 ${round(v.min)} ${unitOf(device, d.metric)}/h (usual ${round(v.baseline)}, limit ${round(v.limit)})`,
  };
}

function judgeNight(d: NightFlowDetector, night: { day: number; min: number; coveredMs: number }, minima: readonly number[]): { minima: readonly number[]; verdict?: NightVerdict } {
  if (night.coveredMs < d.minCoverage * (d.toHour - d.fromHour) * HOUR_MS) return { minima };
  const learn = () => [...minima, round(night.min)].slice(-d.nights);
  if (minima.length < d.minNights) return { minima: learn() };
  const baseline = median(minima);
  const limit = d.factor * baseline + d.marginPerHour;
  const abnormal = night.min > limit;
  // An abnormal night is not learned: a leak that goes on must not become the baseline.
  return { minima: abnormal ? minima : learn(), verdict: { abnormal, min: night.min, baseline, limit } };
}

/** Judges each closed, complete local hour against the learned mean for its hour of day (rules.ts OwnBaselineDetector). */
function stepOwnBaseline(d: OwnBaselineDetector, m: Memory<'own-baseline'>, reading: Reading, { local, device }: DetectorContext): Step | null {
  const value = numberOf(reading, d.metric);
  if (value === undefined) return null;
  const step = trackHours(m.track, reading.ts, value, d.maxGapMs, local);
  if (step === null) return null;
  // Most readings close no hour: the learned arrays are copied only when one does.
  if (step.closed.length === 0) return { memory: { ...m, track: step.track }, condition: 'unchanged', value };
  const mean = [...m.mean];
  const days = [...m.days];
  let verdict: { abnormal: boolean; use: number; usual: number; limit: number } | null = null;
  for (const hour of step.closed) {
    if (!hour.complete) continue;
    const h = Math.floor(local(hour.hourStart).hour);
    const learned = days[h]! >= d.minDays;
    const limit = d.factor * mean[h]! + d.margin;
    if (learned && !verdict?.abnormal) verdict = { abnormal: hour.use > limit, use: hour.use, usual: mean[h]!, limit };
    // Capped at the limit: one faulty hour moves the baseline a little, not to the fault.
    const sample = learned ? Math.min(hour.use, limit) : hour.use;
    mean[h] = round4(days[h] === 0 ? sample : mean[h]! + d.alpha * (sample - mean[h]!));
    days[h] = Math.min(days[h]! + 1, d.minDays);
  }
  const memory: DetectorMemory = { type: 'own-baseline', track: step.track, mean, days };
  if (verdict === null) return { memory, condition: 'unchanged', value };
  return {
    memory, condition: level(verdict.abnormal), value: round(verdict.use),
    message: `${round(verdict.use)} ${unitOf(device, d.metric)} used in the hour (usual ${round(verdict.usual)} for this hour of day, limit ${round(verdict.limit)})`,
  };
}

/** Least-squares slope of bucket means over the trailing window (rules.ts TrendDetector). */
function stepTrend(d: TrendDetector, m: Memory<'trend'>, reading: Reading, { device }: DetectorContext): Step | null {
  const value = numberOf(reading, d.metric);
  if (value === undefined) return null;
  const gate = d.while === undefined ? null : (reading.values[d.while.metric] ?? m.gate);
  const counts = d.while === undefined || gate === d.while.value;
  const buckets = m.buckets.filter((b) => b.start + d.bucketMs > reading.ts - d.windowMs);
  if (counts) {
    const start = Math.floor(reading.ts / d.bucketMs) * d.bucketMs;
    const latest = buckets.at(-1);
    if (latest?.start === start) buckets[buckets.length - 1] = { start, sumTs: latest.sumTs + reading.ts, sum: latest.sum + value, n: latest.n + 1 };
    else buckets.push({ start, sumTs: reading.ts, sum: value, n: 1 });
  }
  const memory = (debounced: Debounce): DetectorMemory => ({ type: 'trend', debounce: debounced, gate, buckets });
  const points = buckets.map((b) => ({ x: (b.sumTs / b.n - buckets[0]!.start) / HOUR_MS, y: b.sum / b.n }));
  const spanMs = points.length === 0 ? 0 : (points.at(-1)!.x - points[0]!.x) * HOUR_MS;
  if (points.length < d.minBuckets || spanMs < d.minSpanMs) return { memory: memory(m.debounce), condition: 'unchanged', value };

  const xMean = points.reduce((a, p) => a + p.x, 0) / points.length;
  const yMean = points.reduce((a, p) => a + p.y, 0) / points.length;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - xMean) * (p.y - yMean);
    sxx += (p.x - xMean) ** 2;
  }
  const slope = sxy / sxx;
  const fitted = yMean + slope * (points.at(-1)!.x - xMean);
  const raw = slope >= d.risePerHour && fitted < d.below ? 'abnormal' : slope < d.clearPerHour || fitted >= d.below ? 'normal' : 'hold';
  const next = debounce(m.debounce, raw, reading.ts, 0, 0);
  return {
    memory: memory(next), condition: level(next.active), value,
    message: raw === 'abnormal' || next.active ? `${d.metric} rising ${round(slope)} ${unitOf(device, d.metric)} an hour over ${Math.round(spanMs / 60_000)} min, now about ${round(fitted)} (alarm from +${d.risePerHour}/h while below ${d.below})` : undefined,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const pad = (hour: number): string => String(hour).padStart(2, '0');
const unitOf = (device: Device, metric: string): string => KINDS[device.kind].metrics[metric]?.unit ?? '';
const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

/** Wall-clock silence: strictly more than max(factor × interval, minMs) since the device's last message. */
export function isSilent(d: SilenceDetector, reportIntervalS: number, lastSeenAt: number, now: number): boolean {
  return now - lastSeenAt > silenceLimitMs(d, reportIntervalS);
}

/** The longest silence a device reporting every `reportIntervalS` may keep. */
export function silenceLimitMs(d: SilenceDetector, reportIntervalS: number): number {
  return Math.max(d.factor * reportIntervalS * 1000, d.minMs);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Ingest validation: one MQTT message in, one verdict out. Pure and synchronous;
 * this is the hot path, so the accepted case avoids work the rejected case needs
 * (error details are only built on rejection).
 *
 * Order of checks: topic → site → device and its plot/kind → size → payload.
 * The device is checked before the payload is parsed, so a reject from a known
 * topic always names the device it came from.
 */
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { KINDS, DEVICE_KINDS, type DeviceKind, type MetricDef } from '../catalogue/kinds.ts';
import type { Device, SiteIndex } from '../catalogue/types.ts';
import { CHANNELS, PAYLOAD_VERSION, TOPIC_ROOT, type Channel, type DeviceStatus } from '../contract.ts';
import type { Reading } from '../ports/time-series.ts';

export const REJECT_REASONS = [
  'bad-topic',
  'wrong-site',
  'payload-too-large',
  'not-json',
  'bad-envelope',
  'unsupported-version',
  'unknown-device',
  'topic-mismatch',
  'unknown-metric',
  'wrong-type',
  'out-of-range',
  'bad-timestamp',
  'future-timestamp',
  'bad-status',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export const MAX_PAYLOAD_BYTES = 16 * 1024;
/** Device clocks drift; more than this ahead of the server clock is a broken clock, not drift. */
export const MAX_FUTURE_MS = 5 * 60_000;
/** Earlier than this is a device whose clock was never set (1970, 2000-01-01 defaults). */
export const EARLIEST_TS = Date.UTC(2000, 0, 1);

export interface IngestContext {
  readonly site: SiteIndex;
  readonly siteId: string;
  /** Server clock, epoch ms: the reference for future timestamps and the arrival time of status. */
  readonly now: number;
}

export type IngestResult =
  | { ok: true; kind: 'telemetry'; reading: Reading; device: Device }
  | { ok: true; kind: 'status'; deviceId: string; device: Device; status: DeviceStatus; at: number }
  | { ok: true; kind: 'event'; deviceId: string; device: Device; ts: number; seq: number; event: string; data: Record<string, unknown> }
  | { ok: false; reason: RejectReason; detail: string; deviceId?: string };

export type IngestReject = Extract<IngestResult, { ok: false }>;

export type ParsedTopic =
  | { ok: true; site: string; plot: string; kind: string; deviceId: string; channel: Channel }
  | { ok: false; detail: string };

const TOPIC_SHAPE = `${TOPIC_ROOT}/{site}/{plot}/{kind}/{deviceId}/{channel}`;

/** Splits `estate/{site}/{plot}/{kind}/{deviceId}/{channel}`; says what is wrong when it is not that. */
export function parseTopic(topic: string): ParsedTopic {
  // Hand-rolled instead of split('/'): this runs for every message and split was a tenth of the cost.
  const s1 = topic.indexOf('/');
  const s2 = topic.indexOf('/', s1 + 1);
  const s3 = s2 < 0 ? -1 : topic.indexOf('/', s2 + 1);
  const s4 = s3 < 0 ? -1 : topic.indexOf('/', s3 + 1);
  const s5 = s4 < 0 ? -1 : topic.indexOf('/', s4 + 1);
  if (s1 < 0 || s2 < 0 || s3 < 0 || s4 < 0 || s5 < 0 || topic.indexOf('/', s5 + 1) >= 0) {
    return { ok: false, detail: `topic "${clip(topic)}" has ${topic.split('/').length} segments, expected 6: ${TOPIC_SHAPE}` };
  }
  if (s1 !== TOPIC_ROOT.length || !topic.startsWith(TOPIC_ROOT)) {
    return { ok: false, detail: `topic "${clip(topic)}" starts with "${clip(topic.slice(0, s1))}", expected "${TOPIC_ROOT}"` };
  }
  if (s2 === s1 + 1 || s3 === s2 + 1 || s4 === s3 + 1 || s5 === s4 + 1) {
    return { ok: false, detail: `topic "${clip(topic)}" has an empty segment: ${TOPIC_SHAPE}` };
  }
  const channel = topic.slice(s5 + 1);
  if (channel !== 'telemetry' && channel !== 'status' && channel !== 'event') {
    return { ok: false, detail: `topic "${clip(topic)}" ends in channel "${clip(channel)}", expected one of ${CHANNELS.join(', ')}` };
  }
  return {
    ok: true,
    site: topic.slice(s1 + 1, s2),
    plot: topic.slice(s2 + 1, s3),
    kind: topic.slice(s3 + 1, s4),
    deviceId: topic.slice(s4 + 1, s5),
    channel,
  };
}

// Envelopes. Extra top-level fields are allowed (forward compatibility within v1);
// the metrics inside `m` are checked against the catalogue, not here.
const Timestamp = Type.Union([Type.String(), Type.Number()]);
const Seq = Type.Integer({ minimum: 0 });
const TelemetryEnvelope = TypeCompiler.Compile(Type.Object({
  v: Type.Number(),
  ts: Timestamp,
  seq: Seq,
  m: Type.Object({}, { minProperties: 1 }),
}));
const EventEnvelope = TypeCompiler.Compile(Type.Object({
  v: Type.Number(),
  ts: Timestamp,
  seq: Seq,
  event: Type.String({ minLength: 1 }),
  data: Type.Optional(Type.Object({})),
}));
type Envelope = typeof TelemetryEnvelope | typeof EventEnvelope;

// Own-property lookups only: a metric named "constructor" must not find Object.prototype's.
const METRICS: ReadonlyMap<DeviceKind, ReadonlyMap<string, MetricDef>> = new Map(
  DEVICE_KINDS.map((k) => [k, new Map(Object.entries(KINDS[k].metrics))]),
);

const utf8 = new TextDecoder();

export function validateMessage(topic: string, payload: Buffer | Uint8Array, ctx: IngestContext): IngestResult {
  const t = parseTopic(topic);
  if (!t.ok) return reject('bad-topic', t.detail);
  const deviceId = t.deviceId;
  if (t.site !== ctx.siteId) {
    return reject('wrong-site', `site "${clip(t.site)}" in the topic is not this server's site "${ctx.siteId}"`, deviceId);
  }
  const device = ctx.site.device(deviceId);
  if (!device) return reject('unknown-device', `device "${clip(deviceId)}" is not in the catalogue of site "${ctx.siteId}"`, deviceId);
  if (t.kind !== device.kind || t.plot !== device.plotId) {
    return reject('topic-mismatch',
      `topic says ${deviceId} is a ${clip(t.kind)} on plot ${clip(t.plot)}; the catalogue says ${device.kind} on plot ${device.plotId}`, deviceId);
  }
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    return reject('payload-too-large', `payload is ${payload.byteLength} bytes, the limit is ${MAX_PAYLOAD_BYTES}`, deviceId);
  }
  const text = Buffer.isBuffer(payload) ? payload.toString('utf8') : utf8.decode(payload);

  if (t.channel === 'status') return validateStatus(text, device, ctx.now);

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return reject('not-json', `payload is not JSON (${(err as Error).message}): ${clip(text)}`, deviceId);
  }
  return t.channel === 'telemetry' ? validateTelemetry(body, device, ctx.now) : validateEvent(body, device, ctx.now);
}

function validateStatus(text: string, device: Device, now: number): IngestResult {
  const status = text.trim();
  if (status === 'online' || status === 'offline') {
    return { ok: true, kind: 'status', deviceId: device.id, device, status, at: now };
  }
  const detail = text.length === 0
    ? 'status payload is empty (a retained status being cleared), expected "online" or "offline"'
    : `status payload is ${JSON.stringify(clip(text))}, expected "online" or "offline"`;
  return reject('bad-status', detail, device.id);
}

function validateTelemetry(body: unknown, device: Device, now: number): IngestResult {
  const bad = checkEnvelope(TelemetryEnvelope, body, 'telemetry', device.id);
  if (bad) return bad;
  const msg = body as { ts: string | number; seq: number; m: Record<string, unknown> };
  const ts = parseTimestamp(msg.ts, now, device.id);
  if (typeof ts !== 'number') return ts;

  const defs = METRICS.get(device.kind)!;
  for (const name in msg.m) {
    const def = defs.get(name);
    if (!def) {
      return reject('unknown-metric',
        `metric "${clip(name)}" is not reported by a ${device.kind} (known: ${[...defs.keys()].join(', ')})`, device.id);
    }
    const problem = checkMetric(name, msg.m[name], def, device.kind);
    if (problem) return reject(problem.reason, problem.detail, device.id);
  }
  const reading: Reading = { deviceId: device.id, ts, seq: msg.seq, values: msg.m as Reading['values'] };
  return { ok: true, kind: 'telemetry', reading, device };
}

function validateEvent(body: unknown, device: Device, now: number): IngestResult {
  const bad = checkEnvelope(EventEnvelope, body, 'event', device.id);
  if (bad) return bad;
  const msg = body as { ts: string | number; seq: number; event: string; data?: Record<string, unknown> };
  const ts = parseTimestamp(msg.ts, now, device.id);
  if (typeof ts !== 'number') return ts;
  return { ok: true, kind: 'event', deviceId: device.id, device, ts, seq: msg.seq, event: msg.event, data: msg.data ?? {} };
}

function checkEnvelope(envelope: Envelope, body: unknown, channel: Channel, deviceId: string): IngestReject | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return reject('bad-envelope', `${channel} payload must be a JSON object, got ${describeType(body)}`, deviceId);
  }
  const v = (body as { v?: unknown }).v;
  // A different version may have a different shape: report the version, not the shape.
  if (typeof v === 'number' && v !== PAYLOAD_VERSION) {
    return reject('unsupported-version', `payload version v=${v} is not supported, this server reads v=${PAYLOAD_VERSION}`, deviceId);
  }
  if (envelope.Check(body)) return null;
  const first = envelope.Errors(body).First();
  const where = first?.path ? first.path.slice(1).replaceAll('/', '.') : '(root)';
  const got = first?.value === undefined ? 'missing' : `got ${clip(JSON.stringify(first.value))}`;
  return reject('bad-envelope', `${channel} envelope field ${where}: ${first?.message ?? 'invalid'} (${got})`, deviceId);
}

type MetricProblem = { reason: RejectReason; detail: string };

function checkMetric(name: string, value: unknown, def: MetricDef, kind: DeviceKind): MetricProblem | null {
  if (typeof value !== def.type) {
    return { reason: 'wrong-type', detail: `${name}=${clip(JSON.stringify(value) ?? String(value))} is ${describeType(value)}, expected ${def.type} for ${kind}` };
  }
  if (def.type === 'number') {
    const n = value as number;
    if ((def.min !== undefined && n < def.min) || (def.max !== undefined && n > def.max)) {
      const unit = def.unit ? ` ${def.unit}` : '';
      return { reason: 'out-of-range', detail: `${name}=${n} is outside ${def.min ?? '-∞'}…${def.max ?? '∞'}${unit} for ${kind}` };
    }
  } else if (def.type === 'string' && def.values && !def.values.includes(value as string)) {
    return { reason: 'out-of-range', detail: `${name}=${clip(JSON.stringify(value))} is not one of ${def.values.join(', ')} for ${kind}` };
  }
  return null;
}

// Full ISO-8601 date-time with an explicit offset: without one, Date.parse would guess local time.
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Epoch ms, or the reject that explains why the timestamp is unusable. */
function parseTimestamp(raw: string | number, now: number, deviceId: string): number | IngestReject {
  let ts: number;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return reject('bad-timestamp', `ts=${raw} is not a finite epoch-ms number`, deviceId);
    ts = Math.floor(raw);
  } else {
    if (!ISO_DATE_TIME.test(raw)) {
      return reject('bad-timestamp',
        `ts=${clip(JSON.stringify(raw))} is not an ISO-8601 date-time with offset (e.g. 2025-03-01T08:00:00Z) nor an epoch-ms number`, deviceId);
    }
    ts = Date.parse(raw);
    if (Number.isNaN(ts)) return reject('bad-timestamp', `ts=${clip(JSON.stringify(raw))} is not a valid date-time`, deviceId);
  }
  if (ts < EARLIEST_TS) {
    return reject('bad-timestamp', `ts=${clip(JSON.stringify(raw))} (${isoOrRaw(ts)}) is before 2000: the device clock is probably not set`, deviceId);
  }
  if (ts > now + MAX_FUTURE_MS) {
    const ahead = Math.round((ts - now) / 1000);
    return reject('future-timestamp', `ts=${isoOrRaw(ts)} is ${ahead} s ahead of the server clock (${new Date(now).toISOString()}); at most ${MAX_FUTURE_MS / 1000} s is accepted`, deviceId);
  }
  return ts;
}

function reject(reason: RejectReason, detail: string, deviceId?: string): IngestReject {
  return deviceId === undefined ? { ok: false, reason, detail } : { ok: false, reason, detail, deviceId };
}

function isoOrRaw(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  const t = typeof v;
  return t === 'object' ? 'an object' : `a ${t}`;
}

/** Keeps details readable and dead-letter rows small when a device sends something huge. */
function clip(s: string, max = 80): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

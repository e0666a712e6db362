import { describe, expect, it } from 'vitest';
import {
  MAX_FUTURE_MS, MAX_PAYLOAD_BYTES, REJECT_REASONS, parseTopic, validateMessage,
  type IngestResult, type RejectReason,
} from '../../server/src/domain/ingest-validation.ts';
import { MINI_SITE_ID, miniSiteIndex } from '../support/mini-site.ts';

const site = miniSiteIndex();
const NOW = Date.parse('2025-06-01T12:00:00Z');
const ctx = { site, siteId: MINI_SITE_ID, now: NOW };

const PUMP = `estate/${MINI_SITE_ID}/A/booster-pump/BP-A-1`;
const LIFT = `estate/${MINI_SITE_ID}/A/elevator/EL-A-01-1`;
const GEN = `estate/${MINI_SITE_ID}/B/generator/GEN-B-1`;

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const telemetry = (m: Record<string, unknown>, extra: Record<string, unknown> = {}): Buffer =>
  json({ v: 1, ts: NOW - 1000, seq: 7, m, ...extra });
const validate = (topic: string, payload: Buffer | Uint8Array | string, c = ctx): IngestResult =>
  validateMessage(topic, typeof payload === 'string' ? Buffer.from(payload) : payload, c);

function expectReject(result: IngestResult, reason: RejectReason, detail?: RegExp | string): void {
  expect(result.ok, `expected a ${reason} reject, got ${JSON.stringify(result)}`).toBe(false);
  if (result.ok) return;
  expect(result.reason).toBe(reason);
  if (detail) expect(result.detail).toMatch(detail);
}

describe('validateMessage: accepted messages', () => {
  it('telemetry becomes a Reading in event time, with the catalogue device', () => {
    const r = validate(`${PUMP}/telemetry`, telemetry({ running: true, pressure_mpa: 0.42, current_a: 31.5 }));
    expect(r).toEqual({
      ok: true, kind: 'telemetry', device: site.device('BP-A-1'),
      reading: { deviceId: 'BP-A-1', ts: NOW - 1000, seq: 7, values: { running: true, pressure_mpa: 0.42, current_a: 31.5 } },
    });
  });

  it('reads an ISO-8601 ts and an epoch-ms ts as the same instant', () => {
    const iso = validate(`${PUMP}/telemetry`, telemetry({ running: false }, { ts: '2025-06-01T11:59:00.250Z' }));
    const offset = validate(`${PUMP}/telemetry`, telemetry({ running: false }, { ts: '2025-06-01T19:59:00.250+08:00' }));
    const epoch = validate(`${PUMP}/telemetry`, telemetry({ running: false }, { ts: Date.parse('2025-06-01T11:59:00.250Z') }));
    for (const r of [iso, offset, epoch]) {
      expect(r.ok && r.kind === 'telemetry' && r.reading.ts).toBe(Date.parse('2025-06-01T11:59:00.250Z'));
    }
  });

  it('accepts boolean and string metrics, and string values from the allowed list', () => {
    const r = validate(`${LIFT}/telemetry`, telemetry({ between_floors: false, direction: 'up', door: 'closing', floor: 12 }));
    expect(r.ok && r.kind === 'telemetry' && r.reading.values).toEqual({ between_floors: false, direction: 'up', door: 'closing', floor: 12 });
  });

  it('accepts values exactly at min and at max', () => {
    expect(validate(`${PUMP}/telemetry`, telemetry({ pressure_mpa: 0, vibration_mms: 100 })).ok).toBe(true);
    expect(validate(`${PUMP}/telemetry`, telemetry({ pressure_mpa: 3 })).ok).toBe(true);
    expect(validate(`${LIFT}/telemetry`, telemetry({ floor: -3 })).ok).toBe(true);
    expect(validate(`${GEN}/telemetry`, telemetry({ coolant_c: -40, oil_kpa: 1000 })).ok).toBe(true);
  });

  it('accepts a ts exactly 5 minutes ahead of the server clock, rejects 1 ms more', () => {
    expect(validate(`${PUMP}/telemetry`, telemetry({ running: true }, { ts: NOW + MAX_FUTURE_MS })).ok).toBe(true);
    expectReject(validate(`${PUMP}/telemetry`, telemetry({ running: true }, { ts: NOW + MAX_FUTURE_MS + 1 })), 'future-timestamp', /300 s ahead/);
  });

  it('accepts a Uint8Array payload as well as a Buffer', () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ v: 1, ts: NOW, seq: 1, m: { running: true } }));
    expect(validate(`${PUMP}/telemetry`, bytes).ok).toBe(true);
  });

  it('status: online / offline at the server clock', () => {
    expect(validate(`${PUMP}/status`, 'online')).toMatchObject({ ok: true, kind: 'status', deviceId: 'BP-A-1', status: 'online', at: NOW });
    expect(validate(`${PUMP}/status`, 'offline\n')).toMatchObject({ ok: true, kind: 'status', status: 'offline' });
  });

  it('event: name, data and event time', () => {
    const r = validate(`${LIFT}/event`, json({ v: 1, ts: '2025-06-01T11:58:00Z', seq: 3, event: 'entrapment', data: { floor: 7 } }));
    expect(r).toMatchObject({ ok: true, kind: 'event', deviceId: 'EL-A-01-1', ts: Date.parse('2025-06-01T11:58:00Z'), seq: 3, event: 'entrapment', data: { floor: 7 } });
    const bare = validate(`${LIFT}/event`, json({ v: 1, ts: NOW, seq: 4, event: 'door-reopen' }));
    expect(bare).toMatchObject({ ok: true, kind: 'event', data: {} });
  });
});

describe('validateMessage: one reject per reason', () => {
  const cases: { reason: RejectReason; name: string; topic: string; payload: Buffer | string; detail: RegExp | string }[] = [
    { reason: 'bad-topic', name: 'too few segments', topic: `estate/${MINI_SITE_ID}/A/BP-A-1/telemetry`, payload: telemetry({ running: true }), detail: /5 segments, expected 6/ },
    { reason: 'bad-topic', name: 'wrong root', topic: `site/${MINI_SITE_ID}/A/booster-pump/BP-A-1/telemetry`, payload: telemetry({ running: true }), detail: /starts with "site"/ },
    { reason: 'bad-topic', name: 'unknown channel', topic: `${PUMP}/config`, payload: telemetry({ running: true }), detail: /channel "config"/ },
    { reason: 'bad-topic', name: 'empty segment', topic: `estate/${MINI_SITE_ID}//booster-pump/BP-A-1/telemetry`, payload: telemetry({ running: true }), detail: /empty segment/ },
    { reason: 'wrong-site', name: 'another site', topic: 'estate/red-hill/A/booster-pump/BP-A-1/telemetry', payload: telemetry({ running: true }), detail: /"red-hill".*"mini-valley"/ },
    { reason: 'payload-too-large', name: '16 KiB + 1', topic: `${PUMP}/telemetry`, payload: Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x20), detail: /16385 bytes.*16384/ },
    { reason: 'not-json', name: 'truncated JSON', topic: `${PUMP}/telemetry`, payload: '{"v":1,"ts":', detail: /not JSON/ },
    { reason: 'bad-envelope', name: 'an array', topic: `${PUMP}/telemetry`, payload: '[1,2]', detail: /must be a JSON object, got an array/ },
    { reason: 'bad-envelope', name: 'seq not an integer', topic: `${PUMP}/telemetry`, payload: telemetry({ running: true }, { seq: 1.5 }), detail: /field seq: .*got 1.5/ },
    { reason: 'bad-envelope', name: 'm missing', topic: `${PUMP}/telemetry`, payload: json({ v: 1, ts: NOW, seq: 1 }), detail: /field m: .*missing/ },
    { reason: 'bad-envelope', name: 'm empty', topic: `${PUMP}/telemetry`, payload: telemetry({}), detail: /field m/ },
    { reason: 'bad-envelope', name: 'ts a boolean', topic: `${PUMP}/telemetry`, payload: telemetry({ running: true }, { ts: true }), detail: /field ts/ },
    { reason: 'bad-envelope', name: 'event name missing', topic: `${LIFT}/event`, payload: json({ v: 1, ts: NOW, seq: 1 }), detail: /event envelope field event/ },
    { reason: 'unsupported-version', name: 'v=2', topic: `${PUMP}/telemetry`, payload: json({ v: 2, time: NOW, values: {} }), detail: /v=2 is not supported/ },
    { reason: 'unknown-device', name: 'not in the catalogue', topic: `estate/${MINI_SITE_ID}/A/booster-pump/BP-A-9/telemetry`, payload: telemetry({ running: true }), detail: /"BP-A-9" is not in the catalogue/ },
    { reason: 'topic-mismatch', name: 'wrong plot', topic: `estate/${MINI_SITE_ID}/B/booster-pump/BP-A-1/telemetry`, payload: telemetry({ running: true }), detail: /on plot B; the catalogue says booster-pump on plot A/ },
    { reason: 'topic-mismatch', name: 'wrong kind', topic: `estate/${MINI_SITE_ID}/A/fire-pump/BP-A-1/telemetry`, payload: telemetry({ running: true }), detail: /is a fire-pump/ },
    { reason: 'unknown-metric', name: 'a metric of another kind', topic: `${PUMP}/telemetry`, payload: telemetry({ running: true, floor: 3 }), detail: /"floor" is not reported by a booster-pump/ },
    { reason: 'unknown-metric', name: 'an Object.prototype name', topic: `${PUMP}/telemetry`, payload: telemetry({ constructor: 1 }), detail: /"constructor"/ },
    { reason: 'wrong-type', name: 'number as string', topic: `${PUMP}/telemetry`, payload: telemetry({ pressure_mpa: '0.4' }), detail: /pressure_mpa="0.4" is a string, expected number/ },
    { reason: 'wrong-type', name: 'boolean as 0/1', topic: `${PUMP}/telemetry`, payload: telemetry({ running: 1 }), detail: /running=1 is a number, expected boolean/ },
    { reason: 'wrong-type', name: 'null', topic: `${LIFT}/telemetry`, payload: telemetry({ door: null }), detail: /door=null is null, expected string/ },
    { reason: 'out-of-range', name: 'above max', topic: `${PUMP}/telemetry`, payload: telemetry({ pressure_mpa: 7.2 }), detail: 'pressure_mpa=7.2 is outside 0…3 MPa for booster-pump' },
    { reason: 'out-of-range', name: 'below min', topic: `${LIFT}/telemetry`, payload: telemetry({ floor: -4 }), detail: /floor=-4 is outside -3…80 for elevator/ },
    { reason: 'out-of-range', name: 'string not in values', topic: `${LIFT}/telemetry`, payload: telemetry({ door: 'ajar' }), detail: /door="ajar" is not one of open, closed, opening, closing/ },
    { reason: 'bad-timestamp', name: 'unparseable string', topic: `${PUMP}/telemetry`, payload: telemetry({ running: true }, { ts: 'yesterday' }), detail: /"yesterday" is not an ISO-8601/ },
    { reason: 'bad-timestamp', name: 'ISO without offset', topic: `${PUMP}/telemetry`, payload: telemetry({ running: true }, { ts: '2025-06-01T11:00:00' }), detail: /with offset/ },
    { reason: 'bad-timestamp', name: 'impossible date', topic: `${PUMP}/telemetry`, payload: telemetry({ running: true }, { ts: '2025-13-45T11:00:00Z' }), detail: /not a valid date-time/ },
    { reason: 'bad-timestamp', name: 'before 2000', topic: `${PUMP}/telemetry`, payload: telemetry({ running: true }, { ts: 0 }), detail: /1970-01-01T00:00:00.000Z.*before 2000/ },
    { reason: 'bad-timestamp', name: 'event before 2000', topic: `${LIFT}/event`, payload: json({ v: 1, ts: '1999-12-31T23:59:59Z', seq: 1, event: 'x' }), detail: /before 2000/ },
    { reason: 'future-timestamp', name: 'one hour ahead', topic: `${PUMP}/telemetry`, payload: telemetry({ running: true }, { ts: NOW + 3_600_000 }), detail: /3600 s ahead/ },
    { reason: 'bad-status', name: 'not online/offline', topic: `${PUMP}/status`, payload: '{"status":"online"}', detail: /expected "online" or "offline"/ },
    { reason: 'bad-status', name: 'empty (retained clear)', topic: `${PUMP}/status`, payload: '', detail: /empty/ },
  ];

  it.each(cases)('$reason: $name', ({ reason, topic, payload, detail }) => {
    expectReject(validate(topic, payload), reason, detail);
  });

  it('covers every reason in REJECT_REASONS', () => {
    expect(new Set(cases.map((c) => c.reason))).toEqual(new Set(REJECT_REASONS));
  });

  it('names the device in rejects from a well-formed topic, but not for a bad topic', () => {
    const late = validate(`${PUMP}/telemetry`, telemetry({ pressure_mpa: 9 }));
    expect(!late.ok && late.deviceId).toBe('BP-A-1');
    const unknown = validate(`estate/${MINI_SITE_ID}/A/booster-pump/BP-X/telemetry`, telemetry({ running: true }));
    expect(!unknown.ok && unknown.deviceId).toBe('BP-X');
    const badTopic = validate('estate/oops', telemetry({ running: true }));
    expect(!badTopic.ok && badTopic.deviceId).toBeUndefined();
  });

  it('keeps details short when a device sends something huge', () => {
    const r = validate(`${LIFT}/telemetry`, telemetry({ door: 'x'.repeat(5000) }));
    expectReject(r, 'out-of-range');
    expect(!r.ok && r.detail.length).toBeLessThan(300);
  });
});

describe('parseTopic', () => {
  it('splits a device topic into its parts', () => {
    expect(parseTopic('estate/blue-valley/A/elevator/EL-A-02-3/status')).toEqual({
      ok: true, site: 'blue-valley', plot: 'A', kind: 'elevator', deviceId: 'EL-A-02-3', channel: 'status',
    });
  });

  it.each([
    ['estate/blue-valley/A/elevator/EL-A-02-3/status/extra', /7 segments/],
    ['estate', /1 segments/],
    ['/blue-valley/A/elevator/EL-A-02-3/status', /starts with ""/],
    ['estate/blue-valley/A/elevator/EL-A-02-3/', /channel ""/],
    ['estate/blue-valley/A/elevator//status', /empty segment/],
  ])('rejects %s', (topic, detail) => {
    const t = parseTopic(topic);
    expect(t.ok).toBe(false);
    if (!t.ok) expect(t.detail).toMatch(detail);
  });
});

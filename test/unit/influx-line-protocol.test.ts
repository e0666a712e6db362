import { describe, expect, it } from 'vitest';
import type { Device } from '../../server/src/catalogue/types.ts';
import type { Reading } from '../../server/src/ports/time-series.ts';
import {
  escapeKey, escapeMeasurement, LineProtocolError, quoteString, readingsToLines, readingToLine, seriesTags,
} from '../../server/src/adapters/influx/line-protocol.ts';

const meter: Device = {
  id: 'WM-A-01-0101', kind: 'water-meter', role: 'household', name: 'meter', nameZh: '水表', plotId: 'A', buildingId: 'A-01',
  unitId: 'A-01-0101', feederId: null, position: [0, 0],
};
const tags = seriesTags('blue-valley', meter.id, meter);
const TS = 1_704_067_200_123; // 2024-01-01T00:00:00.123Z

describe('line protocol escaping', () => {
  it.each([
    ['plain', 'water-meter', 'water-meter'],
    ['comma', 'a,b', 'a\\,b'],
    ['space', 'a b', 'a\\ b'],
    ['equals needs no escape', 'a=b', 'a=b'],
    ['backslash', 'a\\b', 'a\\\\b'],
  ])('measurement: %s', (_, input, expected) => {
    expect(escapeMeasurement(input)).toBe(expected);
  });

  it.each([
    ['plain', 'WM-A-01-0101', 'WM-A-01-0101'],
    ['comma', 'a,b', 'a\\,b'],
    ['space', 'a b', 'a\\ b'],
    ['equals', 'a=b', 'a\\=b'],
    ['trailing backslash', 'a\\', 'a\\\\'],
    ['quotes stay', 'say "hi"', 'say\\ "hi"'],
    ['unicode stays', '水表 1', '水表\\ 1'],
  ])('tag key/value and field key: %s', (_, input, expected) => {
    expect(escapeKey(input)).toBe(expected);
  });

  it.each([
    ['plain', 'up', '"up"'],
    ['double quote', 'say "hi"', '"say \\"hi\\""'],
    ['backslash', 'C:\\dir', '"C:\\\\dir"'],
    ['comma, space and equals stay', 'a, b=c', '"a, b=c"'],
    ['empty', '', '""'],
  ])('string field value: %s', (_, input, expected) => {
    expect(quoteString(input)).toBe(expected);
  });

  it.each([['line feed', 'a\nb'], ['carriage return', 'a\rb'], ['empty', '']])('rejects a name with %s', (_, input) => {
    expect(() => escapeKey(input)).toThrow(LineProtocolError);
    expect(() => escapeMeasurement(input)).toThrow(LineProtocolError);
  });
});

describe('readingToLine', () => {
  it.each([
    [
      'numbers are floats, seq is an integer, ts in ms',
      { volume_m3: 12, battery_pct: 97.5 },
      'water-meter,building=A-01,device=WM-A-01-0101,kind=water-meter,plot=A,site=blue-valley battery_pct=97.5,volume_m3=12,seq=7i 1704067200123',
    ],
    [
      'booleans as true/false',
      { running: true, between_floors: false },
      'water-meter,building=A-01,device=WM-A-01-0101,kind=water-meter,plot=A,site=blue-valley between_floors=false,running=true,seq=7i 1704067200123',
    ],
    [
      'strings quoted and escaped',
      { door: 'open "wide"\\' },
      'water-meter,building=A-01,device=WM-A-01-0101,kind=water-meter,plot=A,site=blue-valley door="open \\"wide\\"\\\\",seq=7i 1704067200123',
    ],
    [
      'very large and small numbers in exponent form',
      { a: 1e21, b: 5e-7, c: -3 },
      'water-meter,building=A-01,device=WM-A-01-0101,kind=water-meter,plot=A,site=blue-valley a=1e+21,b=5e-7,c=-3,seq=7i 1704067200123',
    ],
    [
      'field keys escaped',
      { 'flow rate,l=s': 1.5 },
      'water-meter,building=A-01,device=WM-A-01-0101,kind=water-meter,plot=A,site=blue-valley flow\\ rate\\,l\\=s=1.5,seq=7i 1704067200123',
    ],
    [
      'no metrics: seq alone keeps the line valid',
      {},
      'water-meter,building=A-01,device=WM-A-01-0101,kind=water-meter,plot=A,site=blue-valley seq=7i 1704067200123',
    ],
  ])('%s', (_, values, expected) => {
    expect(readingToLine({ deviceId: meter.id, ts: TS, seq: 7, values }, tags)).toBe(expected);
  });

  it('omits the building tag of a device outside any building and escapes tag values', () => {
    const pump: Device = { ...meter, id: 'BP A,1=x', kind: 'booster-pump', buildingId: null };
    const line = readingToLine({ deviceId: pump.id, ts: 0, seq: 1, values: { running: true } }, seriesTags('blue valley', pump.id, pump));
    expect(line).toBe('booster-pump,device=BP\\ A\\,1\\=x,kind=booster-pump,plot=A,site=blue\\ valley running=true,seq=1i 0');
  });

  it('writes a device unknown to the catalogue under the measurement "unknown", with site and device tags only', () => {
    const line = readingToLine({ deviceId: 'X-1', ts: 1000, seq: 2, values: { v: 1 } }, seriesTags('bv', 'X-1', undefined));
    expect(line).toBe('unknown,device=X-1,site=bv v=1,seq=2i 1000');
  });

  it.each([
    ['a fractional ts', { ts: 1.5 }, /ts 1.5/],
    ['a fractional seq', { seq: 0.5 }, /seq 0.5/],
    ['NaN', { values: { v: Number.NaN } }, /"v" is NaN/],
    ['Infinity', { values: { v: Number.POSITIVE_INFINITY } }, /"v" is Infinity/],
    ['a metric named seq', { values: { seq: 1 } }, /reserved/],
    ['a metric starting with _', { values: { _value: 1 } }, /starts with "_"/],
    ['an object value', { values: { v: {} as unknown as number } }, /type object/],
  ])('rejects %s', (_, patch, message) => {
    const reading = { deviceId: meter.id, ts: TS, seq: 1, values: { v: 1 }, ...patch };
    expect(() => readingToLine(reading, tags)).toThrow(message);
  });
});

describe('readingsToLines', () => {
  it('converts a batch in order', () => {
    const lines = readingsToLines(
      [{ deviceId: meter.id, ts: 1, seq: 1, values: { v: 1 } }, { deviceId: 'X', ts: 2, seq: 2, values: {} }],
      (id) => seriesTags('bv', id, id === meter.id ? meter : undefined),
    );
    expect(lines).toEqual([
      'water-meter,building=A-01,device=WM-A-01-0101,kind=water-meter,plot=A,site=bv v=1,seq=1i 1',
      'unknown,device=X,site=bv seq=2i 2',
    ]);
  });

  it('rejects the whole batch with one error naming every bad reading', () => {
    const batch: Reading[] = [
      { deviceId: 'ok', ts: 1, seq: 1, values: {} },
      { deviceId: 'bad-1', ts: 1.5, seq: 1, values: {} },
      { deviceId: 'bad-2', ts: 2, seq: 1, values: { v: Number.NaN } },
    ];
    try {
      readingsToLines(batch, (id) => seriesTags('bv', id, undefined));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(LineProtocolError);
      expect((error as LineProtocolError).code).toBe('TIME_SERIES_WRITE_INVALID');
      expect((error as Error).message).toMatch(/2 of 3 readings.*reading 1 \(device "bad-1"\).*reading 2 \(device "bad-2"\)/);
    }
  });
});

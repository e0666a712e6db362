/**
 * Readings as InfluxDB line protocol (https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/).
 *
 * Schema: one measurement per device kind (`water-meter`, `elevator`, ...), so
 * each measurement holds one set of fields; tags site, plot, building (omitted
 * when the device belongs to no building), kind and device; one field per
 * metric plus the integer field `seq`; the timestamp is the reading's own
 * event time in milliseconds (written with precision `ms`).
 *
 * Lines are built here rather than with the client's Point class because Point
 * writes booleans as T/F, does not escape backslashes in tag values (a value
 * ending in `\` would swallow the next comma) and hides the exact text that the
 * tests must check.
 */
import type { Device } from '../../catalogue/types.ts';
import type { Reading } from '../../ports/time-series.ts';

/** The measurement of readings from a device the catalogue does not know (ingest normally rejects those). */
export const UNKNOWN_MEASUREMENT = 'unknown';
export const SEQ_FIELD = 'seq';

export class LineProtocolError extends Error {
  readonly code = 'TIME_SERIES_WRITE_INVALID';
}

/** Where a reading's device sits: the tags of its series. */
export interface SeriesTags {
  readonly site: string;
  readonly plot: string | null;
  readonly building: string | null;
  readonly kind: string | null;
  readonly device: string;
}

export function seriesTags(site: string, deviceId: string, device: Device | undefined): SeriesTags {
  return {
    site,
    plot: device?.plotId ?? null,
    building: device?.buildingId ?? null,
    kind: device?.kind ?? null,
    device: deviceId,
  };
}

// Line protocol allows no line breaks in names or tag values, escaped or not.
const LINE_BREAK = /[\r\n]/;

function checkName(what: string, value: string): void {
  if (value === '') throw new LineProtocolError(`${what} is empty`);
  if (LINE_BREAK.test(value)) throw new LineProtocolError(`${what} ${JSON.stringify(value)} contains a line break`);
}

/** Measurement names: backslash, comma and space are escaped. */
export function escapeMeasurement(name: string): string {
  checkName('measurement', name);
  return name.replace(/[\\, ]/g, (c) => `\\${c}`);
}

/** Tag keys, tag values and field keys: backslash, comma, equals sign and space are escaped. */
export function escapeKey(value: string, what = 'tag or field key'): string {
  checkName(what, value);
  return value.replace(/[\\,= ]/g, (c) => `\\${c}`);
}

/** String field values: double-quoted, with double quotes and backslashes escaped. */
export function quoteString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Numbers are always written as floats (no `i` suffix), so a metric that
 * happens to be whole in one reading and fractional in the next never changes
 * field type, which InfluxDB would reject.
 */
function fieldValue(metric: string, value: unknown): string {
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new LineProtocolError(`metric "${metric}" is ${value}; InfluxDB stores only finite numbers`);
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return quoteString(value);
    default:
      throw new LineProtocolError(`metric "${metric}" has a value of type ${typeof value}; expected number, boolean or string`);
  }
}

/** One reading as one line: `<kind>,<tags> <metrics>,seq=<n>i <ts>`. */
export function readingToLine(reading: Reading, tags: SeriesTags): string {
  if (!Number.isSafeInteger(reading.ts)) throw new LineProtocolError(`ts ${reading.ts} is not an integer epoch millisecond`);
  if (!Number.isSafeInteger(reading.seq)) throw new LineProtocolError(`seq ${reading.seq} is not an integer`);

  // Sorted tag keys: the order InfluxDB stores them in, so the server need not sort.
  const tagPairs: [string, string | null][] = [
    ['building', tags.building], ['device', tags.device], ['kind', tags.kind], ['plot', tags.plot], ['site', tags.site],
  ];
  const tagText = tagPairs
    .filter((pair): pair is [string, string] => pair[1] !== null && pair[1] !== '')
    .map(([key, value]) => `,${key}=${escapeKey(value, `tag ${key}`)}`)
    .join('');

  const fields = Object.keys(reading.values).sort().map((metric) => {
    if (metric === SEQ_FIELD) throw new LineProtocolError(`metric name "${SEQ_FIELD}" is reserved for the message sequence number`);
    if (metric.startsWith('_')) throw new LineProtocolError(`metric name "${metric}" starts with "_", which InfluxDB reserves`);
    return `${escapeKey(metric, 'metric name')}=${fieldValue(metric, reading.values[metric])}`;
  });
  fields.push(`${SEQ_FIELD}=${reading.seq}i`);

  return `${escapeMeasurement(tags.kind ?? UNKNOWN_MEASUREMENT)}${tagText} ${fields.join(',')} ${reading.ts}`;
}

/**
 * All readings as lines, or one error naming every reading that cannot be
 * written, so that a batch is either queued whole or not at all.
 */
export function readingsToLines(readings: readonly Reading[], tagsOf: (deviceId: string) => SeriesTags): string[] {
  const lines: string[] = [];
  const problems: string[] = [];
  readings.forEach((reading, index) => {
    try {
      lines.push(readingToLine(reading, tagsOf(reading.deviceId)));
    } catch (error) {
      if (!(error instanceof LineProtocolError)) throw error;
      problems.push(`reading ${index} (device ${JSON.stringify(reading.deviceId)}): ${error.message}`);
    }
  });
  if (problems.length > 0) throw new LineProtocolError(`Cannot write ${problems.length} of ${readings.length} readings: ${problems.join('; ')}`);
  return lines;
}

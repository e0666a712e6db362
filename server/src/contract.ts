/**
 * The MQTT contract between devices and the server (README: "MQTT contract").
 *
 *   topic   estate/{site}/{plot}/{kind}/{deviceId}/{channel}
 *   payload telemetry: { "v": 1, "ts": ISO-8601 | epoch ms, "seq": int, "m": { metric: number | boolean | string } }
 *           event:     { "v": 1, "ts": ..., "seq": int, "event": string, "data"?: object }
 *           status:    the plain string "online" or "offline" (retained; also the last-will)
 */
import type { DeviceKind } from './catalogue/kinds.ts';

export const TOPIC_ROOT = 'estate';
export const PAYLOAD_VERSION = 1;
export const CHANNELS = ['telemetry', 'event', 'status'] as const;
export type Channel = (typeof CHANNELS)[number];

export type MetricValue = number | boolean | string;

export interface TelemetryPayload {
  v: 1;
  ts: string | number;
  seq: number;
  m: Record<string, MetricValue>;
}

export interface EventPayload {
  v: 1;
  ts: string | number;
  seq: number;
  event: string;
  data?: Record<string, unknown>;
}

export type DeviceStatus = 'online' | 'offline';

export function deviceTopic(site: string, plot: string, kind: DeviceKind, deviceId: string, channel: Channel): string {
  return `${TOPIC_ROOT}/${site}/${plot}/${kind}/${deviceId}/${channel}`;
}

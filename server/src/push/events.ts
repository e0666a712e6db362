/**
 * The socket.io event map, shared by the server (emit) and the web (listen).
 * Types only: the web imports this file with `import type`.
 */
import type { DeviceKind } from '../catalogue/kinds.ts';
import type { MetricValue } from '../contract.ts';

export type LiveStatus = 'online' | 'offline' | 'unknown';

/** The live state of one device: its status and the latest value of every metric it reported. */
export interface DeviceState {
  id: string;
  kind: DeviceKind;
  status: LiveStatus;
  /** Event time of the newest reading, epoch ms; null before the first one. */
  ts: number | null;
  /** Arrival time of the newest message of any channel, epoch ms. */
  seenAt: number | null;
  values: Record<string, MetricValue>;
}

export interface IngestCounters {
  accepted: number;
  rejected: number;
  /** Rejections per reason code (see server/src/domain/ingest-validation.ts). */
  byReason: Record<string, number>;
}

export interface ServerToClientEvents {
  /** Coalesced: the latest state of every device that changed since the previous frame. */
  'devices:update': (states: DeviceState[]) => void;
  'ingest:counters': (counters: IngestCounters) => void;
}

export interface ClientToServerEvents {
  /** Asks for the full current state of every device (sent on connect and after a reconnect). */
  'devices:snapshot': (reply: (states: DeviceState[]) => void) => void;
}

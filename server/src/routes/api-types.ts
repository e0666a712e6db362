/**
 * Response shapes of the REST API, shared by the server's routes and the web
 * (type-only imports). Request/response JSON schemas in the routes follow these.
 */
import type { DeviceKind } from '../catalogue/kinds.ts';
import type { Building, Contact, Device, Feeder, Plot, Road } from '../catalogue/types.ts';
import type { Bucket, Aggregate } from '../ports/time-series.ts';
import type { DeviceState, IngestCounters, LiveStatus } from '../push/events.ts';

/** Every error response: a stable code (see server/src/errors.ts) and a sentence for people. */
export interface ApiError { statusCode: number; code: string; message: string }

export interface SiteView {
  id: string;
  name: string;
  nameZh: string;
  latitude: number;
  longitude: number;
  timezone: string;
  size: { w: number; h: number };
  plots: Plot[];
  buildings: Building[];
  feeders: Feeder[];
  roads: Road[];
  contacts: Contact[];
  devicesByKind: Record<DeviceKind, number>;
  units: { households: number; shops: number };
}

export interface DeviceView extends Device { state: DeviceState }

export interface Page<T> { items: T[]; total: number; limit: number; offset: number }

export interface DeviceListQuery { plot?: string; building?: string; kind?: DeviceKind; status?: LiveStatus; limit?: number; offset?: number }

export interface ReadingsView { deviceId: string; metric: string; agg: Aggregate; everyMs: number; from: number; to: number; buckets: Bucket[] }

export interface ComponentHealth { ok: boolean; detail?: string }

export interface HealthView {
  status: 'ok' | 'degraded';
  broker: ComponentHealth & { url: string; embedded: boolean };
  database: ComponentHealth & { engine: 'pglite' | 'postgres' };
  timeSeries: ComponentHealth & { engine: string };
  ingest: IngestCounters;
  uptimeS: number;
}

export interface DeadLetterView { id: string; receivedAt: string; topic: string; payload: string; payloadTruncated: boolean; reason: string; detail: string }

export interface CursorPage<T> { items: T[]; nextCursor: string | null }

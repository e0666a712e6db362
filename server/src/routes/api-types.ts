/**
 * Response shapes of the REST API, shared by the server's routes and the web
 * (type-only imports). Request/response JSON schemas in the routes follow these.
 */
import type { DeviceKind } from '../catalogue/kinds.ts';
import type { Building, Contact, Device, DeviceRole, Feeder, Plot, Road } from '../catalogue/types.ts';
import type { Bucket, Aggregate } from '../ports/time-series.ts';
import type { StaffMember, Zone } from '../domain/tickets/assignment.ts';
import type { Ticket, TicketEvent } from '../domain/tickets/model.ts';
import type { ChecklistItem, PatrolRound } from '../domain/tickets/patrols.ts';
import type { Callback } from '../domain/tickets/reception.ts';
import type { SlaStageState } from '../domain/tickets/sla.ts';
import type { SlaSummaryRow, WorkloadRow } from '../services/tickets.ts';
import type { AlarmView, DeviceState, IngestCounters, LiveStatus } from '../push/events.ts';
import type { AlarmEffect, AlarmState } from '../domain/alarms/alarm-state.ts';
import type { FloodEffect } from '../domain/alarms/engine.ts';
import type { AlarmKpis } from '../domain/alarms/kpis.ts';
import type { Priority, Text } from '../domain/alarms/rules.ts';
import type { Report, ReportPeriod } from '../domain/reports.ts';
import type { MetricValue } from '../contract.ts';

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

export interface WriterStatsView { pending: number; written: number; dropped: number; failedFlushes: number }
export interface AckStatsView { mode: 'after-write' | 'on-receipt'; afterWrite: number; onReceipt: number }

/**
 * The fields that name this machine or its services (`broker.url`, `instance`) and every `detail`
 * (error texts) are shown to a logged-in operator or administrator only (`details: true`); anyone
 * else, load balancers and healthchecks included, gets the status, the flags and the counters.
 */
export interface HealthView {
  status: 'ok' | 'degraded';
  details: boolean;
  /** refused: the embedded broker's refused connections, publishes (spoofed topics) and subscriptions. */
  broker: ComponentHealth & { url?: string; embedded: boolean; refused?: { connect: number; publish: number; subscribe: number } };
  database: ComponentHealth & { engine: 'pglite' | 'postgres' };
  /**
   * writer: the telemetry writer's counters (readings). acks: how the MQTT messages were acknowledged
   * to the broker — after what they carried was stored, or on receipt while a store failed or lagged
   * (README "Fault tolerance"); the embedded broker's messages are not counted (nothing to acknowledge).
   */
  timeSeries: ComponentHealth & { engine: string; writer: WriterStatsView; acks: AckStatsView };
  ingest: IngestCounters;
  uptimeS: number;
  /** This server process: the owner named in the partition leases (`host-pid-random`). */
  instance?: string;
  /** The site's partitions (one per plot; README "Scale-out") this instance owns now, of `total`. */
  partitions: { total: number; owned: PartitionLeaseView[] };
}

/** A partition's lease as this instance last renewed it: `expiresAt` by the database's clock (ISO), past while the database is unreachable. */
export interface PartitionLeaseView { id: string; plotId: string; epoch: number; expiresAt: string }

export interface DeadLetterView { id: string; receivedAt: string; topic: string; payload: string; payloadTruncated: boolean; reason: string; detail: string }

export interface CursorPage<T> { items: T[]; nextCursor: string | null }

/** GET /api/trends: consumption of the household and shop meters in a scope, with the period before for comparison. */
export interface TrendsView {
  scope: { kind: 'site' | 'plot' | 'building' | 'unit' | 'device'; id: string | null };
  utility: 'water' | 'electricity';
  metric: string;
  unit: string;
  from: number;
  to: number;
  everyMs: number;
  /** How many meters the series adds up. */
  meters: number;
  series: Bucket[];
  /** The same length of time just before `from`, same bucket width (compare by position). */
  previous: Bucket[];
  total: number | null;
  previousTotal: number | null;
  /** Water, site or plot: the bulk inlet(s) against the sum of the households and shops. */
  balance: { inlet: Bucket[]; inletTotal: number | null; consumersTotal: number | null; loss: number | null; lossPct: number | null } | null;
  /** Water, site or plot: the inlets' smallest hourly flow between 02:00 and 04:00 local time, per night. */
  nightFlow: { date: string; value: number | null }[] | null;
}

export interface TopConsumer { deviceId: string; unitId: string | null; buildingId: string | null; plotId: string; role: DeviceRole; value: number }

/** GET /api/trends/top: the meters of a scope with the largest consumption in [from, to). */
export interface TopConsumersView { utility: 'water' | 'electricity'; unit: string; from: number; to: number; meters: number; items: TopConsumer[] }

// ── Alarms ───────────────────────────────────────────────────────────────────

export type { AlarmView };

/** GET /api/alarms. `activeOnly` (default true) keeps the alarms that are not normal: active, or returned but unacknowledged. */
export interface AlarmListQuery {
  state?: AlarmState;
  priority?: Priority;
  plot?: string;
  kind?: DeviceKind;
  device?: string;
  activeOnly?: boolean;
  limit?: number;
  offset?: number;
}

/** One entry of an alarm's history: what the engine did, when, and who (for operator actions). */
export interface AlarmEventView {
  id: number;
  type: AlarmEffect['type'] | FloodEffect['type'];
  /** Event time for condition changes, wall clock for actions; epoch ms. */
  at: number;
  by: string | null;
  /** The alarm's state and value right after. */
  state: AlarmState | null;
  value: MetricValue | null;
}

/** GET /api/alarms/:id: the alarm with its most recent events, newest first. */
export interface AlarmDetailView extends AlarmView { events: AlarmEventView[] }

/** POST /api/alarms/:id/ack */
export interface AlarmAckRequest { comment?: string }

/** POST /api/alarms/:id/shelve: an end time (ISO-8601) or a number of minutes, and a reason. At most 24 h. */
export interface AlarmShelveRequest { until?: string; minutes?: number; reason: string }

/** GET /api/alarms/kpis?from&to (epoch ms or ISO; default the last 24 h). */
export type AlarmKpisView = AlarmKpis;

// ── Accounts (server/src/routes/auth.ts, users.ts) ──────────────────────────

export type RoleName = import('../auth/roles.ts').Role;

export interface UserView {
  id: number;
  username: string;
  displayName: string;
  role: RoleName;
  /** A patrol officer's zone (plot id), or null. */
  plotId: string | null;
  disabled: boolean;
  /** A demo account with a published password (embedded demo only). */
  demo: boolean;
  createdAt: string;
  updatedAt: string;
  passwordChangedAt: string;
}

/** GET /api/auth/me and POST /api/auth/login: who is logged in, and the CSRF token to send as x-csrf-token. */
export interface SessionView {
  user: UserView;
  csrfToken: string;
  /** ISO time when the session ends; log in again after it. */
  expiresAt: string;
}

export interface AuthEventView {
  id: number;
  at: string;
  /** login, login-failed, login-locked, logout, password-changed, user-created, user-updated, session-expired */
  type: string;
  username: string;
  actor: string | null;
  address: string;
  detail: Record<string, unknown>;
}

// ── Tickets (server/src/routes/tickets.ts). Times are epoch ms, like AlarmView. ──

/** A ticket as the viewer may see it (confidential details blanked for roles that may not see them), with its SLA countdown. */
export interface TicketView extends Ticket {
  /** Whether details were withheld from this viewer. */
  redacted: boolean;
  /** A title the system wrote (alarm rule, patrol finding, confidential placeholder) in both languages; null when someone typed `title`. */
  titles: Text | null;
  sla: SlaStageState[];
}

export interface TicketAlarmView { alarmId: string; deviceId: string; active: boolean; linkedAt: number; changedAt: number }

export interface TicketDetailView { ticket: TicketView; events: TicketEvent[]; alarms: TicketAlarmView[]; callbacks: Callback[] }

export interface CallbackView extends Callback { overdue: boolean; ticketTitle: string; ticketTitles: Text | null }

export interface PatrolRoundView extends PatrolRound { zoneName: string; zoneNameZh: string; plotId: string }

export interface PatrolRecordView { id: number; roundId: number; item: string; category: string; ok: boolean; note: string; major: boolean; ticketId: number | null }

export interface StaffView extends StaffMember { onDuty: boolean }

export type ZoneView = Zone;

export type { ChecklistItem, SlaSummaryRow, WorkloadRow };

// ── Reports (server/src/routes/reports.ts) ──

/** GET /api/reports: tickets and alarms of a period (see server/src/domain/reports.ts for what each figure counts). */
export type ReportView = Report;
export type { ReportPeriod };

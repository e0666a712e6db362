/**
 * Alarm tables. `alarms` holds the current state of each alarm (one row per
 * device and rule, for good: the primary key makes a second row impossible,
 * also with several server instances on one database); `alarm_events` is the
 * append-only history the KPIs are computed from; `alarm_engine_state` keeps
 * the anomaly engine's snapshot so that a restart neither loses nor repeats
 * an alarm.
 */
import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, smallint, text, timestamp } from 'drizzle-orm/pg-core';
import type { MetricValue } from '../../contract.ts';

const timestampMs = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });

export const alarms = pgTable('alarms', {
  /** `${deviceId}:${ruleId}` */
  id: text('id').primaryKey(),
  deviceId: text('device_id').notNull(),
  ruleId: text('rule_id').notNull(),
  kind: text('kind').notNull(),
  plotId: text('plot_id').notNull(),
  buildingId: text('building_id'),
  /** 1 = critical … 4 = low */
  priority: smallint('priority').notNull(),
  ticket: text('ticket').notNull(),
  titleEn: text('title_en').notNull(),
  titleZh: text('title_zh').notNull(),
  /** normal | unack | ack | rtn-unack */
  state: text('state').notNull(),
  value: jsonb('value').$type<MetricValue>(),
  message: text('message'),
  count: integer('count').notNull(),
  firstActiveAt: timestampMs('first_active_at'),
  lastActiveAt: timestampMs('last_active_at'),
  lastClearedAt: timestampMs('last_cleared_at'),
  ackBy: text('ack_by'),
  ackAt: timestampMs('ack_at'),
  ackComment: text('ack_comment'),
  shelvedBy: text('shelved_by'),
  shelvedAt: timestampMs('shelved_at'),
  shelvedUntil: timestampMs('shelved_until'),
  shelveReason: text('shelve_reason'),
  /** The root-cause alarm that suppresses this one by design, e.g. the feeder outage that cut its power. */
  suppressedBy: text('suppressed_by'),
  outOfService: boolean('out_of_service').notNull(),
  chattering: boolean('chattering').notNull(),
  /** Engine bookkeeping for chattering and its rate limit. */
  recentActivations: jsonb('recent_activations').$type<number[]>().notNull(),
  lastAnnouncedAt: timestampMs('last_announced_at'),
  /** The writer's wall clock: an older write never overwrites a newer one. */
  updatedAt: timestampMs('updated_at').notNull(),
}, (t) => [
  // The operator's list: alarms not normal, by priority then newest.
  index('alarms_open_idx').on(t.priority, t.lastActiveAt.desc(), t.id).where(sql`${t.state} <> 'normal'`),
  index('alarms_plot_idx').on(t.plotId, t.state),
  index('alarms_kind_idx').on(t.kind, t.state),
  index('alarms_device_idx').on(t.deviceId),
]);

export const alarmEvents = pgTable('alarm_events', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  /** Null for plot-wide events (flood started / ended). */
  alarmId: text('alarm_id'),
  plotId: text('plot_id').notNull(),
  /** The engine effect's type, e.g. 'alarm-raised', 'flood-started'. */
  type: text('type').notNull(),
  /** The effect's time: event time for condition changes, wall clock for actions. */
  at: timestampMs('at').notNull(),
  /** The operator, for acknowledge / shelve / unshelve. */
  by: text('by'),
  /** The whole effect as the engine produced it (JSON). */
  payload: jsonb('payload').notNull(),
  recordedAt: timestampMs('recorded_at').notNull().defaultNow(),
}, (t) => [
  index('alarm_events_alarm_idx').on(t.alarmId, t.id.desc()),
  index('alarm_events_type_at_idx').on(t.type, t.at),
]);

/** One row per site: the engine's snapshot() as JSON text, saved every few seconds and on shutdown. */
export const alarmEngineState = pgTable('alarm_engine_state', {
  siteId: text('site_id').primaryKey(),
  snapshot: text('snapshot').notNull(),
  savedAt: timestampMs('saved_at').notNull(),
});

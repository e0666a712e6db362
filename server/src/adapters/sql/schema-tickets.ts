/**
 * Tickets: staff, patrol zones and roster (seeded from the staff catalogue),
 * tickets with their append-only audit trail, linked alarms, callbacks, and
 * patrol rounds with their records.
 *
 * One open ticket per root cause is the database's rule, not only the
 * code's: a partial unique index on root_cause_key over the tickets that are
 * not closed or cancelled, so that two server instances raising the same
 * incident make one ticket (the second insert does nothing and attaches).
 */
import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import type { Escalation } from '../../domain/tickets/model.ts';

const timestampMs = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });

export const staff = pgTable('staff', {
  username: text('username').primaryKey(),
  name: text('name').notNull(),
  nameZh: text('name_zh').notNull(),
  role: text('role').notNull(),
  department: text('department'),
  skills: jsonb('skills').$type<string[]>().notNull().default([]),
  zoneId: text('zone_id'),
  company: text('company'),
  phone: text('phone').notNull().default(''),
});

export const patrolZones = pgTable('patrol_zones', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  nameZh: text('name_zh').notNull(),
  plotId: text('plot_id').notNull(),
  buildingIds: jsonb('building_ids').$type<string[]>().notNull(),
});

/** On duty from from_minutes to to_minutes (local time) on the ISO weekdays listed. */
export const rosterShifts = pgTable('roster_shifts', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  username: text('username').notNull(),
  weekdays: jsonb('weekdays').$type<number[]>().notNull(),
  fromMinutes: integer('from_minutes').notNull(),
  toMinutes: integer('to_minutes').notNull(),
}, (t) => [index('roster_shifts_username_idx').on(t.username)]);

export const tickets = pgTable('tickets', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  kind: text('kind').notNull(),
  priority: integer('priority').notNull(),
  status: text('status').notNull(),
  source: text('source').notNull(),
  major: boolean('major').notNull().default(false),
  confidential: boolean('confidential').notNull().default(false),
  title: text('title').notNull(),
  description: text('description').notNull().default(''),
  plotId: text('plot_id'),
  buildingId: text('building_id'),
  unitId: text('unit_id'),
  deviceId: text('device_id'),
  location: text('location').notNull().default(''),
  rootCauseKey: text('root_cause_key'),
  assignee: text('assignee'),
  createdBy: text('created_by').notNull(),
  createdAt: timestampMs('created_at').notNull(),
  updatedAt: timestampMs('updated_at').notNull(),
  acknowledgedAt: timestampMs('acknowledged_at'),
  onSiteAt: timestampMs('on_site_at'),
  resolvedAt: timestampMs('resolved_at'),
  closedAt: timestampMs('closed_at'),
  dueAcknowledgeAt: timestampMs('due_acknowledge_at').notNull(),
  dueOnSiteAt: timestampMs('due_on_site_at').notNull(),
  dueResolveAt: timestampMs('due_resolve_at').notNull(),
  neededBy: timestampMs('needed_by'),
  callbackPhone: text('callback_phone'),
  letterDueAt: timestampMs('letter_due_at'),
  handedOverAt: timestampMs('handed_over_at'),
  handedOverTo: text('handed_over_to'),
  reply: text('reply'),
  repliedBy: text('replied_by'),
  repliedAt: timestampMs('replied_at'),
  escalations: jsonb('escalations').$type<Escalation[]>().notNull().default([]),
  reopenCount: integer('reopen_count').notNull().default(0),
  version: integer('version').notNull().default(1),
}, (t) => [
  uniqueIndex('tickets_open_root_cause_key').on(t.rootCauseKey).where(sql`status not in ('closed', 'cancelled')`),
  index('tickets_status_idx').on(t.status),
  index('tickets_assignee_idx').on(t.assignee),
  index('tickets_created_at_idx').on(t.createdAt.desc(), t.id.desc()),
  index('tickets_root_cause_idx').on(t.rootCauseKey),
]);

/** The audit trail: rows are only ever inserted. */
export const ticketEvents = pgTable('ticket_events', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  ticketId: bigint('ticket_id', { mode: 'number' }).notNull().references(() => tickets.id),
  at: timestampMs('at').notNull(),
  by: text('by').notNull(),
  action: text('action').notNull(),
  fromStatus: text('from_status'),
  toStatus: text('to_status').notNull(),
  note: text('note').notNull().default(''),
  data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
}, (t) => [index('ticket_events_ticket_idx').on(t.ticketId, t.id)]);

/** Alarms attached to a ticket, with whether each is active now (verification waits for all to stay normal). */
export const ticketAlarms = pgTable('ticket_alarms', {
  ticketId: bigint('ticket_id', { mode: 'number' }).notNull().references(() => tickets.id),
  alarmId: text('alarm_id').notNull(),
  deviceId: text('device_id').notNull(),
  linkedAt: timestampMs('linked_at').notNull(),
  active: boolean('active').notNull(),
  changedAt: timestampMs('changed_at').notNull(),
}, (t) => [
  primaryKey({ name: 'ticket_alarms_pkey', columns: [t.ticketId, t.alarmId] }),
  index('ticket_alarms_alarm_idx').on(t.alarmId),
]);

export const callbacks = pgTable('callbacks', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  ticketId: bigint('ticket_id', { mode: 'number' }).notNull().references(() => tickets.id),
  phone: text('phone').notNull(),
  dueAt: timestampMs('due_at').notNull(),
  doneAt: timestampMs('done_at'),
  doneBy: text('done_by'),
  note: text('note').notNull().default(''),
}, (t) => [index('callbacks_open_idx').on(t.doneAt, t.dueAt)]);

export const patrolRounds = pgTable('patrol_rounds', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  zoneId: text('zone_id').notNull(),
  scheduledAt: timestampMs('scheduled_at').notNull(),
  dueBy: timestampMs('due_by').notNull(),
  status: text('status').notNull(),
  officer: text('officer'),
  startedAt: timestampMs('started_at'),
  completedAt: timestampMs('completed_at'),
  version: integer('version').notNull().default(1),
}, (t) => [
  // Several instances planning the same day make each round once.
  uniqueIndex('patrol_rounds_zone_time_key').on(t.zoneId, t.scheduledAt),
  index('patrol_rounds_status_idx').on(t.status, t.dueBy),
]);

/** The patrol record: one row per checklist item of a completed round. */
export const patrolRecords = pgTable('patrol_records', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  roundId: bigint('round_id', { mode: 'number' }).notNull().references(() => patrolRounds.id),
  item: text('item').notNull(),
  category: text('category').notNull(),
  ok: boolean('ok').notNull(),
  note: text('note').notNull().default(''),
  major: boolean('major').notNull().default(false),
  ticketId: bigint('ticket_id', { mode: 'number' }).references(() => tickets.id),
}, (t) => [index('patrol_records_round_idx').on(t.roundId)]);

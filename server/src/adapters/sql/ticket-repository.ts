/**
 * Tickets in the relational store (PostgreSQL or PGlite, through drizzle).
 *
 * Every change of a ticket is one transaction: the row, updated only if its
 * version is still the one the change was made from (optimistic concurrency),
 * plus its audit event. "One open ticket per root cause" rests on the partial
 * unique index tickets_open_root_cause_key: openOrAttach inserts with ON
 * CONFLICT DO NOTHING and attaches to the winner when it loses the race, so
 * several server instances on one database make exactly one ticket.
 */
import { and, asc, count, desc, eq, gte, inArray, isNull, lt, lte, notInArray, or, sql, type SQL } from 'drizzle-orm';
import type { Shift, StaffMember, Zone } from '../../domain/tickets/assignment.ts';
import { FINISHED_STATUSES, isFinished, TicketError, type Priority, type Ticket, type TicketEvent, type TicketKind, type TicketSource, type TicketStatus } from '../../domain/tickets/model.ts';
import type { ChecklistCategory, PatrolRound, PlannedRound, RoundStatus } from '../../domain/tickets/patrols.ts';
import type { Callback } from '../../domain/tickets/reception.ts';
import type { ReportTicket } from '../../domain/reports.ts';
import type { Change } from '../../domain/tickets/state-machine.ts';
import type { Department } from '../../domain/tickets/sla.ts';
import type { Role } from '../../auth/roles.ts';
import type { Skill } from '../../domain/tickets/assignment.ts';
import type { Database, Db } from './database.ts';
import { callbacks, patrolRecords, patrolRounds, patrolZones, rosterShifts, staff, ticketAlarms, ticketEvents, tickets } from './schema-tickets.ts';

type TicketRow = typeof tickets.$inferSelect;
type TicketInsert = typeof tickets.$inferInsert;

/** A ticket not yet stored: everything but the id and the version. */
export type TicketDraft = Omit<Ticket, 'id' | 'version'>;

export interface TicketFilter {
  kind?: TicketKind;
  status?: readonly TicketStatus[];
  priority?: Priority;
  plotId?: string;
  assignee?: string;
  /** Created at or after / before (epoch ms). */
  from?: number;
  to?: number;
}

export const TICKET_SORTS = ['createdAt', 'updatedAt', 'priority', 'dueResolveAt', 'status'] as const;
export type TicketSort = (typeof TICKET_SORTS)[number];

export interface TicketListQuery extends TicketFilter {
  sort?: TicketSort;
  order?: 'asc' | 'desc';
  limit: number;
  offset: number;
}

export interface AlarmLink { readonly alarmId: string; readonly deviceId: string; readonly active: boolean; readonly linkedAt: number; readonly changedAt: number }

export interface PatrolRecord {
  readonly id: number;
  readonly roundId: number;
  readonly item: string;
  readonly category: ChecklistCategory;
  readonly ok: boolean;
  readonly note: string;
  readonly major: boolean;
  readonly ticketId: number | null;
}

export type AttachOutcome = 'created' | 'attached' | 'reopened';

const ms = (d: Date | null): number | null => (d === null ? null : d.getTime());
const date = (t: number | null): Date | null => (t === null ? null : new Date(t));
const notFinished = () => notInArray(tickets.status, [...FINISHED_STATUSES]);

function toTicket(r: TicketRow): Ticket {
  return {
    id: r.id, kind: r.kind as TicketKind, priority: r.priority as Priority, status: r.status as TicketStatus, source: r.source as TicketSource,
    major: r.major, confidential: r.confidential, title: r.title, description: r.description,
    plotId: r.plotId, buildingId: r.buildingId, unitId: r.unitId, deviceId: r.deviceId, location: r.location,
    rootCauseKey: r.rootCauseKey, assignee: r.assignee, createdBy: r.createdBy,
    createdAt: r.createdAt.getTime(), updatedAt: r.updatedAt.getTime(),
    acknowledgedAt: ms(r.acknowledgedAt), onSiteAt: ms(r.onSiteAt), resolvedAt: ms(r.resolvedAt), closedAt: ms(r.closedAt),
    dueAcknowledgeAt: r.dueAcknowledgeAt.getTime(), dueOnSiteAt: r.dueOnSiteAt.getTime(), dueResolveAt: r.dueResolveAt.getTime(),
    neededBy: ms(r.neededBy), callbackPhone: r.callbackPhone, letterDueAt: ms(r.letterDueAt),
    handedOverAt: ms(r.handedOverAt), handedOverTo: r.handedOverTo, reply: r.reply, repliedBy: r.repliedBy, repliedAt: ms(r.repliedAt),
    escalations: r.escalations, reopenCount: r.reopenCount, version: r.version,
  };
}

function toRow(t: TicketDraft): Omit<TicketInsert, 'id' | 'version'> {
  return {
    kind: t.kind, priority: t.priority, status: t.status, source: t.source, major: t.major, confidential: t.confidential,
    title: t.title, description: t.description, plotId: t.plotId, buildingId: t.buildingId, unitId: t.unitId, deviceId: t.deviceId,
    location: t.location, rootCauseKey: t.rootCauseKey, assignee: t.assignee, createdBy: t.createdBy,
    createdAt: new Date(t.createdAt), updatedAt: new Date(t.updatedAt),
    acknowledgedAt: date(t.acknowledgedAt), onSiteAt: date(t.onSiteAt), resolvedAt: date(t.resolvedAt), closedAt: date(t.closedAt),
    dueAcknowledgeAt: new Date(t.dueAcknowledgeAt), dueOnSiteAt: new Date(t.dueOnSiteAt), dueResolveAt: new Date(t.dueResolveAt),
    neededBy: date(t.neededBy), callbackPhone: t.callbackPhone, letterDueAt: date(t.letterDueAt),
    handedOverAt: date(t.handedOverAt), handedOverTo: t.handedOverTo, reply: t.reply, repliedBy: t.repliedBy, repliedAt: date(t.repliedAt),
    escalations: [...t.escalations], reopenCount: t.reopenCount,
  };
}

function toEvent(r: typeof ticketEvents.$inferSelect): TicketEvent {
  return { ticketId: r.ticketId, at: r.at.getTime(), by: r.by, action: r.action as TicketEvent['action'], from: r.fromStatus as TicketStatus | null, to: r.toStatus as TicketStatus, note: r.note, data: r.data };
}

const eventRow = (e: TicketEvent, ticketId = e.ticketId) => ({ ticketId, at: new Date(e.at), by: e.by, action: e.action, fromStatus: e.from, toStatus: e.to, note: e.note, data: { ...e.data } });

function toRound(r: typeof patrolRounds.$inferSelect): PatrolRound & { version: number } {
  return {
    id: r.id, zoneId: r.zoneId, scheduledAt: r.scheduledAt.getTime(), dueBy: r.dueBy.getTime(), status: r.status as RoundStatus,
    officer: r.officer, startedAt: ms(r.startedAt), completedAt: ms(r.completedAt), version: r.version,
  };
}

function toCallback(r: typeof callbacks.$inferSelect): Callback {
  return { id: r.id, ticketId: r.ticketId, phone: r.phone, dueAt: r.dueAt.getTime(), doneAt: ms(r.doneAt), doneBy: r.doneBy, note: r.note };
}

/** A unique-index violation, whichever driver reported it (drizzle may wrap the driver's error). */
export function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if ((e as { code?: unknown }).code === '23505') return true;
  }
  return false;
}

/** Both drivers: postgres-js rows have `count` as a string when it is a bigint. */
const num = (value: unknown): number => Number(value);

export class TicketRepository {
  private readonly db: Db;

  constructor(database: Database) {
    this.db = database.db;
  }

  // ── Staff, zones, roster ───────────────────────────────────────────────────

  /** Replaces staff, zones and roster with the catalogue's (one instance at a time: an advisory lock). */
  async seedStaff(catalogue: { staff: readonly StaffMember[]; zones: readonly Zone[]; shifts: readonly Shift[] }): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext('estatewatch.seed-staff'))`);
      await tx.delete(rosterShifts);
      await tx.delete(staff);
      await tx.delete(patrolZones);
      if (catalogue.zones.length > 0) await tx.insert(patrolZones).values(catalogue.zones.map((z) => ({ ...z, buildingIds: [...z.buildingIds] })));
      if (catalogue.staff.length > 0) await tx.insert(staff).values(catalogue.staff.map((s) => ({ ...s, skills: [...s.skills] })));
      if (catalogue.shifts.length > 0) await tx.insert(rosterShifts).values(catalogue.shifts.map((s) => ({ ...s, weekdays: [...s.weekdays] })));
    });
  }

  async loadStaff(): Promise<{ staff: StaffMember[]; zones: Zone[]; shifts: Shift[] }> {
    const [s, z, r] = await Promise.all([
      this.db.select().from(staff).orderBy(asc(staff.username)),
      this.db.select().from(patrolZones).orderBy(asc(patrolZones.id)),
      this.db.select().from(rosterShifts).orderBy(asc(rosterShifts.id)),
    ]);
    return {
      staff: s.map((m) => ({ ...m, role: m.role as Role, department: m.department as Department | null, skills: m.skills as Skill[] })),
      zones: z,
      shifts: r.map(({ username, weekdays, fromMinutes, toMinutes }) => ({ username, weekdays, fromMinutes, toMinutes })),
    };
  }

  // ── Tickets ────────────────────────────────────────────────────────────────

  async get(id: number): Promise<Ticket | undefined> {
    const [row] = await this.db.select().from(tickets).where(eq(tickets.id, id));
    return row && toTicket(row);
  }

  async require(id: number): Promise<Ticket> {
    const ticket = await this.get(id);
    if (!ticket) throw new TicketError('TICKET_NOT_FOUND', `no ticket ${id}`);
    return ticket;
  }

  private where(f: TicketFilter): SQL | undefined {
    return and(
      f.kind !== undefined ? eq(tickets.kind, f.kind) : undefined,
      f.status !== undefined ? inArray(tickets.status, [...f.status]) : undefined,
      f.priority !== undefined ? eq(tickets.priority, f.priority) : undefined,
      f.plotId !== undefined ? eq(tickets.plotId, f.plotId) : undefined,
      f.assignee !== undefined ? eq(tickets.assignee, f.assignee) : undefined,
      f.from !== undefined ? gte(tickets.createdAt, new Date(f.from)) : undefined,
      f.to !== undefined ? lt(tickets.createdAt, new Date(f.to)) : undefined,
    );
  }

  async list(q: TicketListQuery): Promise<{ items: Ticket[]; total: number }> {
    const where = this.where(q);
    const column = { createdAt: tickets.createdAt, updatedAt: tickets.updatedAt, priority: tickets.priority, dueResolveAt: tickets.dueResolveAt, status: tickets.status }[q.sort ?? 'createdAt'];
    const direction = (q.order ?? 'desc') === 'asc' ? asc : desc;
    const [rows, [total]] = await Promise.all([
      this.db.select().from(tickets).where(where).orderBy(direction(column), direction(tickets.id)).limit(q.limit).offset(q.offset),
      this.db.select({ n: count() }).from(tickets).where(where),
    ]);
    return { items: rows.map(toTicket), total: num(total?.n ?? 0) };
  }

  /** Every ticket matching the filter, oldest first (exports, summaries, the periodic checks). */
  async all(filter: TicketFilter = {}): Promise<Ticket[]> {
    const rows = await this.db.select().from(tickets).where(this.where(filter)).orderBy(asc(tickets.id));
    return rows.map(toTicket);
  }

  /**
   * The tickets created in [from, to) (of one plot), with only the columns a
   * report judges, oldest first; at most `limit` (the caller asks for one more
   * to tell whether there were more).
   */
  async forReport(filter: { from: number; to: number; plotId?: string }, limit: number): Promise<ReportTicket[]> {
    const rows = await this.db.select({
      kind: tickets.kind, priority: tickets.priority, source: tickets.source, status: tickets.status, createdAt: tickets.createdAt,
      acknowledgedAt: tickets.acknowledgedAt, onSiteAt: tickets.onSiteAt, resolvedAt: tickets.resolvedAt, closedAt: tickets.closedAt,
      dueAcknowledgeAt: tickets.dueAcknowledgeAt, dueOnSiteAt: tickets.dueOnSiteAt, dueResolveAt: tickets.dueResolveAt,
    }).from(tickets)
      .where(this.where({ from: filter.from, to: filter.to, ...(filter.plotId !== undefined && { plotId: filter.plotId }) }))
      .orderBy(asc(tickets.createdAt), asc(tickets.id))
      .limit(limit);
    return rows.map((r) => ({
      kind: r.kind as TicketKind, priority: r.priority as Priority, source: r.source as TicketSource, status: r.status as TicketStatus,
      createdAt: r.createdAt.getTime(), acknowledgedAt: ms(r.acknowledgedAt), onSiteAt: ms(r.onSiteAt), resolvedAt: ms(r.resolvedAt), closedAt: ms(r.closedAt),
      dueAcknowledgeAt: r.dueAcknowledgeAt.getTime(), dueOnSiteAt: r.dueOnSiteAt.getTime(), dueResolveAt: r.dueResolveAt.getTime(),
    }));
  }

  async unfinished(): Promise<Ticket[]> {
    const rows = await this.db.select().from(tickets).where(notFinished()).orderBy(asc(tickets.id));
    return rows.map(toTicket);
  }

  /** Open (not finished) tickets per assignee. */
  async openCounts(): Promise<Map<string, number>> {
    const rows = await this.db.select({ assignee: tickets.assignee, n: count() }).from(tickets).where(notFinished()).groupBy(tickets.assignee);
    return new Map(rows.filter((r) => r.assignee !== null).map((r) => [r.assignee!, num(r.n)]));
  }

  /** Stores a new ticket with its 'create' event (and optionally its first alarm and a callback). */
  async insert(draft: TicketDraft, event: Omit<TicketEvent, 'ticketId'>, callback?: Omit<Callback, 'id' | 'ticketId'>): Promise<Ticket> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.insert(tickets).values(toRow(draft)).returning();
      const ticket = toTicket(row!);
      await tx.insert(ticketEvents).values(eventRow({ ...event, ticketId: ticket.id }));
      if (callback) await tx.insert(callbacks).values({ ticketId: ticket.id, phone: callback.phone, dueAt: new Date(callback.dueAt) });
      return ticket;
    });
  }

  /**
   * Applies a change made from `change.ticket.version - 1`: the row is updated
   * only if nobody changed it since, together with its event. A comment (same
   * version) only appends its event.
   */
  async save(before: Ticket, change: Change): Promise<Ticket> {
    return this.db.transaction(async (tx) => {
      if (change.ticket.version !== before.version) {
        const updated = await tx.update(tickets).set({ ...toRow(change.ticket), version: change.ticket.version })
          .where(and(eq(tickets.id, before.id), eq(tickets.version, before.version))).returning({ id: tickets.id });
        if (updated.length === 0) {
          throw new TicketError('TICKET_STALE_VERSION', `ticket ${before.id} was changed by someone else since version ${before.version}; reload it and try again`);
        }
      }
      await tx.insert(ticketEvents).values(eventRow(change.event));
      return change.ticket;
    });
  }

  async events(ticketId: number): Promise<TicketEvent[]> {
    const rows = await this.db.select().from(ticketEvents).where(eq(ticketEvents.ticketId, ticketId)).orderBy(asc(ticketEvents.id));
    return rows.map(toEvent);
  }

  // ── Alarms ─────────────────────────────────────────────────────────────────

  async openByRootCause(key: string): Promise<Ticket | undefined> {
    const [row] = await this.db.select().from(tickets).where(and(eq(tickets.rootCauseKey, key), notFinished()));
    return row && toTicket(row);
  }

  /**
   * The open ticket of this root cause, and its newest ticket closed at or
   * after `since` (a returning fault reopens it), in one statement.
   */
  async openOrClosedSince(key: string, since: number): Promise<{ open: Ticket | undefined; closed: Ticket | undefined }> {
    const rows = await this.db.select().from(tickets)
      .where(and(eq(tickets.rootCauseKey, key), or(notFinished(), and(eq(tickets.status, 'closed'), gte(tickets.closedAt, new Date(since))))))
      .orderBy(desc(tickets.closedAt));
    const found = rows.map(toTicket);
    return { open: found.find((t) => !isFinished(t.status)), closed: found.find((t) => t.status === 'closed') };
  }

  /**
   * Inserts the ticket unless an open one of the same root cause exists (the
   * partial unique index decides, also across server instances), with its
   * 'create' event and its first alarm, in one statement (one round trip,
   * one commit). Returns the new ticket, or undefined when another one won.
   */
  async insertUnlessOpen(draft: TicketDraft, event: Omit<TicketEvent, 'ticketId'>, link: Omit<AlarmLink, 'linkedAt' | 'changedAt'>): Promise<Ticket | undefined> {
    const inserted = this.db.$with('inserted').as(this.db.insert(tickets).values(toRow(draft))
      .onConflictDoNothing({ target: tickets.rootCauseKey, where: sql`status not in ('closed', 'cancelled')` })
      .returning());
    // The event and the link take the new ticket's id from `inserted`: when another ticket won, no rows.
    const at = sql`${new Date(event.at).toISOString()}::timestamptz`;
    const createEvent = this.db.$with('create_event', {}).as(sql`
      insert into ${ticketEvents} (ticket_id, at, by, action, from_status, to_status, note, data)
      select id, ${at}, ${event.by}, ${event.action}, ${event.from}, ${event.to}, ${event.note}, ${JSON.stringify(event.data)}::jsonb from ${inserted}`);
    const linkAlarm = this.db.$with('link_alarm', {}).as(sql`
      insert into ${ticketAlarms} (ticket_id, alarm_id, device_id, linked_at, active, changed_at)
      select id, ${link.alarmId}, ${link.deviceId}, ${at}, ${link.active}, ${at} from ${inserted}`);
    const [row] = await this.db.with(inserted, createEvent, linkAlarm).select().from(inserted);
    return row && toTicket(row);
  }

  /** Links an alarm to a ticket, or records its new state; true when the link is new. */
  async link(ticketId: number, link: Omit<AlarmLink, 'linkedAt' | 'changedAt'>, at: number): Promise<boolean> {
    const inserted = await this.db.insert(ticketAlarms)
      .values({ ticketId, ...link, linkedAt: new Date(at), changedAt: new Date(at) })
      .onConflictDoNothing().returning({ ticketId: ticketAlarms.ticketId });
    if (inserted.length === 0) {
      await this.db.update(ticketAlarms).set({ active: link.active, changedAt: new Date(at) })
        .where(and(eq(ticketAlarms.ticketId, ticketId), eq(ticketAlarms.alarmId, link.alarmId)));
    }
    return inserted.length > 0;
  }

  async appendEvent(event: TicketEvent): Promise<void> {
    await this.db.insert(ticketEvents).values(eventRow(event));
  }

  /** An alarm's condition changed: recorded on the links of the unfinished tickets it belongs to. */
  async setAlarmActive(alarmId: string, active: boolean, at: number): Promise<void> {
    const open = this.db.select({ id: tickets.id }).from(tickets).where(notFinished());
    await this.db.update(ticketAlarms).set({ active, changedAt: new Date(at) })
      .where(and(eq(ticketAlarms.alarmId, alarmId), inArray(ticketAlarms.ticketId, open)));
  }

  async alarmsOf(ticketId: number): Promise<AlarmLink[]> {
    const rows = await this.db.select().from(ticketAlarms).where(eq(ticketAlarms.ticketId, ticketId)).orderBy(asc(ticketAlarms.linkedAt), asc(ticketAlarms.alarmId));
    return rows.map((r) => ({ alarmId: r.alarmId, deviceId: r.deviceId, active: r.active, linkedAt: r.linkedAt.getTime(), changedAt: r.changedAt.getTime() }));
  }

  /** Whether another maintenance ticket under way keeps the device out of service. */
  async openMaintenanceFor(deviceId: string, exceptTicketId: number): Promise<boolean> {
    const [row] = await this.db.select({ n: count() }).from(tickets)
      .where(and(eq(tickets.deviceId, deviceId), eq(tickets.kind, 'maintenance'), inArray(tickets.status, ['in-progress', 'resolved']), sql`${tickets.id} <> ${exceptTicketId}`));
    return num(row?.n ?? 0) > 0;
  }

  // ── Callbacks ──────────────────────────────────────────────────────────────

  async callbacks(filter: { open?: boolean; ticketId?: number } = {}): Promise<Callback[]> {
    const rows = await this.db.select().from(callbacks).where(and(
      filter.open === undefined ? undefined : filter.open ? isNull(callbacks.doneAt) : sql`${callbacks.doneAt} is not null`,
      filter.ticketId === undefined ? undefined : eq(callbacks.ticketId, filter.ticketId),
    )).orderBy(asc(callbacks.dueAt), asc(callbacks.id));
    return rows.map(toCallback);
  }

  async callback(id: number): Promise<Callback | undefined> {
    const [row] = await this.db.select().from(callbacks).where(eq(callbacks.id, id));
    return row && toCallback(row);
  }

  /** Marks a callback done unless someone else did first (then CALLBACK_ALREADY_DONE). */
  async completeCallback(done: Callback, event: TicketEvent): Promise<void> {
    await this.db.transaction(async (tx) => {
      const updated = await tx.update(callbacks).set({ doneAt: date(done.doneAt), doneBy: done.doneBy, note: done.note })
        .where(and(eq(callbacks.id, done.id), isNull(callbacks.doneAt))).returning({ id: callbacks.id });
      if (updated.length === 0) throw new TicketError('CALLBACK_ALREADY_DONE', `callback ${done.id} was already made`);
      await tx.insert(ticketEvents).values(eventRow(event));
    });
  }

  // ── Patrol rounds ──────────────────────────────────────────────────────────

  /** Creates the planned rounds that do not exist yet (idempotent across instances). */
  async planRounds(planned: readonly PlannedRound[]): Promise<void> {
    if (planned.length === 0) return;
    await this.db.insert(patrolRounds)
      .values(planned.map((p) => ({ zoneId: p.zoneId, scheduledAt: new Date(p.scheduledAt), dueBy: new Date(p.dueBy), status: 'scheduled' })))
      .onConflictDoNothing({ target: [patrolRounds.zoneId, patrolRounds.scheduledAt] });
  }

  async rounds(filter: { zoneId?: string; status?: RoundStatus; from?: number; to?: number } = {}): Promise<(PatrolRound & { version: number })[]> {
    const rows = await this.db.select().from(patrolRounds).where(and(
      filter.zoneId === undefined ? undefined : eq(patrolRounds.zoneId, filter.zoneId),
      filter.status === undefined ? undefined : eq(patrolRounds.status, filter.status),
      filter.from === undefined ? undefined : gte(patrolRounds.scheduledAt, new Date(filter.from)),
      filter.to === undefined ? undefined : lt(patrolRounds.scheduledAt, new Date(filter.to)),
    )).orderBy(asc(patrolRounds.scheduledAt), asc(patrolRounds.zoneId));
    return rows.map(toRound);
  }

  async round(id: number): Promise<(PatrolRound & { version: number }) | undefined> {
    const [row] = await this.db.select().from(patrolRounds).where(eq(patrolRounds.id, id));
    return row && toRound(row);
  }

  /** Rounds past their window and not completed. */
  async overdueRounds(now: number): Promise<(PatrolRound & { version: number })[]> {
    const rows = await this.db.select().from(patrolRounds)
      .where(and(inArray(patrolRounds.status, ['scheduled', 'in-progress']), lte(patrolRounds.dueBy, new Date(now))));
    return rows.map(toRound);
  }

  /** Saves a round changed from `version`, with its records; the records' ids, or null if someone else changed the round first. */
  async saveRound(round: PatrolRound, version: number, records: readonly Omit<PatrolRecord, 'id' | 'roundId'>[] = []): Promise<number[] | null> {
    return this.db.transaction(async (tx) => {
      const updated = await tx.update(patrolRounds)
        .set({ status: round.status, officer: round.officer, startedAt: date(round.startedAt), completedAt: date(round.completedAt), version: version + 1 })
        .where(and(eq(patrolRounds.id, round.id), eq(patrolRounds.version, version))).returning({ id: patrolRounds.id });
      if (updated.length === 0) return null;
      if (records.length === 0) return [];
      const inserted = await tx.insert(patrolRecords).values(records.map((r) => ({ ...r, roundId: round.id }))).returning({ id: patrolRecords.id });
      return inserted.map((r) => r.id);
    });
  }

  async setRecordTicket(recordId: number, ticketId: number): Promise<void> {
    await this.db.update(patrolRecords).set({ ticketId }).where(eq(patrolRecords.id, recordId));
  }

  async records(filter: { roundId?: number; zoneId?: string } = {}): Promise<PatrolRecord[]> {
    const rows = await this.db.select({ record: patrolRecords }).from(patrolRecords)
      .innerJoin(patrolRounds, eq(patrolRounds.id, patrolRecords.roundId))
      .where(and(
        filter.roundId === undefined ? undefined : eq(patrolRecords.roundId, filter.roundId),
        filter.zoneId === undefined ? undefined : eq(patrolRounds.zoneId, filter.zoneId),
      )).orderBy(desc(patrolRounds.scheduledAt), asc(patrolRecords.id));
    return rows.map(({ record: r }) => ({ ...r, category: r.category as ChecklistCategory }));
  }
}

/**
 * Alarms in the relational store: the current state per alarm (`alarms`),
 * the append-only history of engine effects (`alarm_events`) and the
 * engine's snapshot (`alarm_engine_state`). Written in batches by the alarms
 * plugin; read by the alarm API and the KPIs.
 */
import { and, asc, desc, eq, getTableColumns, gte, inArray, lt, ne, sql, type SQL } from 'drizzle-orm';
import type { DeviceKind } from '../../catalogue/kinds.ts';
import type { MetricValue } from '../../contract.ts';
import type { Alarm, AlarmEffect, AlarmState } from '../../domain/alarms/alarm-state.ts';
import type { EngineEffect } from '../../domain/alarms/engine.ts';
import type { Priority, TicketKind } from '../../domain/alarms/rules.ts';
import type { Database } from './database.ts';
import { alarmEngineState, alarmEvents, alarms } from './schema.ts';

/**
 * One thing to write: an engine effect (a history row, and the alarm's new
 * state), or an alarm whose state moved on without an effect (its latest
 * value, say). `at` is the wall clock when it was queued.
 */
export type AlarmWrite =
  | { readonly effect: EngineEffect; readonly at: number }
  | { readonly alarm: Alarm; readonly at: number };

export interface AlarmFilter {
  state?: AlarmState;
  priority?: Priority;
  plotId?: string;
  kind?: DeviceKind;
  deviceId?: string;
  /** Only alarms that are not normal: active, or returned but not yet acknowledged. */
  activeOnly?: boolean;
}

export interface AlarmEventRecord {
  id: number;
  alarmId: string | null;
  plotId: string;
  type: EngineEffect['type'];
  at: number;
  by: string | null;
  effect: EngineEffect;
}

export interface StoredAlarm { alarm: Alarm; updatedAt: number }
export interface EngineStateRecord { snapshot: string; savedAt: number }

type AlarmRow = typeof alarms.$inferSelect;
type AlarmInsert = typeof alarms.$inferInsert;

/** 30 parameters an alarm row, 7 an event row: well under PostgreSQL's 65,535 per statement. */
const ALARM_ROWS_PER_INSERT = 1_000;
const EVENT_ROWS_PER_INSERT = 5_000;

const date = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));
const ms = (d: Date | null): number | null => (d === null ? null : d.getTime());

function toRow(alarm: Alarm, updatedAt: number): AlarmInsert {
  return {
    id: alarm.id,
    deviceId: alarm.deviceId,
    ruleId: alarm.ruleId,
    kind: alarm.kind,
    plotId: alarm.plotId,
    buildingId: alarm.buildingId,
    priority: alarm.priority,
    ticket: alarm.ticket,
    titleEn: alarm.title.en,
    titleZh: alarm.title.zh,
    state: alarm.state,
    value: alarm.value,
    message: alarm.message,
    count: alarm.count,
    firstActiveAt: date(alarm.firstActiveAt),
    lastActiveAt: date(alarm.lastActiveAt),
    lastClearedAt: date(alarm.lastClearedAt),
    ackBy: alarm.acknowledged?.by ?? null,
    ackAt: date(alarm.acknowledged?.at ?? null),
    ackComment: alarm.acknowledged?.comment ?? null,
    shelvedBy: alarm.shelved?.by ?? null,
    shelvedAt: date(alarm.shelved?.at ?? null),
    shelvedUntil: date(alarm.shelved?.until ?? null),
    shelveReason: alarm.shelved?.reason ?? null,
    suppressedBy: alarm.suppressedBy,
    outOfService: alarm.outOfService,
    chattering: alarm.chattering,
    recentActivations: [...alarm.recentActivations],
    lastAnnouncedAt: date(alarm.lastAnnouncedAt),
    updatedAt: new Date(updatedAt),
  };
}

function fromRow(row: AlarmRow): Alarm {
  return {
    id: row.id,
    deviceId: row.deviceId,
    ruleId: row.ruleId,
    kind: row.kind as DeviceKind,
    plotId: row.plotId,
    buildingId: row.buildingId,
    priority: row.priority as Priority,
    ticket: row.ticket as TicketKind,
    title: { en: row.titleEn, zh: row.titleZh },
    state: row.state as AlarmState,
    value: (row.value ?? null) as MetricValue | null,
    message: row.message,
    count: row.count,
    firstActiveAt: ms(row.firstActiveAt),
    lastActiveAt: ms(row.lastActiveAt),
    lastClearedAt: ms(row.lastClearedAt),
    acknowledged: row.ackBy === null || row.ackAt === null ? null : { by: row.ackBy, at: row.ackAt.getTime(), comment: row.ackComment ?? '' },
    shelved: row.shelvedBy === null || row.shelvedAt === null || row.shelvedUntil === null
      ? null
      : { by: row.shelvedBy, at: row.shelvedAt.getTime(), until: row.shelvedUntil.getTime(), reason: row.shelveReason ?? '' },
    suppressedBy: row.suppressedBy,
    outOfService: row.outOfService,
    chattering: row.chattering,
    recentActivations: row.recentActivations,
    lastAnnouncedAt: ms(row.lastAnnouncedAt),
  };
}

/** Who did it, for the effects that are operator actions. */
function actor(effect: EngineEffect): string | null {
  switch (effect.type) {
    case 'alarm-acknowledged': return effect.alarm.acknowledged?.by ?? null;
    case 'alarm-shelved': return effect.alarm.shelved?.by ?? null;
    case 'alarm-unshelved': return effect.by;
    default: return null;
  }
}

const isAlarmEffect = (effect: EngineEffect): effect is AlarmEffect => 'alarm' in effect;

/** Every column but the key takes the incoming value on conflict. */
const UPSERT_SET: Record<string, SQL> = Object.fromEntries(
  Object.entries(getTableColumns(alarms))
    .filter(([key]) => key !== 'id')
    .map(([key, column]) => [key, sql.raw(`excluded."${column.name}"`)]),
);

export class AlarmRepository {
  constructor(private readonly database: Database) {}

  /**
   * Writes a batch in one transaction: every effect as a history row, and the
   * newest state of each alarm touched (upsert on its id). A row is only
   * replaced by a write at least as recent, so a late batch (another instance,
   * a retry) never turns an alarm back.
   */
  async write(batch: readonly AlarmWrite[]): Promise<void> {
    const events: (typeof alarmEvents.$inferInsert)[] = [];
    const latest = new Map<string, AlarmInsert>();
    for (const item of batch) {
      if ('alarm' in item) {
        latest.set(item.alarm.id, toRow(item.alarm, item.at));
        continue;
      }
      const { effect } = item;
      if (isAlarmEffect(effect)) latest.set(effect.alarm.id, toRow(effect.alarm, item.at));
      events.push({
        alarmId: isAlarmEffect(effect) ? effect.alarm.id : null,
        plotId: isAlarmEffect(effect) ? effect.alarm.plotId : effect.plotId,
        type: effect.type,
        at: new Date(effect.at),
        by: actor(effect),
        payload: effect,
      });
    }
    const rows = [...latest.values()];
    await this.database.db.transaction(async (tx) => {
      for (let start = 0; start < events.length; start += EVENT_ROWS_PER_INSERT) {
        await tx.insert(alarmEvents).values(events.slice(start, start + EVENT_ROWS_PER_INSERT));
      }
      for (let start = 0; start < rows.length; start += ALARM_ROWS_PER_INSERT) {
        await tx.insert(alarms).values(rows.slice(start, start + ALARM_ROWS_PER_INSERT)).onConflictDoUpdate({
          target: alarms.id,
          set: UPSERT_SET,
          setWhere: sql`${alarms.updatedAt} <= excluded.updated_at`,
        });
      }
    });
  }

  /** Sorted by priority (critical first), then the most recently activated, then id. */
  async list(filter: AlarmFilter, page: { limit: number; offset: number }): Promise<{ items: Alarm[]; total: number }> {
    const where = and(
      filter.state === undefined ? undefined : eq(alarms.state, filter.state),
      filter.priority === undefined ? undefined : eq(alarms.priority, filter.priority),
      filter.plotId === undefined ? undefined : eq(alarms.plotId, filter.plotId),
      filter.kind === undefined ? undefined : eq(alarms.kind, filter.kind),
      filter.deviceId === undefined ? undefined : eq(alarms.deviceId, filter.deviceId),
      filter.activeOnly ? ne(alarms.state, 'normal') : undefined,
    );
    const [rows, counted] = await Promise.all([
      this.database.db.select().from(alarms).where(where)
        .orderBy(asc(alarms.priority), sql`${alarms.lastActiveAt} desc nulls last`, asc(alarms.id))
        .limit(page.limit).offset(page.offset),
      this.database.db.select({ n: sql<number>`count(*)::int` }).from(alarms).where(where),
    ]);
    return { items: rows.map(fromRow), total: Number(counted[0]?.n ?? 0) };
  }

  async get(id: string): Promise<Alarm | undefined> {
    const rows = await this.database.db.select().from(alarms).where(eq(alarms.id, id));
    return rows[0] && fromRow(rows[0]);
  }

  /** Every stored alarm with the time of its last write (for restoring the engine). */
  async all(): Promise<StoredAlarm[]> {
    const rows = await this.database.db.select().from(alarms);
    return rows.map((row) => ({ alarm: fromRow(row), updatedAt: row.updatedAt.getTime() }));
  }

  /** Alarms whose condition is active now (acknowledged or not). */
  async active(): Promise<Alarm[]> {
    const rows = await this.database.db.select().from(alarms).where(inArray(alarms.state, ['unack', 'ack']));
    return rows.map(fromRow);
  }

  /** The alarm's history, newest first. */
  async events(alarmId: string, limit: number): Promise<AlarmEventRecord[]> {
    const rows = await this.database.db.select().from(alarmEvents)
      .where(eq(alarmEvents.alarmId, alarmId))
      .orderBy(desc(alarmEvents.id))
      .limit(limit);
    return rows.map((row) => ({
      id: row.id,
      alarmId: row.alarmId,
      plotId: row.plotId,
      type: row.type as EngineEffect['type'],
      at: row.at.getTime(),
      by: row.by,
      effect: row.payload as EngineEffect,
    }));
  }

  /** Activations (alarm-raised effects) with their time in [from, to), oldest first: what the KPIs count. */
  async raisedBetween(from: number, to: number): Promise<AlarmEffect[]> {
    const rows = await this.database.db.select({ payload: alarmEvents.payload }).from(alarmEvents)
      .where(and(eq(alarmEvents.type, 'alarm-raised'), gte(alarmEvents.at, new Date(from)), lt(alarmEvents.at, new Date(to))))
      .orderBy(asc(alarmEvents.at), asc(alarmEvents.id));
    return rows.map((row) => row.payload as AlarmEffect);
  }

  async loadEngineState(siteId: string): Promise<EngineStateRecord | undefined> {
    const rows = await this.database.db.select().from(alarmEngineState).where(eq(alarmEngineState.siteId, siteId));
    return rows[0] && { snapshot: rows[0].snapshot, savedAt: rows[0].savedAt.getTime() };
  }

  async saveEngineState(siteId: string, snapshot: string, savedAt: number): Promise<void> {
    await this.database.db.insert(alarmEngineState).values({ siteId, snapshot, savedAt: new Date(savedAt) })
      .onConflictDoUpdate({ target: alarmEngineState.siteId, set: { snapshot, savedAt: new Date(savedAt) } });
  }
}

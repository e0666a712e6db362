/**
 * Alarms in the relational store: the current state per alarm (`alarms`),
 * the append-only history of engine effects (`alarm_events`) and the
 * engine's snapshot (`alarm_engine_state`). Written in batches by the alarms
 * plugin; read by the alarm API and the KPIs.
 */
import { and, asc, eq, getTableColumns, gte, inArray, lt, ne, sql, type SQL } from 'drizzle-orm';
import type { DeviceKind } from '../../catalogue/kinds.ts';
import type { MetricValue } from '../../contract.ts';
import type { Alarm, AlarmEffect, AlarmState } from '../../domain/alarms/alarm-state.ts';
import type { EngineEffect } from '../../domain/alarms/engine.ts';
import type { Priority, TicketKind } from '../../domain/alarms/rules.ts';
import type { AlarmAggregates } from '../../domain/reports.ts';
import { queryRows, type Database } from './database.ts';
import { decodeSnapshot } from './snapshot-codec.ts';
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

/**
 * The most items one write takes: at 30 parameters an alarm row and 6 an
 * event row, its rows and events fit one statement (PostgreSQL allows 65,535
 * parameters).
 */
export const MAX_ALARM_WRITE = 1_000;

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
   * Writes a batch of at most MAX_ALARM_WRITE items in one statement (one
   * round trip, one commit): every effect as a history row, and the newest
   * state of each alarm touched (upsert on its id). A row is only replaced by
   * a write at least as recent, so a late batch (another instance, a retry)
   * never turns an alarm back.
   */
  async write(batch: readonly AlarmWrite[]): Promise<void> {
    if (batch.length > MAX_ALARM_WRITE) throw new RangeError(`an alarm write takes at most ${MAX_ALARM_WRITE} items, not ${batch.length}`);
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
    const db = this.database.db;
    if (rows.length === 0) {
      if (events.length > 0) await db.insert(alarmEvents).values(events);
      return;
    }
    // The events ride along as a data-modifying CTE: both tables change in the one statement, or neither.
    const withEvents = events.length === 0 ? db : db.with(db.$with('stored_events').as(db.insert(alarmEvents).values(events)));
    await withEvents.insert(alarms).values(rows).onConflictDoUpdate({
      target: alarms.id,
      set: UPSERT_SET,
      setWhere: sql`${alarms.updatedAt} <= excluded.updated_at`,
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
      // Spelled like alarm_events_alarm_idx (id desc nulls last), or PostgreSQL walks the primary key instead.
      .orderBy(sql`${alarmEvents.id} desc nulls last`)
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

  /**
   * What a report counts of the activations raised in [from, to) (of one
   * plot), aggregated by the database: per rule, per 10 minutes (annunciated),
   * per report bucket, and the time from each activation to its
   * acknowledgement and to its return to normal, summarised per priority.
   * An activation's acknowledgement and clearing are the first of each among
   * its alarm's events after it and before the alarm's next activation
   * (events of one alarm are ordered by id, the order they were written in).
   */
  async reportAggregates(query: { from: number; to: number; plotId?: string; bucketStarts: readonly number[] }): Promise<AlarmAggregates> {
    const db = this.database.db;
    const raised = sql`type = 'alarm-raised' and at >= ${new Date(query.from).toISOString()}::timestamptz and at < ${new Date(query.to).toISOString()}::timestamptz
      ${query.plotId === undefined ? sql`` : sql`and plot_id = ${query.plotId}`}`;
    const annunciated = sql`(payload->>'annunciated')::boolean`;
    const thresholds = `{${query.bucketStarts.join(',')}}`;
    // Each lookup must be a short walk of alarm_events_alarm_idx (alarm_id, id desc nulls last), read backwards:
    // hence "nulls first" (ids are never null; without it the planner walks the primary key instead), and both
    // ends of the id range as index conditions (an OR is only a filter: an activation never acknowledged, e.g.
    // suppressed or rate-limited, would scan every later event of its alarm).
    const LAST_ID = sql.raw('9223372036854775807');
    const [rules, tenMinutes, series, times] = await Promise.all([
      queryRows<{ ruleId: string; priority: number; titleEn: string | null; titleZh: string | null; activations: number; annunciated: number }>(db, sql`
        select payload->'alarm'->>'ruleId' as "ruleId", (payload->'alarm'->>'priority')::int as priority,
          max(payload->'alarm'->'title'->>'en') as "titleEn", max(payload->'alarm'->'title'->>'zh') as "titleZh",
          count(*)::int as activations, (count(*) filter (where ${annunciated}))::int as annunciated
        from alarm_events where ${raised}
        group by 1, 2`),
      queryRows<{ bucket: number; count: number }>(db, sql`
        select floor(extract(epoch from at) / 600)::float8 as bucket, count(*)::int as count
        from alarm_events where ${raised} and ${annunciated}
        group by 1`),
      queryRows<{ index: number; activations: number; annunciated: number }>(db, sql`
        select width_bucket((extract(epoch from at) * 1000)::float8, ${thresholds}::float8[]) - 1 as index,
          count(*)::int as activations, (count(*) filter (where ${annunciated}))::int as annunciated
        from alarm_events where ${raised}
        group by 1`),
      queryRows<{
        priority: number | null; activations: number; annunciated: number;
        acknowledged: number; ackMean: number | null; ackMedian: number | null;
        returned: number; rtnMean: number | null; rtnMedian: number | null;
      }>(db, sql`
        with raised as (
          select id, alarm_id, at, (payload->'alarm'->>'priority')::int as priority, ${annunciated} as annunciated
          from alarm_events where ${raised}
        ),
        spans as (
          select r.priority, r.annunciated,
            -- greatest() skips nulls: keep "not yet" null. Negative spans (a wall-clock ack of a future-stamped reading) count as 0.
            (case when ack.at is not null then greatest(0, extract(epoch from ack.at - r.at) * 1000) end)::float8 as ack_ms,
            (case when clr.at is not null then greatest(0, extract(epoch from clr.at - r.at) * 1000) end)::float8 as rtn_ms
          from raised r
          left join lateral (
            select n.id from alarm_events n where n.alarm_id = r.alarm_id and n.type = 'alarm-raised' and n.id > r.id order by n.id nulls first limit 1
          ) nxt on true
          left join lateral (
            select a.at from alarm_events a
            where a.alarm_id = r.alarm_id and a.type = 'alarm-acknowledged' and a.id > r.id and a.id < coalesce(nxt.id, ${LAST_ID})
            order by a.id nulls first limit 1
          ) ack on true
          left join lateral (
            select c.at from alarm_events c
            where c.alarm_id = r.alarm_id and c.type = 'alarm-cleared' and c.id > r.id and c.id < coalesce(nxt.id, ${LAST_ID})
            order by c.id nulls first limit 1
          ) clr on true
        )
        select priority, count(*)::int as activations, (count(*) filter (where annunciated))::int as annunciated,
          (count(ack_ms) filter (where annunciated))::int as acknowledged,
          (avg(ack_ms) filter (where annunciated))::float8 as "ackMean",
          (percentile_cont(0.5) within group (order by ack_ms) filter (where annunciated))::float8 as "ackMedian",
          count(rtn_ms)::int as returned, avg(rtn_ms)::float8 as "rtnMean",
          (percentile_cont(0.5) within group (order by rtn_ms))::float8 as "rtnMedian"
        from spans
        group by grouping sets ((priority), ())`),
    ]);
    const stats = (count: number, mean: number | null, median: number | null) => ({
      count: Number(count), meanMs: mean === null ? null : Number(mean), medianMs: median === null ? null : Number(median),
    });
    return {
      rules: rules.map((r) => ({
        ruleId: r.ruleId, priority: Number(r.priority) as Priority,
        title: { en: r.titleEn ?? r.ruleId, zh: r.titleZh ?? r.ruleId },
        activations: Number(r.activations), annunciated: Number(r.annunciated),
      })),
      per10Minutes: tenMinutes.map((r) => ({ bucket: Number(r.bucket), count: Number(r.count) })),
      series: series.map((r) => ({ index: Number(r.index), activations: Number(r.activations), annunciated: Number(r.annunciated) })),
      times: times.map((r) => ({
        priority: r.priority === null ? null : (Number(r.priority) as Priority),
        activations: Number(r.activations), annunciated: Number(r.annunciated),
        acknowledge: stats(r.acknowledged, r.ackMean, r.ackMedian),
        returnToNormal: stats(r.returned, r.rtnMean, r.rtnMedian),
      })),
    };
  }

  async loadEngineState(siteId: string): Promise<EngineStateRecord | undefined> {
    const rows = await this.database.db.select().from(alarmEngineState).where(eq(alarmEngineState.siteId, siteId));
    return rows[0] && { snapshot: await decodeSnapshot(rows[0].snapshot), savedAt: rows[0].savedAt.getTime() };
  }
}

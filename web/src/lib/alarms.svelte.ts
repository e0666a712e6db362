/**
 * The control room's alarm list: every alarm that is not normal, kept live
 * from 'alarms:snapshot' (on each connect) and 'alarms:changed', the plots in
 * flood mode, the KPI line, and the acknowledge / shelve / unshelve actions.
 *
 * The ordering and grouping are pure functions so that they are tested alone.
 */
import type { AlarmKpisView } from '../../../server/src/routes/api-types.ts';
import type { AlarmView, AlarmsSnapshot } from '../../../server/src/push/events.ts';
import { ApiRequestError, getJson } from './api.ts';
import type { FetchFn } from './api.ts';

export type Priority = AlarmView['priority'];

/** Priority as shape + text + colour, never colour alone (ISA-101). */
export const PRIORITY_GLYPH: Record<Priority, string> = { 1: '◆', 2: '▲', 3: '■', 4: '●' };

/** Needs the operator: active or returned, and not yet acknowledged. */
export function isUnacknowledged(alarm: AlarmView): boolean {
  return alarm.state === 'unack' || alarm.state === 'rtn-unack';
}

/** Priority first; within one, unacknowledged first, then the newest activation. */
export function compareAlarms(a: AlarmView, b: AlarmView): number {
  return a.priority - b.priority
    || Number(isUnacknowledged(b)) - Number(isUnacknowledged(a))
    || (b.lastActiveAt ?? 0) - (a.lastActiveAt ?? 0)
    || a.id.localeCompare(b.id);
}

/** What the operator's list shows, in order. */
export function listedAlarms(alarms: Iterable<AlarmView>): AlarmView[] {
  return [...alarms].filter((a) => a.annunciated).sort(compareAlarms);
}

/** Ids of alarms that suppress at least one other alarm: the root causes. */
export function rootCauseIds(alarms: Iterable<AlarmView>): Set<string> {
  const roots = new Set<string>();
  for (const alarm of alarms) if (alarm.suppressedBy !== null) roots.add(alarm.suppressedBy);
  return roots;
}

export interface AlarmGroup {
  /** The flooding plot, or null for the ordinary list. */
  readonly floodPlotId: string | null;
  readonly alarms: readonly AlarmView[];
  /** How many of `alarms` are root causes (they come first). */
  readonly roots: number;
}

/**
 * The list as groups: one per flooding plot (its root causes first, then the
 * rest by priority), then everything else. Without a flood, one group.
 */
export function groupAlarms(all: Iterable<AlarmView>, flooding: ReadonlySet<string>): AlarmGroup[] {
  const everything = [...all];
  const listed = listedAlarms(everything);
  const roots = rootCauseIds(everything);
  const groups: AlarmGroup[] = [];
  for (const plotId of [...flooding].sort()) {
    const inPlot = listed.filter((a) => a.plotId === plotId);
    const rootAlarms = inPlot.filter((a) => roots.has(a.id));
    groups.push({ floodPlotId: plotId, alarms: [...rootAlarms, ...inPlot.filter((a) => !roots.has(a.id))], roots: rootAlarms.length });
  }
  const rest = listed.filter((a) => !flooding.has(a.plotId));
  if (rest.length > 0 || groups.length === 0) groups.push({ floodPlotId: null, alarms: rest, roots: 0 });
  return groups;
}

/** The worst listed alarm of a building or device: what colours it on the map. */
export interface WorstAlarm { readonly priority: Priority; readonly unacknowledged: boolean }

/** The worst listed alarm per key (lowest priority number; any unacknowledged one makes it blink). */
function worstBy(alarms: Iterable<AlarmView>, keyOf: (alarm: AlarmView) => string | null): Map<string, WorstAlarm> {
  const worst = new Map<string, WorstAlarm>();
  for (const alarm of alarms) {
    const key = keyOf(alarm);
    if (!alarm.annunciated || key === null) continue;
    const seen = worst.get(key);
    worst.set(key, {
      priority: seen ? (Math.min(seen.priority, alarm.priority) as Priority) : alarm.priority,
      unacknowledged: (seen?.unacknowledged ?? false) || isUnacknowledged(alarm),
    });
  }
  return worst;
}

export const worstAlarmByBuilding = (alarms: Iterable<AlarmView>): Map<string, WorstAlarm> => worstBy(alarms, (a) => a.buildingId);
export const worstAlarmByDevice = (alarms: Iterable<AlarmView>): Map<string, WorstAlarm> => worstBy(alarms, (a) => a.deviceId);

/** What a map panel shows alarms for: one device, one building, or a plot outside its buildings. */
export type AlarmPlace = { readonly kind: 'device' | 'building' | 'plot'; readonly id: string };

function isAt(alarm: AlarmView, place: AlarmPlace): boolean {
  switch (place.kind) {
    case 'device': return alarm.deviceId === place.id;
    case 'building': return alarm.buildingId === place.id;
    case 'plot': return alarm.plotId === place.id && alarm.buildingId === null;
  }
}

/**
 * Every alarm at a place that is not normal, in the list's order: the
 * annunciated ones first, then those shelved, suppressed or out of service,
 * which the list hides but the map's panels show so that they can be unshelved.
 */
export function alarmsAt(alarms: Iterable<AlarmView>, place: AlarmPlace): AlarmView[] {
  return [...alarms]
    .filter((a) => a.state !== 'normal' && isAt(a, place))
    .sort((a, b) => Number(b.annunciated) - Number(a.annunciated) || compareAlarms(a, b));
}

/** Shelving durations offered in the list, minutes. */
export const SHELVE_MINUTES = [15, 60, 240, 480] as const;

export type ActionResult = { ok: true } | { ok: false; code: string; message: string };

export class AlarmStore {
  /** Raw: replaced whole on every change, never mutated in place. */
  alarms = $state.raw<ReadonlyMap<string, AlarmView>>(new Map());
  flooding = $state.raw<ReadonlySet<string>>(new Set());
  kpis = $state.raw<AlarmKpisView | null>(null);
  kpiError = $state<string | null>(null);
  /** False until the first snapshot arrives. */
  loaded = $state(false);

  readonly groups: AlarmGroup[] = $derived(groupAlarms(this.alarms.values(), this.flooding));
  readonly byBuilding: Map<string, WorstAlarm> = $derived(worstAlarmByBuilding(this.alarms.values()));
  readonly byDevice: Map<string, WorstAlarm> = $derived(worstAlarmByDevice(this.alarms.values()));

  readonly #fetch: FetchFn;
  readonly #onNewAlarm: (alarm: AlarmView) => void;

  /** `onNewAlarm`: called for each alarm that newly needs acknowledging (the audible cue). */
  constructor(fetchFn: FetchFn, onNewAlarm: (alarm: AlarmView) => void = () => {}) {
    this.#fetch = fetchFn;
    this.#onNewAlarm = onNewAlarm;
  }

  replaceAll(snapshot: AlarmsSnapshot): void {
    this.alarms = new Map(snapshot.alarms.map((a) => [a.id, a]));
    this.flooding = new Set(snapshot.flooding);
    this.loaded = true;
  }

  /** Changed alarms: normal ones leave the list. */
  apply(changed: readonly AlarmView[]): void {
    const next = new Map(this.alarms);
    for (const alarm of changed) {
      const before = next.get(alarm.id);
      if (alarm.state === 'normal') next.delete(alarm.id);
      else next.set(alarm.id, alarm);
      const wasWaiting = before !== undefined && before.annunciated && isUnacknowledged(before) && before.count === alarm.count;
      if (alarm.annunciated && isUnacknowledged(alarm) && !wasWaiting) this.#onNewAlarm(alarm);
    }
    this.alarms = next;
  }

  setFlood(plotId: string, active: boolean): void {
    const next = new Set(this.flooding);
    if (active) next.add(plotId);
    else next.delete(plotId);
    this.flooding = next;
  }

  async fetchKpis(): Promise<void> {
    try {
      this.kpis = await getJson<AlarmKpisView>(this.#fetch, '/api/alarms/kpis');
      this.kpiError = null;
    } catch (err) {
      this.kpiError = err instanceof ApiRequestError ? err.code : 'CLIENT_ERROR';
    }
  }

  /** A blank comment is left out: the server keeps none. */
  acknowledge(id: string, comment = ''): Promise<ActionResult> {
    return this.#post(id, 'ack', comment.trim() === '' ? {} : { comment: comment.trim() });
  }

  shelve(id: string, reason: string, minutes: number): Promise<ActionResult> {
    return this.#post(id, 'shelve', { reason, minutes });
  }

  unshelve(id: string): Promise<ActionResult> {
    return this.#post(id, 'unshelve', {});
  }

  async #post(id: string, action: 'ack' | 'shelve' | 'unshelve', body: object): Promise<ActionResult> {
    let response: Response;
    try {
      response = await this.#fetch(`/api/alarms/${encodeURIComponent(id)}/${action}`, {
        method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body),
      });
    } catch (err) {
      return { ok: false, code: 'NETWORK', message: err instanceof Error ? err.message : String(err) };
    }
    const answer = (await response.json().catch(() => null)) as (AlarmView & { code?: string; message?: string }) | null;
    if (!response.ok || answer === null) return { ok: false, code: answer?.code ?? `HTTP_${response.status}`, message: answer?.message ?? '' };
    // The push will say the same; applying the answer now makes the list react at once.
    this.apply([answer]);
    return { ok: true };
  }
}

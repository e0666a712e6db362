/**
 * Patrols (the handbook's work standard): every zone is patrolled twice a
 * day; each round is checked against the handbook's list and recorded. A
 * failed item becomes a ticket (major items escalate); a round not completed
 * in its window is missed, which raises an escalation.
 */
import { addDays, atLocal } from './local-time.ts';
import { TicketError, type Priority, type TicketKind } from './model.ts';
import type { Skill } from './assignment.ts';
import type { Zone } from './assignment.ts';

export const CHECKLIST_CATEGORIES = ['infrastructure', 'security', 'environment', 'other'] as const;
export type ChecklistCategory = (typeof CHECKLIST_CATEGORIES)[number];

export interface ChecklistItem {
  readonly id: string;
  readonly category: ChecklistCategory;
  readonly en: string;
  readonly zh: string;
  /** The handbook stresses it: a failure is a major problem. */
  readonly major: boolean;
  /** The kind of ticket a failure makes: a repair, or someone responsible to come and deal with it. */
  readonly ticket: Extract<TicketKind, 'patrol' | 'maintenance'>;
  readonly skill?: Skill;
}

const item = (id: string, category: ChecklistCategory, en: string, zh: string, extra: Partial<Pick<ChecklistItem, 'major' | 'ticket' | 'skill'>> = {}): ChecklistItem =>
  ({ id, category, en, zh, major: extra.major ?? false, ticket: extra.ticket ?? 'patrol', ...(extra.skill && { skill: extra.skill }) });

/** The handbook's patrol list, item by item. */
export const CHECKLIST: readonly ChecklistItem[] = [
  item('roads', 'infrastructure', 'Roads in good repair', '道路完好', { ticket: 'maintenance' }),
  item('street-lights', 'infrastructure', 'Street lights working', '路灯完好', { ticket: 'maintenance', skill: 'electrical' }),
  item('bins-signs', 'infrastructure', 'Bins, signs and mailboxes intact', '垃圾桶、标识牌、信报箱完好'),
  item('play-equipment', 'infrastructure', 'Play equipment and landscape features safe', '娱乐设施、园林小品完好', { ticket: 'maintenance' }),
  item('outdoor-pipes', 'infrastructure', 'No leaks from outdoor water and drain pipes', '室外给排水管无渗漏', { ticket: 'maintenance', skill: 'plumbing' }),
  item('bollards-barriers', 'infrastructure', 'Bollards and barriers intact', '路桩、护栏完好', { ticket: 'maintenance' }),
  item('water-features', 'infrastructure', 'Water features working', '水景运行正常', { ticket: 'maintenance', skill: 'pumps' }),
  item('renovation', 'infrastructure', 'Renovation crews keep to their agreement', '装修施工遵守装修协议'),
  item('outside-windows', 'infrastructure', 'No illegal cages, tents or racks outside windows; no billboards on walls', '窗外无违规防盗网、雨篷、晾衣架，外墙无广告牌'),
  item('air-conditioners', 'infrastructure', 'No air-conditioners mounted against the rules; no illegal structures', '无违规安装空调外机，无违章搭建'),
  item('graffiti', 'infrastructure', 'No graffiti or posters', '无乱涂乱画、乱张贴'),
  item('vendors', 'infrastructure', 'No street vendors', '无流动摊贩'),
  item('suspicious-people', 'security', 'No suspicious people or leafleting', '无可疑人员、无散发传单'),
  item('fire-extinguishers', 'security', 'Fire extinguishers usable', '灭火器完好有效', { major: true }),
  item('vehicles', 'security', 'No cars blocking roads; bicycles inside the sheds', '无车辆堵塞道路，非机动车入棚停放'),
  item('fire-lanes', 'security', 'Fire lanes clear', '消防通道畅通', { major: true }),
  item('power-lines', 'security', 'Outdoor power lines intact', '室外电线完好', { major: true, ticket: 'maintenance', skill: 'electrical' }),
  item('plants', 'environment', 'Lawns and plants undamaged, no dead or diseased plants', '草坪绿植无损坏、无枯死病害'),
  item('litter', 'environment', 'No litter outside or rubbish in corridors', '室外无垃圾，楼道无杂物'),
  item('bins-emptied', 'environment', 'Bins emptied on time', '垃圾桶按时清运'),
  item('noise', 'environment', 'No noise sources', '无噪声扰民'),
  item('handbook', 'other', 'Nothing else in conflict with the property-management handbook', '无其他违反物业管理规约的情况'),
];

const ITEMS = new Map(CHECKLIST.map((i) => [i.id, i]));

/** Local start times of the two daily rounds and how long each may take. */
export const ROUND_STARTS_MINUTES = [9 * 60, 15 * 60] as const;
export const ROUND_WINDOW_MS = 4 * 3_600_000;

export const ROUND_STATUSES = ['scheduled', 'in-progress', 'completed', 'missed'] as const;
export type RoundStatus = (typeof ROUND_STATUSES)[number];

export interface PatrolRound {
  readonly id: number;
  readonly zoneId: string;
  readonly scheduledAt: number;
  /** Completed by then, or the round is missed. */
  readonly dueBy: number;
  readonly status: RoundStatus;
  readonly officer: string | null;
  readonly startedAt: number | null;
  readonly completedAt: number | null;
}

export interface PlannedRound { readonly zoneId: string; readonly scheduledAt: number; readonly dueBy: number }

/** The rounds of every zone on a local date. */
export function roundsForDay(zones: readonly Zone[], date: string, timezone: string): PlannedRound[] {
  return zones.flatMap((zone) => ROUND_STARTS_MINUTES.map((minutes) => {
    const scheduledAt = atLocal(date, minutes, timezone);
    return { zoneId: zone.id, scheduledAt, dueBy: scheduledAt + ROUND_WINDOW_MS };
  }));
}

/** Today's and tomorrow's rounds (local dates), so the plan is always ahead of the clock. */
export function roundsAhead(zones: readonly Zone[], today: string, timezone: string): PlannedRound[] {
  return [...roundsForDay(zones, today, timezone), ...roundsForDay(zones, addDays(today, 1), timezone)];
}

export function startRound(round: PatrolRound, officer: string, now: number): PatrolRound {
  if (round.status !== 'scheduled') throw new TicketError('PATROL_ROUND_INVALID_TRANSITION', `round ${round.id} is ${round.status}; only a scheduled round can be started`);
  return { ...round, status: 'in-progress', officer, startedAt: now };
}

export interface ChecklistResult {
  readonly item: string;
  readonly ok: boolean;
  readonly note?: string;
  /** The officer judges a failure major (stays on the spot, supervisors called); items the handbook stresses always are. */
  readonly major?: boolean;
}

export interface Finding {
  readonly item: ChecklistItem;
  readonly note: string;
  readonly major: boolean;
  readonly kind: ChecklistItem['ticket'];
  readonly priority: Priority;
}

/** Every item answered exactly once; a failed item says what is wrong. */
export function validateChecklist(results: readonly ChecklistResult[]): void {
  const seen = new Set<string>();
  for (const r of results) {
    if (!ITEMS.has(r.item)) throw new TicketError('PATROL_CHECKLIST_INVALID', `unknown checklist item "${r.item}"`);
    if (seen.has(r.item)) throw new TicketError('PATROL_CHECKLIST_INVALID', `checklist item "${r.item}" answered twice`);
    seen.add(r.item);
    if (!r.ok && (r.note ?? '').trim() === '') throw new TicketError('PATROL_CHECKLIST_INVALID', `failed item "${r.item}" needs a note of what is wrong`);
  }
  const missing = CHECKLIST.filter((i) => !seen.has(i.id)).map((i) => i.id);
  if (missing.length > 0) throw new TicketError('PATROL_CHECKLIST_INVALID', `checklist incomplete: ${missing.join(', ')} not answered`);
}

export function completeRound(round: PatrolRound, results: readonly ChecklistResult[], now: number): { round: PatrolRound; findings: Finding[] } {
  if (round.status !== 'in-progress') throw new TicketError('PATROL_ROUND_INVALID_TRANSITION', `round ${round.id} is ${round.status}; only a started round can be completed`);
  validateChecklist(results);
  const findings = results.filter((r) => !r.ok).map((r): Finding => {
    const checklistItem = ITEMS.get(r.item)!;
    const major = checklistItem.major || r.major === true;
    return { item: checklistItem, note: (r.note ?? '').trim(), major, kind: checklistItem.ticket, priority: major ? 2 : 3 };
  });
  return { round: { ...round, status: 'completed', completedAt: now }, findings };
}

/** Rounds whose window has passed without completion. */
export function isMissed(round: PatrolRound, now: number): boolean {
  return (round.status === 'scheduled' || round.status === 'in-progress') && now > round.dueBy;
}

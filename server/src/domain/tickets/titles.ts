/**
 * Ticket titles in both languages. Some titles the system writes itself (from an alarm's
 * rule, from a failed patrol checklist item, the confidential placeholder) and stores in
 * English, as `title` always was (the API, the CSV). Each viewer should read those in their
 * own language, so ticket views also carry `titles` (en and zh), derived from the stored
 * ticket; a title someone typed (reception, manual tickets) has none and shows as written.
 */
import { RULES, type Text } from '../alarms/rules.ts';
import { CONFIDENTIAL_TITLE, type Ticket } from './model.ts';
import { CHECKLIST, type ChecklistItem } from './patrols.ts';

export type { Text };

export const CONFIDENTIAL_TITLES: Text = { en: CONFIDENTIAL_TITLE, zh: '保密事项' };

/** The title of the ticket a failed checklist item opens. */
export function patrolFindingTitle(item: Pick<ChecklistItem, 'en' | 'zh'>): Text {
  return { en: `Patrol: ${item.en}`, zh: `巡查：${item.zh}` };
}

const RULE_TITLES: ReadonlyMap<string, Text> = new Map(RULES.map((rule) => [rule.id, rule.title]));
const FINDING_TITLES: ReadonlyMap<string, Text> = new Map(CHECKLIST.map((item) => {
  const title = patrolFindingTitle(item);
  return [title.en, title];
}));

/**
 * A ticket's title in both languages, or null when someone typed it. An alarm's ticket is
 * titled by the rule of its root cause (the key is the alarm id, `<device>:<rule>`); the
 * stored English must still be that rule's, else the rule was reworded since and the stored
 * title stands. `redacted`: the viewer sees the confidential placeholder.
 */
export function ticketTitles(ticket: Pick<Ticket, 'source' | 'title' | 'rootCauseKey'>, redacted: boolean): Text | null {
  if (redacted) return CONFIDENTIAL_TITLES;
  if (ticket.source === 'patrol') return FINDING_TITLES.get(ticket.title) ?? null;
  if (ticket.source !== 'alarm' || ticket.rootCauseKey === null) return null;
  const rule = RULE_TITLES.get(ticket.rootCauseKey.slice(ticket.rootCauseKey.lastIndexOf(':') + 1));
  return rule?.en === ticket.title ? rule : null;
}

/**
 * What a ticket is called, in the viewer's language: a title the system wrote (from an alarm
 * rule, a patrol finding, the confidential placeholder) comes in both (`titles`); one someone
 * typed shows as written.
 */
import type { Lang } from './i18n.svelte.ts';

export function ticketTitle(ticket: { readonly title: string; readonly titles?: { readonly en: string; readonly zh: string } | null }, lang: Lang): string {
  return ticket.titles?.[lang] ?? ticket.title;
}

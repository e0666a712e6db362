/**
 * The handbook's reception rules: a letter's transfer form reaches the
 * customer-service supervisor within 10 minutes; what cannot be answered at
 * once gets a call back to the resident, listed until it is done.
 */
import { TicketError, type ReceptionSource } from './model.ts';

export const LETTER_HAND_OVER_MS = 10 * 60_000;
/** A resident waiting for an answer is called back within this time (sooner if they need the service sooner). */
export const CALLBACK_WITHIN_MS = 2 * 3_600_000;

export function letterDueAt(source: ReceptionSource, createdAt: number): number | null {
  return source === 'letter' ? createdAt + LETTER_HAND_OVER_MS : null;
}

export function callbackDueAt(createdAt: number, neededBy: number | null): number {
  const standard = createdAt + CALLBACK_WITHIN_MS;
  return neededBy !== null && neededBy > createdAt ? Math.min(standard, neededBy) : standard;
}

export interface Callback {
  readonly id: number;
  readonly ticketId: number;
  readonly phone: string;
  readonly dueAt: number;
  readonly doneAt: number | null;
  readonly doneBy: string | null;
  /** What the resident was told (the answer or the appointment). */
  readonly note: string;
}

export function completeCallback(callback: Callback, by: string, note: string, now: number): Callback {
  if (callback.doneAt !== null) throw new TicketError('CALLBACK_ALREADY_DONE', `callback ${callback.id} was already made by ${callback.doneBy ?? 'someone'}`);
  const text = note.trim();
  if (text === '') throw new TicketError('TICKET_NOTE_REQUIRED', 'a callback needs a note of what the resident was told');
  return { ...callback, doneAt: now, doneBy: by, note: text };
}

export const isCallbackOverdue = (callback: Callback, now: number): boolean => callback.doneAt === null && now > callback.dueAt;

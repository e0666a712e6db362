/**
 * A technician's (or patrol officer's) own open tickets, most urgent first,
 * shown one at a time with the next action at hand: accept → start → resolve.
 * Kept live from 'tickets:changed'; a ticket newly assigned to me plays a sound.
 */
import type { Page, TicketView } from '../../../server/src/routes/api-types.ts';
import type { PushedTicket } from '../../../server/src/push/events.ts';
import { ApiRequestError, getJson } from './api.ts';
import type { FetchFn } from './api.ts';

export type TicketAction = 'accept' | 'start' | 'resolve';

/** The one thing to do next with my ticket, or null when it waits on someone else. */
export function nextAction(ticket: Pick<TicketView, 'status' | 'acknowledgedAt'>): TicketAction | null {
  if (ticket.status === 'assigned') return ticket.acknowledgedAt === null ? 'accept' : 'start';
  if (ticket.status === 'in-progress') return 'resolve';
  return null;
}

const OPEN_STATUSES: readonly TicketView['status'][] = ['open', 'assigned', 'in-progress'];

/** Most urgent first: priority, then the earliest resolve deadline. */
export function compareTickets(a: Pick<TicketView, 'priority' | 'dueResolveAt' | 'id'>, b: Pick<TicketView, 'priority' | 'dueResolveAt' | 'id'>): number {
  return a.priority - b.priority || a.dueResolveAt - b.dueResolveAt || a.id - b.id;
}

export type TicketsLoad =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly code: string; readonly message: string }
  | { readonly kind: 'ready' };

export type ActResult = { ok: true } | { ok: false; code: string };

type AnyTicket = TicketView | PushedTicket;

export class MyTickets {
  tickets = $state.raw<readonly AnyTicket[]>([]);
  load = $state.raw<TicketsLoad>({ kind: 'loading' });
  /** The ticket on screen, by id (its position moves as others come and go). */
  currentId = $state<number | null>(null);

  readonly current: AnyTicket | null = $derived(this.tickets.find((t) => t.id === this.currentId) ?? this.tickets[0] ?? null);
  readonly position: number = $derived(this.current === null ? -1 : this.tickets.indexOf(this.current));

  readonly #fetch: FetchFn;
  readonly #username: () => string | null;
  readonly #onNewAssignment: () => void;

  constructor(fetchFn: FetchFn, username: () => string | null, onNewAssignment: () => void = () => {}) {
    this.#fetch = fetchFn;
    this.#username = username;
    this.#onNewAssignment = onNewAssignment;
  }

  async fetch(): Promise<void> {
    const me = this.#username();
    if (me === null) return;
    try {
      const page = await getJson<Page<TicketView>>(this.#fetch, `/api/tickets?assignee=${encodeURIComponent(me)}&status=open&limit=200`);
      this.tickets = [...page.items].sort(compareTickets);
      this.load = { kind: 'ready' };
    } catch (err) {
      this.load = { kind: 'error', code: err instanceof ApiRequestError ? err.code : 'CLIENT_ERROR', message: err instanceof Error ? err.message : String(err) };
    }
  }

  /** A pushed change: keep it if it is mine and open, drop it otherwise. Older versions never overwrite newer ones. */
  apply(ticket: AnyTicket): void {
    const me = this.#username();
    const before = this.tickets.find((t) => t.id === ticket.id);
    if (before && before.version > ticket.version) return;
    const mine = ticket.assignee === me && OPEN_STATUSES.includes(ticket.status);
    const rest = this.tickets.filter((t) => t.id !== ticket.id);
    this.tickets = mine ? [...rest, ticket].sort(compareTickets) : rest;
    if (mine && !before) this.#onNewAssignment();
  }

  step(by: 1 | -1): void {
    if (this.tickets.length === 0) return;
    const next = (this.position + by + this.tickets.length) % this.tickets.length;
    this.currentId = this.tickets[next]?.id ?? null;
  }

  async act(ticket: AnyTicket, action: TicketAction, note?: string): Promise<ActResult> {
    let response: Response;
    try {
      response = await this.#fetch(`/api/tickets/${ticket.id}/${action}`, {
        method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ version: ticket.version, ...(note !== undefined && { note }) }),
      });
    } catch {
      return { ok: false, code: 'NETWORK' };
    }
    const body = (await response.json().catch(() => null)) as (TicketView & { code?: string }) | null;
    if (!response.ok || body === null) {
      // Someone changed it meanwhile: show what it is now.
      if (response.status === 409) await this.fetch();
      return { ok: false, code: body?.code ?? `HTTP_${response.status}` };
    }
    this.currentId = ticket.id;
    this.apply(body);
    return { ok: true };
  }
}

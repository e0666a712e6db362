/**
 * The reception desk: the intake form's room check (building + unit against
 * the site's buildings), the ticket it creates, the callback list, and the
 * letters whose transfer form is due within ten minutes of receipt.
 */
import type { Building } from '../../../server/src/catalogue/types.ts';
import type { CallbackView, Page, TicketView } from '../../../server/src/routes/api-types.ts';
import type { PushedTicket } from '../../../server/src/push/events.ts';
import { ApiRequestError, getJson } from './api.ts';
import type { FetchFn } from './api.ts';

export type RoomCheck =
  | { ok: true; buildingId: string; plotId: string; room: string | null }
  | { ok: false; error: 'unknownBuilding' | 'unknownUnit' };

/**
 * A building id ('A-03') and an optional unit ('0502': floor 05, unit 02) as
 * the server's room id ('A-03-0502'), checked against the building's floors
 * and units per floor.
 */
export function checkRoom(buildings: readonly Building[], buildingId: string, unit: string): RoomCheck {
  const building = buildings.find((b) => b.id.toLowerCase() === buildingId.trim().toLowerCase());
  if (!building) return { ok: false, error: 'unknownBuilding' };
  const text = unit.trim();
  if (text === '') return { ok: true, buildingId: building.id, plotId: building.plotId, room: null };
  const match = /^(\d{1,2})(\d{2})$/.exec(text);
  if (!match) return { ok: false, error: 'unknownUnit' };
  const floor = Number(match[1]);
  const number = Number(match[2]);
  if (floor < 1 || floor > building.floors || number < 1 || number > building.unitsPerFloor) return { ok: false, error: 'unknownUnit' };
  return { ok: true, buildingId: building.id, plotId: building.plotId, room: `${building.id}-${String(floor).padStart(2, '0')}${match[2]}` };
}

/** "mm:ss" until `dueAt` (or since, when late). */
export function countdown(dueAt: number, now: number): { late: boolean; text: string } {
  const s = Math.floor(Math.abs(dueAt - now) / 1000);
  return { late: now > dueAt, text: `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}` };
}

/** A letter still waiting for its transfer form to reach the customer-service supervisor. */
export function isPendingLetter(ticket: Pick<TicketView, 'source' | 'letterDueAt' | 'handedOverAt' | 'status'>): boolean {
  return ticket.source === 'letter' && ticket.letterDueAt !== null && ticket.handedOverAt === null
    && ticket.status !== 'closed' && ticket.status !== 'cancelled';
}

export const INTAKE_SOURCES = ['phone', 'walk-in', 'letter'] as const;
export type IntakeSource = (typeof INTAKE_SOURCES)[number];

/** The server's callbackPhone pattern (server/src/routes/tickets.ts), checked before sending. */
export const PHONE_PATTERN = /^[0-9+() -]{3,32}$/;

/** What stops the intake form from being sent, in the form's order. */
export type IntakeProblem = 'buildingRequired' | 'unknownBuilding' | 'unknownUnit' | 'titleRequired' | 'badPhone';

export interface IntakeFields {
  building: string;
  unit: string;
  title: string;
  callbackPhone: string;
}

export function intakeProblems(fields: IntakeFields, room: RoomCheck | null): IntakeProblem[] {
  const problems: IntakeProblem[] = [];
  if (room === null) problems.push('buildingRequired');
  else if (!room.ok) problems.push(room.error);
  if (fields.title.trim() === '') problems.push('titleRequired');
  const phone = fields.callbackPhone.trim();
  if (phone !== '' && !PHONE_PATTERN.test(phone)) problems.push('badPhone');
  return problems;
}

/**
 * The intake form as it is being filled in: the room is looked up as the
 * building and unit are typed, and the problems are known before sending.
 */
export class IntakeDraft {
  source = $state<IntakeSource>('phone');
  building = $state('');
  unit = $state('');
  location = $state('');
  title = $state('');
  description = $state('');
  /** datetime-local text, or '' */
  neededBy = $state('');
  callbackPhone = $state('');

  /** null until a building is typed. */
  readonly room: RoomCheck | null = $derived.by(() => (this.building.trim() === '' ? null : checkRoom(this.#buildings(), this.building, this.unit)));
  readonly problems: IntakeProblem[] = $derived(intakeProblems(this, this.room));

  readonly #buildings: () => readonly Building[];

  constructor(buildings: () => readonly Building[]) {
    this.#buildings = buildings;
  }

  /** What to send, or null while there are problems. */
  toForm(): IntakeForm | null {
    const room = this.room;
    if (this.problems.length > 0 || room === null || !room.ok) return null;
    return {
      source: this.source, buildingId: room.buildingId, plotId: room.plotId, room: room.room, location: this.location,
      title: this.title, description: this.description, neededBy: this.neededBy, callbackPhone: this.callbackPhone,
    };
  }

  /** After a ticket is taken: the source and building stay (the next call is often from the same place), the rest clears. */
  clear(): void {
    this.unit = '';
    this.location = '';
    this.title = '';
    this.description = '';
    this.neededBy = '';
    this.callbackPhone = '';
  }
}

export interface IntakeForm {
  source: IntakeSource;
  buildingId: string;
  plotId: string;
  room: string | null;
  location: string;
  title: string;
  description: string;
  /** datetime-local text, or '' */
  neededBy: string;
  callbackPhone: string;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

type AnyTicket = TicketView | PushedTicket;

export class ReceptionStore {
  callbacks = $state.raw<readonly CallbackView[]>([]);
  letters = $state.raw<readonly AnyTicket[]>([]);
  error = $state<string | null>(null);
  loaded = $state(false);

  readonly #fetch: FetchFn;

  constructor(fetchFn: FetchFn) {
    this.#fetch = fetchFn;
  }

  async fetch(): Promise<void> {
    try {
      const [callbacks, tickets] = await Promise.all([
        getJson<CallbackView[]>(this.#fetch, '/api/callbacks'),
        getJson<Page<TicketView>>(this.#fetch, '/api/tickets?kind=reception&status=open,resolved&limit=200'),
      ]);
      this.callbacks = [...callbacks].sort((a, b) => a.dueAt - b.dueAt);
      this.letters = tickets.items.filter(isPendingLetter).sort((a, b) => (a.letterDueAt ?? 0) - (b.letterDueAt ?? 0));
      this.error = null;
    } catch (err) {
      this.error = err instanceof ApiRequestError ? err.code : 'CLIENT_ERROR';
    }
    this.loaded = true;
  }

  /** A pushed ticket change: a letter appears, or leaves once handed over. */
  ticketChanged(ticket: AnyTicket): void {
    const rest = this.letters.filter((t) => t.id !== ticket.id);
    this.letters = isPendingLetter(ticket) ? [...rest, ticket].sort((a, b) => (a.letterDueAt ?? 0) - (b.letterDueAt ?? 0)) : rest;
  }

  async create(form: IntakeForm): Promise<Outcome<TicketView>> {
    const neededBy = form.neededBy === '' ? undefined : new Date(form.neededBy).toISOString();
    const body = {
      kind: 'reception', source: form.source, title: form.title.trim(), plot: form.plotId, building: form.buildingId,
      ...(form.room !== null && { room: form.room }),
      ...(form.description.trim() !== '' && { description: form.description.trim() }),
      ...(form.location.trim() !== '' && { location: form.location.trim() }),
      ...(neededBy !== undefined && { neededBy }),
      ...(form.callbackPhone.trim() !== '' && { callbackPhone: form.callbackPhone.trim() }),
    };
    const result = await this.#post<TicketView>('/api/tickets', body);
    if (result.ok) void this.fetch();
    return result;
  }

  async completeCallback(id: number, note: string): Promise<Outcome<unknown>> {
    const result = await this.#post<unknown>(`/api/callbacks/${id}/complete`, { note });
    if (result.ok) this.callbacks = this.callbacks.filter((c) => c.id !== id);
    return result;
  }

  async #post<T>(url: string, body: object): Promise<Outcome<T>> {
    let response: Response;
    try {
      response = await this.#fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });
    } catch (err) {
      return { ok: false, code: 'NETWORK', message: err instanceof Error ? err.message : String(err) };
    }
    const answer: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const e = answer as { code?: string; message?: string } | null;
      return { ok: false, code: e?.code ?? `HTTP_${response.status}`, message: e?.message ?? '' };
    }
    return { ok: true, value: answer as T };
  }
}

/**
 * The ticket service: the pure ticket domain (state machine, SLA,
 * assignment, reception, patrols) over the ticket repository, with the
 * clock, the catalogue and the alarm engine's effects. Whatever happens is
 * handed to `publish` for push; nothing here knows about sockets or HTTP.
 */
import type { DeviceKind } from '../catalogue/kinds.ts';
import type { StaffCatalogue } from '../catalogue/staff.ts';
import type { SiteIndex } from '../catalogue/types.ts';
import type { Alarm } from '../domain/alarms/alarm-state.ts';
import type { EngineEffect } from '../domain/alarms/engine.ts';
import { assignmentCandidates, chooseAssignee, isOnDuty, supervisorOnDuty, zoneOf, type AssignmentRequest } from '../domain/tickets/assignment.ts';
import { localTime } from '../domain/tickets/local-time.ts';
import {
  holdsOutOfService, RECEPTION_SOURCES, TICKET_STATUSES, TicketError,
  type Actor, type Escalation, type Priority, type ReceptionSource, type Ticket, type TicketEvent, type TicketKind, type TicketSource,
} from '../domain/tickets/model.ts';
import { CHECKLIST, completeRound, isMissed, roundsAhead, startRound, type ChecklistResult, type PatrolRound } from '../domain/tickets/patrols.ts';
import { callbackDueAt, completeCallback, letterDueAt, type Callback } from '../domain/tickets/reception.ts';
import { DEPARTMENT_OF_KIND, dueEscalations, dueTimes, slaOf, type Supervisors } from '../domain/tickets/sla.ts';
import { patrolFindingTitle } from '../domain/tickets/titles.ts';
import { alarmLinked, applyCommand, escalate, faultReturned, type Change, type LifecyclePolicy, type TicketCommand } from '../domain/tickets/state-machine.ts';
import { isUniqueViolation, type AlarmLink, type TicketDraft, type TicketRepository } from '../adapters/sql/ticket-repository.ts';
import type { Clock } from '../ports/clock.ts';

export interface TicketPolicy extends LifecyclePolicy {
  /** A fault returning within this time after its ticket closed reopens that ticket. */
  readonly reopenWindowMs: number;
}

export const DEFAULT_TICKET_POLICY: TicketPolicy = { verifyAfterMs: 15 * 60_000, reopenWindowMs: 24 * 3_600_000 };

export type TicketNotice =
  | { readonly type: 'changed'; readonly ticket: Ticket; readonly event: TicketEvent }
  | { readonly type: 'escalated'; readonly ticket: Ticket; readonly escalation: Escalation }
  | { readonly type: 'round'; readonly round: PatrolRound; readonly missed: boolean };

export interface TicketServiceOptions {
  readonly repository: TicketRepository;
  readonly site: SiteIndex;
  readonly staff: StaffCatalogue;
  readonly clock: Clock;
  readonly policy?: Partial<TicketPolicy>;
  readonly publish?: (notice: TicketNotice) => void;
  /** The alarm engine's out-of-service switch (a device under an open maintenance ticket). */
  readonly setOutOfService?: (deviceId: string, on: boolean) => void;
  readonly onError?: (error: unknown, what: string) => void;
  /** Whether a username names someone tickets can go to (staff list or user accounts); default: the staff list. */
  readonly isKnownPerson?: (username: string) => Promise<boolean>;
}

/** A ticket taken by hand: reception (phone, walk-in, letter) or raised by staff. */
export interface NewTicket {
  readonly kind: TicketKind;
  readonly source?: ReceptionSource;
  readonly priority?: Priority;
  readonly title: string;
  readonly description?: string;
  readonly room?: string;
  readonly plot?: string;
  readonly building?: string;
  readonly device?: string;
  readonly location?: string;
  readonly neededBy?: number;
  readonly callbackPhone?: string;
  readonly confidential?: boolean;
  readonly major?: boolean;
}

export interface TicketDetail { ticket: Ticket; events: TicketEvent[]; alarms: AlarmLink[]; callbacks: Callback[] }

const MAX_ATTACH_ATTEMPTS = 4;
/**
 * Early look-ups are for a lone fault (its latency); a burst queues anyway, and
 * its look-ups would only crowd the store and be stale by their turn.
 */
const MAX_EARLY_LOOK_UPS = 8;

type AlarmRaised = Extract<EngineEffect, { type: 'alarm-raised' }>;

/** What a raised alarm's ticket is decided on. */
interface AlarmLookUps {
  /** The open ticket of the alarm's root cause. */
  readonly open: Ticket | undefined;
  /** Its ticket closed within the reopen window (annunciated alarms only). */
  readonly closed: Ticket | undefined;
  /** Open tickets per assignee, for a new ticket's assignment (annunciated alarms with two or more candidates only). */
  readonly openTickets: Map<string, number> | undefined;
}

export class TicketService {
  readonly policy: TicketPolicy;
  private readonly repo: TicketRepository;
  private readonly site: SiteIndex;
  private readonly staff: StaffCatalogue;
  private readonly clock: Clock;
  private readonly publish: (notice: TicketNotice) => void;
  private setOutOfService: (deviceId: string, on: boolean) => void;
  private readonly onError: (error: unknown, what: string) => void;
  private readonly isKnownPerson: (username: string) => Promise<boolean>;
  /** Alarm effects are handled one batch after the other, in order. */
  private alarmQueue: Promise<void> = Promise.resolve();
  /** Alarm effects queued and not yet handled. */
  private queuedAlarmEffects = 0;
  /** The staff on shift in the minute onDuty() was last asked about. */
  private onDutyMinute: { minute: number; onDuty: ReadonlySet<string> } | null = null;
  /** Look-ups started while a raised alarm was being stored (prepareAlarmEffects), by its effect. */
  private readonly earlyLookUps = new WeakMap<EngineEffect, Promise<AlarmLookUps>>();

  constructor(options: TicketServiceOptions) {
    this.repo = options.repository;
    this.site = options.site;
    this.staff = options.staff;
    this.clock = options.clock;
    this.policy = { ...DEFAULT_TICKET_POLICY, ...options.policy };
    this.publish = options.publish ?? (() => {});
    this.setOutOfService = options.setOutOfService ?? (() => {});
    this.onError = options.onError ?? (() => {});
    this.isKnownPerson = options.isKnownPerson ?? (async (username) => this.staff.staff.some((s) => s.username === username));
  }

  get repository(): TicketRepository { return this.repo; }

  /** Connects the alarm engine's out-of-service switch once the alarms are there. */
  useOutOfService(setOutOfService: (deviceId: string, on: boolean) => void): void {
    this.setOutOfService = setOutOfService;
  }

  /** The devices that maintenance tickets under way hold out of service: what a partition's new owner rebuilds the switch from. */
  async devicesOutOfService(): Promise<Set<string>> {
    const held = await this.repo.all({ kind: 'maintenance', status: TICKET_STATUSES.filter(holdsOutOfService) });
    return new Set(held.flatMap((t) => (t.deviceId === null ? [] : [t.deviceId])));
  }
  get catalogue(): StaffCatalogue { return this.staff; }

  /**
   * Who is on shift at `now`. Shifts start and end on whole minutes, so the answer holds for the
   * minute: kept for it, as an alarm's ticket asks twice (its look-ups, then its assignment).
   */
  onDuty(now = this.clock.now()): ReadonlySet<string> {
    const minute = Math.floor(now / 60_000);
    if (this.onDutyMinute?.minute !== minute) {
      const tz = this.site.site.timezone;
      this.onDutyMinute = { minute, onDuty: new Set(this.staff.staff.filter((s) => isOnDuty(this.staff.shifts, s.username, now, tz)).map((s) => s.username)) };
    }
    return this.onDutyMinute.onDuty;
  }

  private supervisors(kind: TicketKind, onDuty: ReadonlySet<string>): Supervisors {
    const pool = { staff: this.staff.staff, onDuty };
    return {
      department: supervisorOnDuty(pool, kind === 'reception' ? 'cs-supervisor' : 'department-supervisor', DEPARTMENT_OF_KIND[kind]),
      customerService: supervisorOnDuty(pool, 'cs-supervisor', null),
    };
  }

  /** Whether workload (the open tickets per person) has to choose: two or more people fit a new ticket now. */
  private needsWorkload(request: AssignmentRequest, onDuty: ReadonlySet<string>): boolean {
    return assignmentCandidates(request, { staff: this.staff.staff, zones: this.staff.zones, onDuty }).length > 1;
  }

  private async assigneeFor(kind: TicketKind, plotId: string | null, buildingId: string | null, deviceKind: DeviceKind | null, now: number, openTickets?: Map<string, number>): Promise<string | null> {
    const request = { kind, plotId, buildingId, deviceKind };
    const onDuty = this.onDuty(now);
    const workload = this.needsWorkload(request, onDuty) ? openTickets ?? await this.repo.openCounts() : new Map<string, number>();
    return chooseAssignee(request, { staff: this.staff.staff, zones: this.staff.zones, onDuty, openTickets: workload });
  }

  private baseDraft(now: number, fields: Pick<TicketDraft, 'kind' | 'priority' | 'source' | 'title' | 'createdBy'> & Partial<TicketDraft>): TicketDraft {
    return {
      status: 'open', major: false, confidential: false, description: '', plotId: null, buildingId: null, unitId: null, deviceId: null,
      location: '', rootCauseKey: null, assignee: null, createdAt: now, updatedAt: now,
      acknowledgedAt: null, onSiteAt: null, resolvedAt: null, closedAt: null, ...dueTimes(fields.priority, now),
      neededBy: null, callbackPhone: null, letterDueAt: null, handedOverAt: null, handedOverTo: null,
      reply: null, repliedBy: null, repliedAt: null, escalations: [], reopenCount: 0,
      ...fields,
    };
  }

  private createEvent(draft: TicketDraft): Omit<TicketEvent, 'ticketId'> {
    return { at: draft.createdAt, by: draft.createdBy, action: 'create', from: null, to: draft.status, note: '', data: { assignee: draft.assignee, source: draft.source } };
  }

  // ── Taking tickets by hand ─────────────────────────────────────────────────

  async create(input: NewTicket, actor: Actor): Promise<Ticket> {
    const now = this.clock.now();
    const place = this.placeOf(input);
    const title = input.title.trim();
    if (title === '') throw new TicketError('TICKET_NOTE_REQUIRED', 'a ticket needs a title');
    let source: TicketSource = 'manual';
    if (input.kind === 'reception') {
      if (input.source === undefined || !RECEPTION_SOURCES.includes(input.source)) throw new TicketError('TICKET_SOURCE_REQUIRED', 'a reception ticket needs its source: phone, walk-in or letter');
      source = input.source;
    }
    const priority: Priority = input.priority ?? (input.kind === 'emergency' ? 1 : 3);
    const assignee = input.kind === 'reception' ? null : await this.assigneeFor(input.kind, place.plotId, place.buildingId, place.deviceKind, now);
    const draft = this.baseDraft(now, {
      kind: input.kind, priority, source, title, createdBy: actor.username,
      description: input.description?.trim() ?? '', plotId: place.plotId, buildingId: place.buildingId, unitId: place.unitId, deviceId: place.deviceId,
      location: input.location?.trim() ?? '', confidential: input.confidential ?? false, major: input.major ?? priority === 1,
      neededBy: input.neededBy ?? null, callbackPhone: input.callbackPhone?.trim() || null,
      letterDueAt: input.kind === 'reception' && input.source ? letterDueAt(input.source, now) : null,
      assignee, status: assignee === null ? 'open' : 'assigned',
    });
    const callback = draft.callbackPhone === null ? undefined
      : { phone: draft.callbackPhone, dueAt: callbackDueAt(now, draft.neededBy), doneAt: null, doneBy: null, note: '' };
    const ticket = await this.repo.insert(draft, this.createEvent(draft), callback);
    return this.afterCreate(ticket);
  }

  private async afterCreate(ticket: Ticket): Promise<Ticket> {
    this.publish({ type: 'changed', ticket, event: { ...this.createEvent(ticket), ticketId: ticket.id } });
    // A major problem escalates at once (supervisor to the spot), not at the next periodic check.
    return ticket.major ? this.escalateDue(ticket, this.clock.now(), this.onDuty()) : ticket;
  }

  /** The room, building, plot and device of a new ticket, checked against the catalogue. */
  private placeOf(input: NewTicket): { plotId: string | null; buildingId: string | null; unitId: string | null; deviceId: string | null; deviceKind: DeviceKind | null } {
    let plotId = input.plot ?? null;
    let buildingId = input.building ?? null;
    let unitId: string | null = null;
    let deviceId: string | null = null;
    let deviceKind: DeviceKind | null = null;
    if (input.room !== undefined) {
      const unit = this.site.unit(input.room);
      if (!unit) throw new TicketError('TICKET_ROOM_UNKNOWN', `room "${input.room}" is not in ${this.site.site.name}: rooms are like A-03-0502 (building, floor, unit) or A-S07 (shop)`);
      unitId = unit.id;
      plotId = unit.plotId;
      buildingId = unit.buildingId;
    }
    if (input.device !== undefined) {
      const device = this.site.device(input.device);
      if (!device) throw new TicketError('TICKET_LOCATION_UNKNOWN', `no device "${input.device}" in ${this.site.site.name}`);
      deviceId = device.id;
      deviceKind = device.kind;
      plotId = device.plotId;
      buildingId = device.buildingId ?? buildingId;
    }
    if (buildingId !== null) {
      const building = this.site.building(buildingId);
      if (!building) throw new TicketError('TICKET_LOCATION_UNKNOWN', `no building "${buildingId}" in ${this.site.site.name}`);
      plotId = building.plotId;
    }
    if (plotId !== null && !this.site.plot(plotId)) throw new TicketError('TICKET_LOCATION_UNKNOWN', `no plot "${plotId}" in ${this.site.site.name}`);
    return { plotId, buildingId, unitId, deviceId, deviceKind };
  }

  // ── Transitions ────────────────────────────────────────────────────────────

  async command(id: number, command: TicketCommand, expectedVersion: number, actor: Actor): Promise<Ticket> {
    const ticket = await this.repo.require(id);
    if (ticket.version !== expectedVersion) {
      throw new TicketError('TICKET_STALE_VERSION', `ticket ${id} is at version ${ticket.version}, not ${expectedVersion}: someone changed it meanwhile; reload it and try again`);
    }
    const now = this.clock.now();
    let cmd = command;
    if (command.action === 'assign' && !(await this.isKnownPerson(command.assignee))) {
      throw new TicketError('TICKET_ASSIGNEE_UNKNOWN', `nobody called "${command.assignee}" is on the staff list or has an account`);
    }
    if (cmd.action === 'verify' && ticket.source === 'alarm') cmd = { ...cmd, alarmsNormalSince: normalSince(await this.repo.alarmsOf(id)) };
    const change = applyCommand(ticket, cmd, actor, now, this.policy);
    return this.commit(ticket, change);
  }

  async comment(id: number, note: string, actor: Actor): Promise<TicketEvent> {
    const ticket = await this.repo.require(id);
    const change = applyCommand(ticket, { action: 'comment', note }, actor, this.clock.now(), this.policy);
    await this.commit(ticket, change);
    return change.event;
  }

  /** The supervisor the letter goes to: the one named, or the customer-service supervisor on duty. */
  async handOver(id: number, to: string | undefined, expectedVersion: number, actor: Actor, note?: string): Promise<Ticket> {
    const supervisor = to ?? supervisorOnDuty({ staff: this.staff.staff, onDuty: this.onDuty() }, 'cs-supervisor', null);
    if (supervisor === null) throw new TicketError('TICKET_ASSIGNEE_REQUIRED', 'no customer-service supervisor is on duty: name the one the letter goes to');
    return this.command(id, { action: 'hand-over', to: supervisor, ...(note !== undefined && { note }) }, expectedVersion, actor);
  }

  private async commit(before: Ticket, change: Change): Promise<Ticket> {
    const ticket = await this.repo.save(before, change);
    this.publish({ type: 'changed', ticket, event: change.event });
    if (ticket.kind === 'maintenance' && ticket.deviceId !== null && holdsOutOfService(ticket.status) !== holdsOutOfService(before.status)) {
      if (holdsOutOfService(ticket.status)) this.setOutOfService(ticket.deviceId, true);
      else if (!(await this.repo.openMaintenanceFor(ticket.deviceId, ticket.id))) this.setOutOfService(ticket.deviceId, false);
    }
    return ticket;
  }

  async detail(id: number): Promise<TicketDetail> {
    const ticket = await this.repo.require(id);
    const [events, alarms, callbacks] = await Promise.all([this.repo.events(id), this.repo.alarmsOf(id), this.repo.callbacks({ ticketId: id })]);
    return { ticket, events, alarms, callbacks };
  }

  // ── From alarms ────────────────────────────────────────────────────────────

  /**
   * The alarms plugin is storing these effects: the look-ups of each
   * annunciated alarm's new ticket start now, so that once they are stored
   * (onAlarmEffects) only the ticket's own write is left. Nothing is written
   * before then.
   */
  prepareAlarmEffects(effects: readonly EngineEffect[]): void {
    const raised = effects.filter((effect): effect is AlarmRaised => effect.type === 'alarm-raised' && effect.annunciated);
    if (raised.length === 0 || this.queuedAlarmEffects + raised.length > MAX_EARLY_LOOK_UPS) return;
    for (const effect of raised) {
      const lookUps = this.lookUps(effect.alarm, true, this.clock.now());
      // A failed early look-up is made again once the effect is stored.
      lookUps.catch(() => {});
      this.earlyLookUps.set(effect, lookUps);
    }
  }

  /** Queues a batch of engine effects (the alarms plugin calls this once they are stored). */
  onAlarmEffects(effects: readonly EngineEffect[]): Promise<void> {
    this.queuedAlarmEffects += effects.length;
    this.alarmQueue = this.alarmQueue.then(async () => {
      for (const effect of effects) {
        try {
          await this.onAlarmEffect(effect);
        } catch (error) {
          this.onError(error, `ticket for ${'alarm' in effect ? effect.alarm.id : effect.type}`);
        } finally {
          this.queuedAlarmEffects -= 1;
        }
      }
    });
    return this.alarmQueue;
  }

  /** Resolves once every alarm effect queued so far is handled. */
  idle(): Promise<void> { return this.alarmQueue; }

  private async onAlarmEffect(effect: EngineEffect): Promise<void> {
    if (!('alarm' in effect)) return;
    const { alarm } = effect;
    if (effect.type === 'alarm-raised') {
      const early = this.earlyLookUps.get(effect);
      this.earlyLookUps.delete(effect);
      await this.alarmRaised(alarm, effect.annunciated, early);
    } else if (effect.type === 'alarm-cleared') {
      await this.repo.setAlarmActive(alarm.id, false, this.clock.now());
    } else if (effect.type === 'alarm-suppressed' && alarm.suppressedBy !== null && (alarm.state === 'unack' || alarm.state === 'ack')) {
      const root = await this.repo.openByRootCause(alarm.suppressedBy);
      if (root) await this.attach(root, alarm);
    }
  }

  /**
   * One open ticket per root cause: the alarm's root (if suppressed) or the
   * alarm itself. An open ticket gets the alarm attached (a resolved one
   * reopens); a ticket closed within the reopen window reopens; otherwise a
   * new ticket is inserted, unless another instance just did (then attach).
   * Alarms off the operator's screen (shelved, suppressed, out of service,
   * rate-limited) attach and reopen but never open a ticket of their own.
   *
   * The first attempt may go by look-ups made while the alarm was being
   * stored, when they found no open ticket: one opened, reopened or changed
   * since then makes the insert (unique index) or the reopen (version) fail,
   * and the next attempt looks again. An open ticket found then is looked up
   * again, as attaching is guarded by neither (it may have been resolved).
   */
  private async alarmRaised(alarm: Alarm, annunciated: boolean, early?: Promise<AlarmLookUps>): Promise<void> {
    const key = alarm.suppressedBy ?? alarm.id;
    const link = { alarmId: alarm.id, deviceId: alarm.deviceId, active: true };
    for (let attempt = 0; attempt < MAX_ATTACH_ATTEMPTS; attempt++) {
      const now = this.clock.now();
      try {
        const found = attempt === 0 ? await early?.catch(() => undefined) : undefined;
        const { open, closed, openTickets } = found && found.open === undefined ? found : await this.lookUps(alarm, annunciated, now);
        if (open) {
          await this.attach(open, alarm);
          return;
        }
        if (!annunciated) return;
        if (closed) {
          const reopened = await this.commit(closed, faultReturned(closed, alarm.id, now));
          await this.repo.link(reopened.id, link, now);
          return;
        }
        const device = this.site.device(alarm.deviceId);
        const assignee = await this.assigneeFor(alarm.ticket, alarm.plotId, alarm.buildingId, alarm.kind, now, openTickets);
        const draft = this.baseDraft(now, {
          // The title in English as ever; views add it in both languages (domain/tickets/titles.ts).
          kind: alarm.ticket, priority: alarm.priority, source: 'alarm', title: alarm.title.en, createdBy: 'system',
          description: alarm.message ?? (alarm.value === null ? '' : `value ${String(alarm.value)}`),
          plotId: alarm.plotId, buildingId: alarm.buildingId, unitId: device?.unitId ?? null, deviceId: alarm.deviceId,
          location: device?.name ?? alarm.deviceId, rootCauseKey: key, major: alarm.priority === 1,
          assignee, status: assignee === null ? 'open' : 'assigned',
        });
        const ticket = await this.repo.insertUnlessOpen(draft, this.createEvent(draft), link);
        if (ticket) {
          await this.afterCreate(ticket);
          return;
        }
        // Another instance opened it between our look and our insert: go round and attach.
      } catch (error) {
        if (!(error instanceof TicketError && error.code === 'TICKET_STALE_VERSION') && !isUniqueViolation(error)) throw error;
      }
    }
    throw new Error(`could not open or attach a ticket for alarm ${alarm.id} after ${MAX_ATTACH_ATTEMPTS} attempts`);
  }

  /**
   * What a new ticket may need is asked for at once: one wait for the store instead of
   * several in a row (the fault → ticket latency). Wasted, and cheap, when one is open already.
   */
  private async lookUps(alarm: Alarm, annunciated: boolean, now: number): Promise<AlarmLookUps> {
    const key = alarm.suppressedBy ?? alarm.id;
    if (!annunciated) return { open: await this.repo.openByRootCause(key), closed: undefined, openTickets: undefined };
    // On PGlite each statement waits its turn: no workload look-up when one person (or none) fits.
    const request = { kind: alarm.ticket, plotId: alarm.plotId, buildingId: alarm.buildingId, deviceKind: alarm.kind };
    const [{ open, closed }, openTickets] = await Promise.all([
      this.repo.openOrClosedSince(key, now - this.policy.reopenWindowMs),
      this.needsWorkload(request, this.onDuty(now)) ? this.repo.openCounts() : undefined,
    ]);
    return { open, closed, openTickets };
  }

  private async attach(ticket: Ticket, alarm: Alarm): Promise<void> {
    const now = this.clock.now();
    const isNew = await this.repo.link(ticket.id, { alarmId: alarm.id, deviceId: alarm.deviceId, active: true }, now);
    if (ticket.status === 'resolved') {
      await this.commit(ticket, faultReturned(ticket, alarm.id, now));
    } else if (isNew) {
      const event = alarmLinked(ticket, alarm.id, now);
      await this.repo.appendEvent(event);
      this.publish({ type: 'changed', ticket, event });
    }
  }

  // ── Periodic checks ────────────────────────────────────────────────────────

  /**
   * What the clock brings: SLA breaches, major problems and late letters
   * escalate; resolved alarm tickets whose alarms stayed normal are verified;
   * patrol rounds are planned ahead and missed ones reported. Safe to run on
   * several instances: each change is conditional on the version it read.
   */
  async tick(): Promise<void> {
    const now = this.clock.now();
    const onDuty = this.onDuty(now);
    for (const ticket of await this.repo.unfinished()) {
      await this.guard(`checking ticket ${ticket.id}`, async () => {
        const current = await this.escalateDue(ticket, now, onDuty);
        if (current.status === 'resolved' && current.source === 'alarm') await this.verifyIfNormal(current, now);
      });
    }
    await this.guard('patrol rounds', () => this.checkRounds(now));
  }

  private async guard(what: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (error instanceof TicketError && error.code === 'TICKET_STALE_VERSION') return; // another instance got there first
      this.onError(error, what);
    }
  }

  private async escalateDue(ticket: Ticket, now: number, onDuty: ReadonlySet<string>): Promise<Ticket> {
    let current = ticket;
    for (const escalation of dueEscalations(current, now, this.supervisors(current.kind, onDuty))) {
      const change = escalate(current, escalation);
      current = await this.repo.save(current, change);
      this.publish({ type: 'changed', ticket: current, event: change.event });
      this.publish({ type: 'escalated', ticket: current, escalation });
    }
    return current;
  }

  private async verifyIfNormal(ticket: Ticket, now: number): Promise<void> {
    const since = normalSince(await this.repo.alarmsOf(ticket.id));
    if (since === null || now - Math.max(since, ticket.resolvedAt ?? since) < this.policy.verifyAfterMs) return;
    const change = applyCommand(ticket, { action: 'verify', alarmsNormalSince: since, note: `alarms normal for ${this.policy.verifyAfterMs / 60_000} min` }, { username: 'system', role: null }, now, this.policy);
    await this.commit(ticket, change);
  }

  private async checkRounds(now: number): Promise<void> {
    await this.repo.planRounds(roundsAhead(this.staff.zones, localTime(now, this.site.site.timezone).date, this.site.site.timezone));
    for (const round of await this.repo.overdueRounds(now)) {
      if (!isMissed(round, now)) continue;
      const missed: PatrolRound = { ...round, status: 'missed' };
      if (await this.repo.saveRound(missed, round.version)) this.publish({ type: 'round', round: missed, missed: true });
    }
  }

  // ── Callbacks ──────────────────────────────────────────────────────────────

  async completeCallback(id: number, note: string, actor: Actor): Promise<Callback> {
    const callback = await this.repo.callback(id);
    if (!callback) throw new TicketError('CALLBACK_NOT_FOUND', `no callback ${id}`);
    const ticket = await this.repo.require(callback.ticketId);
    const now = this.clock.now();
    const done = completeCallback(callback, actor.username, note, now);
    const event: TicketEvent = { ticketId: ticket.id, at: now, by: actor.username, action: 'comment', from: ticket.status, to: ticket.status, note: `called back ${callback.phone}: ${done.note}`, data: { callbackId: id } };
    await this.repo.completeCallback(done, event);
    this.publish({ type: 'changed', ticket, event });
    return done;
  }

  // ── Patrol rounds ──────────────────────────────────────────────────────────

  async startRound(id: number, actor: Actor): Promise<PatrolRound> {
    const round = await this.requireRound(id);
    const started = startRound(round, actor.username, this.clock.now());
    if (!(await this.repo.saveRound(started, round.version))) throw new TicketError('TICKET_STALE_VERSION', `round ${id} was changed by someone else; reload it`);
    this.publish({ type: 'round', round: started, missed: false });
    return started;
  }

  /** Completes a round with the full checklist; each failed item becomes a ticket (major ones escalate at once). */
  async completeRound(id: number, results: readonly ChecklistResult[], actor: Actor): Promise<{ round: PatrolRound; tickets: Ticket[] }> {
    const round = await this.requireRound(id);
    const now = this.clock.now();
    const { round: completed, findings } = completeRound(round, results, now);
    const records = results.map((r) => {
      const finding = findings.find((f) => f.item.id === r.item);
      const category = finding?.item.category ?? categoryOf(r.item);
      return { item: r.item, category, ok: r.ok, note: (r.note ?? '').trim(), major: finding?.major ?? false, ticketId: null };
    });
    const recordIds = await this.repo.saveRound(completed, round.version, records);
    if (recordIds === null) throw new TicketError('TICKET_STALE_VERSION', `round ${id} was changed by someone else; reload it`);
    this.publish({ type: 'round', round: completed, missed: false });
    const zone = this.staff.zones.find((z) => z.id === round.zoneId);
    const made: Ticket[] = [];
    for (const finding of findings) {
      const place = zoneOf(this.staff.zones, zone?.plotId ?? null, null);
      const assignee = await this.assigneeFor(finding.kind, place?.plotId ?? null, null, null, now);
      const draft = this.baseDraft(now, {
        kind: finding.kind, priority: finding.priority, source: 'patrol', title: patrolFindingTitle(finding.item).en, createdBy: actor.username,
        description: finding.note, plotId: zone?.plotId ?? null, location: `${zone?.name ?? round.zoneId}: ${finding.note}`,
        major: finding.major, assignee, status: assignee === null ? 'open' : 'assigned',
      });
      const ticket = await this.afterCreate(await this.repo.insert(draft, this.createEvent(draft)));
      const index = results.findIndex((r) => r.item === finding.item.id);
      await this.repo.setRecordTicket(recordIds[index]!, ticket.id);
      made.push(ticket);
    }
    return { round: completed, tickets: made };
  }

  private async requireRound(id: number): Promise<PatrolRound & { version: number }> {
    const round = await this.repo.round(id);
    if (!round) throw new TicketError('PATROL_ROUND_NOT_FOUND', `no patrol round ${id}`);
    return round;
  }

  // ── Summaries ──────────────────────────────────────────────────────────────

  async slaSummary(): Promise<SlaSummaryRow[]> {
    const now = this.clock.now();
    const open = await this.repo.unfinished();
    return ([1, 2, 3, 4] as const).map((priority) => {
      const mine = open.filter((t) => t.priority === priority);
      const stages = mine.map((t) => slaOf(t, now));
      const breached = (stage: string) => stages.filter((s) => s.some((x) => x.stage === stage && x.breached && x.metAt === null)).length;
      const next = stages.flatMap((s) => s.filter((x) => x.remainingMs !== null && x.remainingMs >= 0).map((x) => x.remainingMs!));
      return {
        priority, open: mine.length,
        breached: { acknowledge: breached('acknowledge'), onSite: breached('on-site'), resolve: breached('resolve') },
        nextDueInMs: next.length === 0 ? null : Math.min(...next),
      };
    });
  }

  async workload(): Promise<WorkloadRow[]> {
    const onDuty = this.onDuty();
    const open = await this.repo.unfinished();
    return this.staff.staff
      .filter((s) => s.role === 'technician' || s.role === 'patrol-officer' || s.role === 'department-supervisor' || s.role === 'cs-supervisor')
      .map((s) => {
        const mine = open.filter((t) => t.assignee === s.username);
        return {
          username: s.username, name: s.name, nameZh: s.nameZh, role: s.role, onDuty: onDuty.has(s.username), open: mine.length,
          inProgress: mine.filter((t) => t.status === 'in-progress').length, overdue: mine.filter((t) => slaOf(t, this.clock.now()).some((x) => x.breached && x.metAt === null)).length,
        };
      });
  }
}

export interface SlaSummaryRow {
  priority: Priority;
  open: number;
  /** Open tickets past each stage's due time without having met it. */
  breached: { acknowledge: number; onSite: number; resolve: number };
  /** The soonest upcoming due time among them. */
  nextDueInMs: number | null;
}

export interface WorkloadRow { username: string; name: string; nameZh: string; role: string; onDuty: boolean; open: number; inProgress: number; overdue: number }

/** When the last of the linked alarms cleared; null while any is active (or none is linked). */
export function normalSince(links: readonly AlarmLink[]): number | null {
  if (links.length === 0 || links.some((l) => l.active)) return null;
  return Math.max(...links.map((l) => l.changedAt));
}

const categoryOf = (item: string) => CHECKLIST.find((i) => i.id === item)!.category;

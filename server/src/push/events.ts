/**
 * The socket.io event map, shared by the server (emit) and the web (listen).
 * Types only: the web imports this file with `import type`.
 */
import type { DeviceKind } from '../catalogue/kinds.ts';
import type { MetricValue } from '../contract.ts';
import type { AlarmState } from '../domain/alarms/alarm-state.ts';
import type { Priority, Text, TicketKind } from '../domain/alarms/rules.ts';
import type { Escalation, Ticket, TicketEvent } from '../domain/tickets/model.ts';
import type { PatrolRound } from '../domain/tickets/patrols.ts';

export type LiveStatus = 'online' | 'offline' | 'unknown';

/** The live state of one device: its status and the latest value of every metric it reported. */
export interface DeviceState {
  id: string;
  kind: DeviceKind;
  status: LiveStatus;
  /** Event time of the newest reading, epoch ms; null before the first one. */
  ts: number | null;
  /** Arrival time of the newest message of any channel, epoch ms. */
  seenAt: number | null;
  values: Record<string, MetricValue>;
}

export interface IngestCounters {
  accepted: number;
  rejected: number;
  /** Rejections per reason code (see server/src/domain/ingest-validation.ts). */
  byReason: Record<string, number>;
}

/** An alarm as the control room shows it (REST and push alike). Times are epoch ms. */
export interface AlarmView {
  /** `${deviceId}:${ruleId}`: one alarm per device and rule, for good. */
  id: string;
  deviceId: string;
  ruleId: string;
  kind: DeviceKind;
  plotId: string;
  buildingId: string | null;
  /** 1 = critical … 4 = low. */
  priority: Priority;
  /** The kind of ticket it calls for. */
  ticket: TicketKind;
  title: { en: string; zh: string };
  /** ISA-18.2: normal, unack (active, unacknowledged), ack (active, acknowledged), rtn-unack (returned, unacknowledged). */
  state: AlarmState;
  value: MetricValue | null;
  message: string | null;
  /** Activations so far. */
  count: number;
  firstActiveAt: number | null;
  lastActiveAt: number | null;
  lastClearedAt: number | null;
  acknowledged: { by: string; at: number; comment: string } | null;
  shelved: { by: string; at: number; until: number; reason: string } | null;
  /** The root-cause alarm (e.g. a feeder outage) that suppresses this one by design. */
  suppressedBy: string | null;
  /** A maintenance ticket for the device is open. */
  outOfService: boolean;
  chattering: boolean;
  /** On the operator's alarm list: not normal, and neither shelved, suppressed nor out of service. */
  annunciated: boolean;
}

/** What 'alarms:snapshot' answers: every alarm that is not normal, and the plots in flood mode. */
export interface AlarmsSnapshot { alarms: AlarmView[]; flooding: string[] }

/** A ticket as pushed: confidential details are blanked (redacted: true) for rooms that may not see them; `titles` as in TicketView. */
export type PushedTicket = Ticket & { redacted: boolean; titles: Text | null };

export interface ServerToClientEvents {
  /** Coalesced: the latest state of every device that changed since the previous frame. */
  'devices:update': (states: DeviceState[]) => void;
  'ingest:counters': (counters: IngestCounters) => void;
  /** Coalesced: the latest state of every alarm that changed since the previous frame (already stored). */
  'alarms:changed': (alarms: AlarmView[]) => void;
  /** A plot (operator area) entered or left flood mode: show root causes first, grouped. */
  'alarms:flood': (flood: { plotId: string; active: boolean }) => void;
  /** A ticket changed (or got a comment, an alarm, an escalation): to its assignee, its plot and the control room. */
  'tickets:changed': (change: { ticket: PushedTicket; event: TicketEvent }) => void;
  /** A ticket escalated (SLA breach, major problem, late letter): supervisors called to the spot or told. */
  'tickets:escalated': (escalation: { ticket: PushedTicket; escalation: Escalation }) => void;
  /** A patrol round started, completed or was missed (missed: true raises the alarm in the control room). */
  'patrols:round': (change: { round: PatrolRound; missed: boolean }) => void;
}

export interface ClientToServerEvents {
  /** Asks for the full current state of every device (sent on connect and after a reconnect). */
  'devices:snapshot': (reply: (states: DeviceState[]) => void) => void;
  /** Asks for every alarm that is not normal and the plots in flood mode (on connect and after a reconnect). */
  'alarms:snapshot': (reply: (snapshot: AlarmsSnapshot) => void) => void;
}

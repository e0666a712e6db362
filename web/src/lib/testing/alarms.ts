/** Alarms as the server pushes them, for the web's unit and component tests. */
import type { AlarmView } from '../../../../server/src/push/events.ts';

/** An annunciated, unacknowledged P2 elevator fault in building A-01 (`id` is `${deviceId}:${ruleId}`); `over` sets any other field. */
export function alarm(id: string, over: Partial<AlarmView> = {}): AlarmView {
  return {
    id, deviceId: id.split(':')[0]!, ruleId: 'r', kind: 'elevator', plotId: 'A', buildingId: 'A-01', priority: 2, ticket: 'maintenance',
    title: { en: `Fault ${id}`, zh: `故障 ${id}` }, state: 'unack', value: null, message: null, count: 1, firstActiveAt: 1000, lastActiveAt: 1000,
    lastClearedAt: null, acknowledged: null, shelved: null, suppressedBy: null, outOfService: false, chattering: false, annunciated: true,
    ...over,
  };
}

/**
 * Wires the socket to the alarm list: a full snapshot on every (re)connect,
 * since changes sent while the link was down are gone; then the changes and
 * flood-mode switches as they come.
 */
import type { ServerToClientEvents } from '../../../server/src/push/events.ts';
import type { AlarmStore } from './alarms.svelte.ts';
import type { LiveSocket } from './live-link.ts';
import { SNAPSHOT_TIMEOUT_MS } from './live-link.ts';

/** Returns a function that detaches every listener. */
export function linkAlarms(socket: LiveSocket, alarms: AlarmStore, snapshotTimeoutMs = SNAPSHOT_TIMEOUT_MS): () => void {
  const requestSnapshot = (): void => {
    socket.timeout(snapshotTimeoutMs).emit('alarms:snapshot', (err, snapshot) => {
      if (!err) alarms.replaceAll(snapshot);
      else if (socket.connected) requestSnapshot();
    });
    void alarms.fetchKpis();
  };
  const onChanged = (changed: Parameters<ServerToClientEvents['alarms:changed']>[0]): void => alarms.apply(changed);
  const onFlood = ({ plotId, active }: Parameters<ServerToClientEvents['alarms:flood']>[0]): void => alarms.setFlood(plotId, active);

  socket.on('connect', requestSnapshot);
  socket.on('alarms:changed', onChanged);
  socket.on('alarms:flood', onFlood);
  if (socket.connected) requestSnapshot();

  return () => {
    socket.off('connect', requestSnapshot);
    socket.off('alarms:changed', onChanged);
    socket.off('alarms:flood', onFlood);
  };
}

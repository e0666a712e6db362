/**
 * Wires a socket.io client to the stores: device updates into LiveDevices,
 * link state into ConnectionState, ingest counters into HealthStore. On every
 * connect, including each reconnect, it asks for a full snapshot, since
 * updates sent while the link was down are gone.
 */
import type { Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../../server/src/push/events.ts';
import type { ConnectionState } from './connection.svelte.ts';
import type { HealthStore } from './health.svelte.ts';
import type { LiveDevices } from './live-devices.svelte.ts';

export type LiveSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export const SNAPSHOT_TIMEOUT_MS = 15_000;

export interface LinkTargets {
  live: LiveDevices;
  connection: ConnectionState;
  health?: HealthStore;
}

/** Returns a function that detaches every listener. */
export function linkSocket(socket: LiveSocket, { live, connection, health }: LinkTargets, snapshotTimeoutMs = SNAPSHOT_TIMEOUT_MS): () => void {
  const requestSnapshot = (): void => {
    socket.timeout(snapshotTimeoutMs).emit('devices:snapshot', (err, states) => {
      if (!err) live.replaceAll(states);
      // On a timeout ask again while still connected; a reconnect asks by itself.
      else if (socket.connected) requestSnapshot();
    });
  };
  const onConnect = (): void => {
    connection.connected();
    requestSnapshot();
  };
  const onDisconnect = (reason: Socket.DisconnectReason): void => {
    connection.lost();
    // socket.io does not retry after the server closed the socket on purpose.
    if (reason === 'io server disconnect') socket.connect();
  };
  const onAttempt = (attempt: number): void => connection.reconnectAttempt(attempt);
  const onUpdate = (states: Parameters<ServerToClientEvents['devices:update']>[0]): void => live.enqueue(states);
  const onCounters = (counters: Parameters<ServerToClientEvents['ingest:counters']>[0]): void => health?.setIngest(counters);

  socket.on('connect', onConnect);
  socket.on('disconnect', onDisconnect);
  socket.on('devices:update', onUpdate);
  socket.on('ingest:counters', onCounters);
  socket.io.on('reconnect_attempt', onAttempt);
  if (socket.connected) onConnect();

  return () => {
    socket.off('connect', onConnect);
    socket.off('disconnect', onDisconnect);
    socket.off('devices:update', onUpdate);
    socket.off('ingest:counters', onCounters);
    socket.io.off('reconnect_attempt', onAttempt);
  };
}

/**
 * What the header says about the live link: connecting (never connected yet),
 * connected, reconnecting (socket.io is retrying by itself) or offline (the
 * browser has no network, or several reconnect attempts have failed).
 */
export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline';

/** Failed reconnect attempts after which the link counts as offline rather than reconnecting. */
export const OFFLINE_AFTER_ATTEMPTS = 3;

export class ConnectionState {
  socketConnected = $state(false);
  browserOnline = $state(true);
  /** Reconnect attempts since the link dropped. */
  attempts = $state(0);
  /** When the link last came up or went down, epoch ms. */
  lastConnectedAt = $state<number | null>(null);
  lastLostAt = $state<number | null>(null);

  readonly status: ConnectionStatus = $derived.by(() => {
    if (!this.browserOnline) return 'offline';
    if (this.socketConnected) return 'connected';
    if (this.attempts > OFFLINE_AFTER_ATTEMPTS) return 'offline';
    return this.lastConnectedAt === null ? 'connecting' : 'reconnecting';
  });

  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  connected(): void {
    this.socketConnected = true;
    this.attempts = 0;
    this.lastConnectedAt = this.#now();
  }

  lost(): void {
    if (!this.socketConnected) return;
    this.socketConnected = false;
    this.lastLostAt = this.#now();
  }

  reconnectAttempt(attempt: number): void {
    this.attempts = attempt;
  }

  networkChanged(online: boolean): void {
    this.browserOnline = online;
  }
}

// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { ConnectionState, OFFLINE_AFTER_ATTEMPTS } from './connection.svelte.ts';

describe('ConnectionState', () => {
  it('is connecting until the first connect, then connected', () => {
    const connection = new ConnectionState(() => 7);
    expect(connection.status).toBe('connecting');
    connection.connected();
    expect(connection.status).toBe('connected');
    expect(connection.lastConnectedAt).toBe(7);
  });

  it('reconnects after a drop, and counts as offline after repeated failed attempts', () => {
    const connection = new ConnectionState();
    connection.connected();
    connection.lost();
    expect(connection.status).toBe('reconnecting');
    for (let attempt = 1; attempt <= OFFLINE_AFTER_ATTEMPTS; attempt++) connection.reconnectAttempt(attempt);
    expect(connection.status).toBe('reconnecting');
    connection.reconnectAttempt(OFFLINE_AFTER_ATTEMPTS + 1);
    expect(connection.status).toBe('offline');
    connection.connected();
    expect(connection.status).toBe('connected');
    expect(connection.attempts).toBe(0);
  });

  it('is offline as soon as the browser loses its network, even before the socket notices', () => {
    const connection = new ConnectionState();
    connection.connected();
    connection.networkChanged(false);
    expect(connection.status).toBe('offline');
    connection.networkChanged(true);
    expect(connection.status).toBe('connected');
  });

  it('counts as offline when the server never answered', () => {
    const connection = new ConnectionState();
    connection.reconnectAttempt(OFFLINE_AFTER_ATTEMPTS + 1);
    expect(connection.status).toBe('offline');
  });

  it('records when the link was lost, once', () => {
    let now = 1;
    const connection = new ConnectionState(() => now);
    connection.connected();
    now = 5;
    connection.lost();
    now = 9;
    connection.lost();
    expect(connection.lastLostAt).toBe(5);
  });
});

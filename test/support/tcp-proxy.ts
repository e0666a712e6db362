/**
 * A TCP proxy in front of a service (PostgreSQL, Mosquitto) that a test can
 * cut and restore: cut() closes every open connection and refuses new ones, as
 * a service that became unreachable would look to its clients.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Sockets still open on either side: 0 once every connection through it is closed at both ends. */
  connections(): number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let up = true;
  const server = createServer((client) => {
    if (!up) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    // A side that closes lets the other finish writing what it was given (destroying it would drop
    // that, e.g. a client's last packets before its DISCONNECT); an error, or cut(), ends both at once.
    const fail = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', fail).on('close', () => { open.delete(client); upstream.end(); });
    upstream.on('error', fail).on('close', () => { open.delete(upstream); client.end(); });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    connections: () => open.size,
    cut: () => {
      up = false;
      for (const socket of open) socket.destroy();
      open.clear();
    },
    restore: () => { up = true; },
    close: async () => {
      up = false;
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A test's own server (HTTP or plain TCP) listening on a loopback address, with
 * its connections counted and tracked, so a test can prove a destination was
 * never contacted and close() leaves no socket behind.
 */
import type { AddressInfo, Server, Socket } from 'node:net';

export interface LocalServer {
  port: number;
  host: string;
  /** http://host:port followed by `path`, the host in brackets when it is IPv6. */
  url: (path?: string) => string;
  /** Connections accepted so far. */
  connections: () => number;
  /** Connections open now. */
  openSockets: () => number;
  /** Destroys every open connection and closes the server; resolves once both are closed. */
  close: () => Promise<void>;
}

/** Starts `server` listening on host:port (127.0.0.1 and a free port unless given). */
export async function listenLocally(server: Server, host = '127.0.0.1', port = 0): Promise<LocalServer> {
  let connections = 0;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  return {
    port: bound,
    host,
    url: (path = '/') => base + path,
    connections: () => connections,
    openSockets: () => sockets.size,
    close: async () => {
      const closed = [...sockets].map((socket) => new Promise((resolve) => socket.once('close', resolve)));
      for (const socket of sockets) socket.destroy();
      await Promise.all([...closed, new Promise<void>((resolve) => server.close(() => resolve()))]);
    },
  };
}

/**
 * Fixture web servers for tests: real HTTP servers on 127.0.0.1 (or another
 * loopback address) that serve what a test tells them and count connections,
 * so a test can prove a destination was never contacted.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface FixtureServer {
  url: (path?: string) => string;
  port: number;
  host: string;
  connections: () => number;
  requests: IncomingMessage[];
  close: () => Promise<void>;
}

export async function startFixtureServer(
  routes: Record<string, Handler>,
  host = '127.0.0.1',
): Promise<FixtureServer> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const handler = routes[path];
    if (handler === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such fixture');
      return;
    }
    handler(req, res);
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url: (path = '/') => base + path,
    port,
    host,
    connections: () => connections,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export const html =
  (body: string, status = 200, type = 'text/html; charset=utf-8'): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': type }).end(body);
  };

export const redirect =
  (location: string, status = 302): Handler =>
  (_req, res) => {
    res.writeHead(status, { location }).end();
  };

/**
 * Fixture web servers for tests: real HTTP servers on 127.0.0.1 (or another
 * loopback address) that serve what a test tells them and count connections,
 * so a test can prove a destination was never contacted.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocally } from '@stagecraft/testkit/local-server';

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
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const handler = routes[path];
    if (handler === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such fixture');
      return;
    }
    handler(req, res);
  });
  const { url, port, connections, close } = await listenLocally(server, host);
  return { url, port, host, connections, requests, close };
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

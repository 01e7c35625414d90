/**
 * Test helpers: a server on 127.0.0.1 built by strictServer, and a client that
 * sends bytes exactly as written (fetch cannot send a malformed request) and
 * reads the answer until the server closes or the wait ends.
 */
import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { RequestListener } from '../src/server.js';
import { strictServer } from '../src/server.js';

export const TIMEOUTS = { headersTimeoutMs: 1_000, requestTimeoutMs: 2_000, keepAliveTimeoutMs: 5_000 };

export async function startServer(listener: RequestListener): Promise<{ server: Server; port: number }> {
  const server = strictServer(TIMEOUTS, listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

export function stopServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Whether the server ended the connection (false: the wait ran out first). */
  closed: boolean;
}

/** Sends `request` as is; resolves with what came back once the server closes, or after waitMs. */
export function exchange(port: number, request: string, waitMs = 3_000): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(Buffer.from(request, 'latin1')));
    const chunks: Buffer[] = [];
    let closed = false;
    const giveUp = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('end', () => {
      closed = true;
      socket.destroy();
    });
    socket.on('close', () => {
      clearTimeout(giveUp);
      const text = Buffer.concat(chunks).toString('latin1');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => [
          line.slice(0, line.indexOf(':')).toLowerCase(),
          line.slice(line.indexOf(':') + 1).trim(),
        ]),
      );
      resolve({
        status: Number(statusLine.split(' ')[1] ?? 0),
        headers,
        body: rest.join('\r\n\r\n'),
        closed,
      });
    });
  });
}

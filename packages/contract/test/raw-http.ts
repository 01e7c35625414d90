/**
 * Test helpers: a server on 127.0.0.1 built by strictServer, and the testkit's
 * raw-socket client bound to it, which sends bytes exactly as written (fetch
 * cannot send a malformed request) and reads the answer until the server closes
 * or the wait ends.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rawExchange, type RawAnswer } from '@stagecraft/testkit/raw-http';
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

/** Sends `request` as is; resolves with what came back once the server closes, or after waitMs. */
export function exchange(port: number, request: string, waitMs = 3_000): Promise<RawAnswer> {
  return rawExchange(port, [request], waitMs);
}

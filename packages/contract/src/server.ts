/**
 * How both services build, bind and drain their Node HTTP servers: the same
 * timeouts in the same order, the same refusals before any handler runs, one
 * line on stderr for an address that cannot be bound, the same graceful stop.
 */
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import type { ServerTimeouts } from './config.js';
import { answerClientErrors, refuseAmbiguousRequest } from './problem.js';

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Node's server timeouts, in the order they must hold (serverTimeouts() in
 * config.ts refuses any other): headersTimeout (a request's headers, from its
 * first byte; a connection that sends nothing is cut at it too) < requestTimeout
 * (the whole request, body included; it does not bound the handler) - both 408
 * with a problem document - and keepAliveTimeout (an idle connection between
 * requests) above every proxy's upstream keep-alive. Node checks the first two
 * every connectionsCheckingInterval (30 s by default, so a 10 s headersTimeout
 * could fire 40 s late): here at most a second late.
 */
export function serverOptions(timeouts: ServerTimeouts): ServerOptions {
  return {
    headersTimeout: timeouts.headersTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(timeouts.headersTimeoutMs / 4))),
    // Answered by refuseAmbiguousRequest, with a problem document instead of a bare 400.
    requireHostHeader: false,
  };
}

/** A server whose listener only sees requests refuseAmbiguousRequest let through. */
export function strictServer(timeouts: ServerTimeouts, listener: RequestListener): Server {
  const server = createServer(serverOptions(timeouts), (req, res) => {
    if (!refuseAmbiguousRequest(req, res)) listener(req, res);
  });
  answerClientErrors(server);
  return server;
}

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this machine',
  EACCES: 'permission denied',
  ENOTFOUND: 'host name does not resolve',
  EAI_AGAIN: 'host name did not resolve in time',
};

export interface ListenTarget {
  /** The service's name, first on the line: `api: cannot listen on ...`. */
  service: string;
  host: string;
  port: number;
  /** The variable that names the port, blamed unless the host is at fault. */
  variable: string;
  /** Runs before the process exits on a listen failure (close a database, say). */
  beforeExit?: () => void;
}

/**
 * Binds the server and resolves with the port it got. An address that cannot be
 * bound ends the process with one line naming the variable to change and no
 * stack trace: exit 1 when another process holds the port or DNS did not answer
 * in time (either may pass: a restart can succeed), 78 (EX_CONFIG) when the
 * address itself is wrong.
 */
export function listen(server: Server, target: ListenTarget): Promise<number> {
  const { service, host, port, variable } = target;
  return new Promise((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? 'unknown';
      const blame = ['EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN'].includes(code) ? 'HOST' : variable;
      process.stderr.write(
        `${service}: cannot listen on ${host}:${port}: ${LISTEN_ERRORS[code] ?? code} (${blame})\n`,
      );
      target.beforeExit?.();
      process.exit(code === 'EADDRINUSE' || code === 'EAI_AGAIN' ? 1 : 78);
    });
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/**
 * A graceful stop: the server stops accepting connections, in-flight requests
 * finish, keep-alive connections close as they become idle (so close() can
 * complete before the deadline). Resolves true once every connection is gone, or
 * false at timeoutMs, after cutting the connections that remain.
 */
export function drain(server: Server, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    // Unref'd: the open connections keep the process alive, not this timer.
    const force = setTimeout(() => {
      clearInterval(reaper);
      server.closeAllConnections();
      resolve(false);
    }, timeoutMs);
    force.unref();
    // A keep-alive connection becomes idle as its last response finishes.
    const reaper = setInterval(() => server.closeIdleConnections(), 100);
    server.close(() => {
      clearInterval(reaper);
      clearTimeout(force);
      resolve(true);
    });
    server.closeIdleConnections();
  });
}

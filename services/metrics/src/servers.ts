/**
 * The sidecar's two HTTP servers, built one way for main.ts and the tests: the
 * proxied port and the metrics port, each with the same timeouts, the same
 * refusal of requests RFC 9112 says to refuse, and problem documents for what
 * Node's parser rejects.
 */
import { createServer, type Server, type ServerOptions } from 'node:http';
import type { Config } from './config.js';
import { createOpsApp } from './ops-app.js';
import { answerClientErrors, refuseAmbiguousRequest } from './problem.js';
import { createProxyApp, type ProxyDeps, type RequestListener } from './proxy-app.js';

/**
 * Node's server timeouts, in the order they must hold: headersTimeout (headers
 * of a request, from its first byte) < requestTimeout (the whole request, body
 * included) - both 408 with a problem document - and keepAliveTimeout (an idle
 * connection between requests) above nginx's upstream keepalive_timeout (60 s),
 * so the gateway never sends a request into a connection the sidecar is closing.
 * Node checks the timers every connectionsCheckingInterval (30 s by default, so
 * a 10 s headersTimeout could fire 40 s late): here at most a second late.
 */
export function serverOptions(
  config: Pick<Config, 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs'>,
): ServerOptions {
  return {
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(config.headersTimeoutMs / 4))),
    // Answered by refuseAmbiguousRequest, with a problem document instead of a bare 400.
    requireHostHeader: false,
  };
}

/** A server whose listener only sees requests refuseAmbiguousRequest let through. */
export function strictServer(config: Config, listener: RequestListener): Server {
  const server = createServer(serverOptions(config), (req, res) => {
    if (!refuseAmbiguousRequest(req, res)) listener(req, res);
  });
  answerClientErrors(server);
  return server;
}

export interface SidecarServers {
  /** The proxied port: everything goes to the upstream. */
  proxy: Server;
  /** /metrics, /healthz, /readyz. */
  ops: Server;
}

export function createServers(deps: ProxyDeps & { draining: () => boolean }): SidecarServers {
  return {
    proxy: strictServer(deps.config, createProxyApp(deps)),
    ops: strictServer(deps.config, createOpsApp(deps.metrics, deps.draining)),
  };
}

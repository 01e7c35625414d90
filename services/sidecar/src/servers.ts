/**
 * The sidecar's two HTTP servers, built one way for main.ts and the tests: the
 * proxied port and the metrics port, each built by @stagecraft/contract's
 * strictServer as the API's are (the same timeouts, the same refusal of requests
 * RFC 9112 says to refuse, problem documents for what Node's parser rejects).
 */
import type { Server } from 'node:http';
import { strictServer } from '@stagecraft/contract';
import { createOpsApp } from './ops-app.js';
import { createProxyApp, type ProxyDeps } from './proxy-app.js';

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

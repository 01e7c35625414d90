/** The fetch options of one request, from the validated configuration (main.ts and the tests build them alike). */
import type { Config } from '../config.js';
import type { FetchOptions, Resolver, SocketFactory } from './fetch-page.js';
import { AllowList, SsrfGuard } from './ssrf-guard.js';

export function fetchOptionsFactory(
  config: Config,
  io: { resolve?: Resolver; connect?: SocketFactory } = {},
): (requestId: string) => FetchOptions {
  const guard = new SsrfGuard(new AllowList(config.fetchAllowHosts));
  return (requestId) => ({
    guard,
    requestId,
    timeoutMs: config.fetchTimeoutMs,
    connectTimeoutMs: config.fetchConnectTimeoutMs,
    maxBytes: config.fetchMaxBytes,
    maxRedirects: config.fetchMaxRedirects,
    ...(io.resolve ? { resolve: io.resolve } : {}),
    ...(io.connect ? { connect: io.connect } : {}),
  });
}

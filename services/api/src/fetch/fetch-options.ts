/**
 * The fetch options of every request, from the validated configuration (main.ts
 * and the tests build them alike). One guard, one DNS resolver and one bound on
 * fetches in flight per app, shared by all its requests.
 */
import type { Config } from '../config.js';
import { FetchLimit } from './fetch-limit.js';
import {
  dnsResolver,
  type FetchOptions,
  type ObserveHop,
  type Resolver,
  type SocketFactory,
} from './fetch-page.js';
import { AllowList, SsrfGuard } from './ssrf-guard.js';

export function fetchOptionsFactory(
  config: Config,
  io: { resolve?: Resolver; connect?: SocketFactory; observeHop?: ObserveHop } = {},
): (requestId?: string) => FetchOptions {
  const guard = new SsrfGuard(new AllowList(config.fetchAllowHosts));
  const limit = new FetchLimit(config.fetchMaxConcurrent);
  const resolve = io.resolve ?? dnsResolver(config.fetchDnsServers);
  // The request id is not passed on: the page server is a third party, and the
  // id is the gateway's internal trace key.
  return () => ({
    guard,
    limit,
    resolve,
    timeoutMs: config.fetchTimeoutMs,
    connectTimeoutMs: config.fetchConnectTimeoutMs,
    maxBytes: config.fetchMaxBytes,
    maxRedirects: config.fetchMaxRedirects,
    ...(io.connect ? { connect: io.connect } : {}),
    ...(io.observeHop ? { observeHop: io.observeHop } : {}),
  });
}

/**
 * The sidecar's configuration, from the environment, validated at start: a bad
 * value stops the process with a message naming the variable (see main.ts).
 * A variable set to nothing (`PORT=`, what `${PORT:-}` in Compose gives) counts
 * as unset, for every variable alike, as Compose's and the shell's `:-` do.
 */
import { isIP } from 'node:net';

export interface Config {
  host: string;
  /** The proxied port: everything here goes to the upstream. */
  port: number;
  /** /metrics, /healthz and /readyz live here and only here. */
  metricsPort: number;
  upstream: URL;
  /**
   * The upstream's response headers must come within this long of the last
   * request byte forwarded (of the request's arrival, for one without a body):
   * waiting for a pooled connection, retries and 1xx answers count; else 504.
   */
  upstreamTimeoutMs: number;
  /** How many times an idempotent, body-less request is re-sent when the upstream refused or reset it before answering. */
  upstreamRetries: number;
  logLevel: string;
  shutdownTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** A client's request headers must arrive within this long of its first byte, or 408. */
  headersTimeoutMs: number;
  /**
   * A client's whole request, body included, must arrive within this long of its
   * first byte, or 408: the only total bound on a trickled body behind the gateway
   * (nginx streams bodies through unbuffered and has no total deadline).
   */
  requestTimeoutMs: number;
  /** Where the API's OpenAPI document (the route templates) is read from. */
  routesFile: string;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(
      name,
      `must be a whole number from ${min} to ${max}, got ${JSON.stringify(env[name])}`,
    );
  }
  return value;
}

const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/**
 * A listen address: an IP address or a host name. Dotted digits that are not an
 * IPv4 address (999.1.1.1) are neither: a resolver would look them up as a name
 * and fail only at listen time.
 */
export function validHost(host: string): boolean {
  if (isIP(host) !== 0) return true;
  return HOST_NAME.test(host) && !/^[\d.]+$/.test(host);
}

export const DEFAULT_ROUTES_FILE = new URL('../../api/src/http/openapi.json', import.meta.url).pathname;

export function loadConfig(env: Env = process.env): Config {
  const rawUpstream = env.UPSTREAM_URL?.trim() || 'http://api:3000';
  let upstream: URL;
  try {
    upstream = new URL(rawUpstream);
  } catch {
    throw new ConfigError('UPSTREAM_URL', `not an absolute URL: ${JSON.stringify(rawUpstream)}`);
  }
  if (
    upstream.protocol !== 'http:' ||
    upstream.pathname !== '/' ||
    upstream.search !== '' ||
    upstream.username !== ''
  ) {
    throw new ConfigError(
      'UPSTREAM_URL',
      `must be a plain http://host:port URL, got ${JSON.stringify(rawUpstream)}`,
    );
  }
  const logLevel = (env.LOG_LEVEL?.trim() || 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(
      'LOG_LEVEL',
      `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(env.LOG_LEVEL)}`,
    );
  }
  const port = integer(env, 'PORT', 8080, 0, 65_535);
  const metricsPort = integer(env, 'METRICS_PORT', 9464, 0, 65_535);
  if (port !== 0 && port === metricsPort) {
    throw new ConfigError(
      'METRICS_PORT',
      'must differ from PORT: metrics are never served on the proxied port',
    );
  }
  const host = env.HOST?.trim() || '0.0.0.0';
  if (!validHost(host)) {
    throw new ConfigError('HOST', `must be an IP address or a host name, got ${JSON.stringify(env.HOST)}`);
  }
  const headersTimeoutMs = integer(env, 'HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  const requestTimeoutMs = integer(env, 'REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000);
  // Node refuses headersTimeout > requestTimeout; equal would make the header
  // phase eat the whole request's time, so a body could never arrive.
  if (headersTimeoutMs >= requestTimeoutMs) {
    throw new ConfigError(
      'HEADERS_TIMEOUT_MS',
      `must be less than REQUEST_TIMEOUT_MS (${requestTimeoutMs}), got ${headersTimeoutMs}`,
    );
  }
  return {
    host,
    port,
    metricsPort,
    upstream,
    upstreamTimeoutMs: integer(env, 'UPSTREAM_TIMEOUT_MS', 30_000, 100, 600_000),
    upstreamRetries: integer(env, 'UPSTREAM_RETRIES', 2, 0, 5),
    logLevel,
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 15_000, 0, 600_000),
    keepAliveTimeoutMs: integer(env, 'KEEP_ALIVE_TIMEOUT_MS', 65_000, 1_000, 600_000),
    headersTimeoutMs,
    requestTimeoutMs,
    routesFile: env.ROUTES_FILE?.trim() || DEFAULT_ROUTES_FILE,
  };
}

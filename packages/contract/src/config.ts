/**
 * The rules both services read their environment by, so that one variable means
 * the same in either: a variable set to nothing (`PORT=`, what `${PORT:-}` in
 * Compose gives) counts as unset, as Compose's and the shell's `:-` do; a bad
 * value throws a ConfigError naming the variable, which configOrExit turns into
 * one line on stderr and exit 78 (EX_CONFIG).
 */
import { isIP } from 'node:net';
import { hopOrderingViolations, limitReadBy, type Hop } from './limits.js';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

/** The variable's value, trimmed, or the fallback when it is unset or empty. */
export function text(env: Env, name: string, fallback: string): string {
  return env[name]?.trim() || fallback;
}

/** A whole number from min to max; digits only (no sign, exponent or fraction). */
export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(
      name,
      `must be a whole number from ${min} to ${max}, got ${JSON.stringify(env[name])}`,
    );
  }
  return value;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** LOG_LEVEL, any letter case, `info` when unset. */
export function logLevel(env: Env): LogLevel {
  const level = text(env, 'LOG_LEVEL', 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(
      'LOG_LEVEL',
      `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(env.LOG_LEVEL)}`,
    );
  }
  return level as LogLevel;
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
  // A CIDR range: listen on this container's own address inside it (see ownAddress).
  const slash = host.indexOf('/');
  if (slash > 0) {
    const family = isIP(host.slice(0, slash));
    const bits = host.slice(slash + 1);
    return family !== 0 && /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
  }
  return HOST_NAME.test(host) && !/^[\d.]+$/.test(host);
}

/** HOST, the address both of a service's servers listen on; every interface when unset. */
export function listenHost(env: Env): string {
  const host = text(env, 'HOST', '0.0.0.0');
  if (!validHost(host)) {
    throw new ConfigError('HOST', `must be an IP address or a host name, got ${JSON.stringify(env.HOST)}`);
  }
  return host;
}

/**
 * PORT (traffic) and METRICS_PORT (Prometheus), never one port: metrics must not
 * be reachable wherever traffic is. 0 asks the system for a free port (tests).
 */
export function listenPorts(env: Env, defaults: { port: number; metricsPort: number }) {
  const port = integer(env, 'PORT', defaults.port, 0, 65_535);
  const metricsPort = integer(env, 'METRICS_PORT', defaults.metricsPort, 0, 65_535);
  if (port !== 0 && port === metricsPort) {
    throw new ConfigError(
      'METRICS_PORT',
      'must differ from PORT: metrics are never served on the traffic port',
    );
  }
  return { port, metricsPort };
}

export interface ServerTimeouts {
  /** A client's request headers must arrive within this long of its first byte, or 408. */
  headersTimeoutMs: number;
  /** A client's whole request, body included, must arrive within this long of its first byte, or 408. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open between requests. */
  keepAliveTimeoutMs: number;
}

/**
 * A limit a service reads under `variable`, with its default and range from
 * limits.ts (one table for every hop of a request, the gateway's included).
 */
export function limit(env: Env, hop: Exclude<Hop, 'gateway'>, variable: string): number {
  const { default: fallback, min, max } = limitReadBy(hop, variable);
  return integer(env, variable, fallback, min, max);
}

/**
 * The rules of limits.ts between limits this hop reads itself (hopRules), on the
 * values it read, keyed by the names it reads them under: the first one broken is
 * a ConfigError naming the lower limit, the one to lower, and the rule's other
 * variable. A service passes every limit it reads, so that every rule is checked
 * (each service's config test breaks each of its rules in turn).
 */
export function checkOrdering(hop: Exclude<Hop, 'gateway'>, values: Record<string, number>): void {
  const [broken] = hopOrderingViolations(hop, values);
  if (broken !== undefined) throw new ConfigError(broken.variable, broken.message);
}

/**
 * HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS and KEEP_ALIVE_TIMEOUT_MS, with the
 * service's own defaults (limits.ts). Node refuses headersTimeout > requestTimeout;
 * equal would let the header phase eat the whole request's time, so a body could
 * never arrive: the headers' bound must be lower (limits.ts's rule, checked here),
 * and the error names it, the one to lower. Keep-alive's default, 65 s, outlives
 * every proxy's upstream keep-alive (nginx uses 60 s), or a proxy would send a
 * request into a connection the server is closing.
 */
export function serverTimeouts(env: Env, hop: Exclude<Hop, 'gateway'>): ServerTimeouts {
  const headersTimeoutMs = limit(env, hop, 'HEADERS_TIMEOUT_MS');
  const requestTimeoutMs = limit(env, hop, 'REQUEST_TIMEOUT_MS');
  checkOrdering(hop, { HEADERS_TIMEOUT_MS: headersTimeoutMs, REQUEST_TIMEOUT_MS: requestTimeoutMs });
  const keepAliveTimeoutMs = limit(env, hop, 'KEEP_ALIVE_TIMEOUT_MS');
  return { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs };
}

/** What every server of both services is configured by: where it listens, how it logs, its timeouts. */
export interface ServerConfig extends ServerTimeouts {
  host: string;
  /** Traffic: the API's routes, or the sidecar's proxied port. */
  port: number;
  /** Prometheus's /metrics (and, for the sidecar, its own health), never on `port`. */
  metricsPort: number;
  logLevel: LogLevel;
}

/** HOST, PORT, METRICS_PORT, LOG_LEVEL and the server timeouts, with a service's own defaults. */
export function serverConfig(
  env: Env,
  defaults: { port: number; metricsPort: number; hop: Exclude<Hop, 'gateway'> },
): ServerConfig {
  return {
    host: listenHost(env),
    ...listenPorts(env, defaults),
    logLevel: logLevel(env),
    ...serverTimeouts(env, defaults.hop),
  };
}

/** Ends the process as a bad value must: one line on stderr naming the variable, exit 78 (EX_CONFIG), no stack trace. */
export function exitForConfig(service: string, error: ConfigError): never {
  process.stderr.write(`${service}: invalid configuration: ${error.message}\n`);
  process.exit(78);
}

/** A service's configuration, or exitForConfig on a ConfigError; any other error is a bug, and keeps its stack. */
export function configOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) exitForConfig(service, error);
    throw error;
  }
}

/**
 * The sidecar's configuration, from the environment, validated at start: a bad
 * value stops the process with a message naming the variable (see main.ts).
 * A variable set to nothing (`PORT=`, what `${PORT:-}` in Compose gives) counts
 * as unset, for every variable alike, as Compose's and the shell's `:-` do (the
 * parsing rules the API shares are @stagecraft/contract's).
 */
import {
  ConfigError,
  checkOrdering,
  integer,
  limit,
  otlpTracesUrl,
  serverConfig,
  text,
  validHost,
  type Env,
  type ServerConfig,
} from '@stagecraft/contract';

/**
 * Where it listens, how it logs and its server timeouts: ServerConfig, read as
 * the API's is. Everything on `port` goes to the upstream; /metrics, /healthz
 * and /readyz live on `metricsPort` and only there.
 */
export interface Config extends ServerConfig {
  /**
   * Where the metrics port listens (METRICS_HOST, default HOST). Either may be a
   * network alias: the sidecar binds the one address of its own that the alias
   * names (see ownAddress), so a port is reachable on one Docker network only.
   */
  metricsHost: string;
  upstream: URL;
  /**
   * The upstream's response headers must come within this long of the last
   * request byte forwarded (of the request's arrival, for one without a body):
   * waiting for a pooled connection, retries and 1xx answers count; else 504.
   */
  upstreamTimeoutMs: number;
  /** How many times an idempotent, body-less request is re-sent when the upstream refused or reset it before answering. */
  upstreamRetries: number;
  shutdownTimeoutMs: number;
  /** Where spans go (OTEL_EXPORTER_OTLP_ENDPOINT + v1/traces); null: no tracing SDK is loaded. */
  otlpTracesUrl: URL | null;
}

export function loadConfig(env: Env = process.env): Config {
  const rawUpstream = text(env, 'UPSTREAM_URL', 'http://api:3000');
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
  // The limits ordered across hops take their defaults and ranges from
  // @stagecraft/contract's limits.ts, where the rules between them are.
  const server = serverConfig(env, { port: 8080, metricsPort: 9464, hop: 'sidecar' });
  const metricsHost = text(env, 'METRICS_HOST', server.host);
  if (!validHost(metricsHost)) {
    throw new ConfigError(
      'METRICS_HOST',
      `must be an IP address or a host name, got ${JSON.stringify(env.METRICS_HOST)}`,
    );
  }
  const upstreamTimeoutMs = limit(env, 'sidecar', 'UPSTREAM_TIMEOUT_MS');
  const shutdownTimeoutMs = limit(env, 'sidecar', 'SHUTDOWN_TIMEOUT_MS');
  // The rules between two of the sidecar's own limits; those with another hop's
  // are the deployment's to keep (README: "Limits across hops").
  checkOrdering('sidecar', {
    UPSTREAM_TIMEOUT_MS: upstreamTimeoutMs,
    HEADERS_TIMEOUT_MS: server.headersTimeoutMs,
    REQUEST_TIMEOUT_MS: server.requestTimeoutMs,
    KEEP_ALIVE_TIMEOUT_MS: server.keepAliveTimeoutMs,
    SHUTDOWN_TIMEOUT_MS: shutdownTimeoutMs,
  });
  return {
    metricsHost,
    // REQUEST_TIMEOUT_MS is the only total bound on a body behind the gateway, one
    // that trickles or one that stops (nginx streams bodies through unbuffered; its
    // timeouts count from the last byte moved, and are set above this one).
    ...server,
    upstream,
    upstreamTimeoutMs,
    upstreamRetries: integer(env, 'UPSTREAM_RETRIES', 2, 0, 5),
    shutdownTimeoutMs,
    otlpTracesUrl: otlpTracesUrl(env),
  };
}

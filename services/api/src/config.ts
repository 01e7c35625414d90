/**
 * The API's configuration, read once from the environment and validated: a bad
 * value stops the process with a message naming the variable (see main.ts).
 * A variable set to nothing (`PORT=`, what `${PORT:-}` in Compose gives) counts
 * as unset, for every variable alike, as Compose's and the shell's `:-` do (the
 * parsing rules the sidecar shares are @stagecraft/contract's).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import {
  ConfigError,
  checkOrdering,
  integer,
  limit,
  otlpTracesUrl,
  serverConfig,
  text,
  type Env,
  type ServerConfig,
} from '@stagecraft/contract';
import { AllowEntryError, parseAllowEntry } from './fetch/ssrf-guard.js';

/** Where it listens, how it logs and its server timeouts: ServerConfig, read as the sidecar's is. */
export interface Config extends ServerConfig {
  dataDir: string;
  fetchTimeoutMs: number;
  fetchConnectTimeoutMs: number;
  fetchMaxBytes: number;
  fetchMaxRedirects: number;
  /** Names, addresses or CIDR ranges exempt from the SSRF guard, each with an optional port (see AllowList). */
  fetchAllowHosts: string[];
  /** Outbound fetches in flight at most; more answer 503 fetch-capacity. */
  fetchMaxConcurrent: number;
  /** DNS servers for fetches (`1.2.3.4`, `1.2.3.4:53`, `[::1]:53`); empty: the system's (resolv.conf). */
  fetchDnsServers: string[];
  shutdownTimeoutMs: number;
  /**
   * The bearer token that stored reports need (create, list, read, delete), from
   * API_TOKEN_FILE; null when the API runs open (development, or API_AUTH=open).
   */
  apiToken: string | null;
  /** Where spans go (OTEL_EXPORTER_OTLP_ENDPOINT + v1/traces); null: no tracing SDK is loaded. */
  otlpTracesUrl: URL | null;
  /** PostgreSQL, from DATABASE_URL_FILE or DATABASE_URL; null: SQLite in DATA_DIR (the default). */
  database: DatabaseConfig | null;
}

/**
 * Where the PostgreSQL store connects and how. The URL holds the password: it is
 * never logged (toJSON, which pino and JSON.stringify use, leaves it out) and no
 * error message quotes it.
 */
export interface DatabaseConfig {
  url: string;
  poolSize: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  /** The variable the URL came from, for messages about it. */
  variable: 'DATABASE_URL' | 'DATABASE_URL_FILE';
}

/**
 * DATABASE_URL_FILE (a Compose or Swarm secret holding the URL) or DATABASE_URL:
 * one of them chooses PostgreSQL. Production (NODE_ENV=production) takes the URL,
 * which holds the password, only from the file: an environment variable is shown
 * by `docker inspect` and inherited by every child process.
 */
function readDatabase(
  env: Env,
  readFile: (path: string) => string,
  settings: Omit<DatabaseConfig, 'url' | 'variable'>,
): DatabaseConfig | null {
  const file = (env.DATABASE_URL_FILE ?? '').trim();
  const plain = (env.DATABASE_URL ?? '').trim();
  if (file !== '' && plain !== '')
    throw new ConfigError('DATABASE_URL', 'and DATABASE_URL_FILE are both set: choose one');
  if (plain !== '' && env.NODE_ENV === 'production')
    throw new ConfigError(
      'DATABASE_URL',
      'is refused in production (NODE_ENV=production): put the URL, which holds the password, in a secret file named by DATABASE_URL_FILE',
    );
  let url = plain;
  const variable = file !== '' ? 'DATABASE_URL_FILE' : 'DATABASE_URL';
  if (file !== '') {
    try {
      url = readFile(file).trim();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new ConfigError('DATABASE_URL_FILE', `cannot read ${JSON.stringify(file)} (${code})`);
    }
    if (url === '') throw new ConfigError('DATABASE_URL_FILE', `${JSON.stringify(file)} is empty`);
  }
  if (url === '') return null;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  // The value itself is never quoted: it may hold a password.
  if (
    parsed === undefined ||
    !['postgres:', 'postgresql:'].includes(parsed.protocol) ||
    parsed.hostname === ''
  )
    throw new ConfigError(
      variable,
      `${variable === 'DATABASE_URL_FILE' ? 'the file does not hold' : 'is not'} a postgres://user:password@host:5432/database URL (the value is not shown: it may hold a password)`,
    );
  const database: DatabaseConfig = { url, variable, ...settings };
  Object.defineProperty(database, 'toJSON', {
    enumerable: false,
    value: () => ({ ...settings, variable, url: '(not shown)' }),
  });
  return database;
}

/** Checks one FETCH_ALLOW_HOSTS entry (ssrf-guard.ts parses them, and says why one is refused). */
export function validAllowEntry(entry: string): boolean {
  try {
    parseAllowEntry(entry);
    return true;
  } catch {
    return false;
  }
}

/** One FETCH_DNS_SERVERS entry: `1.2.3.4`, `1.2.3.4:53`, `::1` or `[::1]:53` (what Resolver#setServers takes). */
function validDnsServer(server: string): boolean {
  const [, bracketed, v4, port] = /^(?:\[([^\]]+)\]|([\d.]+))(?::(\d{1,5}))?$/.exec(server) ?? [];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) return false;
  if (bracketed !== undefined) return isIP(bracketed) === 6 && !bracketed.includes('%');
  if (v4 !== undefined) return isIP(v4) === 4;
  return isIP(server) === 6 && !server.includes('%');
}

function dnsServers(env: Env): string[] {
  const servers = (env.FETCH_DNS_SERVERS ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const bad = servers.find((server) => !validDnsServer(server));
  if (bad !== undefined)
    throw new ConfigError(
      'FETCH_DNS_SERVERS',
      `${JSON.stringify(bad)} is not an IP address with an optional port (1.2.3.4, 1.2.3.4:53, [::1]:53)`,
    );
  return servers;
}

/** RFC 6750's b64token: what may follow "Bearer " in an Authorization header. */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** Long enough that guessing is hopeless (32 hex digits = 128 bits). */
const MIN_TOKEN_LENGTH = 32;

/**
 * API_TOKEN_FILE (a Compose or Swarm secret) holds the token; API_AUTH=open runs
 * without one. In production (NODE_ENV=production) one of the two must be said:
 * an API that stores what strangers send is never open by accident.
 */
function readApiToken(env: Env, readFile: (path: string) => string): string | null {
  const mode = (env.API_AUTH ?? '').trim().toLowerCase();
  if (mode !== '' && mode !== 'token' && mode !== 'open') {
    throw new ConfigError('API_AUTH', `must be "token" or "open", got ${JSON.stringify(env.API_AUTH)}`);
  }
  const file = (env.API_TOKEN_FILE ?? '').trim();
  if (file === '') {
    if (mode === 'token' || (mode === '' && env.NODE_ENV === 'production')) {
      throw new ConfigError(
        'API_TOKEN_FILE',
        'must name a file holding the API token (production needs a credential for stored reports; API_AUTH=open runs without one)',
      );
    }
    return null;
  }
  if (mode === 'open') throw new ConfigError('API_AUTH', 'is "open" but API_TOKEN_FILE is set: choose one');
  let text: string;
  try {
    text = readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError('API_TOKEN_FILE', `cannot read ${JSON.stringify(file)} (${code})`);
  }
  const token = text.trim();
  if (token.length < MIN_TOKEN_LENGTH || !BEARER_TOKEN.test(token)) {
    throw new ConfigError(
      'API_TOKEN_FILE',
      `the token must be at least ${MIN_TOKEN_LENGTH} characters of A-Z a-z 0-9 - . _ ~ + / (for example: openssl rand -hex 32)`,
    );
  }
  return token;
}

export function loadConfig(
  env: Env = process.env,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): Config {
  const dataDir = text(env, 'DATA_DIR', './data');
  const allow = (env.FETCH_ALLOW_HOSTS ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== '');
  for (const entry of allow) {
    try {
      parseAllowEntry(entry);
    } catch (error) {
      if (error instanceof AllowEntryError) throw new ConfigError('FETCH_ALLOW_HOSTS', error.message);
      throw error;
    }
  }
  // The limits ordered across hops (REQUEST_TIMEOUT_MS above the sidecar's, so its
  // 408 is the one clients see; FETCH_TIMEOUT_MS below the sidecar's wait for the
  // API...) take their defaults and ranges from @stagecraft/contract's limits.ts,
  // and the rules between two of the API's own (a fetch ends before the drain
  // does) are checked here; those with another hop's are the deployment's to keep.
  const server = serverConfig(env, { port: 3000, metricsPort: 9464, hop: 'api' });
  const fetchTimeoutMs = limit(env, 'api', 'FETCH_TIMEOUT_MS');
  const fetchMaxBytes = limit(env, 'api', 'FETCH_MAX_BYTES');
  const shutdownTimeoutMs = limit(env, 'api', 'SHUTDOWN_TIMEOUT_MS');
  // Read and checked whichever store runs, so a bad value is found before it matters.
  const databaseSettings = {
    poolSize: limit(env, 'api', 'DATABASE_POOL_SIZE'),
    statementTimeoutMs: limit(env, 'api', 'DATABASE_STATEMENT_TIMEOUT_MS'),
    connectTimeoutMs: limit(env, 'api', 'DATABASE_CONNECT_TIMEOUT_MS'),
  };
  checkOrdering('api', {
    DATABASE_STATEMENT_TIMEOUT_MS: databaseSettings.statementTimeoutMs,
    DATABASE_CONNECT_TIMEOUT_MS: databaseSettings.connectTimeoutMs,
    FETCH_MAX_BYTES: fetchMaxBytes,
    FETCH_TIMEOUT_MS: fetchTimeoutMs,
    HEADERS_TIMEOUT_MS: server.headersTimeoutMs,
    REQUEST_TIMEOUT_MS: server.requestTimeoutMs,
    KEEP_ALIVE_TIMEOUT_MS: server.keepAliveTimeoutMs,
    SHUTDOWN_TIMEOUT_MS: shutdownTimeoutMs,
  });
  return {
    ...server,
    dataDir,
    fetchTimeoutMs,
    fetchConnectTimeoutMs: Math.min(
      integer(env, 'FETCH_CONNECT_TIMEOUT_MS', 3_000, 50, 60_000),
      fetchTimeoutMs,
    ),
    fetchMaxBytes,
    fetchMaxRedirects: integer(env, 'FETCH_MAX_REDIRECTS', 5, 0, 20),
    fetchAllowHosts: allow,
    // Each fetch holds sockets and a counter for up to FETCH_TIMEOUT_MS; 16 keeps one CPU busy without queueing.
    fetchMaxConcurrent: integer(env, 'FETCH_MAX_CONCURRENT', 16, 1, 10_000),
    fetchDnsServers: dnsServers(env),
    shutdownTimeoutMs,
    apiToken: readApiToken(env, readFile),
    otlpTracesUrl: otlpTracesUrl(env),
    database: readDatabase(env, readFile, databaseSettings),
  };
}

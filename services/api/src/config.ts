/**
 * The API's configuration, read once from the environment and validated: a bad
 * value stops the process with a message naming the variable (see main.ts).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  logLevel: LogLevel;
  fetchTimeoutMs: number;
  fetchConnectTimeoutMs: number;
  fetchMaxBytes: number;
  fetchMaxRedirects: number;
  /** Host names, addresses or CIDR ranges exempt from the SSRF guard. */
  fetchAllowHosts: string[];
  shutdownTimeoutMs: number;
  /**
   * The bearer token that stored reports need (create, list, read, delete), from
   * API_TOKEN_FILE; null when the API runs open (development, or API_AUTH=open).
   */
  apiToken: string | null;
  /** Kept above every proxy's upstream keep-alive (nginx and agents use 60 s). */
  keepAliveTimeoutMs: number;
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

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) {
    throw new ConfigError(
      name,
      `must be a whole number between ${min} and ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${raw}`);
  }
  return value;
}

const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/** Checks one FETCH_ALLOW_HOSTS entry: a host name, an IP address or a CIDR range. */
export function validAllowEntry(entry: string): boolean {
  const slash = entry.indexOf('/');
  if (slash >= 0) {
    const address = entry.slice(0, slash);
    const bits = entry.slice(slash + 1);
    const family = isIP(address);
    if (family === 0 || !/^\d{1,3}$/.test(bits)) return false;
    return Number(bits) <= (family === 4 ? 32 : 128);
  }
  const unbracketed = entry.startsWith('[') && entry.endsWith(']') ? entry.slice(1, -1) : entry;
  return isIP(unbracketed) !== 0 || HOST_NAME.test(entry);
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
  const logLevel = (env.LOG_LEVEL ?? 'info').trim().toLowerCase();
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new ConfigError(
      'LOG_LEVEL',
      `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(env.LOG_LEVEL)}`,
    );
  }
  const dataDir = (env.DATA_DIR ?? './data').trim();
  if (dataDir === '') throw new ConfigError('DATA_DIR', 'must not be empty');

  const allow = (env.FETCH_ALLOW_HOSTS ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== '');
  for (const entry of allow) {
    if (!validAllowEntry(entry)) {
      throw new ConfigError(
        'FETCH_ALLOW_HOSTS',
        `${JSON.stringify(entry)} is not a host name, IP address or CIDR range`,
      );
    }
  }
  const host = (env.HOST ?? '0.0.0.0').trim();
  if (isIP(host) === 0 && !HOST_NAME.test(host))
    throw new ConfigError('HOST', `not an address: ${JSON.stringify(env.HOST)}`);

  const fetchTimeoutMs = integer(env, 'FETCH_TIMEOUT_MS', 10_000, 100, 300_000);
  return {
    port: integer(env, 'PORT', 3000, 0, 65_535),
    host,
    dataDir,
    logLevel: logLevel as LogLevel,
    fetchTimeoutMs,
    fetchConnectTimeoutMs: Math.min(
      integer(env, 'FETCH_CONNECT_TIMEOUT_MS', 3_000, 50, 60_000),
      fetchTimeoutMs,
    ),
    fetchMaxBytes: integer(env, 'FETCH_MAX_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    fetchMaxRedirects: integer(env, 'FETCH_MAX_REDIRECTS', 5, 0, 20),
    fetchAllowHosts: allow,
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    apiToken: readApiToken(env, readFile),
    keepAliveTimeoutMs: integer(env, 'KEEP_ALIVE_TIMEOUT_MS', 65_000, 1_000, 600_000),
  };
}

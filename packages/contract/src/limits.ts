/**
 * Every limit and timeout that must agree, or keep an order, across the hops a
 * request takes (client -> gateway -> sidecar -> API -> the page it fetches), in
 * one place: the variable a deployment sets, its default and range, which hop
 * reads it under which name, and the rules the values must keep together.
 *
 * The services read their defaults and ranges from here (config.ts); the gateway
 * image (nginx/entrypoint/18-stagecraft-limits.envsh), every stack file and the
 * benchmark gateway hold copies, which the root's test/limits-agree.test.ts holds to this
 * file. Raising a limit at deploy time is one variable: every stack passes it,
 * under the name below, to every hop that reads it. Each hop refuses at start
 * (exit 78) a value out of range, and a pair of its own values that breaks a rule
 * (hopRules); a rule between two hops' limits no single hop sees whole, so
 * README's "Limits across hops" lists which variables to raise together.
 *
 * Not here, because no variable sets it: the sidecar's pooled connections to the
 * API. Node's agent (proxy-app.ts, given a `timeout` so it does) retires an idle
 * socket 1 s before the Keep-Alive timeout the API advertises, whatever
 * API_KEEP_ALIVE_TIMEOUT_MS is (services/sidecar/test/keep-alive-pool.test.ts).
 */

/** The hops that read a limit: nginx (its templates) and the two Node services (their environment). */
export type Hop = 'gateway' | 'sidecar' | 'api';

/** In a stack file, this "variable" is the service's `stop_grace_period`, which the orchestrator reads. */
export const STOP_GRACE_PERIOD = 'stop_grace_period';

export interface Limit {
  /** Milliseconds, bytes, or a number of things: the value is always whole digits, the unit is the name's. */
  unit: 'ms' | 'bytes' | 'count';
  default: number;
  min: number;
  max: number;
  /** The hops that read it, each under its own name (or STOP_GRACE_PERIOD). */
  readBy: Partial<Record<Hop, string>>;
}

const ms = (value: number, min: number, max: number, readBy: Partial<Record<Hop, string>>): Limit => ({
  unit: 'ms',
  default: value,
  min,
  max,
  readBy,
});

/** Keyed by the variable a deployment sets (an environment variable or an .env line). */
export const LIMITS = {
  // The largest page counted: fetched (GET /count) or posted (POST /count, whose
  // body is the page itself, identity-coded). The gateway refuses a body above the
  // same number, so a body the API would refuse never crosses the stack.
  // At most 64 MiB, what is proven: the API counts a page of the maximum at the
  // production heap (--max-old-space-size=160) and stays healthy
  // (services/api/test/count/heap-limit.process.test.ts, which reads this number;
  // measured: 1.3 s, peak RSS 124 MB). Time bounds it as well: a posted page must
  // arrive whole within SIDECAR_REQUEST_TIMEOUT_MS (64 MiB in 30 s is 2.2 MB/s),
  // a fetched one within FETCH_TIMEOUT_MS (6.7 MB/s in 10 s).
  FETCH_MAX_BYTES: {
    unit: 'bytes',
    default: 10 * 1024 * 1024,
    min: 1024,
    max: 64 * 1024 * 1024,
    readBy: { api: 'FETCH_MAX_BYTES', gateway: 'FETCH_MAX_BYTES' },
  },
  // The API.
  FETCH_TIMEOUT_MS: ms(10_000, 100, 300_000, { api: 'FETCH_TIMEOUT_MS' }),
  API_HEADERS_TIMEOUT_MS: ms(10_000, 100, 600_000, { api: 'HEADERS_TIMEOUT_MS' }),
  API_REQUEST_TIMEOUT_MS: ms(35_000, 100, 3_600_000, { api: 'REQUEST_TIMEOUT_MS' }),
  API_KEEP_ALIVE_TIMEOUT_MS: ms(65_000, 1_000, 600_000, { api: 'KEEP_ALIVE_TIMEOUT_MS' }),
  API_SHUTDOWN_TIMEOUT_MS: ms(11_000, 0, 600_000, { api: 'SHUTDOWN_TIMEOUT_MS' }),
  API_STOP_GRACE_PERIOD_MS: ms(15_000, 1_000, 3_600_000, { api: STOP_GRACE_PERIOD }),
  // The API's PostgreSQL store (DATABASE_URL or DATABASE_URL_FILE set; SQLite reads
  // none of them). Connections per replica: 10 serve a replica's one CPU (a query
  // takes about a millisecond) and leave room under PostgreSQL's default
  // max_connections of 100 for several replicas. A query, or the wait for a
  // connection (a database restarting), ends in the API's 503 problem document
  // well before the sidecar stops waiting (the rules below).
  DATABASE_POOL_SIZE: {
    unit: 'count',
    default: 10,
    min: 1,
    max: 100,
    readBy: { api: 'DATABASE_POOL_SIZE' },
  },
  DATABASE_STATEMENT_TIMEOUT_MS: ms(3_000, 100, 600_000, { api: 'DATABASE_STATEMENT_TIMEOUT_MS' }),
  DATABASE_CONNECT_TIMEOUT_MS: ms(3_000, 100, 60_000, { api: 'DATABASE_CONNECT_TIMEOUT_MS' }),
  // The sidecar.
  UPSTREAM_TIMEOUT_MS: ms(30_000, 100, 600_000, { sidecar: 'UPSTREAM_TIMEOUT_MS' }),
  SIDECAR_HEADERS_TIMEOUT_MS: ms(10_000, 100, 600_000, { sidecar: 'HEADERS_TIMEOUT_MS' }),
  SIDECAR_REQUEST_TIMEOUT_MS: ms(30_000, 100, 3_600_000, { sidecar: 'REQUEST_TIMEOUT_MS' }),
  SIDECAR_KEEP_ALIVE_TIMEOUT_MS: ms(65_000, 1_000, 600_000, { sidecar: 'KEEP_ALIVE_TIMEOUT_MS' }),
  SIDECAR_SHUTDOWN_TIMEOUT_MS: ms(15_000, 0, 600_000, { sidecar: 'SHUTDOWN_TIMEOUT_MS' }),
  SIDECAR_STOP_GRACE_PERIOD_MS: ms(20_000, 1_000, 3_600_000, { sidecar: STOP_GRACE_PERIOD }),
  // The gateway (nginx: proxy_read_timeout and proxy_send_timeout of every proxied
  // location, client_body_timeout of every server that proxies, the
  // keepalive_timeout of its pool of connections to the sidecar). Not here:
  // client_header_timeout and send_timeout, which are ordered against nothing of
  // another hop (the headers are nginx's alone; answers are buffered, so a client
  // that stops reading holds no sidecar connection). client_body_timeout and
  // proxy_send_timeout are not ordered against each other: measured, neither runs
  // while the other side is the one that stalls.
  GATEWAY_PROXY_READ_TIMEOUT_MS: ms(45_000, 1_000, 3_600_000, {
    gateway: 'GATEWAY_PROXY_READ_TIMEOUT_MS',
  }),
  GATEWAY_PROXY_SEND_TIMEOUT_MS: ms(35_000, 1_000, 3_600_000, {
    gateway: 'GATEWAY_PROXY_SEND_TIMEOUT_MS',
  }),
  GATEWAY_CLIENT_BODY_TIMEOUT_MS: ms(10_000, 1_000, 3_600_000, {
    gateway: 'GATEWAY_CLIENT_BODY_TIMEOUT_MS',
  }),
  GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS: ms(60_000, 1_000, 600_000, {
    gateway: 'GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS',
  }),
  GATEWAY_STOP_GRACE_PERIOD_MS: ms(15_000, 1_000, 3_600_000, { gateway: STOP_GRACE_PERIOD }),
} as const satisfies Record<string, Limit>;

export type LimitName = keyof typeof LIMITS;
export type LimitValues = Record<LimitName, number>;

/** The default of every limit. */
export function limitDefaults(): LimitValues {
  return Object.fromEntries(
    Object.entries(LIMITS).map(([name, limit]) => [name, limit.default]),
  ) as LimitValues;
}

/** The limit a hop reads under `variable` (HEADERS_TIMEOUT_MS is the API's and the sidecar's, with their own values). */
export function limitReadBy(hop: Hop, variable: string): Limit {
  const limit = Object.values(LIMITS).find((l: Limit) => l.readBy[hop] === variable);
  if (limit === undefined) throw new Error(`no limit is read by the ${hop} as ${variable}`);
  return limit;
}

/** `below` + `by` must not exceed `above`: by 1 (ms) is "strictly below". */
export interface OrderingRule {
  below: LimitName;
  above: LimitName;
  by: number;
  /** Why, and where the rule comes from. */
  why: string;
}

/**
 * The margin between two hops' timers: they start at different moments (a hop
 * sees a request after the one before it), so equal values, or 1 ms apart, race.
 */
const BETWEEN_HOPS = 1_000;
/**
 * The margin when the lower timer is a Node server's headers or request timeout:
 * Node checks those up to a second late (connectionsCheckingInterval, see
 * serverOptions in server.ts), then a second between the hops.
 */
const AFTER_NODE_CHECK = 2_000;

export const ORDERING_RULES: readonly OrderingRule[] = [
  // Response waits, innermost first (README, "Timeouts"; the nginx server's /api/ comment).
  {
    below: 'FETCH_TIMEOUT_MS',
    above: 'UPSTREAM_TIMEOUT_MS',
    by: BETWEEN_HOPS,
    why: "the sidecar waits for the API longer than a fetch may take, so a slow page gets the API's 504 (timeout), which says why",
  },
  {
    below: 'UPSTREAM_TIMEOUT_MS',
    above: 'GATEWAY_PROXY_READ_TIMEOUT_MS',
    by: BETWEEN_HOPS,
    why: "the gateway waits longer than the sidecar, so the sidecar's metered 504 problem document is what clients see, not nginx's",
  },
  // Request bodies (README, "Limits across hops"; the gateway server's comments).
  // A body that keeps coming, however slowly, is ended by the sidecar's
  // whole-request timeout, counted from the request's start; one that stops is cut
  // by nginx's client_body_timeout, counted from the last byte read, which closes
  // the connection with no answer at all (nginx logs a 408 it cannot send).
  {
    below: 'GATEWAY_CLIENT_BODY_TIMEOUT_MS',
    above: 'UPSTREAM_TIMEOUT_MS',
    by: BETWEEN_HOPS,
    why: "a body the client stops sending is cut at the gateway before the sidecar's wait for the API, re-armed at each byte of the body it forwards, runs out and answers 504 as if the API had failed",
  },
  {
    below: 'SIDECAR_REQUEST_TIMEOUT_MS',
    above: 'API_REQUEST_TIMEOUT_MS',
    by: AFTER_NODE_CHECK,
    why: 'the sidecar cuts a trickled body first, so its metered 408 is the one clients see',
  },
  {
    below: 'SIDECAR_REQUEST_TIMEOUT_MS',
    above: 'GATEWAY_PROXY_SEND_TIMEOUT_MS',
    by: AFTER_NODE_CHECK,
    why: "a body the sidecar stops taking (the API behind it reads no more) ends in the sidecar's 408, counted from the request's start, before nginx's proxy_send_timeout, counted from its last write to the sidecar, answers 504 itself",
  },
  // Within each service: Node refuses headersTimeout above requestTimeout, and equal
  // leaves no time for a body (each service checks it at start: hopRules).
  {
    below: 'API_HEADERS_TIMEOUT_MS',
    above: 'API_REQUEST_TIMEOUT_MS',
    by: 1,
    why: 'Node refuses a headers timeout above the whole-request timeout, and at it no time is left for a body',
  },
  {
    below: 'SIDECAR_HEADERS_TIMEOUT_MS',
    above: 'SIDECAR_REQUEST_TIMEOUT_MS',
    by: 1,
    why: 'Node refuses a headers timeout above the whole-request timeout, and at it no time is left for a body',
  },
  // Idle keep-alive: a pool retires a connection before the server behind it
  // closes it, or a request goes into a closing socket (serverTimeouts' comment in
  // config.ts). 1 s apart, the margin Node's own agent keeps from a server's hint.
  {
    below: 'GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS',
    above: 'SIDECAR_KEEP_ALIVE_TIMEOUT_MS',
    by: BETWEEN_HOPS,
    why: "the gateway's pool to the sidecar retires idle connections before the sidecar closes them",
  },
  {
    below: 'GATEWAY_UPSTREAM_KEEPALIVE_TIMEOUT_MS',
    above: 'API_KEEP_ALIVE_TIMEOUT_MS',
    by: BETWEEN_HOPS,
    why: "the benchmark gateway's pool straight to the API (bench/gateway/) retires idle connections before the API closes them",
  },
  // The API's database: its slowest answer is the API's own 503, never the sidecar's
  // 504 (postgres-store.ts turns a timed-out query or connection into a 503).
  {
    below: 'DATABASE_STATEMENT_TIMEOUT_MS',
    above: 'UPSTREAM_TIMEOUT_MS',
    by: BETWEEN_HOPS,
    why: "a query the database is too slow to answer ends in the API's 503 problem document before the sidecar stops waiting and answers 504",
  },
  {
    below: 'DATABASE_CONNECT_TIMEOUT_MS',
    above: 'UPSTREAM_TIMEOUT_MS',
    by: BETWEEN_HOPS,
    why: "a request that waits for a database connection (a database restarting) ends in the API's 503 problem document before the sidecar stops waiting and answers 504",
  },
  {
    below: 'DATABASE_STATEMENT_TIMEOUT_MS',
    above: 'API_SHUTDOWN_TIMEOUT_MS',
    by: 1_000,
    why: 'a query in flight when the API is stopped ends, and its answer is written, before the drain gives up',
  },
  // Stopping: each drain ends before the orchestrator's SIGKILL, with a second to
  // exit (README: stop_grace_period above each service's own shutdown timeout).
  {
    below: 'API_SHUTDOWN_TIMEOUT_MS',
    above: 'API_STOP_GRACE_PERIOD_MS',
    by: 1_000,
    why: "the API's drain ends, and the process exits, before its stop_grace_period runs out",
  },
  {
    below: 'SIDECAR_SHUTDOWN_TIMEOUT_MS',
    above: 'SIDECAR_STOP_GRACE_PERIOD_MS',
    by: 1_000,
    why: "the sidecar's drain ends, and the process exits, before its stop_grace_period runs out",
  },
  // ...and a request in flight when the stop comes, whose longest part is a fetch,
  // can finish at every hop (nginx's graceful stop has no deadline of its own but
  // the stop_grace_period). A second for the answer to be written after the fetch
  // ends, in the API too: its fetch may end by a timer that fires with the drain's.
  {
    below: 'FETCH_TIMEOUT_MS',
    above: 'API_SHUTDOWN_TIMEOUT_MS',
    by: 1_000,
    why: 'a fetch in flight when the API is stopped ends with its answer, not a cut connection',
  },
  {
    below: 'FETCH_TIMEOUT_MS',
    above: 'SIDECAR_SHUTDOWN_TIMEOUT_MS',
    by: BETWEEN_HOPS,
    why: "a request the sidecar relays when it is stopped ends with the API's answer",
  },
  {
    below: 'FETCH_TIMEOUT_MS',
    above: 'GATEWAY_STOP_GRACE_PERIOD_MS',
    by: BETWEEN_HOPS,
    why: "a request in flight when the gateway is stopped ends with an answer before the gateway's stop_grace_period runs out",
  },
];

/** "below", or "at least 1000 ms below", as a rule says it. */
function relation(rule: OrderingRule): string {
  return rule.by === 1 ? 'below' : `at least ${rule.by} ${LIMITS[rule.above].unit} below`;
}

/** One rule a set of values breaks, said with the values. */
export interface OrderingViolation extends OrderingRule {
  message: string;
}

/**
 * The rules `values` break (defaults for any limit not given), none when they are
 * in order; and every value outside its range.
 */
export function orderingViolations(values: Partial<LimitValues> = {}): OrderingViolation[] {
  const all = { ...limitDefaults(), ...values };
  const broken: OrderingViolation[] = [];
  for (const [name, limit] of Object.entries(LIMITS) as [LimitName, Limit][]) {
    const value = all[name];
    if (!Number.isSafeInteger(value) || value < limit.min || value > limit.max) {
      broken.push({
        below: name,
        above: name,
        by: 0,
        why: 'each hop refuses a value outside its range at start',
        message: `${name} (${value}) must be a whole number from ${limit.min} to ${limit.max}`,
      });
    }
  }
  for (const rule of ORDERING_RULES) {
    const below = all[rule.below];
    const above = all[rule.above];
    if (below + rule.by <= above) continue;
    broken.push({
      ...rule,
      message: `${rule.below} (${below}) must be ${relation(rule)} ${rule.above} (${above}): ${rule.why}`,
    });
  }
  return broken;
}

/** The name a hop reads a limit by in its environment, if it does (a stop_grace_period is the orchestrator's). */
function environmentName(hop: Hop, name: LimitName): string | undefined {
  const variable = (LIMITS[name] as Limit).readBy[hop];
  return variable === STOP_GRACE_PERIOD ? undefined : variable;
}

/**
 * The rules a hop checks at start: those between two limits it reads from its own
 * environment. Every other rule spans hops, which no one process sees whole: the
 * stacks pass each limit to every hop that reads it, and README's "Limits across
 * hops" says which to raise together.
 */
export function hopRules(hop: Hop): OrderingRule[] {
  return ORDERING_RULES.filter(
    (rule) =>
      environmentName(hop, rule.below) !== undefined && environmentName(hop, rule.above) !== undefined,
  );
}

/** A hop rule broken: the lower limit's variable, and what is wrong, both under the hop's own names. */
export interface HopViolation {
  variable: string;
  message: string;
}

/**
 * The hop rules that the values a hop read break, by the names it reads them
 * under (HEADERS_TIMEOUT_MS, not API_HEADERS_TIMEOUT_MS); a rule whose two values
 * are not both given is not checked.
 */
export function hopOrderingViolations(hop: Hop, values: Record<string, number>): HopViolation[] {
  const broken: HopViolation[] = [];
  for (const rule of hopRules(hop)) {
    const belowName = environmentName(hop, rule.below)!;
    const aboveName = environmentName(hop, rule.above)!;
    const below = values[belowName];
    const above = values[aboveName];
    if (below === undefined || above === undefined || below + rule.by <= above) continue;
    broken.push({
      variable: belowName,
      message: `${below} must be ${relation(rule)} ${aboveName} (${above}): ${rule.why}`,
    });
  }
  return broken;
}

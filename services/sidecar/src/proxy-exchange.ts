/**
 * Everything the proxy keeps about one request, in one record from the
 * request's arrival to the end of its answer: what the metrics need (labels,
 * start time, bytes each way), the attempts upstream (how many re-sends, the one
 * in flight), the timers, and the flags that say how it ended. The proxy's event
 * handlers are handed only the request (http-proxy-middleware's events carry
 * req and res), so the record is found from it here.
 */
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TraceContext } from '@stagecraft/contract';
import type { ProxySpan } from './tracing/start-tracing.js';
import type { UpstreamFailure } from './red-metrics.js';

export class ProxyExchange {
  /** When the request arrived, for the duration metric. */
  readonly started = process.hrtime.bigint();
  /** Bytes of the request body written upstream by the latest attempt. */
  requestBytes = 0;
  /** Bytes of the upstream's response body piped to the client. */
  responseBytes = 0;
  /** The upstream's answer is being piped to the client (else any answer is the proxy's own problem document). */
  piped = false;
  /** Counts the request body's chunks as they go up (a request with a body only). */
  countRequestChunk: ((chunk: Buffer) => void) | undefined = undefined;
  /** Date.now() at the last request byte forwarded, or at arrival: the header deadline counts from it. */
  lastProgress = Date.now();
  /** Re-sends made so far. */
  retries = 0;
  /** The attempt upstream that holds a socket, to cut when the deadline passes or the answer ends. */
  attempt: ClientRequest | undefined = undefined;
  /** The response-header deadline (armed on arrival, pushed on while a body arrives). */
  deadline: NodeJS.Timeout | undefined = undefined;
  /** A re-send waiting for its delay; while one waits, later errors of the failed attempt are ignored. */
  retryTimer: NodeJS.Timeout | undefined = undefined;
  /** The proxy's deadline cut the request: whatever error follows is a timeout. */
  timedOut = false;
  /** The client hung up (FIN or error on its socket), or stopped reading: not the upstream's failure. */
  clientGone = false;
  /** An upstream failure was counted (an abort can surface twice, and is counted once). */
  failureCounted = false;
  /** The request's trace: its traceparent's, or one started here; its id is in every log line. */
  trace!: TraceContext;
  /** Its server span, when tracing is on (tracing/). */
  span: ProxySpan | undefined = undefined;
  /** The client's connection, watched for a hang-up while the answer is open (watchClient). */
  client: Socket | undefined = undefined;
  /** The kind of the upstream failure counted, if any: the metrics' error_type. */
  failure: UpstreamFailure | undefined = undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** X-Request-Id, as given or made. */
    readonly id: string,
    /** The method, route and scheme labels of the metrics, decided once. */
    readonly method: string,
    readonly route: string,
    readonly scheme: string,
  ) {}

  clearDeadline(): void {
    clearTimeout(this.deadline);
    this.deadline = undefined;
  }

  cancelRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}

/**
 * The exchange rides on its request under a symbol: it goes when the request
 * does, with nothing to clean up, and is set and read without a WeakMap's
 * hashing on every request.
 */
const EXCHANGE = Symbol('stagecraft.proxyExchange');
type WithExchange = IncomingMessage & { [EXCHANGE]?: ProxyExchange };

/** The record of a request that has just arrived. */
export function openExchange(
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  method: string,
  route: string,
  scheme: string,
): ProxyExchange {
  const exchange = new ProxyExchange(req, res, id, method, route, scheme);
  (req as WithExchange)[EXCHANGE] = exchange;
  return exchange;
}

/** The record of a request the proxy is handling; every request it forwards was opened first. */
export function exchangeOf(req: IncomingMessage): ProxyExchange {
  const exchange = (req as WithExchange)[EXCHANGE];
  if (exchange === undefined) throw new Error('a request reached the proxy without an exchange record');
  return exchange;
}

/** The exchange an attempt upstream belongs to, on the attempt (its listeners are shared functions). */
const ATTEMPT_OF = Symbol('stagecraft.attemptExchange');
type TaggedAttempt = ClientRequest & { [ATTEMPT_OF]?: ProxyExchange };

export function tagAttempt(attempt: ClientRequest, exchange: ProxyExchange): void {
  (attempt as TaggedAttempt)[ATTEMPT_OF] = exchange;
}

export function exchangeOfAttempt(attempt: ClientRequest): ProxyExchange {
  const exchange = (attempt as TaggedAttempt)[ATTEMPT_OF];
  if (exchange === undefined) throw new Error('an attempt upstream without an exchange record');
  return exchange;
}

/** The attempt an upstream answer answers (node:http sets an answer's req to its request). */
export function attemptOf(answer: IncomingMessage): ClientRequest {
  return (answer as IncomingMessage & { req: ClientRequest }).req;
}

/** The exchanges whose answers are still open on a client connection (more than one when pipelined). */
const LIVE = Symbol('stagecraft.liveExchanges');
type WatchedSocket = Socket & { [LIVE]?: Set<ProxyExchange> };

/** The client hung up (FIN or an error on its connection): none of its open exchanges has anyone to answer. */
function clientHungUp(this: WatchedSocket): void {
  for (const exchange of this[LIVE]!) exchange.clientGone = true;
}

/**
 * Marks the exchange clientGone if its client hangs up before its answer ends.
 * The listeners go on the connection once, at its first request, not once per
 * request: a keep-alive connection carries many, and each of them would add and
 * remove two listeners (and a closure) for nothing.
 */
export function watchClient(socket: Socket, exchange: ProxyExchange): void {
  const watched = socket as WatchedSocket;
  let live = watched[LIVE];
  if (live === undefined) {
    live = watched[LIVE] = new Set();
    socket.on('end', clientHungUp);
    socket.on('error', clientHungUp);
  }
  live.add(exchange);
  exchange.client = socket;
}

/** The exchange's answer ended: its client's connection no longer concerns it. */
export function unwatchClient(exchange: ProxyExchange): void {
  if (exchange.client !== undefined) (exchange.client as WatchedSocket)[LIVE]?.delete(exchange);
  exchange.client = undefined;
}

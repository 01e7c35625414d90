/**
 * The proxied port: meter every request, then forward it to the upstream (method,
 * path, query, end-to-end headers, body streamed both ways, never parsed). The
 * metering middleware is mounted before anything that could touch a body, and
 * nothing here reads one. Hop-by-hop headers stop here in both directions, no
 * protocol upgrade is ever proxied, and upstream failures (refused, reset, slow,
 * or speaking something other than HTTP/1.1 request-response) become 502/504
 * problem documents. What the proxy knows of each request is in its one
 * ProxyExchange record (proxy-exchange.ts); whether a failed attempt goes again
 * is upstream-retry.ts's pure decision, and this file only acts on it.
 */
import {
  Agent,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { isUnusualRequest, requestId, sendProblem, traceContext } from '@stagecraft/contract';
import { createProxyMiddleware, type Options, type Plugin } from 'http-proxy-middleware';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { forwardableRequestHeaders, forwardableResponseHeaders } from './hop-by-hop.js';
import {
  attemptOf,
  exchangeOf,
  exchangeOfAttempt,
  openExchange,
  tagAttempt,
  unwatchClient,
  watchClient,
  type ProxyExchange,
} from './proxy-exchange.js';
import {
  RedRecorder,
  errorTypeLabel,
  methodLabel,
  schemeLabel,
  type RedMetrics,
  type UpstreamFailure,
} from './red-metrics.js';
import { namesMetrics, type RouteLabels } from './route-labels.js';
import type { SidecarTracing } from './tracing/start-tracing.js';
import { classifyUpstreamError, upstreamError } from './upstream-failure.js';
import { hasBody, shouldRetry } from './upstream-retry.js';

export interface ProxyDeps {
  config: Config;
  metrics: RedMetrics;
  labels: RouteLabels;
  logger: Logger;
  /** A server span per request, when OTEL_EXPORTER_OTLP_ENDPOINT is set. */
  tracing?: SidecarTracing | null;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** The proxy server http-proxy-middleware builds (httpxy's), as its plugins are handed it. */
type ProxyServer = Parameters<Plugin>[0];

/**
 * The level of a request's line: the contract's rule (isUnusualRequest: ordinary
 * at debug, unusual at info), and at info too an answer that was cut or needed
 * a re-send, which only the sidecar sees.
 */
export function accessLogLevel(status: number, durationMs: number, troubled: boolean): 'info' | 'debug' {
  return troubled || isUnusualRequest(status, durationMs) ? 'info' : 'debug';
}

/**
 * The proxied port's request listener. A plain listener, not an Express app: the
 * path is one function deep, and every microsecond here is paid on every API call.
 */
export function createProxyApp({ config, metrics, labels, logger, tracing }: ProxyDeps): RequestListener {
  // Assigned below once the proxy exists; the error handler re-sends through it.
  let forward: (exchange: ProxyExchange) => void = () => undefined;

  // Keep-alive: without it every request opens a new TCP connection to the API.
  // Node's agent retires an idle socket one second before the server's advertised
  // Keep-Alive timeout, so a closing socket is never reused; but only when the
  // agent has a `timeout` of its own (Node 24: without one a free socket waits
  // until the API closes it, and a request can go into it as it closes). The
  // 10 minutes only ever apply to a socket silent that long in a request, which
  // UPSTREAM_TIMEOUT_MS (at most 10 minutes too) ends first.
  const agent = new Agent({
    keepAlive: true,
    keepAliveMsecs: 1_000,
    maxSockets: 256,
    maxFreeSockets: 64,
    timeout: 600_000,
  });

  const recorder = new RedRecorder(metrics);

  // Request id and RED metering; nothing here reads the body.
  const meter = (req: IncomingMessage, res: ServerResponse): ProxyExchange => {
    const id = requestId(req.headers['x-request-id']);
    req.headers['x-request-id'] = id;
    res.setHeader('x-request-id', id);

    const exchange = openExchange(
      req,
      res,
      id,
      methodLabel(req.method),
      labels.label(req.url ?? '/'),
      schemeLabel(req.headers['x-forwarded-proto']),
    );
    recorder.started(exchange.method, exchange.scheme);
    // The trace (the contract's rule, the gateway's and the API's too) and, with tracing on, its span.
    exchange.trace = traceContext(req.headers.traceparent);
    if (tracing)
      exchange.span = tracing.startSpan({
        method: req.method ?? '',
        route: exchange.route,
        path: req.url ?? '/',
        requestId: id,
        trace: exchange.trace,
      });
    watchClient(req.socket, exchange);
    // Node emits 'error' on a response only for a write after its end; unheard, it
    // would end the process. It is an attempt that failed like any other.
    res.on('error', responseError);
    // One listener for the end of the answer, sent or cut ('close' follows 'finish'
    // by a tick): the record, and nothing left running for it.
    res.once('close', responseClosed);
    return exchange;
  };
  // The response's listeners find the exchange from the response (res.req is its
  // request): one function each for every request, none made per request.
  function responseError(this: ServerResponse, error: NodeJS.ErrnoException): void {
    attemptFailed(error, exchangeOf(this.req));
  }
  function responseClosed(this: ServerResponse): void {
    const exchange = exchangeOf(this.req);
    unwatchClient(exchange);
    exchange.clearDeadline();
    // An attempt still running upstream (a body the client stopped sending, a
    // late answer) has nobody to answer.
    const current = exchange.attempt;
    if (current !== undefined && !current.destroyed) current.destroy();
    record(exchange);
  }

  const record = (exchange: ProxyExchange): void => {
    const { req, res, method, route, scheme } = exchange;
    const status = String(res.statusCode);
    const errorType = errorTypeLabel(res.statusCode, exchange.failure);
    const seconds = Number(process.hrtime.bigint() - exchange.started) / 1e9;
    // A problem document written here (not the upstream's body): its length is its Content-Length.
    const responseBytes = exchange.piped
      ? exchange.responseBytes
      : res.headersSent
        ? Number(res.getHeader('content-length') ?? 0)
        : 0;
    recorder.finished(
      method,
      scheme,
      route,
      status,
      errorType,
      seconds,
      responseBytes,
      exchange.requestBytes,
    );
    // The gateway writes the access log; this line is the sidecar's view of the
    // same request (route label, its own duration, whether the answer was cut),
    // at info only when something went wrong (see accessLogLevel).
    const durationMs = Math.round(seconds * 10_000) / 10;
    const aborted = !res.writableFinished;
    const level = accessLogLevel(res.statusCode, durationMs, aborted || exchange.retries > 0);
    if (logger.isLevelEnabled(level))
      logger[level](
        {
          requestId: exchange.id,
          traceId: exchange.trace.traceId,
          method: req.method,
          route,
          status: res.statusCode,
          durationMs,
          aborted,
        },
        'proxied',
      );
    exchange.span?.end({ status: res.statusCode, aborted, retries: exchange.retries });
  };

  const countFailure = (exchange: ProxyExchange, kind: UpstreamFailure, code: string | undefined): void => {
    if (exchange.failureCounted) return;
    exchange.failureCounted = true;
    exchange.failure = kind;
    metrics.upstreamFailures.inc({ kind });
    logger.warn({ requestId: exchange.id, traceId: exchange.trace.traceId, kind, code }, 'upstream failure');
  };

  /**
   * One failed attempt upstream: re-send it, or answer the client with a problem
   * document, or (mid-response) break the client's response so it sees a broken
   * body rather than a truncated one. Reached from the proxy's error event, the
   * deadline and an unasked protocol switch; an attempt can fail more than once.
   */
  const attemptFailed = (error: NodeJS.ErrnoException, exchange: ProxyExchange): void => {
    const { req, res } = exchange;
    if (res.writableEnded) return; // already answered (a 504 from the deadline, a 408): nothing left to do
    if (exchange.clientGone && !exchange.timedOut) return; // the client left: not the upstream's failure
    if (exchange.retryTimer !== undefined) return; // the same failed attempt surfacing twice
    const kind = classifyUpstreamError(error, exchange.timedOut);
    const decision = shouldRetry({
      kind,
      method: req.method ?? '',
      hasBody: hasBody(req.headers),
      retries: exchange.retries,
      maxRetries: config.upstreamRetries,
      responseStarted: res.headersSent,
      clientGone: exchange.clientGone,
    });
    if (decision.retry) {
      // Nothing reached the client: the request goes again, to whichever address DNS gives next.
      exchange.retries++;
      exchange.attempt = undefined;
      metrics.upstreamRetries.inc({ kind });
      logger.info(
        {
          requestId: exchange.id,
          traceId: exchange.trace.traceId,
          kind,
          code: error.code,
          retry: exchange.retries,
        },
        'retrying upstream',
      );
      exchange.retryTimer = setTimeout(resend, decision.delayMs, exchange);
      return;
    }
    countFailure(exchange, kind, error.code);
    if (res.headersSent) {
      res.destroy(); // mid-response: the client must see a broken body, not a truncated one
      return;
    }
    if (kind === 'timeout') {
      sendProblem(
        res,
        504,
        'upstream-timeout',
        'Upstream timed out',
        `no answer from the API within ${config.upstreamTimeoutMs} ms`,
      );
    } else if (kind === 'protocol') {
      sendProblem(
        res,
        502,
        'upstream-protocol',
        'Upstream unavailable',
        'the API answered with something other than an HTTP/1.1 response',
      );
    } else {
      sendProblem(
        res,
        502,
        `upstream-${kind}`,
        'Upstream unavailable',
        `the API could not be reached (${kind})`,
      );
    }
  };

  /**
   * UPSTREAM_TIMEOUT_MS bounds the wait for the upstream's response headers, from
   * the last request byte forwarded (or the request's arrival): queueing for a
   * pooled socket, connecting, retries, the API's work and any stream of 1xx
   * answers all count. A socket idle timer alone would not do: every 103 Early
   * Hints resets it, and a request queued for a socket has no socket to time.
   * A body still arriving pushes the deadline on; its own bound is the server's
   * requestTimeout.
   */
  const armDeadline = (exchange: ProxyExchange, delay: number): void => {
    // The exchange is the timer's argument: no closure allocated per request.
    exchange.deadline = setTimeout(deadlinePassed, delay, exchange);
  };
  const deadlinePassed = (exchange: ProxyExchange): void => {
    exchange.deadline = undefined;
    const { res } = exchange;
    if (res.headersSent || res.destroyed) return;
    const idle = Date.now() - exchange.lastProgress;
    if (idle < config.upstreamTimeoutMs) {
      armDeadline(exchange, config.upstreamTimeoutMs - idle);
      return;
    }
    exchange.timedOut = true;
    exchange.cancelRetry(); // a re-send still waiting must not go out after the 504
    const timeout = upstreamError('upstream timed out', 'ETIMEDOUT');
    const current = exchange.attempt;
    if (current !== undefined && !current.destroyed) current.destroy(timeout);
    else attemptFailed(timeout, exchange); // queued for a socket or between attempts
  };
  /** A re-send's delay is over: it goes, unless the client is no longer there to answer. */
  const resend = (exchange: ProxyExchange): void => {
    exchange.retryTimer = undefined;
    const { res } = exchange;
    if (exchange.clientGone || res.writableEnded || res.destroyed) return;
    forward(exchange);
  };

  /**
   * The attempt has a socket (a queued one waits for it): unless the client was
   * answered meanwhile, bound it and count the body's bytes as they go up.
   */
  const attemptStarted = (proxyReq: ClientRequest, exchange: ProxyExchange): void => {
    const { req, res } = exchange;
    if (res.writableEnded || exchange.timedOut) {
      proxyReq.destroy(); // answered while it waited in the pool's queue
      return;
    }
    exchange.attempt = proxyReq;
    exchange.requestBytes = 0;
    tagAttempt(proxyReq, exchange);
    // Idle bound on the whole exchange, the response body included. Not
    // http-proxy-middleware's proxyTimeout: that one destroys the attempt without
    // an error, which would read as a reset rather than a timeout.
    proxyReq.setTimeout(config.upstreamTimeoutMs, attemptIdle);
    // The sidecar never asks for an upgrade (Upgrade is stripped), so a 101 is a
    // protocol error. Without this listener Node destroys the socket and the
    // request emits neither a response nor an error: the client would wait forever.
    proxyReq.on('upgrade', attemptUpgraded);
    // Counted from the chunks the library's pipe writes up (it pipes just after
    // this event); a body-less request never emits data, and needs no counter.
    // Only a body-less request is re-sent, so one counter per request is enough.
    if (exchange.countRequestChunk === undefined && hasBody(req.headers)) {
      exchange.countRequestChunk = (chunk: Buffer) => {
        exchange.requestBytes += chunk.length;
        exchange.lastProgress = Date.now();
      };
      req.on('data', exchange.countRequestChunk);
    }
  };

  /** Response headers arrived: forward them without the hop-by-hop ones, then the body. */
  const answered = (proxyRes: IncomingMessage, exchange: ProxyExchange): void => {
    const { req, res } = exchange;
    const proxyReq = exchange.attempt;
    if (exchange.countRequestChunk !== undefined && proxyReq !== undefined && !proxyReq.writableFinished) {
      // The upstream answered before the whole body went up (a 413, say): the
      // library reads the rest of the client's body and drops it, so the client's
      // connection can go on; those bytes were not sent, and are not counted.
      const stopCounting = () => {
        if (!proxyReq.writableFinished) req.off('data', exchange.countRequestChunk!);
      };
      proxyRes.once('end', stopCounting);
      proxyRes.once('close', stopCounting);
    }
    exchange.clearDeadline();
    if (res.headersSent || res.writableEnded) {
      proxyRes.destroy(); // the client was answered already (a 408, a 504): drop the late answer
      return;
    }
    const status = proxyRes.statusCode ?? 0;
    if (status < 200) {
      // A 101 without Connection: upgrade reaches here as a final answer. Passed on,
      // the client would read it as informational and wait forever for the real one.
      proxyRes.destroy();
      attemptFailed(upstreamError(`the API answered ${status} as a final response`, 'EPROTO'), exchange);
      return;
    }
    try {
      res.writeHead(status, forwardableResponseHeaders(proxyRes.headers, proxyRes.rawHeaders));
    } catch (error) {
      // A header value Node will not send on (a control character): not an HTTP answer we can pass.
      proxyRes.destroy();
      attemptFailed(
        upstreamError(`unusable response header: ${(error as Error).message}`, 'EPROTO'),
        exchange,
      );
      return;
    }
    // An upstream that dies mid-body: the client must see a broken response too.
    proxyRes.once('close', answerClosed);
    proxyRes.pipe(res);
    exchange.piped = true;
    proxyRes.on('data', answerChunk);
  };

  // The attempt's and the answer's listeners find the exchange from the attempt
  // (an answer's req is its attempt): one function each, none made per request.
  function attemptIdle(this: ClientRequest): void {
    const exchange = exchangeOfAttempt(this);
    const { res } = exchange;
    if (res.headersSent && res.writableNeedDrain) {
      // The upstream is idle because the client stopped reading (backpressure):
      // the client's doing, so cut it without counting an upstream failure.
      exchange.clientGone = true;
      res.destroy();
      this.destroy();
      return;
    }
    exchange.timedOut = true;
    this.destroy(upstreamError('upstream timed out', 'ETIMEDOUT'));
  }
  function attemptUpgraded(this: ClientRequest, _response: IncomingMessage, socket: Socket): void {
    socket.destroy();
    attemptFailed(upstreamError('the API switched protocols unasked', 'EPROTO'), exchangeOfAttempt(this));
  }
  function answerClosed(this: IncomingMessage): void {
    const exchange = exchangeOfAttempt(attemptOf(this));
    if (this.complete || exchange.clientGone) return;
    countFailure(exchange, exchange.timedOut ? 'timeout' : 'reset', 'ECONNRESET');
    exchange.res.destroy();
  }
  function answerChunk(this: IncomingMessage, chunk: Buffer): void {
    exchangeOfAttempt(attemptOf(this)).responseBytes += chunk.length;
  }

  // The proxy, with our own handlers instead of http-proxy-middleware's defaults
  // (which answer a refused connection with a plain-text 504, and copy every
  // response header, hop-by-hop ones included). Plugins, not `on`: with the
  // default plugins ejected, `on` handlers are never attached.
  const metering: Plugin = (proxyServer) => {
    server = proxyServer;
    // Emitted once the attempt has a socket (a queued one waits for it).
    proxyServer.on('proxyReq', (proxyReq: ClientRequest, req: IncomingMessage) =>
      attemptStarted(proxyReq, exchangeOf(req)),
    );
    proxyServer.on('proxyRes', (proxyRes: IncomingMessage, req: IncomingMessage) =>
      answered(proxyRes, exchangeOf(req)),
    );
    proxyServer.on('error', (error: Error, req?: IncomingMessage, res?: ServerResponse | Socket) => {
      if (req === undefined || res === undefined) throw error; // misconfiguration, not a request's failure
      if (!('writeHead' in res)) {
        res.destroy(); // an upgrade socket: never proxied (ws is off), close it
        return;
      }
      attemptFailed(error as NodeJS.ErrnoException, exchangeOf(req));
    });
  };

  // The proxy server under the middleware (its plugins are handed it), once built.
  let server: ProxyServer | undefined;
  const options = {
    // The upstream as host and port, not a URL string: a string is parsed into a
    // URL twice per request (by the middleware and by its proxy server), and a
    // bracketed IPv6 literal would be turned into an object per request too.
    target: {
      protocol: 'http:',
      host: config.upstream.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(config.upstream.port) || 80,
    },
    agent,
    changeOrigin: false,
    xfwd: false,
    ws: false,
    // Headers are written here, without the hop-by-hop ones (see answered).
    selfHandleResponse: true,
    ejectPlugins: true,
    plugins: [metering],
  } satisfies Options;
  const proxy = createProxyMiddleware(options);
  const proxyServer = server as ProxyServer | undefined;
  if (proxyServer === undefined)
    throw new Error('http-proxy-middleware did not hand its plugin the proxy server');

  /** The request could not be forwarded at all: unless an error was answered or a re-send waits, a 502. */
  const notProxied = (exchange: ProxyExchange, error?: unknown): void => {
    const { res } = exchange;
    if (!res.headersSent && !res.writableEnded && exchange.retryTimer === undefined)
      sendProblem(res, 502, 'upstream-other', 'Upstream unavailable', String(error ?? 'not proxied'));
  };
  /** The proxy server's promise failed (the response's own 'error'): the middleware's handling, without it. */
  const webFailed = (error: unknown, exchange: ProxyExchange): void => {
    attemptFailed(error as NodeJS.ErrnoException, exchange);
    notProxied(exchange, error);
  };

  forward = (exchange) => {
    const { req, res } = exchange;
    const url = req.url ?? '';
    // An origin-form target ("/" then anything but a second "/" or "\\", which a
    // URL parser reads as the start of a host) is always one the middleware
    // proxies (its default path filter: the target's URL path starts with "/").
    // Such a request goes straight to its proxy server, with the same options:
    // the middleware's own per-request work (parsing the target into a URL for
    // the filter, copying its options, its awaits) was 20-30 us a request in a
    // CPU profile under bench/proxy-bench.ts's load (bench/profile-sidecar.ts).
    const c1 = url.charCodeAt(1);
    if (url.charCodeAt(0) === 47 && c1 !== 47 && c1 !== 92) {
      // A throw too, as the middleware (an async function) would have turned it into a rejection.
      try {
        proxyServer.web(req, res, options).catch((error: unknown) => webFailed(error, exchange));
      } catch (error) {
        webFailed(error, exchange);
      }
      return;
    }
    // Anything else as before, through the middleware: it calls `next` only for a
    // request it did not proxy, or after an error its 'error' event has already handled.
    const next = (error?: unknown) => notProxied(exchange, error);
    proxy(req, res, next).catch(next);
  };

  return (req, res) => {
    const exchange = meter(req, res);
    // The sidecar's metrics are on their own port, and the API serves none on the
    // port behind this one; refuse every spelling anyway.
    if (namesMetrics(req.url ?? '/')) {
      sendProblem(res, 404, 'not-found', 'Not found', 'metrics are not served on this port');
      return;
    }
    // The library copies req.headers upstream: hand it a copy without the
    // hop-by-hop fields (built, not deleted from: see forwardableRequestHeaders).
    req.headers = forwardableRequestHeaders(req.headers, req.rawHeaders) as IncomingHttpHeaders;
    // The API continues this trace: under this hop's span when there is one, else
    // under the traceparent as it came (nothing to change), or the one started here,
    // without a tracestate, which belonged to the traceparent it came with.
    const { span, trace } = exchange;
    if (span !== undefined) req.headers.traceparent = span.traceparent;
    else if (!trace.given) req.headers.traceparent = trace.header;
    if (!trace.given && req.headers.tracestate !== undefined) delete req.headers.tracestate;
    armDeadline(exchange, config.upstreamTimeoutMs);
    forward(exchange);
  };
}

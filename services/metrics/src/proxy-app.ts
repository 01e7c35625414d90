/**
 * The proxied port: meter every request, then forward it to the upstream (method,
 * path, query, end-to-end headers, body streamed both ways, never parsed). The
 * metering middleware is mounted before anything that could touch a body, and
 * nothing here reads one. Hop-by-hop headers stop here in both directions, no
 * protocol upgrade is ever proxied, and upstream failures (refused, reset, slow,
 * or speaking something other than HTTP/1.1 request-response) become 502/504
 * problem documents.
 */
import { randomUUID } from 'node:crypto';
import { Agent, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createProxyMiddleware, type Plugin } from 'http-proxy-middleware';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { forwardableResponseHeaders, stripRequestHeaders } from './hop-by-hop.js';
import { sendProblem } from './problem.js';
import { RedRecorder, methodLabel, type RedMetrics, type UpstreamFailure } from './red-metrics.js';
import { namesMetrics, type RouteLabels } from './route-labels.js';

export interface ProxyDeps {
  config: Config;
  metrics: RedMetrics;
  labels: RouteLabels;
  logger: Logger;
}

const USABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Bytes of each request body as it is written upstream. */
const requestBytes = new WeakMap<IncomingMessage, number>();
const timedOut = new WeakSet<IncomingMessage>();
/** Requests whose upstream failure was already counted (an abort can surface twice). */
const failed = new WeakSet<IncomingMessage>();
/** Requests whose client hung up (FIN or error on its socket): not the upstream's failure. */
const clientGone = new WeakSet<IncomingMessage>();
/** Retries sent so far, and requests whose next attempt is scheduled (later errors of the old attempt are ignored). */
const retries = new WeakMap<IncomingMessage, number>();
const retryPending = new WeakSet<IncomingMessage>();
/** The attempt upstream that holds a socket, to cut when the deadline passes or the client's response ends. */
const attempt = new WeakMap<IncomingMessage, ClientRequest>();
/** When each request's last body byte went upstream (or it was first forwarded), and its deadline timer. */
const progress = new WeakMap<IncomingMessage, number>();
const deadlines = new WeakMap<IncomingMessage, NodeJS.Timeout>();

/** RFC 9110 idempotent methods; only these may be re-sent without the client asking. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** Pause before re-sending: long enough for a restarting peer's address to leave DNS, short next to any timeout. */
const RETRY_DELAY_MS = 50;

/**
 * A request the proxy can send again on its own: idempotent and without a body,
 * because a streamed body is consumed by the first attempt and never buffered.
 */
export function replayable(req: IncomingMessage): boolean {
  if (!IDEMPOTENT.has(req.method ?? '')) return false;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
}

function chunkLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string')
    return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}

/** Counts bytes passing through a writable's write/end without changing what is written. */
function countWrites(stream: ServerResponse | ClientRequest, add: (n: number) => void): void {
  // Loosely typed on purpose: write/end have several overloads whose arguments are
  // forwarded untouched.
  type PassThrough = (this: unknown, ...args: unknown[]) => unknown;
  const write = stream.write as unknown as PassThrough;
  const end = stream.end as unknown as PassThrough;
  stream.write = function (this: unknown, ...args: unknown[]) {
    add(chunkLength(args[0], args[1]));
    return write.apply(this, args);
  } as unknown as typeof stream.write;
  stream.end = function (this: unknown, ...args: unknown[]) {
    if (args[0] !== undefined && typeof args[0] !== 'function') add(chunkLength(args[0], args[1]));
    return end.apply(this, args);
  } as unknown as typeof stream.end;
}

export function classifyUpstreamError(error: NodeJS.ErrnoException, req: IncomingMessage): UpstreamFailure {
  if (timedOut.has(req)) return 'timeout';
  switch (error.code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'EPROTO':
      return 'protocol';
    default:
      // llhttp could not read the upstream's answer as HTTP/1.1.
      if (error.code?.startsWith('HPE_')) return 'protocol';
      return error.message === 'socket hang up' ? 'reset' : 'other';
  }
}

function upstreamError(message: string, code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The proxied port's request listener. A plain listener, not an Express app: the
 * path is one function deep, and every microsecond here is paid on every API call.
 */
export function createProxyApp({ config, metrics, labels, logger }: ProxyDeps): RequestListener {
  // Assigned below once the proxy exists; the error handler re-sends through it.
  let forward: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;

  // Keep-alive: without it every request opens a new TCP connection to the API.
  // Node's agent retires an idle socket one second before the server's advertised
  // Keep-Alive timeout, so a closing socket is never reused.
  const agent = new Agent({ keepAlive: true, keepAliveMsecs: 1_000, maxSockets: 256, maxFreeSockets: 64 });

  const recorder = new RedRecorder(metrics);

  // Request id and RED metering; nothing here reads the body.
  const meter = (req: IncomingMessage, res: ServerResponse): void => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && USABLE_ID.test(given) ? given : randomUUID();
    req.headers['x-request-id'] = id;
    res.setHeader('x-request-id', id);

    const started = process.hrtime.bigint();
    const method = methodLabel(req.method);
    const route = labels.label(req.url ?? '/');
    recorder.started(method);
    let responseBytes = 0;
    countWrites(res, (n) => (responseBytes += n));
    const socket = req.socket;
    const hungUp = () => clientGone.add(req);
    socket.once('end', hungUp);
    socket.once('error', hungUp);
    let recorded = false;
    const record = () => {
      if (recorded) return;
      recorded = true;
      socket.off('end', hungUp);
      socket.off('error', hungUp);
      const status = String(res.statusCode);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      recorder.finished(method, route, status, seconds, responseBytes, requestBytes.get(req) ?? 0);
      logger.info(
        {
          requestId: id,
          method: req.method,
          route,
          status: res.statusCode,
          durationMs: Math.round(seconds * 10_000) / 10,
          aborted: !res.writableFinished,
        },
        'proxied',
      );
    };
    res.once('finish', record);
    res.once('close', record);
  };

  const countFailure = (req: IncomingMessage, kind: UpstreamFailure, code: string | undefined): void => {
    if (failed.has(req)) return;
    failed.add(req);
    metrics.upstreamFailures.inc({ kind });
    logger.warn({ requestId: req.headers['x-request-id'], kind, code }, 'upstream failure');
  };

  /**
   * One failed attempt upstream: re-send it, or answer the client with a problem
   * document, or (mid-response) break the client's response so it sees a broken
   * body rather than a truncated one. Reached from the proxy's error event, the
   * deadline and an unasked protocol switch; an attempt can fail more than once.
   */
  const attemptFailed = (error: NodeJS.ErrnoException, req: IncomingMessage, res: ServerResponse): void => {
    if (res.writableEnded) return; // already answered (a 504 from the deadline, a 408): nothing left to do
    if (clientGone.has(req) && !timedOut.has(req)) return; // the client left: not the upstream's failure
    if (retryPending.has(req)) return; // the same failed attempt surfacing twice
    const kind = classifyUpstreamError(error, req);
    // Refused or reset before any answer (a replica restarting, a keep-alive
    // socket closed under us): nothing reached the client, so an idempotent
    // request can go again, to whichever address DNS gives next.
    const sent = retries.get(req) ?? 0;
    if (
      (kind === 'refused' || kind === 'reset') &&
      !res.headersSent &&
      sent < config.upstreamRetries &&
      replayable(req)
    ) {
      retries.set(req, sent + 1);
      retryPending.add(req);
      attempt.delete(req);
      metrics.upstreamRetries.inc({ kind });
      logger.info(
        { requestId: req.headers['x-request-id'], kind, code: error.code, retry: sent + 1 },
        'retrying upstream',
      );
      setTimeout(
        () => {
          if (!retryPending.delete(req) || clientGone.has(req) || res.writableEnded || res.destroyed) return;
          forward(req, res);
        },
        RETRY_DELAY_MS * (sent + 1),
      );
      return;
    }
    countFailure(req, kind, error.code);
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
  const armDeadline = (req: IncomingMessage, res: ServerResponse, delay: number): void => {
    deadlines.set(
      req,
      setTimeout(() => {
        deadlines.delete(req);
        if (res.headersSent || res.destroyed) return;
        const idle = Date.now() - (progress.get(req) ?? 0);
        if (idle < config.upstreamTimeoutMs) {
          armDeadline(req, res, config.upstreamTimeoutMs - idle);
          return;
        }
        timedOut.add(req);
        retryPending.delete(req); // a re-send still waiting must not go out after the 504
        const timeout = upstreamError('upstream timed out', 'ETIMEDOUT');
        const current = attempt.get(req);
        if (current !== undefined && !current.destroyed) current.destroy(timeout);
        else attemptFailed(timeout, req, res); // queued for a socket or between attempts
      }, delay),
    );
  };
  const clearDeadline = (req: IncomingMessage): void => {
    clearTimeout(deadlines.get(req));
    deadlines.delete(req);
  };

  // The proxy, with our own handlers instead of http-proxy-middleware's defaults
  // (which answer a refused connection with a plain-text 504, and copy every
  // response header, hop-by-hop ones included).
  const metering: Plugin = (proxyServer) => {
    // Emitted once the attempt has a socket (a queued one waits for it).
    proxyServer.on('proxyReq', (proxyReq: ClientRequest, req: IncomingMessage, res: ServerResponse) => {
      if (res.writableEnded || timedOut.has(req)) {
        proxyReq.destroy(); // answered while it waited in the pool's queue
        return;
      }
      attempt.set(req, proxyReq);
      requestBytes.set(req, 0);
      countWrites(proxyReq, (n) => {
        requestBytes.set(req, (requestBytes.get(req) ?? 0) + n);
        progress.set(req, Date.now());
      });
      // Idle bound on the whole exchange, the response body included.
      proxyReq.setTimeout(config.upstreamTimeoutMs, () => {
        if (res.headersSent && res.writableNeedDrain) {
          // The upstream is idle because the client stopped reading (backpressure):
          // the client's doing, so cut it without counting an upstream failure.
          clientGone.add(req);
          res.destroy();
          proxyReq.destroy();
          return;
        }
        timedOut.add(req);
        proxyReq.destroy(upstreamError('upstream timed out', 'ETIMEDOUT'));
      });
      // The sidecar never asks for an upgrade (Upgrade is stripped), so a 101 is a
      // protocol error. Without this listener Node destroys the socket and the
      // request emits neither a response nor an error: the client would wait forever.
      proxyReq.on('upgrade', (_response: IncomingMessage, socket: Socket) => {
        socket.destroy();
        attemptFailed(upstreamError('the API switched protocols unasked', 'EPROTO'), req, res);
      });
    });
    // Response headers arrived: forward them without the hop-by-hop ones, then the body.
    proxyServer.on('proxyRes', (proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse) => {
      clearDeadline(req);
      if (res.headersSent || res.writableEnded) {
        proxyRes.destroy(); // the client was answered already (a 408, a 504): drop the late answer
        return;
      }
      const status = proxyRes.statusCode ?? 0;
      if (status < 200) {
        // A 101 without Connection: upgrade reaches here as a final answer. Passed on,
        // the client would read it as informational and wait forever for the real one.
        proxyRes.destroy();
        attemptFailed(upstreamError(`the API answered ${status} as a final response`, 'EPROTO'), req, res);
        return;
      }
      try {
        res.writeHead(status, forwardableResponseHeaders(proxyRes.headers, proxyRes.rawHeaders));
      } catch (error) {
        // A header value Node will not send on (a control character): not an HTTP answer we can pass.
        proxyRes.destroy();
        attemptFailed(
          upstreamError(`unusable response header: ${(error as Error).message}`, 'EPROTO'),
          req,
          res,
        );
        return;
      }
      // An upstream that dies mid-body: the client must see a broken response too.
      proxyRes.once('close', () => {
        if (proxyRes.complete || clientGone.has(req)) return;
        countFailure(req, timedOut.has(req) ? 'timeout' : 'reset', 'ECONNRESET');
        res.destroy();
      });
      proxyRes.pipe(res);
    });
    proxyServer.on('error', (error: Error, req?: IncomingMessage, res?: ServerResponse | Socket) => {
      if (req === undefined || res === undefined) throw error; // misconfiguration, not a request's failure
      if (!('writeHead' in res)) {
        res.destroy(); // an upgrade socket: never proxied (ws is off), close it
        return;
      }
      attemptFailed(error as NodeJS.ErrnoException, req, res);
    });
  };

  const proxy = createProxyMiddleware({
    target: config.upstream.href,
    agent,
    changeOrigin: false,
    xfwd: false,
    ws: false,
    // Headers are written here, without the hop-by-hop ones (see 'proxyRes').
    selfHandleResponse: true,
    ejectPlugins: true,
    plugins: [metering],
  });

  forward = (req, res) => {
    // http-proxy-middleware calls `next` only for a request it did not proxy.
    const notProxied = (error?: unknown) => {
      if (!res.headersSent && !res.writableEnded && !retryPending.has(req))
        sendProblem(res, 502, 'upstream-other', 'Upstream unavailable', String(error ?? 'not proxied'));
    };
    proxy(req, res, notProxied).catch(notProxied);
  };

  return (req, res) => {
    meter(req, res);
    // The sidecar's metrics are on their own port, and the API serves none on the
    // port behind this one; refuse every spelling anyway.
    if (namesMetrics(req.url ?? '/')) {
      sendProblem(res, 404, 'not-found', 'Not found', 'metrics are not served on this port');
      return;
    }
    stripRequestHeaders(req.headers, req.rawHeaders);
    progress.set(req, Date.now());
    armDeadline(req, res, config.upstreamTimeoutMs);
    res.once('close', () => {
      clearDeadline(req);
      // The client's answer is over (sent, or cut): an attempt still running upstream
      // (a body the client stopped sending, a late answer) has nobody to answer.
      const current = attempt.get(req);
      if (current !== undefined && !current.destroyed) current.destroy();
    });
    forward(req, res);
  };
}

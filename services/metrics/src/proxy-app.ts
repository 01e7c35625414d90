/**
 * The proxied port: meter every request, then forward it to the upstream as it
 * is (method, path, query, headers, body streamed both ways, never parsed). The
 * metering middleware is mounted before anything that could touch a body, and
 * nothing here reads one. Upstream failures become 502/504 problem documents.
 */
import { randomUUID } from 'node:crypto';
import { Agent, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createProxyMiddleware, type Plugin } from 'http-proxy-middleware';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { sendProblem } from './problem.js';
import { RedRecorder, methodLabel, type RedMetrics, type UpstreamFailure } from './red-metrics.js';
import type { RouteLabels } from './route-labels.js';

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
    default:
      return error.message === 'socket hang up' ? 'reset' : 'other';
  }
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

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

  // The proxy, with our own handlers instead of http-proxy-middleware's defaults
  // (which answer a refused connection with a plain-text 504).
  const metering: Plugin = (proxyServer) => {
    proxyServer.on('proxyReq', (proxyReq: ClientRequest, req: IncomingMessage) => {
      requestBytes.set(req, 0);
      countWrites(proxyReq, (n) => requestBytes.set(req, (requestBytes.get(req) ?? 0) + n));
      proxyReq.setTimeout(config.upstreamTimeoutMs, () => {
        timedOut.add(req);
        proxyReq.destroy(Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT' }));
      });
    });
    const countFailure = (req: IncomingMessage, kind: UpstreamFailure, code: string | undefined): void => {
      if (failed.has(req)) return;
      failed.add(req);
      metrics.upstreamFailures.inc({ kind });
      logger.warn({ requestId: req.headers['x-request-id'], kind, code }, 'upstream failure');
    };
    // An upstream that dies mid-body: the client must see a broken response too.
    proxyServer.on('proxyRes', (proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse) => {
      proxyRes.once('close', () => {
        if (proxyRes.complete || clientGone.has(req)) return;
        countFailure(req, timedOut.has(req) ? 'timeout' : 'reset', 'ECONNRESET');
        res.destroy();
      });
    });
    proxyServer.on('error', (error: Error, req?: IncomingMessage, res?: ServerResponse | Socket) => {
      if (req === undefined || res === undefined) throw error; // misconfiguration, not a request's failure
      if (clientGone.has(req) && !timedOut.has(req)) return; // the client left: not the upstream's failure
      if (retryPending.has(req)) return; // the same failed attempt surfacing twice
      const kind = classifyUpstreamError(error as NodeJS.ErrnoException, req);
      // Refused or reset before any answer (a replica restarting, a keep-alive
      // socket closed under us): nothing reached the client, so an idempotent
      // request can go again, to whichever address DNS gives next.
      const sent = retries.get(req) ?? 0;
      if (
        (kind === 'refused' || kind === 'reset') &&
        'writeHead' in res &&
        !res.headersSent &&
        sent < config.upstreamRetries &&
        replayable(req)
      ) {
        retries.set(req, sent + 1);
        retryPending.add(req);
        metrics.upstreamRetries.inc({ kind });
        logger.info(
          {
            requestId: req.headers['x-request-id'],
            kind,
            code: (error as NodeJS.ErrnoException).code,
            retry: sent + 1,
          },
          'retrying upstream',
        );
        setTimeout(
          () => {
            retryPending.delete(req);
            if (clientGone.has(req) || res.destroyed) return;
            forward(req, res);
          },
          RETRY_DELAY_MS * (sent + 1),
        );
        return;
      }
      countFailure(req, kind, (error as NodeJS.ErrnoException).code);
      if (!('writeHead' in res)) {
        res.destroy();
        return;
      }
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
      } else {
        sendProblem(
          res,
          502,
          `upstream-${kind}`,
          'Upstream unavailable',
          `the API could not be reached (${kind})`,
        );
      }
    });
  };

  const proxy = createProxyMiddleware({
    target: config.upstream.href,
    agent,
    changeOrigin: false,
    xfwd: false,
    ejectPlugins: true,
    plugins: [metering],
  });

  forward = (req, res) => {
    // http-proxy-middleware calls `next` only for a request it did not proxy.
    const notProxied = (error?: unknown) => {
      if (!res.headersSent && !retryPending.has(req))
        sendProblem(res, 502, 'upstream-other', 'Upstream unavailable', String(error ?? 'not proxied'));
    };
    proxy(req, res, notProxied).catch(notProxied);
  };

  return (req, res) => {
    meter(req, res);
    // The sidecar's metrics are on their own port; the API's are not public either.
    const path = pathOf(req.url ?? '/');
    if (path === '/metrics' || path.startsWith('/metrics/')) {
      sendProblem(res, 404, 'not-found', 'Not found', 'metrics are not served on this port');
      return;
    }
    forward(req, res);
  };
}

/**
 * Request ids, trace context and access logs. The gateway sets X-Request-Id and
 * traceparent; a request that arrives without a usable one (the rules are
 * @stagecraft/contract's, the sidecar's too) gets a fresh id or a new trace. The
 * request id is echoed in the response and in problem documents; both ids are in
 * every log line of the request. With tracing on, the rest of the request runs
 * inside its server span (tracing/), whose parent is the caller's traceparent.
 */
import { isUnusualRequest, requestId, traceContext, type TraceContext } from '@stagecraft/contract';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger.js';
import type { ServeTraced } from '../tracing/start-tracing.js';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    /** The trace this request belongs to: its traceparent's, or a new one. */
    trace: TraceContext;
    log: Logger;
  }
}

/** The route template Express matched the request with, if any. */
function routeOf(req: Request): string | undefined {
  return (req.route as { path?: string } | undefined)?.path;
}

/**
 * The level of a request's access line: the contract's rule (isUnusualRequest:
 * ordinary at debug, unusual at info), with a 5xx at error.
 */
export function accessLogLevel(status: number, durationMs: number): 'error' | 'info' | 'debug' {
  if (status >= 500) return 'error';
  return isUnusualRequest(status, durationMs) ? 'info' : 'debug';
}

/** Where a request's lazily made logger finds the service's logger. */
const BASE_LOGGER = Symbol('base logger');
type ContextRequest = Request & { [BASE_LOGGER]?: Logger };

/**
 * `req.log`, made on first use: a pino child per request costs more than the rest
 * of the context, and most requests now log nothing at production level. Defined
 * once on the prototype Express gives its requests (app.request); the first read
 * keeps the child on the request itself.
 */
function defineLazyLog(prototype: object): void {
  if (Object.prototype.hasOwnProperty.call(prototype, 'log')) return;
  const keep = (req: object, log: Logger) =>
    Object.defineProperty(req, 'log', { value: log, writable: true, configurable: true, enumerable: true });
  Object.defineProperty(prototype, 'log', {
    configurable: true,
    get(this: ContextRequest): Logger {
      const log = this[BASE_LOGGER]!.child({ requestId: this.id, traceId: this.trace.traceId });
      keep(this, log);
      return log;
    },
    set(this: ContextRequest, log: Logger) {
      keep(this, log);
    },
  });
}

export function requestContext(logger: Logger, serveTraced?: ServeTraced) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const id = requestId(req.headers['x-request-id']);
    req.id = id;
    req.trace = traceContext(req.headers.traceparent);
    (req as ContextRequest)[BASE_LOGGER] = logger;
    defineLazyLog(Object.getPrototypeOf(req) as object);
    res.setHeader('x-request-id', id);
    const started = performance.now();
    res.once('finish', () => {
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      const level = accessLogLevel(res.statusCode, durationMs);
      if (!logger.isLevelEnabled(level)) return;
      req.log[level](
        {
          method: req.method,
          path: req.path.length > 256 ? req.path.slice(0, 256) : req.path,
          route: routeOf(req),
          status: res.statusCode,
          durationMs,
        },
        'request',
      );
    });
    if (serveTraced === undefined) next();
    else serveTraced(req, res, req.trace, () => routeOf(req), next);
  };
}

/**
 * Request ids and access logs. The gateway sets X-Request-Id; a request that
 * arrives without a usable one (the rule is @stagecraft/contract's, the sidecar's
 * too) gets a fresh id. The id is echoed in the response, in every log line of
 * the request, and in problem documents.
 */
import { requestId } from '@stagecraft/contract';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger.js';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    log: Logger;
  }
}

export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    req.id = requestId(req.headers['x-request-id']);
    req.log = logger.child({ requestId: req.id });
    res.setHeader('x-request-id', req.id);
    const started = performance.now();
    res.once('finish', () => {
      const level = res.statusCode >= 500 ? 'error' : 'info';
      req.log[level](
        {
          method: req.method,
          path: req.path.length > 256 ? req.path.slice(0, 256) : req.path,
          route: (req.route as { path?: string } | undefined)?.path,
          status: res.statusCode,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
        },
        'request',
      );
    });
    next();
  };
}

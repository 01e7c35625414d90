/**
 * The Express application: middleware order, routes, and the fallbacks that turn
 * anything unmatched or thrown into a problem document. No I/O of its own: the
 * store, logger, metrics and fetch options come in as dependencies.
 */
import { RouteMatcher, routeTemplates } from '@stagecraft/contract';
import express, { type Express } from 'express';
import type { Config } from '../config.js';
import type { FetchOptions } from '../fetch/fetch-page.js';
import type { Logger } from '../logger.js';
import type { ApiMetrics } from '../metrics.js';
import type { ReportsStore } from '../storage/reports-store.js';
import { requireToken } from './auth.js';
import { countRoutes } from './count-routes.js';
import { errorHandler } from './errors.js';
import { opsRoutes } from './ops-routes.js';
import { HttpProblem } from './problem.js';
import { reportRoutes } from './report-routes.js';
import type { ServeTraced } from '../tracing/start-tracing.js';
import { requestContext } from './request-context.js';

export interface AppDeps {
  config: Config;
  store: ReportsStore;
  logger: Logger;
  metrics: ApiMetrics;
  /** Options for one page fetch; tests inject the resolver and socket factory here. */
  fetchOptions: (requestId: string) => FetchOptions;
  /** True once shutdown has begun: readiness fails so proxies stop sending work. */
  draining: () => boolean;
  /** Each request inside a server span, when tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT). */
  serveTraced?: ServeTraced;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  // The request's context and the headers of every answer, in one middleware:
  // each layer Express walks costs about as much as what these do.
  const context = requestContext(deps.logger, deps.serveTraced);
  app.use((req, res, next) => {
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('cache-control', 'no-store');
    // Draining: every response closes its connection, so a proxy's keep-alive pool
    // lets go of this process instead of sending the next request into a closing socket.
    if (deps.draining()) res.setHeader('connection', 'close');
    context(req, res, next);
  });
  app.use(opsRoutes(deps));
  app.use(countRoutes(deps));
  // Before the routes, so an unauthenticated body is never parsed. Express matches
  // this prefix the way it matches the routes (case-insensitive, trailing slash).
  app.use('/api/v1/reports', requireToken(deps.config.apiToken));
  app.use(reportRoutes(deps));

  // Unmatched: 405 with Allow when the path exists under another method, else 404.
  // The contract's matcher reads paths as the routes above do (any letter case,
  // one trailing slash), so PATCH /API/V1/REPORTS/1 is a 405 like its lower case.
  const templates = routeTemplates();
  const matcher = new RouteMatcher(templates.map((route) => route.template));
  app.use((req, res, next) => {
    const template = matcher.match(req.path);
    if (template === undefined) {
      next(
        new HttpProblem(
          404,
          'not-found',
          'Not found',
          `no route for ${req.method} ${req.path.slice(0, 256)}`,
        ),
      );
      return;
    }
    const allowed = templates.filter((route) => route.template === template).map((route) => route.method);
    res.setHeader('allow', allowed.join(', '));
    next(
      new HttpProblem(
        405,
        'method-not-allowed',
        'Method not allowed',
        `${req.method} is not one of ${allowed.join(', ')}`,
      ),
    );
  });
  app.use(errorHandler);
  return app;
}

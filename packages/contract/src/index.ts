/**
 * @stagecraft/contract: what the API and the metrics sidecar must agree on, in
 * one implementation each service imports (see README.md for what belongs here).
 * healthcheck.ts is a script the images run by path, not exported here.
 */
export {
  ConfigError,
  checkOrdering,
  configOrExit,
  exitForConfig,
  integer,
  limit,
  serverConfig,
  text,
  validHost,
  type Env,
  type LogLevel,
  type ServerConfig,
  type ServerTimeouts,
} from './config.js';
export {
  LIMITS,
  ORDERING_RULES,
  STOP_GRACE_PERIOD,
  hopOrderingViolations,
  hopRules,
  limitDefaults,
  limitReadBy,
  orderingViolations,
  type Hop,
  type HopViolation,
  type Limit,
  type LimitName,
  type LimitValues,
  type OrderingRule,
  type OrderingViolation,
} from './limits.js';
export { SLOW_REQUEST_MS, isUnusualRequest } from './access-log.js';
export type { BodyCount, FetchFacts, NewReport, PageCount, Report, ReportPage } from './answers.js';
export { openApiDocument, routeTemplates, type OpenApiDocument, type RouteTemplate } from './openapi.js';
export {
  PROBLEM_CONTENT_TYPE,
  answerClientErrors,
  problemDocument,
  problemType,
  refuseAmbiguousRequest,
  sendProblem,
  type Problem,
  type SendProblemOptions,
} from './problem.js';
export { localAddresses, ownAddress } from './own-address.js';
export { isUsableRequestId, requestId } from './request-id.js';
export { RouteMatcher, pathOf } from './routes.js';
export {
  TRACEPARENT_PATTERN,
  TRACE_FLAG_SAMPLED,
  formatTraceparent,
  newTraceContext,
  OTLP_EXPORT_DEADLINE_MS,
  otlpExportAgent,
  otlpTracesUrl,
  parseTraceparent,
  traceContext,
  type OtlpExportAgent,
  type TraceContext,
} from './trace-context.js';
export {
  drain,
  listen,
  serverOptions,
  strictServer,
  type ListenTarget,
  type RequestListener,
} from './server.js';

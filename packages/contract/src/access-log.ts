/**
 * Which requests the services log at info: the gateway writes an access line for
 * every request, so the API and the sidecar log an ordinary one at debug (off in
 * production: the line cost each of them more CPU than everything else around a
 * /healthz) and only an unusual one at info or above. One rule for both hops, so
 * the request id of anything unusual is in every hop's log.
 */

/** A request at least this slow is worth a line of its own at info. */
export const SLOW_REQUEST_MS = 1_000;

/** Refusals worth a line at info: credentials refused, a limit reached. */
const REFUSED = new Set([401, 403, 413, 429]);

/** A 5xx, a refusal or a slow answer: what both services log at info or above. */
export function isUnusualRequest(status: number, durationMs: number): boolean {
  return status >= 500 || REFUSED.has(status) || durationMs >= SLOW_REQUEST_MS;
}

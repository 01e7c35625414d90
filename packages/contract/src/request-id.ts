/**
 * The request id rule, one for every hop: the gateway sets X-Request-Id, and the
 * sidecar and the API keep a usable one and replace anything else with a fresh
 * UUID, so one id follows a request through logs and problem documents. Usable:
 * 1 to 128 characters that need no quoting in a header, a log line or a URL.
 */
import { randomUUID } from 'node:crypto';

const USABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function isUsableRequestId(id: unknown): id is string {
  return typeof id === 'string' && USABLE_ID.test(id);
}

/** The id a client or proxy sent, when usable; a fresh one otherwise (missing, repeated, too long, odd bytes). */
export function requestId(given: string | string[] | undefined): string {
  return isUsableRequestId(given) ? given : randomUUID();
}

/**
 * What kind of upstream failure an error is, for the metrics' `kind` label, the
 * problem document the client gets and the retry decision. Pure: the one fact
 * not in the error itself (the proxy's own deadline cut the attempt) is passed in.
 */
import type { UpstreamFailure } from './red-metrics.js';

export function classifyUpstreamError(error: NodeJS.ErrnoException, timedOut: boolean): UpstreamFailure {
  // The deadline destroys the attempt, which can surface as a reset: its cause wins.
  if (timedOut) return 'timeout';
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

/** An error the proxy raises itself (deadline, unasked 101, unusable header), classified like a socket's. */
export function upstreamError(message: string, code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

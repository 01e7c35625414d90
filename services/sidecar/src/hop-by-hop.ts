/**
 * Hop-by-hop header fields (RFC 9110 section 7.6.1): they describe one
 * connection, so a proxy removes them, and every field the Connection header
 * names, before forwarding a message either way. Forwarded, a client's
 * `Connection: close` would close the sidecar's pooled connection to the API,
 * and the API's `Keep-Alive` or `Connection: close` would steer the gateway's
 * connection to the sidecar.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** Fields that are hop-by-hop whether or not Connection names them. */
const ALWAYS = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
  'http2-settings',
];

/**
 * Never removed because Connection names them: a `Connection: content-length`
 * that made a proxy drop the framing would let the next hop read the body as
 * another request, and dropping Host, the request id or the traceparent
 * would break routing and tracing. RFC 9110 forbids naming end-to-end fields there anyway.
 */
const PROTECTED = new Set(['host', 'content-length', 'transfer-encoding', 'x-request-id', 'traceparent']);

/**
 * Request fields removed on the way to the API. Transfer-Encoding stays: it is
 * how the API learns that a body follows (Node re-frames it as chunked); Expect
 * goes because Node has already answered 100 Continue to the client.
 */
export const REQUEST_HOP_BY_HOP: ReadonlySet<string> = new Set([...ALWAYS, 'expect']);

/** Response fields removed on the way to the client. Node frames the body again itself. */
export const RESPONSE_HOP_BY_HOP: ReadonlySet<string> = new Set([...ALWAYS, 'transfer-encoding']);

/**
 * The lower-case names to remove from a message: `always`, plus every token of
 * every Connection line (comma-separated, any case, any spacing), except the
 * protected ones. Reads the raw header lines, so a repeated Connection header
 * counts in full.
 */
export function hopByHopNames(
  rawHeaders: readonly string[],
  always: ReadonlySet<string>,
): ReadonlySet<string> {
  let names: Set<string> | undefined; // copied only when Connection names something: the hot path allocates nothing
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const field = rawHeaders[i]!;
    if (field.length !== 10) continue;
    if (field !== 'Connection' && field !== 'connection' && field.toLowerCase() !== 'connection') continue;
    const value = rawHeaders[i + 1]!;
    // What nearly every message says, naming only a field removed anyway: nothing to split.
    if (value === 'keep-alive' || value === 'Keep-Alive') continue;
    for (const token of value.split(',')) {
      const name = token.trim().toLowerCase();
      if (name === '' || PROTECTED.has(name) || always.has(name)) continue;
      names ??= new Set(always);
      names.add(name);
    }
  }
  return names ?? always;
}

/**
 * A copy of `headers` without the fields in `drop`. Built, not deleted from: a
 * delete turns the object into a slow dictionary for everything that reads it next.
 */
function without(headers: IncomingHttpHeaders, drop: ReadonlySet<string>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !drop.has(name)) out[name] = value;
  }
  return out;
}

/** A request's headers without its hop-by-hop fields, ready to go upstream. */
export function forwardableRequestHeaders(
  headers: IncomingHttpHeaders,
  rawHeaders: readonly string[],
): OutgoingHttpHeaders {
  return without(headers, hopByHopNames(rawHeaders, REQUEST_HOP_BY_HOP));
}

/** An upstream response's headers without its hop-by-hop fields, ready for writeHead. */
export function forwardableResponseHeaders(
  headers: IncomingHttpHeaders,
  rawHeaders: readonly string[],
): OutgoingHttpHeaders {
  return without(headers, hopByHopNames(rawHeaders, RESPONSE_HOP_BY_HOP));
}

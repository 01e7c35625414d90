/**
 * RFC 9457 problem documents, the one shape every error of the API and of the
 * sidecar takes, and the answers both Node servers give before any handler runs:
 * to what Node's parser rejects or times out, and to what RFC 9112 says a server
 * must refuse. Nothing here knows Express: the API wraps the body shape for its
 * handlers (services/api/src/http/problem.ts).
 */
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  requestId?: string;
}

/** The `type` of a problem: a URN, so no client mistakes it for a page to fetch. */
export function problemType(slug: string): string {
  return `urn:stagecraft:problem:${slug}`;
}

/** The body of a problem document; `extra` adds the request id and the instance where they are known. */
export function problemDocument(
  status: number,
  slug: string,
  title: string,
  detail?: string,
  extra: Pick<Problem, 'instance' | 'requestId'> = {},
): Problem {
  const body: Problem = { type: problemType(slug), title, status };
  if (detail !== undefined) body.detail = detail;
  if (extra.instance !== undefined) body.instance = extra.instance;
  if (extra.requestId !== undefined) body.requestId = extra.requestId;
  return body;
}

export interface SendProblemOptions {
  /** Close the connection after the answer (the request could not be read to its end, or must not be followed). */
  close?: boolean;
  /** Headers to send besides the problem's own. */
  headers?: OutgoingHttpHeaders;
}

/**
 * Answers a problem document on a plain Node response, never cached, with the
 * request id the response already carries (x-request-id) in its body.
 */
export function sendProblem(
  res: ServerResponse,
  status: number,
  slug: string,
  title: string,
  detail: string,
  options: SendProblemOptions = {},
): void {
  const requestId = res.getHeader('x-request-id');
  const body = JSON.stringify(
    problemDocument(status, slug, title, detail, typeof requestId === 'string' ? { requestId } : {}),
  );
  res.writeHead(status, {
    ...options.headers,
    'content-type': PROBLEM_CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...(options.close ? { connection: 'close' } : {}),
  });
  res.end(body);
}

/** Node's own status for a request its parser rejected or that timed out, by error code. */
function clientErrorStatus(code: string | undefined): [number, string, string] {
  if (code === 'HPE_HEADER_OVERFLOW')
    return [431, 'header-fields-too-large', 'Request header fields too large'];
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'request-timeout', 'Request timeout'];
  return [400, 'bad-request', 'Bad request'];
}

/**
 * Requests Node's HTTP parser rejects (a method it does not know, bytes not
 * allowed in a path, an oversized header, two Content-Length values) never reach
 * a handler, nor do requests whose headers (headersTimeout) or whole body
 * (requestTimeout) did not arrive in time; Node would answer a bare 400 or 408.
 * Answer a problem document instead, and close.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException & { reason?: string }, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, slug, title] = clientErrorStatus(error.code);
    const detail =
      status === 408
        ? 'the request did not arrive in time'
        : `the request could not be parsed as HTTP/1.1${error.reason ? `: ${error.reason}` : ''}`;
    // A body that stopped arriving times out while its handler runs: answer through
    // that request's response, unless it has begun, when only a cut can end it
    // (bytes written beside it would corrupt the stream). Node's own handler looks
    // at the same internal field.
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (inFlight) {
      if (inFlight.headersSent) socket.destroy();
      else sendProblem(inFlight, status, slug, title, detail, { close: true });
      return;
    }
    // No response object exists for a request the parser refused: write the answer by hand.
    const body = JSON.stringify(problemDocument(status, slug, title, detail));
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\ncontent-type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}

/** RFC 9112 section 3.2: Host is empty, or uri-host with an optional port. */
const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::\d*)?$/;
const UPGRADE_TOKEN = /(?:^|,)[ \t]*upgrade[ \t]*(?:,|$)/i;

/**
 * What Node's parser lets through but RFC 9112 says a server must refuse, or
 * where two hops could read one request two ways: HTTP/0.9 (no version: 400),
 * HTTP/2 spoken as text (505), an HTTP/1.1 request without Host, two Host lines
 * or a Host that is not host[:port] (400, section 3.2). Node's requireHostHeader
 * answers the missing Host with a bare 400, so servers turn it off and rely on
 * this. Answers and returns true, or returns false to let the request through.
 *
 * An Upgrade request is served as a plain one (nothing here speaks another
 * protocol), but Node drops whatever the client pipelined behind it, so its
 * connection closes after the answer instead of waiting for requests it lost.
 */
export function refuseAmbiguousRequest(req: IncomingMessage, res: ServerResponse): boolean {
  let problem: [number, string, string, string] | undefined;
  if (req.httpVersionMajor === 0) {
    problem = [400, 'bad-request', 'Bad request', 'HTTP/0.9 requests (no version) are not served'];
  } else if (req.httpVersionMajor !== 1) {
    problem = [
      505,
      'http-version-not-supported',
      'HTTP version not supported',
      `HTTP/${req.httpVersion} is not spoken on this connection; use HTTP/1.1`,
    ];
  } else {
    let hosts = 0;
    let host: string | undefined;
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') {
        hosts++;
        host = raw[i + 1];
      }
    }
    if (hosts > 1) problem = [400, 'bad-request', 'Bad request', 'more than one Host header'];
    else if (host === undefined && req.httpVersionMinor === 1)
      problem = [400, 'bad-request', 'Bad request', 'an HTTP/1.1 request needs a Host header'];
    else if (host !== undefined && !HOST_VALUE.test(host))
      problem = [400, 'bad-request', 'Bad request', 'the Host header is not a host[:port]'];
  }
  if (problem === undefined) {
    if (req.headers.upgrade !== undefined && UPGRADE_TOKEN.test(req.headers.connection ?? ''))
      res.setHeader('connection', 'close');
    return false;
  }
  sendProblem(res, ...problem, { close: true });
  return true;
}

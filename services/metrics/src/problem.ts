/** RFC 9457 problem documents for the answers the sidecar gives itself (upstream down or slow, blocked paths). */
import type { Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export function sendProblem(
  res: ServerResponse,
  status: number,
  slug: string,
  title: string,
  detail: string,
): void {
  const requestId = res.getHeader('x-request-id');
  const body = JSON.stringify({
    type: `urn:stagecraft:problem:${slug}`,
    title,
    status,
    detail,
    ...(typeof requestId === 'string' ? { requestId } : {}),
  });
  res.writeHead(status, {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/** Node's own status for a request its parser rejected, by llhttp error code. */
function clientErrorStatus(code: string | undefined): [number, string, string] {
  if (code === 'HPE_HEADER_OVERFLOW')
    return [431, 'header-fields-too-large', 'Request header fields too large'];
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'request-timeout', 'Request timeout'];
  return [400, 'bad-request', 'Bad request'];
}

/**
 * Requests Node's HTTP parser rejects (a method it does not know, bytes not
 * allowed in a path, an oversized header) never reach a handler; Node would
 * answer a bare 400. Answer a problem document instead, and close.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, slug, title] = clientErrorStatus(error.code);
    const body = JSON.stringify({
      type: `urn:stagecraft:problem:${slug}`,
      title,
      status,
      detail: 'the request could not be parsed as HTTP/1.1',
    });
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\ncontent-type: application/problem+json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}

/** RFC 9457 problem documents: the one shape every error of the API takes. */
import type { Request, Response } from 'express';
import type { Server } from 'node:http';
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

/** An error that is a problem document: thrown by handlers, answered by the error middleware. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    detail?: string,
  ) {
    super(detail ?? title);
    this.name = 'HttpProblem';
  }
}

export function problemType(slug: string): string {
  return `urn:stagecraft:problem:${slug}`;
}

export function sendProblem(req: Request, res: Response, problem: HttpProblem): void {
  const body: Problem = {
    type: problemType(problem.slug),
    title: problem.title,
    status: problem.status,
    detail: problem.message,
    instance: req.originalUrl.length > 512 ? req.originalUrl.slice(0, 512) : req.originalUrl,
  };
  const requestId = res.getHeader('x-request-id');
  if (typeof requestId === 'string') body.requestId = requestId;
  res.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
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

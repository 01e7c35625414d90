/**
 * RFC 9457 problem documents for the API's handlers: an error they throw, and
 * its answer through Express. The body's shape, and the answers given before
 * any handler runs, are @stagecraft/contract's, shared with the sidecar.
 */
import { PROBLEM_CONTENT_TYPE, problemDocument } from '@stagecraft/contract';
import type { Request, Response } from 'express';

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

export function sendProblem(req: Request, res: Response, problem: HttpProblem): void {
  const requestId = res.getHeader('x-request-id');
  const body = problemDocument(problem.status, problem.slug, problem.title, problem.message, {
    // The target as the client sent it, cut so a huge one does not make a huge answer.
    instance: req.originalUrl.length > 512 ? req.originalUrl.slice(0, 512) : req.originalUrl,
    ...(typeof requestId === 'string' ? { requestId } : {}),
  });
  res.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}

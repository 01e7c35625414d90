/** RFC 9457 problem documents: the one shape every error of the API takes. */
import type { Request, Response } from 'express';

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

/**
 * Who may touch stored reports: with a token configured (API_TOKEN_FILE), every
 * request under /api/v1/reports needs `Authorization: Bearer <token>`; without one
 * (development) the check lets everything through.
 *
 * Reads need the token too, not only writes: a report holds the URL someone
 * submitted, and URLs carry session tokens and signed links often enough that a
 * list of them is not public data. Counting (/api/v1/count) stores nothing and
 * stays open; the gateway rate-limits it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { closeAfterAnswer } from './lingering-close.js';
import { HttpProblem } from './problem.js';

/** "Bearer" (any case), one or more spaces, an RFC 6750 b64token, nothing else. */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Digests of equal length, so the comparison takes the same time whatever was sent. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export function requireToken(token: string | null): RequestHandler {
  if (token === null) return (_req, _res, next) => next();
  const expected = digest(token);
  return (req, res, next) => {
    const header = req.get('authorization');
    const given = header === undefined ? null : (BEARER.exec(header)?.[1] ?? null);
    // Compared even when nothing usable was sent, so timing says nothing either way.
    const ok = timingSafeEqual(digest(given ?? ''), expected) && given !== null;
    if (ok) {
      next();
      return;
    }
    res.setHeader(
      'www-authenticate',
      header === undefined ? 'Bearer realm="stagecraft"' : 'Bearer realm="stagecraft", error="invalid_token"',
    );
    // The body (if any) is not read: close rather than drain it for keep-alive.
    if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) {
      closeAfterAnswer(req, res);
    }
    next(
      new HttpProblem(
        401,
        'unauthorized',
        'Authentication required',
        header === undefined
          ? 'stored reports need an Authorization: Bearer <token> header'
          : 'the Authorization header does not hold a valid bearer token',
      ),
    );
  };
}

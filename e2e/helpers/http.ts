/**
 * Raw HTTP for the gateway tests (the raw-socket client is
 * @stagecraft/testkit/raw-http): how long they wait for the gateway, and the
 * gateway's response headers checked line by line, so a header sent twice is
 * seen twice. Only ever aimed at 127.0.0.1.
 */
import { headerValues, rawExchange, type Chunk, type RawAnswer } from '@stagecraft/testkit/raw-http';
import { expect } from 'vitest';

/**
 * Sends the chunks to 127.0.0.1:port and reads until the gateway closes, or for
 * `waitMs`: 30 s unless given, well past the gateway's header and body timeouts
 * (10 s), so a test sees them end a stalled exchange rather than giving up first.
 */
export function rawRequest(port: number, chunks: Chunk[], waitMs = 30_000): Promise<RawAnswer> {
  return rawExchange(port, chunks, waitMs);
}

/** A GET (or another method) with Connection: close, as raw bytes. */
export function rawGet(port: number, path: string, method = 'GET', extra = ''): Promise<RawAnswer> {
  return rawRequest(port, [
    `${method} ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}Connection: close\r\n\r\n`,
  ]);
}

/** What the gateway sends on every answer (nginx/snippets/security-headers.conf). */
export const SECURITY_HEADERS: Record<string, RegExp> = {
  'X-Request-Id': /^[A-Za-z0-9._:-]{1,128}$/,
  'X-Content-Type-Options': /^nosniff$/,
  'X-Frame-Options': /^DENY$/,
  'Referrer-Policy': /^no-referrer$/,
  'Content-Security-Policy': /^default-src 'none'; frame-ancestors 'none'$/,
  'Cross-Origin-Resource-Policy': /^same-origin$/,
};

/** Every security header exactly once, with its value; `what` names the answer in failures. */
export function expectSecurityHeaders(head: string, what: string): void {
  const found = Object.fromEntries(
    Object.keys(SECURITY_HEADERS).map((name) => [name, headerValues(head, name)]),
  );
  for (const [name, pattern] of Object.entries(SECURITY_HEADERS)) {
    expect(found[name], `${what}: ${name} once\n${head}`).toHaveLength(1);
    expect(found[name]![0], `${what}: ${name}`).toMatch(pattern);
  }
}

/** The same, for header lines as Node's client keeps them (IncomingMessage.rawHeaders). */
export function expectSecurityHeadersIn(rawHeaders: string[], what: string): void {
  const lines: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
  expectSecurityHeaders(['HTTP/1.1', ...lines].join('\r\n'), what);
}

/** A problem document the gateway wrote itself: the security headers, no caching, the status in the body. */
export function expectGatewayProblem(answer: RawAnswer, status: number, what: string): { type: string } {
  expect(answer.status, `${what}\n${answer.head}`).toBe(status);
  expectSecurityHeaders(answer.head, what);
  expect(headerValues(answer.head, 'Content-Type'), what).toEqual(['application/problem+json']);
  expect(headerValues(answer.head, 'Cache-Control'), what).toEqual(['no-store']);
  const problem = JSON.parse(answer.body) as { type: string; status: number };
  expect(problem.status, what).toBe(status);
  return problem;
}

/** RFC 9457 problem documents for the answers the sidecar gives itself (upstream down or slow, blocked paths). */
import type { ServerResponse } from 'node:http';

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

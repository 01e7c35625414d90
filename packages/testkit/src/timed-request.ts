/**
 * One HTTP request and what became of it, timed with performance.now(): never
 * rejects, so a load generator can count failures instead of stopping on the
 * first. The whole exchange must end within its timeout (a server that trickles
 * an answer is cut off too). For servers on 127.0.0.1 or the project's own
 * containers only.
 */
import { request, type Agent } from 'node:http';

export interface RequestOutcome {
  /** Milliseconds from sending to the end of the answer (or the failure). */
  ms: number;
  status?: number;
  contentType?: string;
  /** Response header lines as received: name, value, name, value... (duplicates kept). */
  rawHeaders?: string[];
  body?: string;
  error?: string;
}

export interface TimedRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** The whole exchange, in milliseconds; 10 s unless given. */
  timeoutMs?: number;
  agent?: Agent;
}

export function timedRequest(url: string, init: TimedRequestInit = {}): Promise<RequestOutcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: Omit<RequestOutcome, 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve({ ...o, ms: performance.now() - started });
    };
    const req = request(
      url,
      { method: init.method ?? 'GET', headers: init.headers, agent: init.agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          done({
            status: res.statusCode,
            contentType: res.headers['content-type'],
            rawHeaders: res.rawHeaders,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', (error) => done({ error: error.message }));
      },
    );
    const deadline = setTimeout(() => req.destroy(new Error('timed out')), init.timeoutMs ?? 10_000);
    req.on('error', (error) => done({ error: error.message }));
    req.end(init.body);
  });
}

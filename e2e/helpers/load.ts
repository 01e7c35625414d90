/**
 * Bounded, steady load for the fault tests: requests start at a fixed rate for a
 * fixed time (open loop, so a slow server does not slow the offered load), with
 * a cap on requests in flight and a timeout on each. Only ever aimed at
 * 127.0.0.1, at the stack under test.
 */
import { Agent, request } from 'node:http';
import { authorization } from './api-token.js';

export interface LoadOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** Body for each request; a function gets the request's sequence number. */
  body?: string | ((n: number) => string);
  ratePerSecond: number;
  seconds: number;
  maxInFlight?: number;
  timeoutMs?: number;
}

export interface Outcome {
  n: number;
  /** Milliseconds after the load started. */
  at: number;
  ms: number;
  status?: number;
  contentType?: string;
  /** Response header lines as received: name, value, name, value... (duplicates kept). */
  rawHeaders?: string[];
  body?: string;
  error?: string;
}

export interface LoadResult {
  outcomes: Outcome[];
  /** Requests not started because maxInFlight were already waiting. */
  shed: number;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** One request with its outcome; never rejects. */
export function call(
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    timeoutMs?: number;
    agent?: Agent;
  },
): Promise<Omit<Outcome, 'n' | 'at'>> {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (o: Omit<Outcome, 'n' | 'at' | 'ms'>) => resolve({ ...o, ms: performance.now() - started });
    const req = request(
      url,
      // The stacks' bearer token on every request: public routes ignore it, and
      // tests of the check itself pass their own authorization header.
      { method: init.method ?? 'GET', headers: { ...authorization, ...init.headers }, agent: init.agent },
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
    req.setTimeout(init.timeoutMs ?? 10_000, () => req.destroy(new Error('timed out')));
    req.on('error', (error) => done({ error: error.message }));
    req.end(init.body);
  });
}

export async function steadyLoad(options: LoadOptions): Promise<LoadResult> {
  const total = Math.round(options.ratePerSecond * options.seconds);
  const maxInFlight = options.maxInFlight ?? 64;
  const agent = new Agent({ keepAlive: true, maxSockets: maxInFlight });
  const outcomes: Outcome[] = [];
  const pending = new Set<Promise<void>>();
  let shed = 0;
  const started = performance.now();
  for (let n = 0; n < total; n++) {
    const due = started + (n * 1000) / options.ratePerSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (pending.size >= maxInFlight) {
      shed++;
      continue;
    }
    const at = performance.now() - started;
    const body = typeof options.body === 'function' ? options.body(n) : options.body;
    const p = call(options.url, {
      method: options.method,
      headers: options.headers,
      body,
      timeoutMs: options.timeoutMs,
      agent,
    }).then((o) => {
      outcomes.push({ n, at, ...o });
      pending.delete(p);
    });
    pending.add(p);
  }
  await Promise.all(pending);
  agent.destroy();
  outcomes.sort((a, b) => a.n - b.n);
  return { outcomes, shed };
}

/**
 * The one load generator: requests start on a fixed schedule (open loop, so a
 * slow server does not slow the offered load) for a fixed time, over a
 * keep-alive pool. Bounded in count (rate × seconds requests at most), in
 * concurrency (a request due while maxInFlight are open is shed, not queued) and
 * in time (each request ends within its timeout, so the whole load within
 * seconds plus one timeout). For servers on 127.0.0.1 or the project's own
 * containers only.
 */
import { Agent } from 'node:http';
import { percentile } from './stats.js';
import { timedRequest, type RequestOutcome } from './timed-request.js';

export interface FixedRateOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** Body for each request; a function gets the request's sequence number. */
  body?: string | ((n: number) => string);
  ratePerSecond: number;
  seconds: number;
  /** Requests open at once; 64 unless given. */
  maxInFlight?: number;
  /** Each request's whole exchange; 10 s unless given. */
  timeoutMs?: number;
}

export interface Outcome extends RequestOutcome {
  /** The request's place in the schedule, from 0. */
  n: number;
  /** Milliseconds after the load started that the request was sent. */
  at: number;
}

export interface FixedRateResult {
  /** One per request sent, in schedule order. */
  outcomes: Outcome[];
  /** Requests not sent because maxInFlight were already open. */
  shed: number;
}

export async function fixedRateLoad(options: FixedRateOptions): Promise<FixedRateResult> {
  const total = Math.round(options.ratePerSecond * options.seconds);
  const maxInFlight = options.maxInFlight ?? 64;
  const agent = new Agent({ keepAlive: true, maxSockets: maxInFlight });
  const outcomes: Outcome[] = [];
  const pending = new Set<Promise<void>>();
  let shed = 0;
  const started = performance.now();
  for (let n = 0; n < total; n++) {
    const wait = started + (n * 1000) / options.ratePerSecond - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (pending.size >= maxInFlight) {
      shed++;
      continue;
    }
    const at = performance.now() - started;
    const body = typeof options.body === 'function' ? options.body(n) : options.body;
    const p = timedRequest(options.url, {
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

export interface LatencyFigures {
  ratePerSecond: number;
  /** Requests scheduled. */
  requests: number;
  /** Latency of the 200 answers, in milliseconds. */
  p50Ms: number;
  p99Ms: number;
  /** Every request that did not end in a 200: failed, timed out, shed or another status. */
  errors: number;
}

/**
 * What one request costs when nothing queues: a fixed rate well below
 * saturation, read as the p50 and p99 latency of the 200 answers. (Under a
 * saturating load, p50 is queueing time and mostly restates throughput.)
 */
export async function latencyAtFixedRate(options: FixedRateOptions): Promise<LatencyFigures> {
  const { outcomes, shed } = await fixedRateLoad(options);
  const ok = outcomes.filter((o) => o.status === 200).map((o) => o.ms);
  return {
    ratePerSecond: options.ratePerSecond,
    requests: outcomes.length + shed,
    p50Ms: percentile(ok, 50),
    p99Ms: percentile(ok, 99),
    errors: outcomes.length + shed - ok.length,
  };
}

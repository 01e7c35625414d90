/**
 * Latency at a fixed request rate, well below saturation: what one request costs
 * when nothing queues. (Under a saturating load, p50 is queueing time and mostly
 * restates throughput.) Requests start on a fixed schedule over a small keep-alive
 * pool; each latency is timed with performance.now(), to the microsecond.
 */
import { Agent, request } from 'node:http';

export interface FixedRateFigures {
  rate: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export async function fixedRate(
  url: string,
  options: { rate: number; seconds: number; method?: string; body?: string; contentType?: string },
): Promise<FixedRateFigures> {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const total = Math.round(options.rate * options.seconds);
  const latencies: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1000) / options.rate - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(
      new Promise<void>((resolve) => {
        const t0 = performance.now();
        const req = request(
          url,
          {
            method: options.method ?? 'GET',
            agent,
            headers: options.contentType ? { 'content-type': options.contentType } : {},
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              if (res.statusCode === 200) latencies.push(performance.now() - t0);
              else errors++;
              resolve();
            });
          },
        );
        req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
        req.on('error', () => {
          errors++;
          resolve();
        });
        req.end(options.body);
      }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { rate: options.rate, requests: total, p50Ms: at(0.5), p99Ms: at(0.99), errors };
}

/**
 * The request paths: the same endpoints over four paths (API direct, sidecar to
 * API, gateway to API, gateway to sidecar to API), autocannon on 127.0.0.1 with
 * the same connections and duration for each, rounds alternating between paths
 * so machine noise hits all alike; medians over rounds.
 */
import autocannon from 'autocannon';
import { latencyAtFixedRate } from '@stagecraft/testkit/fixed-rate';
import { median } from '@stagecraft/testkit/stats';
import { cpuPerRequest } from './hop-cpu.js';
import { log } from './log.js';
import { PORTS, stackContainers } from './stack.js';

export const PATHS = {
  'API direct': PORTS.api,
  'sidecar -> API': PORTS.sidecar,
  'gateway -> API': PORTS.gatewayToApi,
  'gateway -> sidecar -> API': PORTS.gatewayToSidecar,
} as const;
export type PathName = keyof typeof PATHS;

export interface LoadFigures {
  /** At saturation: 32 connections as fast as they go. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  /** At a fixed rate well below saturation: a request's own latency, no queueing. */
  pacedP50Ms: number;
  pacedP99Ms: number;
  /**
   * The whole path only: CPU microseconds per request of each hop's container
   * (gateway, sidecar, api) over the fixed-rate run, idle rate taken off.
   */
  hopCpuUsPerRequest?: Record<string, number>;
}

const CONNECTIONS = 32;
const PAGE =
  '<html><body>' +
  '<p><a href="/internal/x">in</a> <a href="https://elsewhere.example/y">out</a></p>'.repeat(1_230) +
  '</body></html>';

export const ENDPOINTS = {
  'GET /healthz': { path: '/healthz', method: 'GET' as const, body: undefined, rate: 200 },
  'POST /api/v1/count (100 KB)': {
    path: `/api/v1/count?base=${encodeURIComponent('http://bench.invalid/')}`,
    method: 'POST' as const,
    body: PAGE,
    rate: 40,
  },
};
export type EndpointName = keyof typeof ENDPOINTS;

async function once(
  port: number,
  endpoint: EndpointName,
  seconds: number,
  hops?: Record<string, string>,
): Promise<LoadFigures> {
  const { path, method, body, rate } = ENDPOINTS[endpoint];
  const pacedRun = () =>
    latencyAtFixedRate({
      url: `http://127.0.0.1:${port}${path}`,
      ratePerSecond: rate,
      seconds,
      method,
      body,
      headers: body ? { 'content-type': 'text/html' } : {},
    });
  let paced!: Awaited<ReturnType<typeof pacedRun>>;
  // At the fixed rate, well below saturation: each hop's CPU for the same requests.
  const hopCpu =
    hops === undefined
      ? undefined
      : await cpuPerRequest(hops, async () => {
          paced = await pacedRun();
          return paced.requests - paced.errors;
        });
  if (hops === undefined) paced = await pacedRun();
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    method,
    body,
    headers: body ? { 'content-type': 'text/html' } : {},
    connections: CONNECTIONS,
    duration: seconds,
  });
  return {
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + paced.errors,
    non2xx: result.non2xx,
    pacedP50Ms: paced.p50Ms,
    pacedP99Ms: paced.p99Ms,
    ...(hopCpu && { hopCpuUsPerRequest: hopCpu.cpuUsPerRequest }),
  };
}

export async function measurePaths(quick: boolean): Promise<{
  connections: number;
  seconds: number;
  rounds: number;
  pageBytes: number;
  results: Record<EndpointName, Record<PathName, LoadFigures>>;
}> {
  const rounds = quick ? 1 : 3;
  const seconds = quick ? 1 : 8;
  const results = {} as Record<EndpointName, Record<PathName, LoadFigures>>;
  const { gateway, sidecar, api } = stackContainers();
  if (gateway === undefined || sidecar === undefined || api === undefined)
    throw new Error('bench: the stack lacks a gateway, sidecar or api container');
  const hops = { gateway, sidecar, api };
  for (const endpoint of Object.keys(ENDPOINTS) as EndpointName[]) {
    const samples = {} as Record<PathName, LoadFigures[]>;
    // Warm-up: JIT, keep-alive pools, nginx upstream connections (a quick run skips it).
    for (const port of quick ? [] : Object.values(PATHS))
      await autocannon({
        url: `http://127.0.0.1:${port}${ENDPOINTS[endpoint].path}`,
        method: ENDPOINTS[endpoint].method,
        body: ENDPOINTS[endpoint].body,
        headers: ENDPOINTS[endpoint].body ? { 'content-type': 'text/html' } : {},
        connections: 8,
        duration: 1,
      });
    for (let round = 0; round < rounds; round++) {
      for (const [name, port] of Object.entries(PATHS) as [PathName, number][]) {
        const whole = name === 'gateway -> sidecar -> API';
        (samples[name] ??= []).push(await once(port, endpoint, seconds, whole ? hops : undefined));
      }
    }
    results[endpoint] = Object.fromEntries(
      Object.entries(samples).map(([name, list]) => [
        name,
        {
          rps: median(list.map((f) => f.rps)),
          p50Ms: median(list.map((f) => f.p50Ms)),
          p99Ms: median(list.map((f) => f.p99Ms)),
          errors: list.reduce((n, f) => n + f.errors, 0),
          non2xx: list.reduce((n, f) => n + f.non2xx, 0),
          pacedP50Ms: median(list.map((f) => f.pacedP50Ms)),
          pacedP99Ms: median(list.map((f) => f.pacedP99Ms)),
          ...(list[0]?.hopCpuUsPerRequest && {
            hopCpuUsPerRequest: Object.fromEntries(
              Object.keys(list[0].hopCpuUsPerRequest).map((hop) => [
                hop,
                median(list.map((f) => f.hopCpuUsPerRequest?.[hop] ?? NaN)),
              ]),
            ),
          }),
        },
      ]),
    ) as Record<PathName, LoadFigures>;
    for (const [name, f] of Object.entries(results[endpoint]))
      log(
        `paths: ${endpoint} via ${name}: ${f.rps.toFixed(0)} rps (p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms); at ${ENDPOINTS[endpoint as EndpointName].rate}/s p50 ${f.pacedP50Ms.toFixed(2)} ms, p99 ${f.pacedP99Ms.toFixed(2)} ms${
          f.hopCpuUsPerRequest
            ? `; CPU per request ${Object.entries(f.hopCpuUsPerRequest)
                .map(([hop, us]) => `${hop} ${us.toFixed(0)} us`)
                .join(', ')}`
            : ''
        }`,
      );
  }
  return { connections: CONNECTIONS, seconds, rounds, pageBytes: Buffer.byteLength(PAGE), results };
}

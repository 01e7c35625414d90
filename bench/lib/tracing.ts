/**
 * What tracing costs: the API's and the sidecar's CPU per request with
 * OTEL_EXPORTER_OTLP_ENDPOINT unset (no SDK loaded) and set, exporting to a
 * loopback OTLP/HTTP receiver in this process (@stagecraft/testkit/otlp-sink,
 * counting the spans, keeping none). Four processes on 127.0.0.1, from their
 * sources (tsx, development conditions: no build needed; loading costs fall
 * before the window), as production runs them otherwise (NODE_ENV=production,
 * LOG_LEVEL=info): the API off and on, and the sidecar off and on, both in front
 * of the API with tracing off, so each figure is one process's own. Every request
 * carries a traceparent, as behind the gateway, which always sends one.
 *
 * CPU per request = the process's CPU time over the window (the sum of its
 * threads' run time in /proc/<pid>/task/<tid>/schedstat, which counts the
 * exporter's batching and posting too: @stagecraft/testkit/process-cpu) / requests answered. Rounds interleave the
 * processes in a rotating order; figures are medians over rounds with min-max.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { latencyAtFixedRate } from '@stagecraft/testkit/fixed-rate';
import { startOtlpSink } from '@stagecraft/testkit/otlp-sink';
import { processCpuUs } from '@stagecraft/testkit/process-cpu';
import { REPO_ROOT } from '@stagecraft/testkit/repository';
import { median } from '@stagecraft/testkit/stats';
import { log } from './log.js';

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface TracingFigures {
  rounds: number;
  seconds: number;
  /** By endpoint, then by service: CPU us per request with tracing off, on, and on less off (within each round). */
  results: Record<string, Record<'api' | 'sidecar', { off: Spread; on: Spread; added: Spread }>>;
  /** Spans the receiver counted over the whole run (a check that tracing was on). */
  spansReceived: number;
}

interface Running {
  name: string;
  child: ChildProcess;
  port: number;
}

const spread = (xs: number[]): Spread => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

function start(name: string, main: string, env: Record<string, string>, ready: RegExp): Promise<Running> {
  const child = spawn(
    process.execPath,
    ['--conditions=development', '--import', 'tsx', join(REPO_ROOT, main)],
    {
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: '0',
        METRICS_PORT: '0',
        LOG_LEVEL: 'info',
        NODE_ENV: 'production',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (data: Buffer) => {
      buffer += data.toString();
      const match = ready.exec(buffer);
      if (match === null) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume(); // its log lines are part of its cost; a full pipe would stall it
      resolve({ name, child, port: Number(match[1]) });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
  });
}

/** CPU time the process has used so far, in microseconds. */
const cpuUs = (running: Running): number => processCpuUs(running.child.pid!);

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const PAGE = ('<p>' + '<a href="/docs/x.html">x</a> text '.repeat(3000) + '</p>').slice(0, 100 * 1024);
const ENDPOINTS = [
  { name: 'GET /healthz', path: '/healthz', method: 'GET' as const, body: undefined, rate: 200 },
  {
    name: 'POST /api/v1/count (100 KB page)',
    path: '/api/v1/count?base=http%3A%2F%2Fexample.com%2F',
    method: 'POST' as const,
    body: PAGE,
    rate: 100,
  },
];

export async function measureTracing(quick: boolean): Promise<TracingFigures> {
  const rounds = quick ? 2 : 6;
  const seconds = quick ? 2 : 4;
  const sink = await startOtlpSink({ keep: false });
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-bench-tracing-'));
  const processes: Running[] = [];
  try {
    const tokenFile = join(dir, 'api-token');
    writeFileSync(tokenFile, randomBytes(32).toString('hex'));
    const on = { OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint };
    const api = (name: string, env: Record<string, string>) =>
      start(
        name,
        'services/api/src/main.ts',
        { DATA_DIR: mkdtempSync(join(dir, 'data-')), API_TOKEN_FILE: tokenFile, ...env },
        /"port":(\d+).*api listening/,
      );
    const apiOff = await api('api off', {});
    const apiOn = await api('api on', on);
    const sidecar = (name: string, env: Record<string, string>) =>
      start(
        name,
        'services/sidecar/src/main.ts',
        { UPSTREAM_URL: `http://127.0.0.1:${apiOff.port}`, ...env },
        /"port":(\d+)[^\n]*"msg":"proxy listening"/,
      );
    const sidecarOff = await sidecar('sidecar off', {});
    const sidecarOn = await sidecar('sidecar on', on);
    processes.push(apiOff, apiOn, sidecarOff, sidecarOn);
    const targets = [apiOff, apiOn, sidecarOff, sidecarOn];

    const once = async (endpoint: (typeof ENDPOINTS)[number], target: Running, windowS: number) => {
      const before = cpuUs(target);
      const figures = await latencyAtFixedRate({
        url: `http://127.0.0.1:${target.port}${endpoint.path}`,
        ratePerSecond: endpoint.rate,
        seconds: windowS,
        method: endpoint.method,
        body: endpoint.body,
        headers: { traceparent: TRACEPARENT, ...(endpoint.body ? { 'content-type': 'text/html' } : {}) },
        maxInFlight: 8,
      });
      return (cpuUs(target) - before) / Math.max(1, figures.requests - figures.errors);
    };

    // Warm-up: each process's hot code compiled before it is timed.
    for (const endpoint of ENDPOINTS) for (const target of targets) await once(endpoint, target, 1);
    const samples = new Map<string, number[]>();
    for (let round = 0; round < rounds; round++) {
      for (const endpoint of ENDPOINTS) {
        const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
        for (const target of order) {
          const key = `${endpoint.name}|${target.name}`;
          samples.set(key, [...(samples.get(key) ?? []), await once(endpoint, target, seconds)]);
        }
      }
      log(`tracing cost: round ${round + 1} of ${rounds} done`);
    }

    const results: TracingFigures['results'] = {};
    for (const endpoint of ENDPOINTS) {
      const of = (name: string) => samples.get(`${endpoint.name}|${name}`)!;
      const pair = (service: 'api' | 'sidecar') => ({
        off: spread(of(`${service} off`)),
        on: spread(of(`${service} on`)),
        added: spread(of(`${service} on`).map((us, i) => us - of(`${service} off`)[i]!)),
      });
      results[endpoint.name] = { api: pair('api'), sidecar: pair('sidecar') };
    }
    // The last batches leave within a second of their spans.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    return { rounds, seconds, results, spansReceived: sink.count() };
  } finally {
    for (const running of processes) running.child.kill('SIGTERM');
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (s: Spread) => `${s.median.toFixed(0)} (${s.min.toFixed(0)}-${s.max.toFixed(0)})`;

/** One line per endpoint and service, for the console and the report. */
export function tracingLines(figures: TracingFigures): string[] {
  return Object.entries(figures.results).flatMap(([endpoint, services]) =>
    Object.entries(services).map(
      ([service, { off, on, added }]) =>
        `${endpoint}, ${service}: CPU us/request tracing off ${fmt(off)}, on ${fmt(on)}, added ${fmt(added)}`,
    ),
  );
}

/** The report's section (bench/RESULTS.md). */
export function tracingMarkdown(figures: TracingFigures | undefined): string[] {
  if (figures === undefined) return [];
  return [
    '## Tracing cost',
    '',
    `CPU microseconds per request of each process, OTEL_EXPORTER_OTLP_ENDPOINT unset (no SDK loaded) and set (spans exported to a loopback OTLP/HTTP receiver), every request carrying a traceparent as behind the gateway; median over ${figures.rounds} rounds of ${figures.seconds} s, min-max (\`bench/lib/tracing.ts\`). Spans received: ${figures.spansReceived}.`,
    '',
    '| endpoint | service | tracing off | tracing on | added |',
    '| --- | --- | --- | --- | --- |',
    ...Object.entries(figures.results).flatMap(([endpoint, services]) =>
      Object.entries(services).map(
        ([service, { off, on, added }]) =>
          `| ${endpoint} | ${service} | ${fmt(off)} | ${fmt(on)} | ${fmt(added)} |`,
      ),
    ),
    '',
  ];
}

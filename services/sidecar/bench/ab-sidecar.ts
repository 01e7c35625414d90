/**
 * Two builds of the sidecar weighed against each other (not a test): the API,
 * the sidecar from dist/, the sidecar from another build's copy of dist/ and the
 * node:http forwarder (minimal-proxy.ts), all loaded AT THE SAME TIME, each at
 * proxy-bench.ts's fixed rate, round after round. On 2 shared cores the noise
 * of other work is far larger than a few microseconds of a change; loaded side
 * by side, every process sees the same noise in the same window, so the ratio
 * of their CPU per request within a round keeps the change and drops most of
 * the noise. Processes start as proxy-bench.ts starts them; npm run build first.
 *
 * AB_BASELINE_FLAGS="<node flags>" starts the baseline with them (the same
 * dist/ with and without a V8 flag, say).
 *
 *   node --import tsx bench/ab-sidecar.ts <baseline dist dir> [get|post|both] [rounds] [seconds]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { latencyAtFixedRate } from '@stagecraft/testkit/fixed-rate';
import { processCpuUs } from '@stagecraft/testkit/process-cpu';
import { median } from '@stagecraft/testkit/stats';
import { startBenchProcess, type BenchProcess } from './bench-process.js';

const [baselineArg, which = 'both', roundsArg = '10', secondsArg = '3'] = process.argv.slice(2);
if (baselineArg === undefined)
  throw new Error('usage: ab-sidecar.ts <baseline dist dir> [get|post|both] [rounds] [seconds]');
const baseline = resolve(baselineArg);
const rounds = Number(roundsArg);
const seconds = Number(secondsArg);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');

type Started = BenchProcess;
const start = startBenchProcess;

const dataDir = mkdtempSync(join(tmpdir(), 'stagecraft-ab-'));
const tokenFile = join(dataDir, 'api-token');
writeFileSync(tokenFile, randomBytes(32).toString('hex'));
const started: Started[] = [];
try {
  const api = await start(
    'api',
    ['--enable-source-maps', join(root, 'services/api/dist/main.js')],
    { PORT: '0', METRICS_PORT: '0', DATA_DIR: dataDir, API_TOKEN_FILE: tokenFile },
    /"port":(\d+).*api listening/,
  );
  started.push(api);
  const sidecar = (name: string, dist: string, flags: string[] = []) =>
    start(
      name,
      [...flags, '--enable-source-maps', join(dist, 'main.js')],
      { PORT: '0', METRICS_PORT: '0', UPSTREAM_URL: `http://127.0.0.1:${api.port}` },
      /"port":(\d+)[^\n]*"msg":"proxy listening"/,
    );
  const hops = [
    await sidecar('sidecar', join(root, 'services/sidecar/dist')),
    await sidecar('baseline', baseline, process.env.AB_BASELINE_FLAGS?.split(' ').filter(Boolean)),
    await start(
      'node:http forwarder',
      ['--import', 'tsx', join(here, 'minimal-proxy.ts'), String(api.port)],
      {},
      /listening (\d+)/,
    ),
  ];
  started.push(...hops);

  const page = '<p>' + '<a href="/docs/x.html">x</a> text '.repeat(3000) + '</p>';
  const endpoints = [
    { name: 'GET /healthz', path: '/healthz', method: 'GET', body: undefined, rate: 300 },
    {
      name: 'POST /api/v1/count (100 KB)',
      path: '/api/v1/count?base=http%3A%2F%2Fexample.com%2F',
      method: 'POST',
      body: page.slice(0, 100 * 1024),
      rate: 100,
    },
  ].filter((e) => which === 'both' || e.method.toLowerCase() === which);

  for (const endpoint of endpoints) {
    const round = async (s: number) => {
      const before = hops.map((h) => processCpuUs(h.child.pid!));
      const figures = await Promise.all(
        hops.map((h) =>
          latencyAtFixedRate({
            url: `http://127.0.0.1:${h.port}${endpoint.path}`,
            ratePerSecond: endpoint.rate,
            seconds: s,
            method: endpoint.method,
            body: endpoint.body,
            headers: endpoint.body ? { 'content-type': 'text/html' } : {},
            maxInFlight: 8,
          }),
        ),
      );
      return hops.map(
        (h, i) => (processCpuUs(h.child.pid!) - before[i]!) / (figures[i]!.requests - figures[i]!.errors),
      );
    };
    await round(2); // warm-up
    const perRound: number[][] = [];
    for (let r = 0; r < rounds; r++) perRound.push(await round(seconds));
    const col = (i: number) => perRound.map((row) => row[i]!);
    const ratio = (a: number, b: number) => perRound.map((row) => row[a]! / row[b]!);
    const diff = (a: number, b: number) => perRound.map((row) => row[a]! - row[b]!);
    const show = (xs: number[], digits: number) =>
      `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;
    console.log(
      `\n${endpoint.name} at ${endpoint.rate}/s each, ${rounds} rounds of ${seconds} s, loaded together`,
    );
    hops.forEach((h, i) => console.log(`  ${h.name.padEnd(22)} ${show(col(i), 0)} us/request`));
    console.log(`  sidecar / baseline       ${show(ratio(0, 1), 3)}`);
    console.log(`  sidecar - baseline       ${show(diff(0, 1), 1)} us/request`);
    console.log(`  sidecar / forwarder      ${show(ratio(0, 2), 3)}`);
    console.log(`  baseline / forwarder     ${show(ratio(1, 2), 3)}`);
  }
} finally {
  for (const s of started) s.child.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}

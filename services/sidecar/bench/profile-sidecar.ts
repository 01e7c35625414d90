/**
 * Where the sidecar's CPU goes (not a test): the API and the sidecar from their
 * compiled output, as proxy-bench.ts starts them (NODE_ENV=production, LOG_LEVEL
 * info, --enable-source-maps), the sidecar under `node --cpu-prof`, loaded at
 * proxy-bench.ts's fixed rate on one endpoint; then the profile's top self-time
 * functions, the sidecar's own code marked. npm run build first.
 *
 * The first seconds of load warm it up and are left out of the figures.
 * `minimal` profiles minimal-proxy.ts instead, the floor, to compare with.
 *
 *   node --import tsx bench/profile-sidecar.ts get|post [seconds] [sidecar|minimal] [extra node flags...]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { latencyAtFixedRate } from '@stagecraft/testkit/fixed-rate';
import { startBenchProcess } from './bench-process.js';

const [which = 'get', secondsArg = '10', target = 'sidecar', ...nodeFlags] = process.argv.slice(2);
const seconds = Number(secondsArg);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');

const gcCounts = new Map<string, number>();

/** A process to profile (bench-process.ts); with --trace-gc among the flags, its collections are counted (GC lines go to stdout). */
const start = (args: string[], env: Record<string, string>, ready: RegExp) =>
  startBenchProcess('profiled', args, env, ready, (text) => {
    for (const kind of text.match(/Scavenge|Mark-Compact|Minor Mark-Sweep/g) ?? [])
      gcCounts.set(kind, (gcCounts.get(kind) ?? 0) + 1);
  });

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

const dataDir = mkdtempSync(join(tmpdir(), 'stagecraft-profile-'));
const profDir = join(dataDir, 'prof');
const tokenFile = join(dataDir, 'api-token');
writeFileSync(tokenFile, randomBytes(32).toString('hex'));
const api = await start(
  ['--enable-source-maps', join(root, 'services/api/dist/main.js')],
  { PORT: '0', METRICS_PORT: '0', DATA_DIR: dataDir, API_TOKEN_FILE: tokenFile },
  /"port":(\d+).*api listening/,
);
const profiling = ['--cpu-prof', `--cpu-prof-dir=${profDir}`, ...nodeFlags];
const sidecar =
  target === 'minimal'
    ? await start(
        [...profiling, '--import', 'tsx', join(here, 'minimal-proxy.ts'), String(api.port)],
        {},
        /listening (\d+)/,
      )
    : await start(
        [...profiling, '--enable-source-maps', join(root, 'services/sidecar/dist/main.js')],
        { PORT: '0', METRICS_PORT: '0', UPSTREAM_URL: `http://127.0.0.1:${api.port}` },
        /"port":(\d+)[^\n]*"msg":"proxy listening"/,
      );
const WARMUP_SECONDS = 3;
let measured = { requests: 0, ms: 0 };
try {
  const page = '<p>' + '<a href="/docs/x.html">x</a> text '.repeat(3000) + '</p>';
  const endpoint =
    which === 'post'
      ? {
          path: '/api/v1/count?base=http%3A%2F%2Fexample.com%2F',
          method: 'POST',
          body: page.slice(0, 100 * 1024),
          rate: 100,
        }
      : { path: '/healthz', method: 'GET', body: undefined, rate: 300 };
  const load = (s: number) =>
    latencyAtFixedRate({
      url: `http://127.0.0.1:${sidecar.port}${endpoint.path}`,
      ratePerSecond: endpoint.rate,
      seconds: s,
      method: endpoint.method,
      body: endpoint.body,
      headers: endpoint.body ? { 'content-type': 'text/html' } : {},
      maxInFlight: 8,
    });
  await load(WARMUP_SECONDS);
  gcCounts.clear();
  const from = performance.now();
  const figures = await load(seconds);
  measured = { requests: figures.requests - figures.errors, ms: performance.now() - from };
  console.log(`${figures.requests} requests, ${figures.errors} errors`);
  if (gcCounts.size > 0) console.log('collections during the load:', Object.fromEntries(gcCounts));
} finally {
  const exited = new Promise((resolve) => sidecar.child.once('exit', resolve));
  sidecar.child.kill('SIGTERM');
  await exited;
  api.child.kill('SIGTERM');
}

const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))!;
const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  endTime: number;
};
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
// Only the measured load: the samples in its window, counted back from the
// profile's end (SIGTERM follows the load by well under a millisecond of work).
const timestamps: number[] = [];
let clock = profile.endTime;
for (let i = profile.timeDeltas.length - 1; i >= 0; i--) {
  timestamps[i] = clock;
  clock -= profile.timeDeltas[i]!;
}
const windowStart = profile.endTime - measured.ms * 1e3;
const self = new Map<number, number>();
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map<string, number>();
for (let i = 0; i < profile.samples.length; i++) {
  if (timestamps[i]! < windowStart) continue;
  const t = profile.timeDeltas[i + 1] ?? 0; // a sample's time is the delta to the next one
  self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + t);
  const seen = new Set<string>();
  for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parent.get(id)) {
    const { functionName, url } = byId.get(id)!.callFrame;
    const key = `${functionName} ${url.replace(/^.*\/node_modules\//, '').replace(/^.*\/services\/sidecar\//, '')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + t);
  }
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const idle = [...self.entries()]
  .filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)')
  .reduce((s, [, t]) => s + t, 0);
const perFunction = new Map<string, number>();
for (const [id, t] of self) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const where = url.replace(/^.*\/node_modules\//, '').replace(/^.*\/services\/sidecar\//, 'SIDECAR ');
  const name = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
  perFunction.set(name, (perFunction.get(name) ?? 0) + t);
}
const busy = total - idle;
const us = (t: number) => (t / measured.requests).toFixed(1).padStart(6);
console.log(
  `busy ${(busy / 1e3).toFixed(0)} ms of ${(total / 1e3).toFixed(0)} ms sampled: ${us(busy)} us per request answered`,
);
console.log('self time, us per request:');
for (const [name, t] of [...perFunction].sort((a, b) => b[1] - a[1]).slice(0, 45))
  if (!name.startsWith('(idle)')) console.log(`${us(t)}  ${name}`);
console.log('inclusive time, us per request:');
for (const [name, t] of [...inclusive]
  .sort((a, b) => b[1] - a[1])
  .filter(
    ([n], i) =>
      i < 30 || /dist\/|httpxy|http-proxy-middleware|contract|prom-client|pino|debug|minimal/.test(n),
  ))
  console.log(`${us(t)}  ${name}`);
rmSync(dataDir, { recursive: true, force: true });

/**
 * Proxy overhead benchmark (not a test): requests per second (autocannon, 32
 * connections, saturating) and p50 latency at a fixed unsaturated rate, for the
 * same endpoints direct to the API, through the sidecar, and through a minimal
 * forwarding process (minimal-proxy.ts: the floor of any Node proxy here), in one
 * run on 127.0.0.1. Rounds alternate between the paths so machine noise hits all
 * alike; figures are medians over rounds. The services run as separate processes
 * from their compiled output (npm run build first).
 *
 *   npm run bench:proxy [-- --quick]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { fixedRate, type FixedRateFigures } from './fixed-rate.js';

const quick = process.argv.includes('--quick');
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const ROUNDS = quick ? 2 : 5;
const SECONDS = quick ? 3 : 8;
const CONNECTIONS = 32;

function start(
  script: string,
  env: Record<string, string>,
  ready: RegExp,
  args: string[] = [script],
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      const m = ready.exec(buffer);
      if (m) {
        // Keep reading (and discarding) the per-request log lines: writing them is
        // part of each service's real cost; a full pipe would stall it.
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(url: string, method: 'GET' | 'POST' = 'GET', body?: string): Promise<Figures> {
  const result = await autocannon({
    url,
    method,
    body,
    headers: body ? { 'content-type': 'text/html' } : {},
    connections: CONNECTIONS,
    duration: SECONDS,
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stagecraft-bench-'));
  const api = await start(
    join(root, 'services/api/dist/main.js'),
    { PORT: '0', DATA_DIR: dataDir },
    /"port":(\d+).*api listening/,
  );
  const sidecar = await start(
    join(root, 'services/sidecar/dist/main.js'),
    { PORT: '0', METRICS_PORT: '0', UPSTREAM_URL: `http://127.0.0.1:${api.port}` },
    /"port":(\d+)[^\n]*"msg":"proxy listening"/,
  );
  // The floor: a minimal forwarding process (minimal-proxy.ts), measured alongside.
  const minimal = await start(join(here, 'minimal-proxy.ts'), {}, /listening (\d+)/, [
    '--import',
    'tsx',
    join(here, 'minimal-proxy.ts'),
    String(api.port),
  ]);
  try {
    const page = '<p>' + '<a href="/docs/x.html">x</a> text '.repeat(3000) + '</p>';
    const endpoints = [
      { name: 'GET /healthz', path: '/healthz', method: 'GET' as const, body: undefined, rate: 200 },
      {
        name: 'POST /api/v1/count (100 KB page)',
        rate: 50,
        path: '/api/v1/count?base=http%3A%2F%2Fexample.com%2F',
        method: 'POST' as const,
        body: page.slice(0, 100 * 1024),
      },
    ];
    const rows = [];
    for (const endpoint of endpoints) {
      const direct: Figures[] = [];
      const proxied: Figures[] = [];
      const floor: Figures[] = [];
      const directPaced: FixedRateFigures[] = [];
      const proxiedPaced: FixedRateFigures[] = [];
      const floorPaced: FixedRateFigures[] = [];
      const paced = (port: number) =>
        fixedRate(`http://127.0.0.1:${port}${endpoint.path}`, {
          rate: endpoint.rate,
          seconds: SECONDS,
          method: endpoint.method,
          body: endpoint.body,
          contentType: endpoint.body ? 'text/html' : undefined,
        });
      for (let round = 0; round < ROUNDS; round++) {
        directPaced.push(await paced(api.port));
        floorPaced.push(await paced(minimal.port));
        proxiedPaced.push(await paced(sidecar.port));
        floor.push(
          await load(`http://127.0.0.1:${minimal.port}${endpoint.path}`, endpoint.method, endpoint.body),
        );
        direct.push(
          await load(`http://127.0.0.1:${api.port}${endpoint.path}`, endpoint.method, endpoint.body),
        );
        proxied.push(
          await load(`http://127.0.0.1:${sidecar.port}${endpoint.path}`, endpoint.method, endpoint.body),
        );
      }
      const d = {
        rps: median(direct.map((f) => f.rps)),
        p50: median(direct.map((f) => f.p50)),
        p99: median(direct.map((f) => f.p99)),
        errors: direct.reduce((s, f) => s + f.errors, 0),
      };
      const p = {
        rps: median(proxied.map((f) => f.rps)),
        p50: median(proxied.map((f) => f.p50)),
        p99: median(proxied.map((f) => f.p99)),
        errors: proxied.reduce((s, f) => s + f.errors, 0),
      };
      const pacedDirect = median(directPaced.map((f) => f.p50Ms));
      const pacedFloor = median(floorPaced.map((f) => f.p50Ms));
      const floorRps = median(floor.map((f) => f.rps));
      const pacedSidecar = median(proxiedPaced.map((f) => f.p50Ms));
      rows.push({
        endpoint: endpoint.name,
        direct: d,
        sidecar: p,
        throughputKept: p.rps / d.rps,
        // At saturation p50 is queueing; the hop's own cost is read at a fixed, unsaturated rate.
        p50AddedAtSaturationMs: p.p50 - d.p50,
        fixedRate: {
          rate: endpoint.rate,
          direct: { p50Ms: pacedDirect, p99Ms: median(directPaced.map((f) => f.p99Ms)) },
          sidecar: { p50Ms: pacedSidecar, p99Ms: median(proxiedPaced.map((f) => f.p99Ms)) },
          errors: [...directPaced, ...proxiedPaced].reduce((s, f) => s + f.errors, 0),
        },
        p50AddedMs: pacedSidecar - pacedDirect,
        // The same two figures for the least a separate Node process can do (minimal-proxy.ts).
        minimalProxy: {
          rps: floorRps,
          throughputKept: floorRps / d.rps,
          pacedP50Ms: pacedFloor,
          p50AddedMs: pacedFloor - pacedDirect,
        },
      });
    }

    console.log(`connections ${CONNECTIONS}, ${SECONDS} s per round, ${ROUNDS} rounds per path, medians`);
    console.log(
      'endpoint                              direct rps  sidecar rps   kept   p50 direct/sidecar ms   p99 direct/sidecar ms',
    );
    for (const r of rows) {
      console.log(
        `${r.endpoint}: at a fixed ${r.fixedRate.rate} requests/s, p50 ${r.fixedRate.direct.p50Ms.toFixed(2)} ms direct, ${r.fixedRate.sidecar.p50Ms.toFixed(2)} ms through the sidecar (+${r.p50AddedMs.toFixed(2)} ms)`,
      );
      console.log(
        `${r.endpoint}: floor (minimal Node proxy process): keeps ${(r.minimalProxy.throughputKept * 100).toFixed(0)}% (${r.minimalProxy.rps.toFixed(0)} rps), adds ${r.minimalProxy.p50AddedMs.toFixed(2)} ms at p50`,
      );
      console.log(
        `${r.endpoint.padEnd(36)} ${r.direct.rps.toFixed(0).padStart(10)} ${r.sidecar.rps.toFixed(0).padStart(12)} ${(r.throughputKept * 100).toFixed(0).padStart(5)}%` +
          `   ${r.direct.p50.toFixed(1)} / ${r.sidecar.p50.toFixed(1)}`.padEnd(24) +
          `   ${r.direct.p99.toFixed(1)} / ${r.sidecar.p99.toFixed(1)}`,
      );
    }
    const goals = Object.fromEntries(
      rows.flatMap((r) => [
        [`${r.endpoint}: sidecar keeps >= 70% of direct throughput`, r.throughputKept >= 0.7],
        [`${r.endpoint}: sidecar adds < 1 ms at p50 (at a fixed, unsaturated rate)`, r.p50AddedMs < 1],
      ]),
    );
    for (const [goal, met] of Object.entries(goals)) console.log(`${met ? 'met    ' : 'NOT MET'}  ${goal}`);
    const errors = rows.reduce((s, r) => s + r.direct.errors + r.sidecar.errors, 0);
    if (errors > 0) console.log(`WARNING: ${errors} failed or non-2xx responses during the run`);

    const out = join(here, 'results', 'proxy.json');
    mkdirSync(dirname(out), { recursive: true });
    const machine = {
      node: process.version,
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      memoryGb: Math.round(totalmem() / 2 ** 30),
    };
    writeFileSync(
      out,
      JSON.stringify(
        {
          date: new Date().toISOString(),
          machine,
          quick,
          connections: CONNECTIONS,
          secondsPerRound: SECONDS,
          rounds: ROUNDS,
          rows,
          goals,
          errors,
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`written to ${out}`);
  } finally {
    sidecar.child.kill('SIGTERM');
    minimal.child.kill('SIGTERM');
    api.child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();

/**
 * What a hop costs (not a test): CPU time per request of each process on the
 * path, by the kernel's accounting, at a fixed request rate well below
 * saturation, next to two yardsticks - for the API, a bare Express 5 app
 * answering the same route (bare-express.ts); for the sidecar, the least a Node
 * process can do to forward, with node:http's client (minimal-proxy.ts) and with
 * undici's (undici-proxy.ts) - and the p50 each forwarder adds at that rate. The
 * API and the sidecar run again with their per-request access line on
 * (LOG_LEVEL=debug), to show what that line costs. Every process runs
 * separately, the services from their compiled output (npm run build first) as
 * their images start them (NODE_ENV=production, --enable-source-maps, LOG_LEVEL
 * info), all on 127.0.0.1. Rounds interleave the paths in a rotating order so
 * machine noise (2 shared cores) hits all alike; ratios are taken within each
 * round, and every figure is the median over rounds with its range (min-max).
 *
 * CPU per request = CPU time of the process over the window / requests answered.
 * It includes the process's idle work over the window (timers, the metrics'
 * event-loop sampling), measured alone first and printed too.
 *
 * To weigh a change side by side in one run, `--baseline=<dist dir>` adds the
 * sidecar built before it (a copy of its dist/) as one more hop, and
 * `--variant-flags="<node flags>"` adds the sidecar started with extra Node
 * flags; each is compared with the node:http forwarder round by round, like the
 * sidecar itself.
 *
 *   npm run bench:proxy [-- --quick] [--baseline=<dir>] [--variant-flags="<flags>"]
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { latencyAtFixedRate } from '@stagecraft/testkit/fixed-rate';
import { processCpuUs } from '@stagecraft/testkit/process-cpu';
import { median } from '@stagecraft/testkit/stats';
import { startBenchProcess, type BenchProcess } from './bench-process.js';

const quick = process.argv.includes('--quick');
const option = (name: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) || undefined;
const baselineDist = option('baseline');
const variantFlags = option('variant-flags')?.split(' ').filter(Boolean);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const ROUNDS = quick ? 2 : 12;
const SECONDS = quick ? 2 : 4;
const WARMUP_SECONDS = quick ? 1 : 3;
const IDLE_SECONDS = quick ? 2 : 5;
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

type Process = BenchProcess;

/** A process to measure (bench-process.ts), in this file's argument order. */
const start = (name: string, env: Record<string, string>, ready: RegExp, args: string[]): Promise<Process> =>
  startBenchProcess(name, args, env, ready);

const tsScript = (name: string, ...args: string[]) => ['--import', 'tsx', join(here, name), ...args];

/**
 * CPU time (user + system) the process has used so far, in microseconds, from
 * its threads' schedstat (@stagecraft/testkit/process-cpu). /proc/<pid>/stat
 * says the same in clock ticks (10 ms), too coarse for a 5 s window of a 150 us
 * request; it is read over the whole run as a check.
 */
const cpuUs = (process: Process): number => processCpuUs(process.child.pid!);

/** utime + stime from /proc/<pid>/stat, in microseconds (10 ms resolution). */
function statCpuUs(process: Process): number {
  const stat = readFileSync(`/proc/${process.child.pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is [0], utime [11], stime [12].
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND;
}

interface Endpoint {
  name: string;
  path: string;
  method: 'GET' | 'POST';
  body?: string;
  rate: number;
}

interface Target {
  name: string;
  /** The process whose CPU is the hop's cost. */
  process: Process;
  /** Whether requests go through it to the API (whose CPU is then read too). */
  forwards: boolean;
}

interface RoundFigures {
  cpuUsPerRequest: number;
  /** The API's CPU per request while this path ran (for a forwarder: the API behind it). */
  apiCpuUsPerRequest: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/** Median and range over rounds. */
const spread = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
type Spread = ReturnType<typeof spread>;
const fmt = (s: Spread | undefined, digits = 0) =>
  s === undefined ? '' : `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`;

interface HopFigures {
  cpuUsPerRequest: Spread;
  apiBehindCpuUsPerRequest?: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  /** p50 through this forwarder less p50 straight to the API, in the same round. */
  p50AddedMs?: Spread;
  errors: number;
}

async function measure(endpoint: Endpoint, target: Target, api: Process, seconds: number) {
  const ownBefore = cpuUs(target.process);
  const apiBefore = cpuUs(api);
  const figures = await latencyAtFixedRate({
    url: `http://127.0.0.1:${target.process.port}${endpoint.path}`,
    ratePerSecond: endpoint.rate,
    seconds,
    method: endpoint.method,
    body: endpoint.body,
    headers: endpoint.body ? { 'content-type': 'text/html' } : {},
    maxInFlight: 8,
  });
  const answered = figures.requests - figures.errors;
  return {
    cpuUsPerRequest: (cpuUs(target.process) - ownBefore) / answered,
    apiCpuUsPerRequest: (cpuUs(api) - apiBefore) / answered,
    p50Ms: figures.p50Ms,
    p99Ms: figures.p99Ms,
    errors: figures.errors,
  };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stagecraft-bench-'));
  // Production refuses to start without a token for the stored reports (none of these routes needs it).
  const tokenFile = join(dataDir, 'api-token');
  writeFileSync(tokenFile, randomBytes(32).toString('hex'));
  const processes: Process[] = [];
  const launch = async (...args: Parameters<typeof start>) => {
    const p = await start(...args);
    processes.push(p);
    return p;
  };
  try {
    // As the production images start them: --enable-source-maps (an error's stack costs more).
    const service = (path: string) => ['--enable-source-maps', join(root, path)];
    const apiFor = (name: string, logLevel: string) => {
      const dir = mkdtempSync(join(dataDir, 'data-'));
      return launch(
        name,
        { PORT: '0', METRICS_PORT: '0', DATA_DIR: dir, API_TOKEN_FILE: tokenFile, LOG_LEVEL: logLevel },
        /"port":(\d+).*api listening/,
        service('services/api/dist/main.js'),
      );
    };
    const api = await apiFor('api', 'info');
    const apiLogged = await apiFor('api (access log on)', 'debug');
    const upstream = String(api.port);
    const sidecarFor = (name: string, logLevel: string, args = service('services/sidecar/dist/main.js')) =>
      launch(
        name,
        { PORT: '0', METRICS_PORT: '0', UPSTREAM_URL: `http://127.0.0.1:${upstream}`, LOG_LEVEL: logLevel },
        /"port":(\d+)[^\n]*"msg":"proxy listening"/,
        args,
      );
    const sidecar = await sidecarFor('sidecar', 'info');
    const sidecarLogged = await sidecarFor('sidecar (access log on)', 'debug');
    const extras: Process[] = [];
    if (baselineDist !== undefined)
      extras.push(
        await sidecarFor('sidecar (baseline)', 'info', [
          '--enable-source-maps',
          join(baselineDist, 'main.js'),
        ]),
      );
    if (variantFlags !== undefined)
      extras.push(
        await sidecarFor('sidecar (variant flags)', 'info', [
          ...variantFlags,
          ...service('services/sidecar/dist/main.js'),
        ]),
      );
    const bare = await launch('bare Express 5', {}, /listening (\d+)/, tsScript('bare-express.ts'));
    const nodeFloor = await launch(
      'node:http forwarder',
      {},
      /listening (\d+)/,
      tsScript('minimal-proxy.ts', upstream),
    );
    const undiciFloor = await launch(
      'undici forwarder',
      {},
      /listening (\d+)/,
      tsScript('undici-proxy.ts', upstream),
    );

    const runStart = processes.map((p) => ({ schedstat: cpuUs(p), stat: statCpuUs(p) }));
    // Idle cost first: what each process spends per second with no request at all.
    const idleBefore = processes.map(cpuUs);
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    const idleCpuUsPerSecond = Object.fromEntries(
      processes.map((p, i) => [p.name, (cpuUs(p) - idleBefore[i]!) / IDLE_SECONDS]),
    );

    const page = '<p>' + '<a href="/docs/x.html">x</a> text '.repeat(3000) + '</p>';
    const target = (process: Process, forwards: boolean): Target => ({
      name: process.name,
      process,
      forwards,
    });
    const forwarders = [
      target(nodeFloor, true),
      target(undiciFloor, true),
      target(sidecar, true),
      ...extras.map((p) => target(p, true)),
    ];
    const plan: { endpoint: Endpoint; targets: Target[] }[] = [
      {
        endpoint: { name: 'GET /healthz', path: '/healthz', method: 'GET', rate: 300 },
        targets: [
          target(bare, false),
          target(api, false),
          target(apiLogged, false),
          ...forwarders,
          target(sidecarLogged, true),
        ],
      },
      {
        endpoint: {
          name: 'POST /api/v1/count (100 KB page)',
          path: '/api/v1/count?base=http%3A%2F%2Fexample.com%2F',
          method: 'POST',
          body: page.slice(0, 100 * 1024),
          rate: 100,
        },
        targets: [target(api, false), ...forwarders],
      },
    ];

    // Warm-up: every path, so each process's hot code is compiled before it is timed.
    for (const { endpoint, targets } of plan)
      for (const t of targets) await measure(endpoint, t, api, WARMUP_SECONDS);

    const rounds = new Map<string, RoundFigures[]>();
    const key = (endpoint: Endpoint, name: string) => `${endpoint.name}|${name}`;
    for (let round = 0; round < ROUNDS; round++) {
      for (const { endpoint, targets } of plan) {
        // Rotated each round, so no path always runs first (or right after another).
        const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
        for (const t of order) {
          const figures = await measure(endpoint, t, api, SECONDS);
          rounds.set(key(endpoint, t.name), [...(rounds.get(key(endpoint, t.name)) ?? []), figures]);
        }
      }
      process.stdout.write(`round ${round + 1} of ${ROUNDS} done\n`);
    }

    const rows = plan.map(({ endpoint, targets }) => {
      const of = (name: string) => rounds.get(key(endpoint, name))!;
      const direct = of(api.name);
      const has = (name: string) => targets.some((t) => t.name === name);
      // Ratios and differences are taken within each round, then summarised.
      const ratio = (a: string, b: string) =>
        spread(of(a).map((f, i) => f.cpuUsPerRequest / of(b)[i]!.cpuUsPerRequest));
      const difference = (a: string, b: string) =>
        spread(of(a).map((f, i) => f.cpuUsPerRequest - of(b)[i]!.cpuUsPerRequest));
      const hops: Record<string, HopFigures> = {};
      for (const t of targets) {
        const figures = of(t.name);
        hops[t.name] = {
          cpuUsPerRequest: spread(figures.map((f) => f.cpuUsPerRequest)),
          ...(t.forwards
            ? {
                apiBehindCpuUsPerRequest: spread(figures.map((f) => f.apiCpuUsPerRequest)),
                p50AddedMs: spread(figures.map((f, i) => f.p50Ms - direct[i]!.p50Ms)),
              }
            : {}),
          p50Ms: spread(figures.map((f) => f.p50Ms)),
          p99Ms: spread(figures.map((f) => f.p99Ms)),
          errors: figures.reduce((s, f) => s + f.errors, 0),
        };
      }
      const ratios: Record<string, Spread> = {
        'sidecar / node:http forwarder': ratio(sidecar.name, nodeFloor.name),
        'sidecar / undici forwarder': ratio(sidecar.name, undiciFloor.name),
        'undici forwarder / node:http forwarder': ratio(undiciFloor.name, nodeFloor.name),
      };
      // What the change under test bought, round by round: the sidecar's CPU per request less the other's.
      const sidecarLessUs: Record<string, Spread> = {};
      for (const extra of extras) {
        ratios[`${extra.name} / node:http forwarder`] = ratio(extra.name, nodeFloor.name);
        ratios[`sidecar / ${extra.name}`] = ratio(sidecar.name, extra.name);
        sidecarLessUs[extra.name] = difference(sidecar.name, extra.name);
      }
      const accessLineCpuUs: Record<string, Spread> = {};
      if (has(bare.name)) ratios['API / bare Express 5'] = ratio(api.name, bare.name);
      if (has(apiLogged.name)) accessLineCpuUs.api = difference(apiLogged.name, api.name);
      if (has(sidecarLogged.name)) accessLineCpuUs.sidecar = difference(sidecarLogged.name, sidecar.name);
      return {
        endpoint: endpoint.name,
        rate: endpoint.rate,
        hops,
        ratios,
        accessLineCpuUs,
        ...(extras.length > 0 ? { sidecarLessUs } : {}),
      };
    });

    console.log(
      `\nCPU us per request, each process alone (median over ${ROUNDS} rounds of ${SECONDS} s, min-max); p50 at the fixed rate`,
    );
    for (const row of rows) {
      console.log(`\n${row.endpoint} at ${row.rate} requests/s`);
      console.log(
        `${'hop'.padEnd(26)} ${'CPU us/request'.padEnd(20)} ${'API behind, us/req'.padEnd(20)} ${'p50 ms'.padEnd(20)} p50 added ms`,
      );
      for (const [name, hop] of Object.entries(row.hops)) {
        console.log(
          `${name.padEnd(26)} ${fmt(hop.cpuUsPerRequest).padEnd(20)} ${fmt(hop.apiBehindCpuUsPerRequest).padEnd(20)} ${fmt(hop.p50Ms, 2).padEnd(20)} ${fmt(hop.p50AddedMs, 2)}`,
        );
      }
      for (const [name, r] of Object.entries(row.ratios)) console.log(`${name.padEnd(55)} ${fmt(r, 2)}`);
      for (const [name, d] of Object.entries(row.accessLineCpuUs))
        console.log(`${`the ${name}'s access line, us/request`.padEnd(55)} ${fmt(d)}`);
      for (const [name, d] of Object.entries(row.sidecarLessUs ?? {}))
        console.log(`${`sidecar less ${name}, us/request`.padEnd(55)} ${fmt(d)}`);
    }
    console.log(
      `\nidle CPU us per second: ${Object.entries(idleCpuUsPerSecond)
        .map(([name, us]) => `${name} ${us.toFixed(0)}`)
        .join(', ')}`,
    );
    // The two kernel accounts of the whole run, side by side: they should agree to a few percent.
    const cpuCheck = Object.fromEntries(
      processes.map((p, i) => [
        p.name,
        {
          schedstatS: (cpuUs(p) - runStart[i]!.schedstat) / 1e6,
          statS: (statCpuUs(p) - runStart[i]!.stat) / 1e6,
        },
      ]),
    );
    console.log(
      `whole run, CPU s by schedstat / by stat: ${Object.entries(cpuCheck)
        .map(([name, c]) => `${name} ${c.schedstatS.toFixed(2)} / ${c.statS.toFixed(2)}`)
        .join(', ')}`,
    );

    const [get, post] = rows as [(typeof rows)[0], (typeof rows)[0]];
    const goals = {
      'GET /healthz: sidecar CPU per request at most 1.2x the minimal node:http forwarder':
        get.ratios['sidecar / node:http forwarder']!.median <= 1.2,
      'POST /api/v1/count (100 KB): sidecar CPU per request at most 1.2x the minimal node:http forwarder':
        post.ratios['sidecar / node:http forwarder']!.median <= 1.2,
      'GET /healthz: API CPU per request at most 1.15x a bare Express 5 app':
        get.ratios['API / bare Express 5']!.median <= 1.15,
    };
    for (const [goal, met] of Object.entries(goals)) console.log(`${met ? 'met    ' : 'NOT MET'}  ${goal}`);
    const errors = rows.reduce((s, r) => s + Object.values(r.hops).reduce((t, h) => t + h.errors, 0), 0);
    if (errors > 0) console.log(`WARNING: ${errors} failed or non-200 responses during the run`);

    const out = join(here, 'results', quick ? 'proxy.quick.json' : 'proxy.json');
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
          secondsPerRound: SECONDS,
          rounds: ROUNDS,
          cpuSource: 'sum of /proc/<pid>/task/*/schedstat run time',
          idleCpuUsPerSecond,
          cpuCheck,
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
    for (const p of processes) p.child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();

/** Turns the figures into goals (met or not), a Markdown report, an SVG chart and the README's table. */
import { arm64Markdown, type Arm64Figures } from './arm64.js';
import type { CountingFigures } from './counting.js';
import type { DevLoopFigures } from './dev-loop.js';
import type { ImageFigures } from './images.js';
import type { EndpointName, LoadFigures, PathName } from './paths.js';
import type { StartupFigures } from './stack.js';
import { storageMarkdown, type StorageFigures } from './storage.js';
import { tracingMarkdown, type TracingFigures } from './tracing.js';
import type { NpmTestFigures } from './npm-test.js';

export interface Results {
  date: string;
  quick: boolean;
  machine: { cpus: number; cpu: string; memoryGb: number; engine: string; compose: string; node: string };
  images: ImageFigures;
  counting: CountingFigures;
  /** SQLite and PostgreSQL side by side (bench/lib/storage.ts); absent from runs before it was measured. */
  storage?: StorageFigures;
  /** The API's and the sidecar's CPU per request, tracing off and on; absent from runs before it was measured. */
  tracing?: TracingFigures;
  startup: StartupFigures;
  memoryMb: { idle: Record<string, number>; underLoad: Record<string, number> };
  paths: {
    connections: number;
    seconds: number;
    rounds: number;
    pageBytes: number;
    results: Record<EndpointName, Record<PathName, LoadFigures>>;
  };
  /** The development loop with bind mounts (docker-compose.yml). */
  devLoop: DevLoopFigures;
  /** The same loop under Compose Watch (docker-compose.watch.yml); absent from runs before it was measured. */
  watchLoop?: DevLoopFigures;
  /** `npm test` timed warm; full runs only, absent from runs before it was measured. */
  npmTest?: NpmTestFigures;
  /** The linux/arm64 builds under QEMU (bench/lib/arm64.ts); absent when none were built or recorded. */
  arm64?: Arm64Figures;
}

export interface Goal {
  goal: string;
  figure: string;
  met: boolean;
}

const f1 = (n: number) => n.toFixed(1);
const pct = (n: number) => `${(n * 100).toFixed(0)}%`;

/** The development loops measured in a run, by name, bind mounts first. */
export function devLoops(r: Pick<Results, 'devLoop' | 'watchLoop'>): [string, DevLoopFigures][] {
  const loops: [string, DevLoopFigures][] = [['bind mounts', r.devLoop]];
  if (r.watchLoop) loops.push(['Compose Watch', r.watchLoop]);
  return loops;
}

/** A loop's spread: its fastest edit to its slowest. */
const spread = (f: DevLoopFigures) => `${Math.min(...f.allMs)}-${Math.max(...f.allMs)} ms`;

/** One loop's figures in a line: median, spread, every edit. */
export function devLoopLine(name: string, f: DevLoopFigures): string {
  const quickStart =
    f.quickStartSeconds === undefined ? '' : `; ./stagecraft up to healthy ${f1(f.quickStartSeconds)} s`;
  return `${name}: median ${f.medianMs.toFixed(0)} ms, spread ${spread(f)} over ${f.edits} edits (all: ${f.allMs.join(', ')} ms)${quickStart}`;
}

export function goals(r: Results): Goal[] {
  const api = r.images.production.api!;
  const b = r.images.api.builder;
  const out: Goal[] = [
    { goal: 'API app layers under 25 MB', figure: `${f1(api.appMb)} MB`, met: api.appMb < 25 },
    {
      goal: 'production image under 35% of the naive image',
      figure: `${f1(api.sizeMb)} of ${f1(r.images.api.naiveMb)} MB (${pct(api.sizeMb / r.images.api.naiveMb)})`,
      met: api.sizeMb / r.images.api.naiveMb < 0.35,
    },
    {
      goal: "production image under 60% of the builder pattern's runtime image plus what it leaves behind",
      figure: `${f1(api.sizeMb)} of ${f1(b.runtimeMb + b.leftBehindMb)} MB (${pct(api.sizeMb / (b.runtimeMb + b.leftBehindMb))})`,
      met: api.sizeMb / (b.runtimeMb + b.leftBehindMb) < 0.6,
    },
    {
      goal: 'rebuild after a .ts change under 20% of the cold build',
      figure: `${f1(r.images.buildSeconds.tsChange)} of ${f1(r.images.buildSeconds.cold)} s (${pct(r.images.buildSeconds.tsChange / r.images.buildSeconds.cold)})`,
      met: r.images.buildSeconds.tsChange / r.images.buildSeconds.cold < 0.2,
    },
    ...devLoops(r).map(([name, loop]) => ({
      goal: `save-to-response under 1 s (median), ${name}`,
      figure: `${(loop.medianMs / 1000).toFixed(2)} s over ${loop.edits} edits`,
      met: loop.medianMs < 1000,
    })),
    ...(r.npmTest
      ? [
          {
            goal: '`npm test` (lint, types, unit suites) under a minute, caches warm',
            figure: `${f1(r.npmTest.warmSeconds)} s (CPU ${f1(r.npmTest.cpuSeconds)} s; first run ${f1(r.npmTest.firstSeconds)} s)`,
            met: r.npmTest.warmSeconds < 60,
          },
        ]
      : []),
  ];
  for (const [endpoint, paths] of Object.entries(r.paths.results)) {
    const direct = paths['API direct'];
    const full = paths['gateway -> sidecar -> API'];
    const sidecar = paths['sidecar -> API'];
    out.push({
      goal: `${endpoint}: full gateway path keeps at least 50% of direct throughput`,
      figure: `${full.rps.toFixed(0)} of ${direct.rps.toFixed(0)} rps (${pct(full.rps / direct.rps)})`,
      met: full.rps / direct.rps >= 0.5,
    });
    const added = sidecar.pacedP50Ms - direct.pacedP50Ms;
    out.push({
      goal: `${endpoint}: the sidecar hop adds under 1 ms at p50 (fixed, unsaturated rate)`,
      figure: `${direct.pacedP50Ms.toFixed(2)} -> ${sidecar.pacedP50Ms.toFixed(2)} ms (+${added.toFixed(2)})`,
      met: added < 1,
    });
  }
  out.push(
    {
      goal: 'production stack healthy under 10 s from `up -d`',
      figure: `${f1(r.startup.upToHealthySeconds)} s`,
      met: r.startup.upToHealthySeconds < 10,
    },
    {
      goal: 'idle memory: API under 80 MB',
      figure: `${f1(r.memoryMb.idle.api ?? NaN)} MB`,
      met: (r.memoryMb.idle.api ?? Infinity) < 80,
    },
    {
      goal: 'idle memory: sidecar under 60 MB',
      figure: `${f1(r.memoryMb.idle.sidecar ?? NaN)} MB`,
      met: (r.memoryMb.idle.sidecar ?? Infinity) < 60,
    },
  );
  return out;
}

export function goalsTable(list: Goal[]): string {
  const rows = list.map((g) => `| ${g.goal} | ${g.figure} | ${g.met ? 'met' : '**not met**'} |`);
  return ['| goal | measured | |', '| --- | --- | --- |', ...rows].join('\n');
}

function bars(
  title: string,
  x: number,
  y: number,
  items: { label: string; value: number; note: string }[],
  max: number,
): string {
  const width = 300;
  const parts = [`<text x="${x}" y="${y}" font-weight="bold">${title}</text>`];
  items.forEach((item, i) => {
    const top = y + 14 + i * 26;
    const w = Math.max(1, (item.value / max) * width);
    parts.push(
      `<text x="${x}" y="${top + 14}">${item.label}</text>`,
      `<rect x="${x + 190}" y="${top}" width="${w.toFixed(1)}" height="18" fill="#3b82f6"/>`,
      `<text x="${x + 196 + w}" y="${top + 14}">${item.note}</text>`,
    );
  });
  return parts.join('\n');
}

export function chart(r: Results): string {
  const api = r.images.production.api!;
  const b = r.images.api.builder;
  const sizes = [
    { label: 'naive single stage', value: r.images.api.naiveMb, note: `${f1(r.images.api.naiveMb)} MB` },
    {
      label: 'builder pattern + leftovers',
      value: b.runtimeMb + b.leftBehindMb,
      note: `${f1(b.runtimeMb)} + ${f1(b.leftBehindMb)} MB`,
    },
    { label: 'multi-stage production', value: api.sizeMb, note: `${f1(api.sizeMb)} MB` },
  ];
  const maxSize = Math.max(...sizes.map((s) => s.value));
  const panels = [bars('API image: size on disk', 10, 20, sizes, maxSize * 1.35)];
  let y = 20 + 14 + sizes.length * 26 + 30;
  for (const [endpoint, paths] of Object.entries(r.paths.results)) {
    const direct = paths['API direct'].rps;
    const items = Object.entries(paths).map(([name, fig]) => ({
      label: name,
      value: fig.rps,
      note: `${fig.rps.toFixed(0)} rps (${pct(fig.rps / direct)})`,
    }));
    panels.push(bars(`${endpoint}: requests/s by path`, 10, y, items, direct * 1.35));
    y += 14 + items.length * 26 + 30;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="${y}" font-family="sans-serif" font-size="12" fill="#111">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...panels,
    '</svg>',
    '',
  ].join('\n');
}

export function markdown(r: Results, list: Goal[]): string {
  const m = r.machine;
  const img = r.images;
  const lines = [
    `# Benchmark results${r.quick ? ' (quick run: fewer repetitions, shorter loads)' : ''}`,
    '',
    `Measured by \`npm run bench${r.quick ? ' -- --quick' : ''}\` on ${r.date.slice(0, 10)}: ${m.cpus} cores (${m.cpu}), ${m.memoryGb} GB memory, Docker Engine ${m.engine}, Compose ${m.compose}, Node ${m.node}.` +
      ` Base images: ${img.baseImagesAreStandIns ? 'local stand-ins (standins/README.md), not the upstream images' : 'upstream'}.` +
      ' Ratios are taken within this one run; figures are medians of repeated runs where stated.',
    '',
    '![chart](results/chart.svg)',
    '',
    '## Goals',
    '',
    goalsTable(list),
    '',
    '## Images',
    '',
    '| production image | size | base | base size | app layers |',
    '| --- | --- | --- | --- | --- |',
    ...Object.entries(img.production).map(
      ([name, p]) =>
        `| ${name} | ${f1(p.sizeMb)} MB | \`${p.base}\` | ${f1(p.baseMb)} MB | ${f1(p.appMb)} MB |`,
    ),
    '',
    'The API built three ways:',
    '',
    '| way | image | left behind |',
    '| --- | --- | --- |',
    `| naive single stage (\`bench/naive/api.Dockerfile\`) | ${f1(img.api.naiveMb)} MB | nothing (everything ships) |`,
    `| builder pattern (\`bench/builder/\`: build image, copy out, runtime image) | ${f1(img.api.builder.runtimeMb)} MB | build image ${f1(img.api.builder.buildImageMb)} MB + copied artefacts ${f1(img.api.builder.artefactsMb)} MB |`,
    `| multi-stage \`production\` target | ${f1(img.api.multiStageMb)} MB | no image (intermediate stages live in the build cache) |`,
    '',
    `Builds of the API's production target (median of ${img.buildSeconds.runs}; cold = ${img.buildSeconds.coldMeans}): cold ${f1(img.buildSeconds.cold)} s, after a one-line \`.ts\` change ${f1(img.buildSeconds.tsChange)} s, after a \`package.json\` change ${f1(img.buildSeconds.packageJsonChange)} s.`,
    '',
    '## Request paths',
    '',
    `autocannon on 127.0.0.1, ${r.paths.connections} connections, ${r.paths.seconds} s per measurement, ${r.paths.rounds} round(s) alternating between paths (median), one API replica; the 100 KB page is ${r.paths.pageBytes} bytes. Latency is read twice: at saturation (where p50 is mostly queueing) and at a fixed rate well below it (200 requests/s for the cheap endpoint, 40 for the 100 KB page), which is what one request costs. Gateway paths use benchmark-only servers without the per-client rate limit (bench/gateway/90-bench.conf.template). Every published port goes through Docker's port proxy.`,
    '',
    '| endpoint | path | requests/s | % of direct | p50 / p99 at saturation | p50 / p99 at a fixed rate | errors / non-2xx |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const [endpoint, paths] of Object.entries(r.paths.results)) {
    const direct = paths['API direct'].rps;
    for (const [name, fig] of Object.entries(paths))
      lines.push(
        `| ${endpoint} | ${name} | ${fig.rps.toFixed(0)} | ${pct(fig.rps / direct)} | ${fig.p50Ms} / ${fig.p99Ms} ms | ${fig.pacedP50Ms.toFixed(2)} / ${fig.pacedP99Ms.toFixed(2)} ms | ${fig.errors} / ${fig.non2xx} |`,
      );
  }
  lines.push(...hopCpuMarkdown(r.paths.results));
  lines.push(
    '',
    '## Start-up and memory',
    '',
    `\`docker compose up -d\` (images built) to every health check healthy: ${f1(r.startup.upToHealthySeconds)} s (median of ${r.startup.runs}).`,
    '',
    '| container | start to healthy | memory idle | memory under load (peak) |',
    '| --- | --- | --- | --- |',
    ...Object.entries(r.startup.containerStartToHealthySeconds).map(
      ([s, sec]) =>
        `| ${s} | ${f1(sec)} s | ${f1(r.memoryMb.idle[s] ?? NaN)} MB | ${f1(r.memoryMb.underLoad[s] ?? NaN)} MB |`,
    ),
    '',
    "Memory is what `docker stats` reports: the container's cgroup usage without page cache.",
    '',
    '## Development loop',
    '',
    'Save a `.ts` file to the first response through the dev gateway that shows it, the same edit the same number of times in each loop: bind mounts (`docker-compose.yml`), where nodemon in the container sees the save itself, and Compose Watch (`docker-compose.watch.yml`), which copies the save in after 500 ms without another change (a fixed quiet period in Compose) and nodemon then restarts the same way.',
    '',
    '| loop | median | spread (fastest to slowest) | edits | every edit |',
    '| --- | --- | --- | --- | --- |',
    ...devLoops(r).map(
      ([name, f]) =>
        `| ${name} | ${f.medianMs.toFixed(0)} ms | ${spread(f)} | ${f.edits} | ${f.allMs.join(', ')} ms |`,
    ),
    '',
    ...(r.devLoop.quickStartSeconds === undefined
      ? []
      : [
          `The quick-start command, \`./stagecraft up\` (with \`-d --wait\`), to a healthy development stack on this warm machine: ${f1(r.devLoop.quickStartSeconds)} s.`,
          '',
        ]),
    '## Counting',
    '',
    '| page | link counter | htmlparser2, same bytes |',
    '| --- | --- | --- |',
    ...r.counting.rows.map(
      (row) =>
        `| ${row.page} | ${row.counterMBps.toFixed(0)} MB/s | ${row.htmlparser2MBps.toFixed(0)} MB/s |`,
    ),
    '',
    `Peak RSS growth counting the 50 MB page: ${f1(r.counting.rssGrowthMb)} MB.`,
    '',
    ...tracingMarkdown(r.tracing),
    ...storageMarkdown(r.storage),
    ...arm64Markdown(r.arm64),
  );
  return lines.join('\n');
}

/**
 * Each hop's CPU per request on the whole path, read from its container's
 * cgroup at the fixed rate (bench/lib/hop-cpu.ts); absent from runs before it
 * was measured.
 */
function hopCpuMarkdown(results: Results['paths']['results']): string[] {
  const rows = Object.entries(results).flatMap(([endpoint, paths]) => {
    const hops = paths['gateway -> sidecar -> API'].hopCpuUsPerRequest;
    return hops === undefined ? [] : [[endpoint, hops] as const];
  });
  if (rows.length === 0) return [];
  const names = Object.keys(rows[0]![1]);
  return [
    '',
    "CPU per request of each hop on the whole path (gateway -> sidecar -> API), at the fixed rate, from each container's cgroup with its idle rate taken off (median over rounds):",
    '',
    `| endpoint | ${names.map((n) => `${n} (us)`).join(' | ')} | all hops (us) |`,
    `| --- | ${names.map(() => '---').join(' | ')} | --- |`,
    ...rows.map(
      ([endpoint, hops]) =>
        `| ${endpoint} | ${names.map((n) => (hops[n] ?? NaN).toFixed(0)).join(' | ')} | ${Object.values(hops)
          .reduce((a, b) => a + b, 0)
          .toFixed(0)} |`,
    ),
  ];
}

/**
 * `npm run bench [-- --quick]`: the whole stack measured side by side in one run.
 * Writes bench/RESULTS.md, bench/results/bench.json and bench/results/chart.svg,
 * and the goals table in the README (a quick run writes *.quick.* files instead
 * and leaves the README alone). Not a test: it prints numbers.
 * `--report-only` renders the report again from the last run's JSON.
 * `--dev-loop-only` times the two development loops alone (bind mounts and
 * Compose Watch, with or without --quick) and prints them, writing nothing: a
 * report holds one whole run.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { format, resolveConfig } from 'prettier';
import { join } from 'node:path';
import { measureCounting } from './lib/counting.js';
import { measureStorage } from './lib/storage.js';
import { measureDevLoops } from './lib/dev-loop.js';
import { measureArm64 } from './lib/arm64.js';
import { measureNpmTest } from './lib/npm-test.js';
import { docker } from '@stagecraft/testkit/command';
import { REPO_ROOT } from '@stagecraft/testkit/repository';
import { sleep } from '@stagecraft/testkit/wait';
import { log } from './lib/log.js';
import { measureImages } from './lib/images.js';
import { measurePaths } from './lib/paths.js';
import { chart, devLoopLine, devLoops, goals, goalsTable, markdown, type Results } from './lib/report.js';
import { memoryNow, sampleMemory, startStack, stopStack } from './lib/stack.js';
import { measureTracing, tracingLines } from './lib/tracing.js';

const quick = process.argv.includes('--quick');
// --report-only: render the report again from the last run's JSON, measuring nothing.
const reportOnly = process.argv.includes('--report-only');
const devLoopOnly = process.argv.includes('--dev-loop-only');
const suffix = quick ? '.quick' : '';
const started = performance.now();

async function measure(): Promise<Results> {
  const machine = {
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    engine: docker('version', '--format', '{{.Server.Version}}'),
    compose: docker('compose', 'version', '--short'),
    node: process.version,
  };
  log(`machine: ${JSON.stringify(machine)}${quick ? ' (quick run)' : ''}`);
  const images = await measureImages(quick);
  const counting = measureCounting(quick);
  // Before the stack starts, as counting: the two stores in one process, no Docker.
  const storage = measureStorage(quick);
  // On this machine, before the stack starts: the API's and the sidecar's CPU per request, tracing off and on.
  const tracing = await measureTracing(quick);
  for (const line of tracingLines(tracing)) log(line);
  try {
    const startup = startStack(quick);
    await sleep(5_000);
    const idle = await memoryNow();
    const sampler = sampleMemory();
    const paths = await measurePaths(quick);
    const underLoad = await sampler.stop();
    stopStack();
    const loops = await measureDevLoops(quick);
    // A full run only: it runs the unit suites twice (CI's quick run has just run them).
    const npmTest = quick ? undefined : measureNpmTest();
    // Full: five arm64 builds, cold; quick: the times e2e/arm64.test.ts recorded.
    const arm64 = measureArm64(quick);
    return {
      date: new Date().toISOString(),
      quick,
      machine,
      images,
      counting,
      storage,
      tracing,
      startup,
      memoryMb: { idle, underLoad },
      paths,
      ...loops,
      ...(npmTest && { npmTest }),
      ...(arm64 && { arm64 }),
    };
  } finally {
    stopStack();
  }
}

if (devLoopOnly) {
  for (const [name, figures] of devLoops(await measureDevLoops(quick)))
    console.log(devLoopLine(name, figures));
  process.exit(0);
}

const json = join(REPO_ROOT, `bench/results/bench${suffix}.json`);
const results = reportOnly ? (JSON.parse(readFileSync(json, 'utf8')) as Results) : await measure();
const { machine } = results;
const list = goals(results);
mkdirSync(join(REPO_ROOT, 'bench/results'), { recursive: true });
writeFileSync(json, JSON.stringify({ ...results, goals: list }, null, 2) + '\n');
/** Writes Markdown as the repository's Prettier settings would (npm run lint checks it). */
async function writeMarkdown(path: string, text: string): Promise<void> {
  const options = (await resolveConfig(path)) ?? {};
  writeFileSync(path, await format(text, { ...options, filepath: path }));
}

writeFileSync(join(REPO_ROOT, `bench/results/chart${suffix}.svg`), chart(results));
await writeMarkdown(
  join(REPO_ROOT, `bench/RESULTS${suffix}.md`),
  markdown(results, list).replace('results/chart.svg', `results/chart${suffix}.svg`),
);
if (!quick) {
  const readme = join(REPO_ROOT, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  if (text.includes(start) && text.includes(end)) {
    const table = `${start}\n\nLatest \`npm run bench\` (${results.date.slice(0, 10)}, ${machine.cpus} cores, Docker ${machine.engine}; details in [bench/RESULTS.md](bench/RESULTS.md)):\n\n${goalsTable(list)}\n\n${end}`;
    await writeMarkdown(
      readme,
      text.slice(0, text.indexOf(start)) + table + text.slice(text.indexOf(end) + end.length),
    );
  }
}
for (const g of list) console.log(`${g.met ? 'met    ' : 'NOT MET'}  ${g.goal}: ${g.figure}`);
log(
  `done in ${((performance.now() - started) / 1000).toFixed(0)} s; wrote bench/RESULTS${suffix}.md and bench/results/bench${suffix}.json`,
);

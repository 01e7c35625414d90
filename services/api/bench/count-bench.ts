/**
 * Counting throughput benchmark (not a test): MB/s of the link counter on in-memory
 * HTML of 10 KB, 1 MB and 50 MB, peak RSS growth while counting the 50 MB page, and
 * htmlparser2's Parser on the same bytes in the same run, for a ratio that machine
 * noise cannot skew. Then the review's adversarial 10 MB pages (one tag with 1.5
 * million hrefs, a tag that never ends, one 10 MB href, dense references): MB/s
 * and peak RSS growth, which must stay flat. Writes bench/results/count.json and
 * prints a table.
 *
 *   npm run bench:count [-- --quick]
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '@stagecraft/testkit/stats';
import { Parser } from 'htmlparser2';
import { LinkCounter } from '../src/count/count-links.js';
import { makePage } from './make-page.js';

const quick = process.argv.includes('--quick');
const CHUNK = 64 * 1024;
const PAGE_URL = 'https://docs.example.test/guide/index.html';

function feedCounter(page: Buffer): number {
  const counter = LinkCounter.forPage(PAGE_URL);
  for (let off = 0; off < page.length; off += CHUNK) counter.write(page.subarray(off, off + CHUNK));
  const { internal, external } = counter.end();
  return internal + external;
}

function feedHtmlparser2(page: Buffer): number {
  let links = 0;
  const parser = new Parser(
    { onopentag: (name, attrs) => void (name === 'a' && attrs.href !== undefined && links++) },
    { decodeEntities: true },
  );
  for (let off = 0; off < page.length; off += CHUNK)
    parser.write(page.subarray(off, off + CHUNK).toString('latin1'));
  parser.end();
  return links;
}

/** Median MB/s over runs sized to take about `budgetMs` in all. */
function throughput(fn: (b: Buffer) => number, page: Buffer, budgetMs: number): number {
  fn(page); // warm-up
  const rates: number[] = [];
  const started = performance.now();
  while (rates.length < 3 || (performance.now() - started < budgetMs && rates.length < 50)) {
    const t0 = performance.now();
    fn(page);
    const ms = performance.now() - t0;
    rates.push(page.length / 1e6 / (ms / 1000));
  }
  return median(rates);
}

function peakRssGrowthMb(page: Buffer, chunk = CHUNK): number {
  globalThis.gc?.();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const counter = LinkCounter.forPage(PAGE_URL);
  for (let off = 0; off < page.length; off += chunk) {
    counter.write(page.subarray(off, off + chunk));
    peak = Math.max(peak, process.memoryUsage.rss());
  }
  counter.end();
  return (peak - baseline) / 1e6;
}

const sizes = [
  { label: '10 KB', bytes: 10 * 1024 },
  { label: '1 MB', bytes: 1024 * 1024 },
  { label: '50 MB', bytes: 50 * 1024 * 1024 },
];
const budget = quick ? 300 : 2000;
const rows = sizes.map(({ label, bytes }) => {
  const page = makePage(bytes);
  const counter = throughput(feedCounter, page, budget);
  const reference = throughput(feedHtmlparser2, page, budget);
  return { page: label, bytes: page.length, counterMBps: counter, htmlparser2MBps: reference };
});
const big = makePage(50 * 1024 * 1024);
const rssGrowthMb = peakRssGrowthMb(big);

/** `unit` repeated between `head` and `tail` to 10 MB: the shapes the outside review sent. */
function adversarialPage(head: string, unit: string, tail: string): Buffer {
  const units = Math.floor((10 * 1024 * 1024 - head.length - tail.length) / unit.length);
  return Buffer.from(head + unit.repeat(units) + tail, 'latin1');
}
const adversarial = [
  { page: '1.5M hrefs in one tag', bytes: adversarialPage('<a', ' href=x', '>') },
  { page: 'tag never closed', bytes: adversarialPage('', '<a href=', '') },
  { page: 'one 10 MB href', bytes: adversarialPage('<a href="', 'a', '">') },
  { page: 'dense references', bytes: adversarialPage('<a href="http://', '&amp;&#x26;', '">') },
].map(({ page, bytes }) => ({
  page,
  counterMBps: throughput(feedCounter, bytes, quick ? 100 : 500),
  // 4 KiB chunks: every tag and value crosses chunk boundaries.
  rssGrowthMb: peakRssGrowthMb(bytes, 4096),
}));
const adversarialRssMb = Math.max(...adversarial.map((a) => a.rssGrowthMb));

const goals = {
  '1 MB >= 150 MB/s': (rows[1]?.counterMBps ?? 0) >= 150,
  '50 MB >= 150 MB/s': (rows[2]?.counterMBps ?? 0) >= 150,
  '50 MB RSS growth < 32 MB': rssGrowthMb < 32,
  'adversarial 10 MB RSS growth < 32 MB': adversarialRssMb < 32,
};
const result = {
  date: new Date().toISOString(),
  machine: {
    node: process.version,
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGb: totalmem() / 2 ** 30,
  },
  chunkBytes: CHUNK,
  quick,
  rows,
  rssGrowthMb,
  adversarial,
  goals,
};

console.log('page     counter MB/s   htmlparser2 MB/s   ratio');
for (const r of rows)
  console.log(
    `${r.page.padEnd(8)} ${r.counterMBps.toFixed(0).padStart(12)} ${r.htmlparser2MBps.toFixed(0).padStart(18)} ${(r.counterMBps / r.htmlparser2MBps).toFixed(1).padStart(7)}x`,
  );
console.log(`peak RSS growth counting 50 MB: ${rssGrowthMb.toFixed(1)} MB`);
console.log('adversarial 10 MB page      counter MB/s   peak RSS growth');
for (const a of adversarial)
  console.log(
    `${a.page.padEnd(26)} ${a.counterMBps.toFixed(0).padStart(12)} ${a.rssGrowthMb.toFixed(1).padStart(14)} MB`,
  );
for (const [goal, met] of Object.entries(goals)) console.log(`${met ? 'met    ' : 'NOT MET'}  ${goal}`);

// A quick run writes its own file, so it never replaces the committed full figures.
const out = join(
  dirname(fileURLToPath(import.meta.url)),
  'results',
  quick ? 'count.quick.json' : 'count.json',
);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
console.log(`written to ${out}`);

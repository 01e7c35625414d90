/**
 * The counter's memory does not depend on the page: 10 MB adversarial pages (one
 * tag with 1.5 million hrefs, a tag that never ends, a single 10 MB href, dense
 * character references, million-'@' authorities, long IPv6 literals) are fed in
 * small chunks and whole, and what stays reachable after a full garbage
 * collection - sampled all along - must stay under a few MB. The counts are
 * checked too, against figures derived from how each page is built.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { DEFAULT_VALUE_CAP, LinkCounter } from '../../src/count/count-links.js';
import { decodeBufferBytes } from '../../src/count/html-unescape.js';

// A full collection on demand, without a flag on the test runner's command line.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const PAGE_URL = 'http://example.com/docs/';
const TEN_MB = 10 * 1024 * 1024;
/** Retained growth allowed while counting: far below any page's size, above the heap's noise. */
const BOUND_MB = 4;

function retained(): number {
  // Twice: array buffers released by the first collection are only freed after it.
  gc();
  gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

/** `head` + `unit` repeated + `tail`, as close to `bytes` as whole units allow. */
function build(head: string, unit: string, tail: string, bytes: number): { page: Buffer; units: number } {
  const units = Math.floor((bytes - head.length - tail.length) / unit.length);
  return { page: Buffer.from(head + unit.repeat(units) + tail, 'latin1'), units };
}

/** A page as head + unit * n + tail, and its counts as a function of n. */
type Case = [name: string, head: string, unit: string, tail: string, counts: (n: number) => [number, number]];

const CASES: Case[] = [
  ['one <a> with 1.5 million unquoted hrefs', '<a', ' href=x', '>', (n) => [n, 0]],
  ['one <A> with mixed-case quoted hrefs and CRLF', '<A', ' HrEf="//example.com/"\r\n', '>', (n) => [n, 0]],
  ['<a href= repeated, never closed', '', '<a href=', '', () => [0, 0]],
  ['a single 10 MB quoted href', '<a href="', 'a', '">', () => [1, 0]],
  ['a single 10 MB unquoted absolute href', '<a href=http://o.org/', 'b', '>', () => [0, 1]],
  ['a 10 MB href of dense references', '<a href="', '&amp;&#x26;&#0038;', '">', () => [1, 0]],
  ['a numeric reference with 10 MB of leading zeros', '<a href="http&#', '0', '58;//o.org/">', () => [0, 1]],
  ['a 10 MB userinfo of u@u@u@...', '<a href="http://', 'u@', 'example.com/">', () => [1, 0]],
  ['a 10 MB bracketed host', '<a href="http://[', '1:', ']:80/">', () => [0, 1]],
  ['self-closing <a/> repeated', '', '<a href=/x/>', '', () => [0, 0]],
  ['nested <a> tags', '', '<a href="http://o.org/x"><b><a href=#y>', '', (n) => [n, n]],
  ['a quote that never closes', '<a href="/x', '<a href=/y>', '', () => [0, 0]],
];

/**
 * Counts `page` in chunks of `chunk` bytes, sampling retained memory. Chunks are
 * fresh copies, so a counter that kept chunks would show it; a whole-page chunk is
 * the page itself (already in the baseline), so only what the counter builds counts.
 */
function countMeasured(page: Buffer, chunk: number): { counts: [number, number]; growthMb: number } {
  const baseline = retained();
  let peak = 0;
  const counter = LinkCounter.forPage(PAGE_URL);
  const samples = 4;
  const every = Math.max(chunk, Math.ceil(page.length / samples));
  let nextSample = every;
  for (let offset = 0; offset < page.length; offset += chunk) {
    counter.write(chunk >= page.length ? page : Buffer.from(page.subarray(offset, offset + chunk)));
    if (offset + chunk >= nextSample) {
      peak = Math.max(peak, retained() - baseline);
      nextSample += every;
    }
  }
  peak = Math.max(peak, retained() - baseline);
  const { internal, external } = counter.end();
  return { counts: [internal, external], growthMb: peak / 2 ** 20 };
}

describe('memory while counting is bounded by a constant', () => {
  // 10 MB in 4 KiB chunks and whole; 61-byte chunks (boundaries everywhere) on a
  // 2 MB version of the page, to keep the run short.
  it.each(CASES)(
    '%s: 10 MB in 4 KiB chunks and whole, 2 MB in 61-byte chunks',
    (_n, head, unit, tail, counts) => {
      for (const [size, chunks] of [
        [TEN_MB, [4096, TEN_MB]],
        [2 * 1024 * 1024, [61]],
      ] as const) {
        const { page, units } = build(head, unit, tail, size);
        for (const chunk of chunks) {
          const result = countMeasured(page, Math.min(chunk, page.length));
          expect(result.counts).toEqual(counts(units));
          expect(result.growthMb).toBeLessThan(BOUND_MB);
        }
      }
    },
  );

  it('keeps the shared decode buffer at its bound, whatever values were decoded', () => {
    expect(decodeBufferBytes()).toBeLessThanOrEqual(4 * DEFAULT_VALUE_CAP + 16);
  });
});

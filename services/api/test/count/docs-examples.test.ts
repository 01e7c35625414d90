/**
 * The worked examples of docs/counting.md are true. Each fenced `html` block there
 * follows a marker comment giving the page URL and the counts it must give:
 *
 *   <!-- count-example page="https://example.com/" internal=1 external=0 -->
 *
 * and is followed by a line saying the same counts to the reader ("Internal 1,
 * external 0."). Each is counted by the real counter (whole, and one byte at a
 * time), by the frozen reference in ./reference, and by POST /api/v1/count of
 * the real app on 127.0.0.1. An `html` block without a marker fails the test, so
 * no example in the document goes unchecked.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinkCounter, countLinks } from '../../src/count/count-links.js';
import { startApi, type TestApi } from '../helpers/api.js';
import { countLinks as referenceCountLinks } from './reference/count-links.js';

/** docs/counting.md from the repository root (the API image's test stage copies it to the same place). */
const DOC = new URL('../../../../docs/counting.md', import.meta.url);

interface Example {
  page: string;
  internal: number;
  external: number;
  html: string;
  line: number;
}

const MARKER = /^<!-- count-example page="([^"]+)" internal=(\d+) external=(\d+) -->$/;

/** Every marked example, in document order; throws on an html block without a marker. */
function examples(markdown: string): Example[] {
  const lines = markdown.split('\n');
  const found: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```html') continue;
    // The marker is the last non-blank line before the fence.
    let m = i - 1;
    while (m >= 0 && lines[m]!.trim() === '') m--;
    const marker = MARKER.exec(lines[m] ?? '');
    if (marker === null) throw new Error(`docs/counting.md line ${i + 1}: an html block without a marker`);
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`docs/counting.md line ${i + 1}: an html block that never closes`);
    // What a reader sees (the marker is hidden when rendered) must say the same counts.
    let said = end + 1;
    while (said < lines.length && lines[said]!.trim() === '') said++;
    const visible = `Internal ${marker[2]}, external ${marker[3]}.`;
    if (lines[said] !== visible)
      throw new Error(`docs/counting.md line ${said + 1}: expected "${visible}" after the html block`);
    found.push({
      page: marker[1]!,
      internal: Number(marker[2]),
      external: Number(marker[3]),
      html: lines.slice(i + 1, end).join('\n') + '\n',
      line: i + 1,
    });
    i = end;
  }
  return found;
}

const all = examples(readFileSync(DOC, 'utf8'));
const cases = all.map((e) => [`line ${e.line}: ${e.page}`, e] as const);

describe('docs/counting.md worked examples', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startApi();
  });

  afterAll(async () => {
    await api.close();
  });

  it('has examples to check', () => {
    expect(all.length).toBeGreaterThanOrEqual(5);
  });

  it.each(cases)('%s: the counter gives the documented counts, whole and byte by byte', (_name, e) => {
    const expected = { internal: e.internal, external: e.external };
    expect(countLinks(e.html, e.page)).toEqual(expected);
    const bytewise = LinkCounter.forPage(e.page);
    for (const byte of Buffer.from(e.html, 'utf8')) bytewise.write(Uint8Array.of(byte));
    expect(bytewise.end()).toEqual(expected);
  });

  it.each(cases)('%s: the frozen reference agrees', (_name, e) => {
    expect(referenceCountLinks(e.html, e.page)).toEqual({ internal: e.internal, external: e.external });
  });

  it.each(cases)('%s: POST /api/v1/count answers the documented counts', async (_name, e) => {
    const r = await api.call('POST', `/api/v1/count?base=${encodeURIComponent(e.page)}`, '/api/v1/count', {
      body: e.html,
      headers: { 'content-type': 'text/html; charset=utf-8' },
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      base: e.page,
      internal: e.internal,
      external: e.external,
      bytes: Buffer.byteLength(e.html),
    });
  });
});

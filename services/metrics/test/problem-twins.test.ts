/**
 * The API and the sidecar answer parse errors, timeouts and ambiguous requests
 * the same way because they run the same code: the marked twin section of
 * src/problem.ts and the API's src/http/problem.ts must stay byte-identical
 * until both move to a shared package.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

function twinSection(url: URL): string {
  const text = readFileSync(url, 'utf8');
  const start = text.indexOf('// ---- twin:');
  const end = text.indexOf('// ---- end twin');
  expect(start, url.pathname).toBeGreaterThanOrEqual(0);
  expect(end, url.pathname).toBeGreaterThan(start);
  return text.slice(start, end);
}

describe('problem.ts twins', () => {
  it('share one byte-identical section', () => {
    const sidecar = twinSection(new URL('../src/problem.ts', import.meta.url));
    const api = twinSection(new URL('../../api/src/http/problem.ts', import.meta.url));
    expect(sidecar).toContain('export function answerClientErrors');
    expect(sidecar).toContain('export function refuseAmbiguousRequest');
    expect(api).toBe(sidecar);
  });
});

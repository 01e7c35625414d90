/**
 * fetchPage for tests that name pages as strings: parses them as the counting
 * use case does (parseTargetUrl), then fetches. Async, so a refused URL is a
 * rejection like any other fetch failure.
 */
import { fetchPage, parseTargetUrl, type FetchFacts, type FetchOptions } from '../../src/fetch/fetch-page.js';

export async function fetchRaw(
  raw: string,
  sink: (chunk: Buffer) => void,
  options: FetchOptions,
): Promise<FetchFacts> {
  return fetchPage(parseTargetUrl(raw), sink, options);
}

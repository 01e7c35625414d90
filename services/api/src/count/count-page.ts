/** Fetch a page and count its links as it streams in: the one use case both count routes share. */
import {
  FetchError,
  fetchPage,
  parseTargetUrl,
  type FetchFacts,
  type FetchOptions,
} from '../fetch/fetch-page.js';
import { LinkCounter, pageHost } from './count-links.js';

export interface PageCount {
  url: string;
  internal: number;
  external: number;
  fetch: FetchFacts;
}

/**
 * Checks a page URL before any work: fetchable (absolute http/https) and one that
 * href-counter's URL parser accepts, since its host decides what is internal.
 */
export function checkPageUrl(raw: string): void {
  parseTargetUrl(raw);
  if (pageHost(raw) === null)
    throw new FetchError('invalid-url', `not a URL href-counter can parse: ${JSON.stringify(raw)}`);
}

export async function countPage(url: string, options: FetchOptions): Promise<PageCount> {
  checkPageUrl(url);
  const counter = LinkCounter.forPage(url);
  const fetch = await fetchPage(url, (chunk) => counter.write(chunk), options);
  const { internal, external } = counter.end();
  return { url, internal, external, fetch };
}

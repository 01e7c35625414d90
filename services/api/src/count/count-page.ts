/**
 * Counting a page's links, the one use case behind every route that counts:
 * countPage fetches the page (GET /api/v1/count, POST /api/v1/reports) and
 * countBody reads one a client sent (POST /api/v1/count). Each parses the page
 * URL once (parsePageUrl), streams the bytes through a LinkCounter keyed on the
 * Go-parsed host, and reports what happened to an injected recorder, so the HTTP
 * layer only translates requests and answers, and the metrics stay out of here.
 */
import { FetchError, fetchPage, type FetchFailure, type FetchOptions } from '../fetch/fetch-page.js';
import { LinkCounter, type LinkCounts } from './count-links.js';
import { parsePageUrl, type PageUrl } from './page-url.js';

/** The answers counting gives: the contract's shapes, which the page at / reads too. */
import type { BodyCount, PageCount } from '@stagecraft/contract';
export type { BodyCount, PageCount };

/** What a count ended in, as the metrics label it; a failed fetch carries no result. */
export type CountEvent =
  | { source: 'fetch'; outcome: 'ok'; seconds: number; page: PageCount }
  | { source: 'fetch'; outcome: FetchFailure | 'error'; seconds: number }
  | { source: 'body'; outcome: 'ok'; counts: LinkCounts }
  | { source: 'body'; outcome: 'body-too-large' };

/** Told of every count that ends, well or not (count-metrics.ts turns it into Prometheus samples). */
export type CountRecorder = (event: CountEvent) => void;

export interface CountPageDeps {
  fetchOptions: FetchOptions;
  record: CountRecorder;
  /** fetchPage, unless a test stands in for the network. */
  fetch?: typeof fetchPage;
}

/**
 * Fetches the page at `rawUrl` and counts its links. Rejects with a FetchError
 * for a URL that cannot be counted or a fetch that fails; either way the outcome
 * is recorded, with the time from the URL's arrival, parsing included.
 */
export async function countPage(rawUrl: string, deps: CountPageDeps): Promise<PageCount> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  try {
    const page = parsePageUrl(rawUrl);
    const counter = new LinkCounter(page.host);
    const fetch = await (deps.fetch ?? fetchPage)(
      page.target,
      (chunk) => counter.write(chunk),
      deps.fetchOptions,
    );
    const { internal, external } = counter.end();
    const result = { url: page.raw, internal, external, fetch };
    deps.record({ source: 'fetch', outcome: 'ok', seconds: seconds(), page: result });
    return result;
  } catch (error) {
    const outcome = error instanceof FetchError ? error.failure : 'error';
    deps.record({ source: 'fetch', outcome, seconds: seconds() });
    throw error;
  }
}

/** A body over the limit: the HTTP layer answers 413 and stops reading. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the limit is ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export interface CountBodyOptions {
  maxBytes: number;
  /** The length the client declared (Content-Length), if any: over the limit, nothing is read. */
  declaredBytes?: number;
  record: CountRecorder;
}

/**
 * Counts the links of a page a client sent, as its chunks arrive; `base` is the
 * page's URL, already parsed (the HTTP layer checks it before the body's type).
 * Stops reading at the first chunk past maxBytes with a BodyTooLargeError.
 */
export async function countBody(
  base: PageUrl,
  body: AsyncIterable<Uint8Array>,
  { maxBytes, declaredBytes, record }: CountBodyOptions,
): Promise<BodyCount> {
  const tooLarge = () => {
    record({ source: 'body', outcome: 'body-too-large' });
    return new BodyTooLargeError(maxBytes);
  };
  if (declaredBytes !== undefined && declaredBytes > maxBytes) throw tooLarge();
  const counter = new LinkCounter(base.host);
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > maxBytes) throw tooLarge();
    counter.write(chunk);
  }
  const { internal, external } = counter.end();
  record({ source: 'body', outcome: 'ok', counts: { internal, external } });
  return { base: base.raw, internal, external, bytes };
}

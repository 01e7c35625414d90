/**
 * A page URL as a client gave it, parsed once into the two readings counting
 * needs: the WHATWG URL that is fetched (checked as fetchable) and the host
 * href-counter's Go url.Parse sees in the raw string, which decides what counts
 * as internal. The two differ on purpose (WHATWG lower-cases and normalises the
 * host, Go keeps its bytes), so neither can be derived from the other. Pure: no I/O.
 */
import { goUrlHost } from './go-url.js';
import { FetchError, parseTargetUrl, type TargetUrl } from '../fetch/fetch-page.js';

export interface PageUrl {
  /** Exactly as the client sent it: answers and reports echo it. */
  readonly raw: string;
  /** What is fetched: absolute, http or https, no credentials. */
  readonly target: TargetUrl;
  /** Go's `url.Parse(raw).Host`, the bytes every href's host is compared with. */
  readonly host: Buffer;
}

/**
 * Parses a client's page URL, or throws a FetchError (invalid-url,
 * unsupported-scheme). The WHATWG checks come first, so a URL that is both
 * unfetchable and unparsable by Go is reported as unfetchable.
 */
export function parsePageUrl(raw: string): PageUrl {
  const target = parseTargetUrl(raw);
  const host = goUrlHost(raw);
  if (host === null)
    throw new FetchError('invalid-url', `not a URL href-counter can parse: ${JSON.stringify(raw)}`);
  return { raw, target, host };
}

/**
 * The counting use case with the network and the metrics stood in for: a fake
 * fetcher that replays a page, and a recorder that keeps the events. What is
 * fetched is the WHATWG reading of the URL, what counts as internal the Go one;
 * every ending (ok, refused URL, failed fetch, body too large) is recorded once.
 */
import { describe, expect, it } from 'vitest';
import { metricsRecorder } from '../../src/count/count-metrics.js';
import {
  BodyTooLargeError,
  countBody,
  countPage,
  type CountEvent,
  type CountPageDeps,
} from '../../src/count/count-page.js';
import { parsePageUrl } from '../../src/count/page-url.js';
import {
  FetchError,
  type FetchFacts,
  type FetchOptions,
  type TargetUrl,
} from '../../src/fetch/fetch-page.js';
import { AllowList, SsrfGuard } from '../../src/fetch/ssrf-guard.js';
import { createApiMetrics } from '../../src/metrics.js';

const FETCH_OPTIONS: FetchOptions = {
  guard: new SsrfGuard(new AllowList([])),
  timeoutMs: 1_000,
  connectTimeoutMs: 1_000,
  maxBytes: 1024,
  maxRedirects: 0,
};

/** A fetcher that serves `html` in two chunks (split mid-tag) and remembers what it was asked for. */
function fakeFetch(html: string) {
  const asked: TargetUrl[] = [];
  const fetch: NonNullable<CountPageDeps['fetch']> = async (url, sink) => {
    asked.push(url);
    const bytes = Buffer.from(html);
    sink(bytes.subarray(0, 7));
    sink(bytes.subarray(7));
    const facts: FetchFacts = {
      finalUrl: url.href,
      status: 200,
      contentType: 'text/html',
      bytes: bytes.length,
      redirects: 0,
      durationMs: 1,
    };
    return facts;
  };
  return { fetch, asked };
}

function recorder() {
  const events: CountEvent[] = [];
  return { events, record: (event: CountEvent) => void events.push(event) };
}

async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.from(part);
}

describe('parsePageUrl', () => {
  it('keeps both readings: WHATWG normalises the host, Go keeps its bytes', () => {
    const page = parsePageUrl('http://EXAMPLE.com:80/a b');
    expect(page.raw).toBe('http://EXAMPLE.com:80/a b');
    expect(page.target.href).toBe('http://example.com/a%20b');
    expect(page.host.toString()).toBe('EXAMPLE.com:80');
  });

  it.each([
    ['not absolute', '/page', 'invalid-url'],
    ['not http', 'ftp://e.com/', 'unsupported-scheme'],
    ['with credentials', 'http://u:p@e.com/', 'invalid-url'],
    ['fetchable, but not by Go (a bad %-escape)', 'http://e.com/%zz', 'invalid-url'],
  ])('refuses a URL %s', (_why, raw, failure) => {
    expect(() => parsePageUrl(raw)).toThrow(expect.objectContaining({ failure }));
  });

  it('reports an unfetchable URL as such even when Go rejects it too', () => {
    expect(() => parsePageUrl('ftp://e.com/%zz')).toThrow(
      expect.objectContaining({ failure: 'unsupported-scheme' }),
    );
  });
});

describe('countPage', () => {
  const page =
    '<a href="http://EXAMPLE.com:80/a"><a href="http://EXAMPLE.com:80/b"><a href="http://example.com/c">';

  it('fetches the WHATWG URL and classifies links against the Go host of the raw URL', async () => {
    const { fetch, asked } = fakeFetch(page);
    const { events, record } = recorder();
    const result = await countPage('http://EXAMPLE.com:80/', { fetchOptions: FETCH_OPTIONS, fetch, record });
    expect(asked.map((url) => url.href)).toEqual(['http://example.com/']);
    // Same bytes as the raw host: internal; the normalised spelling is another host to Go.
    expect(result).toMatchObject({ url: 'http://EXAMPLE.com:80/', internal: 2, external: 1 });
    expect(result.fetch.bytes).toBe(Buffer.byteLength(page));
    expect(events).toEqual([{ source: 'fetch', outcome: 'ok', seconds: expect.any(Number), page: result }]);
  });

  it('records a refused URL, without fetching', async () => {
    const { fetch, asked } = fakeFetch(page);
    const { events, record } = recorder();
    await expect(
      countPage('http://e.com/%zz', { fetchOptions: FETCH_OPTIONS, fetch, record }),
    ).rejects.toMatchObject({ failure: 'invalid-url' });
    expect(asked).toEqual([]);
    expect(events).toEqual([{ source: 'fetch', outcome: 'invalid-url', seconds: expect.any(Number) }]);
  });

  it('records a failed fetch under its failure, and anything else as error', async () => {
    const { events, record } = recorder();
    const failing =
      (error: Error): CountPageDeps['fetch'] =>
      async () => {
        throw error;
      };
    await expect(
      countPage('http://e.com/', {
        fetchOptions: FETCH_OPTIONS,
        fetch: failing(new FetchError('timeout', 'slow')),
        record,
      }),
    ).rejects.toBeInstanceOf(FetchError);
    await expect(
      countPage('http://e.com/', { fetchOptions: FETCH_OPTIONS, fetch: failing(new Error('bug')), record }),
    ).rejects.toThrow('bug');
    expect(events.map((event) => event.outcome)).toEqual(['timeout', 'error']);
  });
});

describe('countBody', () => {
  const base = parsePageUrl('http://e.com/');

  it('counts a body as its chunks arrive and says how many bytes it read', async () => {
    const { events, record } = recorder();
    const result = await countBody(base, chunks('<a href="/x"><a hr', 'ef="http://o.org/">'), {
      maxBytes: 100,
      record,
    });
    expect(result).toEqual({ base: 'http://e.com/', internal: 1, external: 1, bytes: 37 });
    expect(events).toEqual([{ source: 'body', outcome: 'ok', counts: { internal: 1, external: 1 } }]);
  });

  it('refuses a declared length over the limit without reading a byte', async () => {
    const { events, record } = recorder();
    let read = 0;
    const body = (async function* () {
      read++;
      yield Buffer.from('<a>');
    })();
    await expect(countBody(base, body, { maxBytes: 10, declaredBytes: 11, record })).rejects.toBeInstanceOf(
      BodyTooLargeError,
    );
    expect(read).toBe(0);
    expect(events).toEqual([{ source: 'body', outcome: 'body-too-large' }]);
  });

  it('stops reading at the first chunk past the limit', async () => {
    const { events, record } = recorder();
    let read = 0;
    const body = (async function* () {
      for (;;) {
        read++;
        yield Buffer.alloc(4, 'x');
      }
    })();
    await expect(countBody(base, body, { maxBytes: 10, record })).rejects.toThrow('the limit is 10 bytes');
    expect(read).toBe(3);
    expect(events).toEqual([{ source: 'body', outcome: 'body-too-large' }]);
  });
});

describe('metricsRecorder', () => {
  it('turns count events into the API metrics', async () => {
    const metrics = createApiMetrics(() => 0);
    const record = metricsRecorder(metrics);
    const { fetch } = fakeFetch('<a href="/x"><a href="http://o.org/">');
    await countPage('http://e.com/', { fetchOptions: FETCH_OPTIONS, fetch, record });
    await countPage('/relative', { fetchOptions: FETCH_OPTIONS, fetch, record }).catch(() => undefined);
    await countBody(parsePageUrl('http://e.com/'), chunks('<a href="/y">'), { maxBytes: 100, record });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^stagecraft_link_counts_total\{source="fetch",outcome="ok"\} 1$/m);
    expect(text).toMatch(/^stagecraft_link_counts_total\{source="fetch",outcome="invalid-url"\} 1$/m);
    expect(text).toMatch(/^stagecraft_link_counts_total\{source="body",outcome="ok"\} 1$/m);
    expect(text).toMatch(/^stagecraft_links_counted_total\{kind="internal"\} 2$/m);
    expect(text).toMatch(/^stagecraft_links_counted_total\{kind="external"\} 1$/m);
    expect(text).toMatch(/^stagecraft_page_fetched_bytes_total 37$/m);
    expect(text).toMatch(/^stagecraft_page_fetch_duration_seconds_count\{outcome="ok"\} 1$/m);
    expect(text).toMatch(/^stagecraft_page_fetch_duration_seconds_count\{outcome="invalid-url"\} 1$/m);
  });
});

/**
 * Fetches a page for counting, safely: http and https only, every redirect hop
 * re-checked, the SSRF guard applied to the port before DNS and to the address
 * actually connected to (so DNS rebinding between a check and the connect cannot
 * slip through), one total deadline that covers every phase (DNS, connect, TLS
 * handshake, response headers, body) plus a connect timeout, HTML content types
 * only, and a size cap enforced while the body streams into the caller's sink.
 *
 * DNS goes through c-ares (dns.promises.Resolver), not getaddrinfo: getaddrinfo
 * runs on libuv's 4-thread pool and cannot be cancelled, so four slow names
 * stalled every fetch of every client; c-ares queries are asynchronous sockets,
 * carry their own timeout, and are cancelled when the deadline passes.
 *
 * DNS resolution and socket creation are injected (`resolve`, `connect`) so tests
 * can record and refuse them: no test depends on the guard to stop a real packet.
 */
import { Resolver as DnsResolver } from 'node:dns/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { FetchLimit } from './fetch-limit.js';
import { ForbiddenDestinationError, type SsrfGuard } from './ssrf-guard.js';

export interface ResolvedAddress {
  address: string;
  family: number;
}
/**
 * Resolves a host name to every address it has. `signal` aborts when the fetch's
 * deadline passes: a resolver should stop its queries then (fetchPage stops
 * waiting for it either way).
 */
export type Resolver = (hostname: string, signal: AbortSignal) => Promise<ResolvedAddress[]>;
export interface ConnectOptions {
  address: string;
  port: number;
  tls: boolean;
  /** The host name, for TLS SNI and certificate checks. */
  servername: string;
}
export type SocketFactory = (options: ConnectOptions) => Duplex;

export interface FetchOptions {
  guard: SsrfGuard;
  timeoutMs: number;
  connectTimeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  resolve?: Resolver;
  connect?: SocketFactory;
  /** Bounds fetches in flight; without it, fetches are not counted. */
  limit?: FetchLimit;
  /** Told of every hop (the API's tracing: a client span each); without it, nothing is. */
  observeHop?: ObserveHop;
}

/**
 * What a fetch tells an observer of one hop (the first request, and each
 * redirect followed): the SSRF guard's verdict on it, then how it ended. fetch/
 * knows no tracer: the API's tracing/ implements this as a client span per hop.
 */
export interface FetchHopObserver {
  /** The guard's verdict: allowed with the address connected to, or refused with why. */
  verdict(allowed: boolean, detail: { address?: string; reason?: string }): void;
  /** The hop is over: its status when one came, its failure when it failed. */
  end(outcome: { status?: number; failure?: FetchFailure | 'error' }): void;
}
export type ObserveHop = (url: URL, redirects: number) => FetchHopObserver;

function failureOf(error: unknown): FetchFailure | 'error' {
  return error instanceof FetchError ? error.failure : 'error';
}

/** What a fetch did: the shape the API answers with (the contract's FetchFacts). */
import type { FetchFacts } from '@stagecraft/contract';
export type { FetchFacts };

/** Why a fetch failed, in terms the HTTP layer maps to a problem document. */
export type FetchFailure =
  | 'invalid-url'
  | 'unsupported-scheme'
  | 'forbidden-destination'
  | 'dns-failure'
  | 'connect-failure'
  | 'upstream-reset'
  | 'tls-failure'
  | 'too-many-redirects'
  | 'bad-redirect'
  | 'not-html'
  | 'page-too-large'
  | 'timeout'
  | 'fetch-capacity';

export class FetchError extends Error {
  constructor(
    readonly failure: FetchFailure,
    message: string,
    readonly facts: Partial<FetchFacts> = {},
  ) {
    super(message);
    this.name = 'FetchError';
  }
}

const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);
const USER_AGENT = 'stagecraft-href-counter/0.1 (+link counting)';
/** A redirect target may be as long as a URL a client may give (params.ts), no longer: it is stored as finalUrl. */
const MAX_URL_LENGTH = 2048;

/** c-ares per query: 1 s, then 2 s on the retry; the fetch's deadline cancels sooner. */
const DNS_QUERY_TIMEOUT_MS = 1_000;
const DNS_QUERY_TRIES = 2;
const LOOPBACK: ResolvedAddress[] = [
  { address: '127.0.0.1', family: 4 },
  { address: '::1', family: 6 },
];

/**
 * A c-ares resolver: A and AAAA queries to `servers` (`1.2.3.4`, `1.2.3.4:53`,
 * `[::1]:53`; the system's resolv.conf servers when empty), a fresh channel per
 * lookup so that cancelling one fetch's queries cancels no other's.
 *
 * c-ares reads no /etc/hosts: names there are not resolved, except `localhost`
 * and `*.localhost`, which are loopback by RFC 6761 (and so refused by the guard
 * unless an address entry allows loopback). Search domains are not applied
 * either: a name is resolved as given (Docker's embedded DNS answers its service
 * names as given; elsewhere, allow-list fully qualified names).
 */
export function dnsResolver(servers: readonly string[] = []): Resolver {
  return async (hostname, signal) => {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    if (name === 'localhost' || name.endsWith('.localhost')) return LOOPBACK;
    const channel = new DnsResolver({ timeout: DNS_QUERY_TIMEOUT_MS, tries: DNS_QUERY_TRIES });
    if (servers.length > 0) channel.setServers([...servers]);
    const cancel = () => channel.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    try {
      const [v4, v6] = await Promise.allSettled([channel.resolve4(name), channel.resolve6(name)]);
      const addresses = [
        ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
        ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : []),
      ];
      if (addresses.length > 0) return addresses;
      // No address at all: a timeout says more than "no such name" when one query timed out.
      const errors = [v4, v6].flatMap((r) =>
        r.status === 'rejected' ? [r.reason as NodeJS.ErrnoException] : [],
      );
      throw (
        errors.find((e) => e.code === 'ETIMEOUT' || e.code === 'ECANCELLED') ??
        errors[0] ??
        new Error('no addresses')
      );
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  };
}

/** The resolver of a fetch that was given none: c-ares with the system's servers. */
export const defaultResolver: Resolver = dnsResolver();

export const defaultSocketFactory: SocketFactory = ({ address, port, tls, servername }) =>
  tls
    ? tlsConnect({
        host: address,
        port,
        // SNI carries no IP address and no trailing dot (RFC 6066).
        servername: isIP(servername) ? undefined : servername.replace(/\.$/, ''),
        ALPNProtocols: ['http/1.1'],
      })
    : netConnect({ host: address, port });

declare const checkedTarget: unique symbol;
/**
 * A URL parseTargetUrl has checked. Branded, so that fetchPage, which no longer
 * parses, cannot be handed a URL that skipped the checks (an ftp: one, say).
 */
export type TargetUrl = URL & { readonly [checkedTarget]: true };

/** Parses and checks a URL the client gave: absolute, http or https, no credentials. */
export function parseTargetUrl(raw: string): TargetUrl {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new FetchError('invalid-url', `not an absolute URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FetchError(
      'unsupported-scheme',
      `only http and https URLs can be fetched, not ${url.protocol}`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new FetchError('invalid-url', 'URLs with credentials are not fetched');
  }
  return url as TargetUrl;
}

function hostnameOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

function networkFailure(error: NodeJS.ErrnoException, url: URL): FetchError {
  const code = error.code ?? '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') {
    return new FetchError('dns-failure', `cannot resolve ${url.hostname}`);
  }
  if (
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    code === 'HPE_INVALID_CONSTANT'
  ) {
    return new FetchError('upstream-reset', `connection to ${url.host} was reset`);
  }
  if (
    code.startsWith('ERR_TLS') ||
    code.startsWith('CERT_') ||
    code.includes('SSL') ||
    code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'
  ) {
    return new FetchError('tls-failure', `TLS with ${url.host} failed: ${error.message}`);
  }
  if (code.startsWith('HPE_')) {
    return new FetchError('upstream-reset', `${url.host} sent a malformed HTTP response`);
  }
  return new FetchError('connect-failure', `cannot connect to ${url.host}: ${code || error.message}`);
}

/**
 * Fetches `url`, following redirects, and passes each body chunk of the final
 * HTML response to `sink`. Resolves with the facts of the fetch; rejects with a
 * FetchError (or the sink's own error). The URL comes parsed (parseTargetUrl):
 * its caller needed it parsed already, and parsing twice could only disagree.
 */
export async function fetchPage(
  url: TargetUrl,
  sink: (chunk: Buffer) => void,
  options: FetchOptions,
): Promise<FetchFacts> {
  const started = performance.now();
  const release = options.limit === undefined ? () => undefined : options.limit.tryAcquire();
  if (release === null)
    throw new FetchError('fetch-capacity', `all ${options.limit!.max} fetch slots are in use`);
  try {
    return await followRedirects(url, sink, options, started);
  } finally {
    release();
  }
}

async function followRedirects(
  first: TargetUrl,
  sink: (chunk: Buffer) => void,
  options: FetchOptions,
  started: number,
): Promise<FetchFacts> {
  const hop = {
    ...options,
    resolve: options.resolve ?? defaultResolver,
    connect: options.connect ?? defaultSocketFactory,
  };
  // One deadline for everything: DNS, connect, TLS, headers and body of every hop.
  const deadline = AbortSignal.timeout(options.timeoutMs);
  let url = first;
  for (let redirects = 0; ; redirects++) {
    const observed = options.observeHop?.(url, redirects);
    let response: http.IncomingMessage;
    try {
      response = await requestOnce(url, hop, deadline, observed);
    } catch (error) {
      observed?.end({ failure: failureOf(error) });
      throw error;
    }
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && status !== 304 && location !== undefined) {
      response.destroy();
      observed?.end({ status });
      if (redirects >= options.maxRedirects) {
        throw new FetchError('too-many-redirects', `more than ${options.maxRedirects} redirects`, {
          redirects,
        });
      }
      url = nextHop(url, location, redirects);
      continue;
    }
    try {
      const facts = await readBody(url, response, sink, options, deadline, { redirects, started });
      observed?.end({ status });
      return facts;
    } catch (error) {
      observed?.end({ status, failure: failureOf(error) });
      throw error;
    }
  }
}

/** The URL a redirect leads to, checked like a URL a client gives. */
function nextHop(from: URL, location: string, redirects: number): TargetUrl {
  try {
    const next = parseTargetUrl(new URL(location, from).href);
    if (next.href.length > MAX_URL_LENGTH)
      throw new Error(`the location is longer than ${MAX_URL_LENGTH} characters`);
    return next;
  } catch (error) {
    throw new FetchError('bad-redirect', `redirect to an unusable location: ${(error as Error).message}`, {
      redirects,
    });
  }
}

async function readBody(
  url: URL,
  response: http.IncomingMessage,
  sink: (chunk: Buffer) => void,
  options: FetchOptions,
  deadline: AbortSignal,
  { redirects, started }: { redirects: number; started: number },
): Promise<FetchFacts> {
  const status = response.statusCode ?? 0;
  const contentType = (response.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const facts = { finalUrl: url.href, status, contentType, redirects };
  if (!HTML_TYPES.has(contentType)) {
    response.destroy();
    throw new FetchError('not-html', `the page is ${contentType || 'of no declared type'}, not HTML`, facts);
  }
  const encoding = (response.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity') {
    response.destroy();
    throw new FetchError(
      'upstream-reset',
      `the page came with content-encoding ${encoding} though identity was asked for`,
      facts,
    );
  }
  const declared = Number(response.headers['content-length'] ?? NaN);
  if (declared > options.maxBytes) {
    response.destroy();
    throw new FetchError(
      'page-too-large',
      `the page declares ${declared} bytes, over the ${options.maxBytes}-byte limit`,
      facts,
    );
  }

  let bytes = 0;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > options.maxBytes) {
        response.destroy();
        throw new FetchError('page-too-large', `the page is over the ${options.maxBytes}-byte limit`, {
          ...facts,
          bytes,
        });
      }
      sink(chunk);
    }
  } catch (error) {
    if (error instanceof FetchError) throw error;
    if (deadline.aborted)
      throw new FetchError('timeout', `no complete answer within ${options.timeoutMs} ms`, {
        ...facts,
        bytes,
      });
    if ((error as NodeJS.ErrnoException).code !== undefined)
      throw networkFailure(error as NodeJS.ErrnoException, url);
    throw error;
  }
  if (!response.complete)
    throw new FetchError('upstream-reset', `connection to ${url.host} closed mid-body`, {
      ...facts,
      bytes,
    });
  return { ...facts, bytes, durationMs: performance.now() - started };
}

type HopOptions = FetchOptions & { resolve: Resolver; connect: SocketFactory };

function forbidden(error: unknown): unknown {
  return error instanceof ForbiddenDestinationError
    ? new FetchError('forbidden-destination', error.message)
    : error;
}

function deadlineError(what: string, options: FetchOptions): FetchError {
  return new FetchError('timeout', `${what} within the ${options.timeoutMs} ms fetch deadline`);
}

/**
 * One request: the port checked, the name resolved, every address checked, and
 * only then a connection opened, to the first address; all within the deadline.
 */
async function requestOnce(
  url: URL,
  options: HopOptions,
  deadline: AbortSignal,
  observed: FetchHopObserver | undefined,
): Promise<http.IncomingMessage> {
  const tls = url.protocol === 'https:';
  const hostname = hostnameOf(url);
  const port = Number(url.port || (tls ? 443 : 80));

  try {
    options.guard.checkPort(hostname, port);
  } catch (error) {
    observed?.verdict(false, { reason: (error as Error).message });
    throw forbidden(error);
  }
  const addresses =
    isIP(hostname) !== 0
      ? [{ address: hostname, family: isIP(hostname) }]
      : await resolveWithin(hostname, options, deadline);
  // Every address the name resolves to must pass: a name that mixes public and
  // private addresses is refused rather than raced.
  for (const { address } of addresses) {
    try {
      options.guard.check(hostname, address, port);
    } catch (error) {
      observed?.verdict(false, { address, reason: (error as Error).message });
      throw forbidden(error);
    }
  }
  observed?.verdict(true, { address: addresses[0]!.address });
  if (deadline.aborted) throw deadlineError(`no answer from ${url.host}`, options);
  const socket = await openSocket(url, addresses[0]!.address, port, tls, options, deadline);

  return new Promise((resolvePromise, reject) => {
    const request = (tls ? https : http).request({
      method: 'GET',
      protocol: url.protocol,
      hostname,
      port,
      path: url.pathname + url.search,
      // No X-Request-Id, traceparent, tracestate or other internal header: the page
      // server is a third party (test/tracing/tracing-process.test.ts).
      headers: {
        host: url.host,
        'user-agent': USER_AGENT,
        accept: 'text/html,application/xhtml+xml;q=0.9',
        'accept-encoding': 'identity',
      },
      // The connection the guard approved, and no other: no agent pool, no lookup by http itself.
      createConnection: (() => socket) as unknown as http.RequestOptions['createConnection'],
      signal: deadline,
    });
    request.once('response', resolvePromise);
    request.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      if (error instanceof FetchError) reject(error);
      else if (deadline.aborted || error.name === 'AbortError')
        reject(deadlineError(`no answer from ${url.host}`, options));
      else reject(networkFailure(error, url));
    });
    request.end();
  });
}

/** The name's addresses, or a FetchError: dns-failure, or timeout when the deadline passes first. */
async function resolveWithin(
  hostname: string,
  options: HopOptions,
  deadline: AbortSignal,
): Promise<ResolvedAddress[]> {
  if (deadline.aborted) throw deadlineError(`${hostname} did not resolve`, options);
  let onAbort = () => undefined as void;
  const expired = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(deadlineError(`${hostname} did not resolve`, options));
    deadline.addEventListener('abort', onAbort, { once: true });
  });
  let addresses: ResolvedAddress[];
  try {
    // An injected resolver that ignores the signal is bounded all the same.
    addresses = await Promise.race([options.resolve(hostname, deadline), expired]);
  } catch (error) {
    if (error instanceof FetchError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ETIMEOUT' || code === 'ECANCELLED')
      throw deadlineError(`${hostname} did not resolve (DNS ${code})`, options);
    throw new FetchError('dns-failure', `cannot resolve ${hostname}: ${code ?? (error as Error).message}`);
  } finally {
    deadline.removeEventListener('abort', onAbort);
  }
  if (addresses.length === 0) throw new FetchError('dns-failure', `${hostname} has no addresses`);
  return addresses;
}

/**
 * Opens the connection (and completes the TLS handshake) within the connect
 * timeout and the deadline; when either passes, the socket is destroyed at
 * once, so nothing a fetch opened outlives it.
 */
function openSocket(
  url: URL,
  address: string,
  port: number,
  tls: boolean,
  options: HopOptions,
  deadline: AbortSignal,
): Promise<Duplex> {
  const hostname = hostnameOf(url);
  return new Promise((resolvePromise, reject) => {
    let socket: Duplex;
    try {
      socket = options.connect({ address, port, tls, servername: hostname });
    } catch (error) {
      reject(new FetchError('connect-failure', `cannot connect to ${url.host}: ${(error as Error).message}`));
      return;
    }
    const ready = tls ? 'secureConnect' : 'connect';
    const settle = () => {
      clearTimeout(timer);
      deadline.removeEventListener('abort', onAbort);
      socket.off(ready, onReady);
      socket.off('error', onError);
    };
    const fail = (error: FetchError) => {
      settle();
      socket.destroy();
      reject(error);
    };
    const onReady = () => {
      settle();
      resolvePromise(socket);
    };
    const onError = (error: NodeJS.ErrnoException) => {
      settle();
      reject(networkFailure(error, url));
    };
    const onAbort = () => fail(deadlineError(`no connection to ${hostname}:${port}`, options));
    const timer = setTimeout(
      () =>
        fail(
          new FetchError(
            'timeout',
            `no connection to ${hostname}:${port} within ${options.connectTimeoutMs} ms`,
          ),
        ),
      options.connectTimeoutMs,
    );
    deadline.addEventListener('abort', onAbort, { once: true });
    socket.once(ready, onReady);
    socket.once('error', onError);
  });
}

/**
 * Fetches a page for counting, safely: http and https only, every redirect hop
 * re-checked, the SSRF guard applied to the address actually connected to (so DNS
 * rebinding between a check and the connect cannot slip through), connect and
 * total timeouts, HTML content types only, and a size cap enforced while the body
 * streams into the caller's sink.
 *
 * DNS resolution and socket creation are injected (`resolve`, `connect`) so tests
 * can record and refuse them: no test depends on the guard to stop a real packet.
 */
import { lookup } from 'node:dns/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import { ForbiddenDestinationError, type SsrfGuard } from './ssrf-guard.js';

export interface ResolvedAddress {
  address: string;
  family: number;
}
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;
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
  requestId?: string;
}

export interface FetchFacts {
  finalUrl: string;
  status: number;
  contentType: string;
  bytes: number;
  redirects: number;
  durationMs: number;
}

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
  | 'timeout';

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

export const defaultResolver: Resolver = async (hostname) => lookup(hostname, { all: true, verbatim: true });

export const defaultSocketFactory: SocketFactory = ({ address, port, tls, servername }) =>
  tls
    ? tlsConnect({
        host: address,
        port,
        servername: isIP(servername) ? undefined : servername,
        ALPNProtocols: ['http/1.1'],
      })
    : netConnect({ host: address, port });

/** Parses and checks a URL the client gave: absolute, http or https, no credentials. */
export function parseTargetUrl(raw: string): URL {
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
  return url;
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
 * Fetches `rawUrl`, following redirects, and passes each body chunk of the final
 * HTML response to `sink`. Resolves with the facts of the fetch; rejects with a
 * FetchError (or the sink's own error).
 */
export async function fetchPage(
  rawUrl: string,
  sink: (chunk: Buffer) => void,
  options: FetchOptions,
): Promise<FetchFacts> {
  const started = performance.now();
  const resolve = options.resolve ?? defaultResolver;
  const connect = options.connect ?? defaultSocketFactory;
  const deadline = AbortSignal.timeout(options.timeoutMs);
  let url = parseTargetUrl(rawUrl);

  for (let redirects = 0; ; redirects++) {
    const response = await requestOnce(url, { ...options, resolve, connect }, deadline);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && status !== 304 && location !== undefined) {
      response.destroy();
      if (redirects >= options.maxRedirects) {
        throw new FetchError('too-many-redirects', `more than ${options.maxRedirects} redirects`, {
          redirects,
        });
      }
      let next: URL;
      try {
        next = parseTargetUrl(new URL(location, url).href);
      } catch (error) {
        throw new FetchError(
          'bad-redirect',
          `redirect to an unusable location: ${(error as Error).message}`,
          { redirects },
        );
      }
      url = next;
      continue;
    }

    const contentType = (response.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const facts = { finalUrl: url.href, status, contentType, redirects };
    if (!HTML_TYPES.has(contentType)) {
      response.destroy();
      throw new FetchError(
        'not-html',
        `the page is ${contentType || 'of no declared type'}, not HTML`,
        facts,
      );
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
}

type HopOptions = FetchOptions & { resolve: Resolver; connect: SocketFactory };

/** One request, on a connection opened only after the guard approved the address. */
function requestOnce(url: URL, options: HopOptions, deadline: AbortSignal): Promise<http.IncomingMessage> {
  const tls = url.protocol === 'https:';
  const hostname = hostnameOf(url);
  const port = Number(url.port || (tls ? 443 : 80));

  const createConnection = (
    _opts: unknown,
    done: (error: Error | null, socket?: Duplex) => void,
  ): undefined => {
    openGuardedSocket(hostname, port, tls, options, deadline).then(
      (socket) => done(null, socket),
      (error: Error) => done(error),
    );
    return undefined;
  };

  return new Promise((resolvePromise, reject) => {
    const request = (tls ? https : http).request({
      method: 'GET',
      protocol: url.protocol,
      hostname,
      port,
      path: url.pathname + url.search,
      headers: {
        host: url.host,
        'user-agent': USER_AGENT,
        accept: 'text/html,application/xhtml+xml;q=0.9',
        'accept-encoding': 'identity',
        ...(options.requestId === undefined ? {} : { 'x-request-id': options.requestId }),
      },
      // Only the socket factory below may open connections: no agent pool, no
      // lookup by http itself.
      createConnection: createConnection as unknown as http.RequestOptions['createConnection'],
      signal: deadline,
    });
    request.once('response', resolvePromise);
    request.once('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof FetchError) reject(error);
      else if (deadline.aborted || error.name === 'AbortError')
        reject(new FetchError('timeout', `no answer from ${url.host} within ${options.timeoutMs} ms`));
      else reject(networkFailure(error, url));
    });
    request.end();
  });
}

async function openGuardedSocket(
  hostname: string,
  port: number,
  tls: boolean,
  options: HopOptions,
  deadline: AbortSignal,
): Promise<Duplex> {
  let addresses: ResolvedAddress[];
  if (isIP(hostname) !== 0) addresses = [{ address: hostname, family: isIP(hostname) }];
  else {
    try {
      addresses = await options.resolve(hostname);
    } catch {
      throw new FetchError('dns-failure', `cannot resolve ${hostname}`);
    }
  }
  if (addresses.length === 0) throw new FetchError('dns-failure', `${hostname} has no addresses`);
  // Every address the name resolves to must pass: a name that mixes public and
  // private addresses is refused rather than raced.
  for (const { address } of addresses) {
    try {
      options.guard.check(hostname, address);
    } catch (error) {
      if (error instanceof ForbiddenDestinationError)
        throw new FetchError('forbidden-destination', error.message);
      throw error;
    }
  }
  if (deadline.aborted)
    throw new FetchError('timeout', `no answer from ${hostname} within ${options.timeoutMs} ms`);

  const socket = options.connect({ address: addresses[0]!.address, port, tls, servername: hostname });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new FetchError(
          'timeout',
          `no connection to ${hostname}:${port} within ${options.connectTimeoutMs} ms`,
        ),
      );
    }, options.connectTimeoutMs);
    const ready = tls ? 'secureConnect' : 'connect';
    socket.once(ready, () => {
      clearTimeout(timer);
      resolvePromise(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        networkFailure(
          error,
          new URL(`${tls ? 'https' : 'http'}://${isIP(hostname) === 6 ? `[${hostname}]` : hostname}:${port}`),
        ),
      );
    });
  });
}

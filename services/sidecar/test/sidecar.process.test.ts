/**
 * The sidecar as a real process (src/main.ts): 50 MB each way with its memory
 * staying flat, graceful shutdown with a request in flight, and exits on bad
 * configuration.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startNodeProcess } from '@stagecraft/testkit/node-process';
import { afterEach, describe, expect, it } from 'vitest';
import { startUpstream, type Upstream } from './helpers/upstream.js';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const MB = 1024 * 1024;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

interface Running {
  child: ChildProcess;
  proxyPort: number;
  metricsPort: number;
  exited: Promise<number | null>;
}

/** Both ports' "listening" lines, in either order, each on a line of its own. */
const LISTENING =
  /^(?=[\s\S]*"port":(\d+)[^\n]*"msg":"proxy listening")(?=[\s\S]*"port":(\d+)[^\n]*"msg":"metrics listening")/;

async function startProcess(upstream: string, env: Record<string, string> = {}): Promise<Running> {
  const sidecar = await startNodeProcess(['--import', 'tsx', main], {
    env: { UPSTREAM_URL: upstream, PORT: '0', METRICS_PORT: '0', HOST: '127.0.0.1', ...env },
    ready: LISTENING,
  });
  cleanups.push(sidecar.stop);
  return {
    child: sidecar.child,
    proxyPort: Number(sidecar.ready[1]),
    metricsPort: Number(sidecar.ready[2]),
    exited: sidecar.exited,
  };
}

/** Resident and peak resident set of a process, in bytes (Linux /proc). */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

function resetPeak(pid: number): void {
  // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
  spawnSync('sh', ['-c', `echo 5 > /proc/${pid}/clear_refs`]);
}

/** Streams `size` deterministic bytes without holding them: 64 KB blocks. */
function* blocks(size: number): Generator<Buffer> {
  const block = Buffer.alloc(64 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (i * 31) % 251;
  for (let sent = 0; sent < size; sent += block.length)
    yield sent + block.length <= size ? block : block.subarray(0, size - sent);
}

function digestOf(size: number): string {
  const hash = createHash('sha256');
  for (const b of blocks(size)) hash.update(b);
  return hash.digest('hex');
}

function hashingUpstream(downloadSize: () => number): Promise<Upstream> {
  return startUpstream((req, res) => {
    if (req.method === 'POST') {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        hash.update(c);
        bytes += c.length;
      });
      req.on('end', () => res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') })));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const it = blocks(downloadSize());
    const pump = () => {
      for (let next = it.next(); !next.done; next = it.next())
        if (!res.write(next.value)) return void res.once('drain', pump);
      res.end();
    };
    pump();
  });
}

function upload(port: number, size: number): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/upload',
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(JSON.parse(body) as { bytes: number; sha256: string }));
      },
    );
    req.on('error', reject);
    const it = blocks(size);
    const pump = () => {
      for (let next = it.next(); !next.done; next = it.next())
        if (!req.write(next.value)) return void req.once('drain', pump);
      req.end();
    };
    pump();
  });
}

function download(port: number): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/download' }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        hash.update(c);
        bytes += c.length;
      });
      res.on('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
    })
      .on('error', reject)
      .end();
  });
}

describe('the sidecar process', () => {
  it('passes 50 MB up and 50 MB down byte for byte', async () => {
    const upstream = await hashingUpstream(() => 50 * MB);
    cleanups.push(() => upstream.close());
    const sidecar = await startProcess(upstream.url);
    expect(await upload(sidecar.proxyPort, 50 * MB)).toEqual({ bytes: 50 * MB, sha256: digestOf(50 * MB) });
    expect(await download(sidecar.proxyPort)).toEqual({ bytes: 50 * MB, sha256: digestOf(50 * MB) });
  });

  it('streams 200 MB each way without its memory growing with the body', async () => {
    const size = 200 * MB;
    const upstream = await hashingUpstream(() => size);
    cleanups.push(() => upstream.close());
    const sidecar = await startProcess(upstream.url);
    const pid = sidecar.child.pid!;
    await upload(sidecar.proxyPort, 1024); // warm up
    const growth: number[] = [];
    for (const move of [() => upload(sidecar.proxyPort, size), () => download(sidecar.proxyPort)]) {
      const before = memory(pid).rss;
      resetPeak(pid);
      expect((await move()).bytes).toBe(size);
      growth.push((memory(pid).peak - before) / MB);
    }
    console.log(
      `sidecar peak RSS growth moving 200 MB: ${growth[0]!.toFixed(1)} MB up, ${growth[1]!.toFixed(1)} MB down`,
    );
    // A proxy that held the body would grow by 200 MB. A streaming one grows only by
    // the socket-read garbage V8 lets pile up before it collects (about 64 MB of
    // external memory), whatever the body size.
    for (const g of growth) expect(g).toBeLessThan(100);
  });

  it('lets an in-flight request finish on SIGTERM and exits 0', async () => {
    const upstream = await startUpstream((_req, res) => setTimeout(() => res.end('late but whole'), 700));
    cleanups.push(() => upstream.close());
    const sidecar = await startProcess(upstream.url);
    const pending = fetch(`http://127.0.0.1:${sidecar.proxyPort}/api/v1/reports`);
    await new Promise((r) => setTimeout(r, 150));
    sidecar.child.kill('SIGTERM');
    const response = await pending;
    expect(await response.text()).toBe('late but whole');
    expect(await sidecar.exited).toBe(0);
  });

  it.each([
    ['UPSTREAM_URL', 'not a url'],
    ['UPSTREAM_URL', 'https://api:3000/'],
    ['PORT', 'http'],
    ['METRICS_PORT', '99999'],
    ['UPSTREAM_TIMEOUT_MS', '5s'],
    ['HOST', '999.1.1.1'],
    ['HEADERS_TIMEOUT_MS', '40000'],
  ])('exits 78 naming %s when it is %j', (name, value) => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', main], {
      // Ports 0 and loopback: a sidecar that wrongly starts binds nothing anyone else needs.
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', METRICS_PORT: '0', [name]: value },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toMatch(new RegExp(`^sidecar: invalid configuration: ${name}: [^\\n]*\\n$`));
  });

  it('starts with LOG_LEVEL and UPSTREAM_RETRIES set to nothing, as if unset', async () => {
    const upstream = await startUpstream((_req, res) => res.end('ok'));
    cleanups.push(() => upstream.close());
    const sidecar = await startProcess(upstream.url, { LOG_LEVEL: '', UPSTREAM_RETRIES: ' ' });
    expect((await fetch(`http://127.0.0.1:${sidecar.metricsPort}/healthz`)).status).toBe(200);
  });

  it.each([
    ['PORT', 'proxy'],
    ['METRICS_PORT', 'metrics'],
  ])('exits 1 with one line when %s is in use', async (variable) => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => holder.close(() => resolve())));
    const port = (holder.address() as AddressInfo).port;
    const result = spawnSync(process.execPath, ['--import', 'tsx', main], {
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', METRICS_PORT: '0', [variable]: String(port) },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `sidecar: cannot listen on 127.0.0.1:${port}: address already in use (${variable})\n`,
    );
  });

  it('exits 78 naming HOST when it is no address of this machine', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', main], {
      env: { ...process.env, HOST: '192.0.2.1', PORT: '0', METRICS_PORT: '0' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toMatch(
      /^sidecar: cannot listen on 192\.0\.2\.1:0: address not available on this machine \(HOST\)\n$/,
    );
  });
});

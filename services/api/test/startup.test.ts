/**
 * The API process refusing to start: one line on stderr naming the variable to
 * change, no stack trace; exit 78 (EX_CONFIG) for a bad value or an address that
 * cannot be bound, 1 for a port another process holds. And the one unwritable
 * DATA_DIR that is fine: a read-only directory that holds a database.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runApiToExit, startApiProcess } from './helpers/api-process.js';

const scratch = mkdtempSync(join(tmpdir(), 'stagecraft-startup-'));
chmodSync(scratch, 0o755); // other users (the read-only test's) may enter
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Exactly one line, and nothing that looks like a stack trace. */
function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((line) => line !== '');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  return lines[0]!;
}

describe('bad values: exit 78, one line naming the variable', () => {
  const aFile = join(scratch, 'a-file');
  writeFileSync(aFile, 'not a directory');

  it.each([
    ['HOST', { HOST: '999.1.1.1' }, /^api: invalid configuration: HOST: /],
    ['HOST', { HOST: '1.2.3' }, /^api: invalid configuration: HOST: /],
    ['DATA_DIR', { DATA_DIR: aFile }, /^api: invalid configuration: DATA_DIR: .*a-file is not a directory$/],
    [
      'DATA_DIR',
      { DATA_DIR: join(aFile, 'below') },
      /^api: invalid configuration: DATA_DIR: .* cannot be created: .*a-file is not a directory$/,
    ],
    [
      'DATA_DIR',
      { DATA_DIR: '/etc/passwd' },
      /^api: invalid configuration: DATA_DIR: \/etc\/passwd is not a directory$/,
    ],
    ['METRICS_PORT', { PORT: '3999', METRICS_PORT: '3999' }, /^api: invalid configuration: METRICS_PORT: /],
    [
      'HEADERS_TIMEOUT_MS',
      { HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '5000' },
      /HEADERS_TIMEOUT_MS: /,
    ],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }, /^api: invalid configuration: LOG_LEVEL: /],
  ])('names %s (%j)', (_name, env, line) => {
    const { status, stderr } = runApiToExit({ DATA_DIR: join(scratch, 'data'), ...env });
    expect(status, stderr).toBe(78);
    expect(oneLine(stderr)).toMatch(line);
  });

  it('starts with every variable set to nothing: empty means unset', async () => {
    const api = await startApiProcess({
      DATA_DIR: join(scratch, 'empty-vars'),
      LOG_LEVEL: '',
      SHUTDOWN_TIMEOUT_MS: '',
      FETCH_TIMEOUT_MS: ' ',
    });
    try {
      expect((await fetch(`http://127.0.0.1:${api.port}/healthz`)).status).toBe(200);
    } finally {
      await api.stop();
    }
  });
});

describe('ports that cannot be bound', () => {
  let holder: Server | undefined;
  afterAll(() => holder?.close());

  async function heldPort(): Promise<number> {
    holder ??= createServer();
    if (!holder.listening) await new Promise<void>((resolve) => holder!.listen(0, '127.0.0.1', resolve));
    return (holder.address() as AddressInfo).port;
  }

  it.each([
    ['PORT', (port: number) => ({ PORT: String(port) })],
    ['METRICS_PORT', (port: number) => ({ METRICS_PORT: String(port) })],
  ])('exits 1 with one line when %s is in use', async (variable, env) => {
    const port = await heldPort();
    const { status, stderr } = runApiToExit({ DATA_DIR: join(scratch, 'data-inuse'), ...env(port) });
    expect(status).toBe(1);
    expect(oneLine(stderr)).toBe(
      `api: cannot listen on 127.0.0.1:${port}: address already in use (${variable})`,
    );
  });

  it('exits 78 naming HOST when it is no address of this machine', () => {
    const { status, stderr } = runApiToExit({ DATA_DIR: join(scratch, 'data-host'), HOST: '192.0.2.1' });
    expect(status).toBe(78);
    expect(oneLine(stderr)).toMatch(
      /^api: cannot listen on 192\.0\.2\.1:0: address not available on this machine \(HOST\)$/,
    );
  });
});

// Permissions only bind a process that is not root: as root, run the API as
// nobody; as anyone else (a developer, the dev container's user), as that user.
describe('a DATA_DIR the API cannot write', () => {
  const nobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  // Write access back, or an owner who is not root could not remove the scratch folder.
  afterAll(() => {
    for (const dir of ['read-only-empty', 'read-only-db'].map((d) => join(scratch, d)))
      if (existsSync(dir)) chmodSync(dir, 0o755);
  });

  it('exits 78 when it holds no database to serve read-only', () => {
    const dir = join(scratch, 'read-only-empty');
    mkdirSync(dir, { mode: 0o555 });
    chmodSync(dir, 0o555);
    const { status, stderr } = runApiToExit({ DATA_DIR: dir }, nobody);
    expect(status, stderr).toBe(78);
    expect(oneLine(stderr)).toMatch(
      /^api: invalid configuration: DATA_DIR: .* is not writable and holds no database/,
    );
  });

  it('starts read-only when it holds one: reads work, readiness says not writable', async () => {
    const dir = join(scratch, 'read-only-db');
    mkdirSync(dir, { mode: 0o755 });
    // Make the database, stop cleanly (the WAL is checkpointed), then take write access away.
    const writer = await startApiProcess({ DATA_DIR: dir });
    writer.child.kill('SIGTERM');
    expect(await writer.exited).toBe(0);
    chmodSync(dir, 0o555);
    const api = await startApiProcess({ DATA_DIR: dir }, nobody);
    try {
      const list = await fetch(`http://127.0.0.1:${api.port}/api/v1/reports`);
      expect(list.status).toBe(200);
      expect(await list.json()).toMatchObject({ items: [] });
      const ready = await fetch(`http://127.0.0.1:${api.port}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ checks: { storage: true, storageWritable: false } });
    } finally {
      await api.stop();
    }
  });
});

/**
 * A throw-away PostgreSQL cluster on 127.0.0.1 for tests and benchmarks, from
 * Debian's server binaries (/usr/lib/postgresql/<version>/bin, the `postgresql`
 * package; `./stagecraft test` installs it): initdb into a temporary folder, the
 * server on a free loopback port with its unix socket in that folder, password
 * authentication over TCP (as the stacks use it), then stopped and removed.
 *
 * PostgreSQL refuses to run as root, so where this process is root every
 * command runs as `nobody` (runuser), owner of the folder. fsync is off: these
 * clusters hold test data, and what survives a crash is proved against the real
 * image (e2e/reliability-postgres.test.ts). Without the binaries,
 * `startPostgres` throws, naming the package to install: a test that needs them
 * fails, it never skips.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian puts each installed major version's server binaries. */
const DEBIAN_ROOT = '/usr/lib/postgresql';

export const MISSING_POSTGRES =
  "PostgreSQL's server binaries are missing (no /usr/lib/postgresql/<version>/bin/initdb): install Debian's postgresql package (sudo apt-get install postgresql; ./stagecraft test does it)";

/** The newest installed version's bin folder, or undefined. */
export function postgresBin(root = DEBIAN_ROOT): string | undefined {
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

export interface PostgresCluster {
  /** postgres://stagecraft:<password>@127.0.0.1:<port>/<database> */
  url(database?: string): string;
  readonly port: number;
  readonly password: string;
  /** Creates a database (named for one test file, so files sharing a cluster share no table). */
  createDatabase(name: string): string;
  /** Runs SQL through psql on the server's socket, as the cluster's superuser; its output. */
  psql(sql: string, database?: string): string;
  /** Stops the server (fast: connections are cut, as a database restart cuts them). */
  stop(): void;
  /** Starts it again on the same port, with its data. */
  start(): void;
  /** Stops the server and removes its folder. */
  remove(): void;
}

export interface PostgresOptions {
  /** Extra server settings (`-c name=value`). */
  settings?: Record<string, string>;
}

const USER = 'stagecraft';

/** A port free on 127.0.0.1 now (the server binds it a moment later). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresCluster> {
  const bin = postgresBin();
  if (bin === undefined) throw new Error(MISSING_POSTGRES);
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-pg-'));
  const data = join(dir, 'data');
  const password = `pw-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  writeFileSync(join(dir, 'pwfile'), `${password}\n`, { mode: 0o600 });
  if (root) {
    const nobody = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim();
    chownSync(dir, Number(nobody), Number(nobody));
    chownSync(join(dir, 'pwfile'), Number(nobody), Number(nobody));
  }
  const exec = (command: string, args: string[]) => {
    const [file, argv] = root
      ? ['runuser', ['-u', 'nobody', '--', join(bin, command), ...args]]
      : [join(bin, command), args];
    const result = spawnSync(file, argv, { encoding: 'utf8', cwd: dir, timeout: 60_000 });
    if (result.status !== 0)
      throw new Error(
        `${command} ${args.join(' ')} exited ${result.status ?? result.signal}: ${result.stderr}${result.stdout}`.trim(),
      );
    return result.stdout;
  };
  try {
    exec('initdb', [
      '-D',
      data,
      '-U',
      USER,
      `--pwfile=${join(dir, 'pwfile')}`,
      '--auth-host=scram-sha-256',
      '--auth-local=trust',
      '-E',
      'UTF8',
      '--no-instructions',
    ]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const port = await freePort();
  const settings = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: dir,
    fsync: 'off',
    full_page_writes: 'off',
    ...options.settings,
  };
  const serverOptions = Object.entries(settings)
    .map(([name, value]) => `-c ${name}=${value}`)
    .join(' ');
  const start = () =>
    exec('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      serverOptions,
      'start',
    ]);
  const stop = () => exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  let running = false;
  const cluster: PostgresCluster = {
    port,
    password,
    url: (database = 'postgres') =>
      `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    psql: (sql, database = 'postgres') =>
      exec('psql', [
        '-h',
        dir,
        '-p',
        String(port),
        '-U',
        USER,
        '-d',
        database,
        '-At',
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        sql,
      ]),
    createDatabase: (name) => {
      cluster.psql(`CREATE DATABASE "${name.replaceAll('"', '')}"`);
      return cluster.url(name);
    },
    stop: () => {
      if (!running) return;
      stop();
      running = false;
    },
    start: () => {
      if (running) return;
      start();
      running = true;
    },
    remove: () => {
      try {
        cluster.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  try {
    cluster.start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return cluster;
}

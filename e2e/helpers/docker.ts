/**
 * Docker for the end-to-end tests: builds, images and their files and layers,
 * hardened containers, health waits. Every call's output is captured and shown
 * when it fails (commands run through @stagecraft/testkit/command). A missing
 * engine fails the calling test with a clear message; it never turns into a skip.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caSecretArgs } from '@stagecraft/testkit/ca-bundle';
import { docker, dockerAsync, run, runAsync, type Run } from '@stagecraft/testkit/command';
import { REPO_ROOT } from '@stagecraft/testkit/repository';

// Also importable from here, as e2e files written before the testkit do
// (devcontainer.test.ts, helpers/browser.ts); the one implementation is the testkit's.
export { REPO_ROOT, copyRepository } from '@stagecraft/testkit/repository';
export { run } from '@stagecraft/testkit/command';

/** Runs JavaScript with a running container's own node (distroless images have no shell). */
export function nodeInContainer(container: string, script: string): string {
  return docker('exec', container, '/nodejs/bin/node', '-e', script);
}

/** Runs JavaScript in a throw-away container of a production image; its output, whatever the exit code. */
export function nodeInImage(image: string, script: string): string {
  return run('docker', ['run', '--rm', '--entrypoint', '/nodejs/bin/node', image, '-e', script]).stdout;
}

export function requireDocker(): void {
  const result = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  if (result.error || result.status !== 0) {
    throw new Error(
      'These tests need a running Docker engine with BuildKit and Compose, and none answered ' +
        `(${(result.stderr || result.error?.message || '').trim()}). ` +
        'Start one, or run scripts/docker/ensure-engine.sh and scripts/docker/stand-ins.sh (see README).',
    );
  }
}

export function build(options: {
  dockerfile: string;
  tag: string;
  target?: string;
  context?: string;
  extra?: string[];
}): Run {
  const args = [
    'build',
    '--progress=plain',
    '-f',
    options.dockerfile,
    '-t',
    options.tag,
    ...caSecretArgs(),
    ...(options.extra ?? []),
  ];
  if (options.target) args.push('--target', options.target);
  args.push(options.context ?? '.');
  return run('docker', args, { cwd: options.context ?? REPO_ROOT });
}

export function mustBuild(options: Parameters<typeof build>[0]): string {
  const result = build(options);
  if (result.status !== 0) {
    throw new Error(`building ${options.tag} failed\n${(result.stdout + result.stderr).slice(-6000)}`);
  }
  return result.stdout + result.stderr;
}

/** Polls a container's health status until it is healthy (or fails). */
export async function waitHealthy(container: string, timeoutMs = 60_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const status = await dockerAsync(
      'inspect',
      container,
      '--format',
      '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}',
    );
    if (status.endsWith('healthy') && !status.endsWith('unhealthy')) return Date.now() - started;
    if (status.startsWith('exited') || status.endsWith('unhealthy')) {
      throw new Error(
        `${container} is ${status}:\n${(await runAsync('docker', ['logs', '--tail', '50', container])).stdout}`,
      );
    }
    if (Date.now() - started > timeoutMs)
      throw new Error(`${container} not healthy after ${timeoutMs} ms (${status})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The paths of every file and directory in an image's file system. */
export function imageFiles(image: string): string[] {
  const id = docker('create', image);
  try {
    const listing = spawnSync('sh', ['-c', `docker export ${id} | tar -t`], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    if (listing.status !== 0) throw new Error(`cannot list ${image}: ${listing.stderr}`);
    return listing.stdout
      .split('\n')
      .filter(Boolean)
      .map((p) => '/' + p.replace(/\/$/, ''));
  } finally {
    docker('rm', id);
  }
}

/**
 * The files of an image's file system with the setuid or setgid bit, read off
 * `docker export` (so images without a shell or find are read the same way).
 */
export function setuidFiles(image: string): string[] {
  const id = docker('create', image);
  try {
    const listing = spawnSync('sh', ['-c', `docker export ${id} | tar -tv`], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    if (listing.status !== 0) throw new Error(`cannot list ${image}: ${listing.stderr}`);
    // "-rwsr-xr-x root/root 72000 2025-01-01 00:00 usr/bin/su": s or S where the
    // owner's or the group's x would be.
    return listing.stdout
      .split('\n')
      .filter((line) => /^-..[sS]|^-.....[sS]/.test(line))
      .map((line) => '/' + line.split(/\s+/).slice(5).join(' '));
  } finally {
    docker('rm', id);
  }
}

/**
 * The paths in each layer of an image, as saved by `docker save`: files a later
 * layer deleted are still listed in the layer that added them.
 */
export function layerFiles(image: string): string[][] {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-layers-'));
  try {
    const saved = spawnSync('sh', ['-c', `docker save ${image} | tar -x -C ${dir}`], { encoding: 'utf8' });
    if (saved.status !== 0) throw new Error(`cannot save ${image}: ${saved.stderr}`);
    const [manifest] = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
    return manifest!.Layers.map((layer) => {
      const listing = spawnSync('tar', ['-t', '-f', join(dir, layer)], {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
      });
      if (listing.status !== 0) throw new Error(`cannot list layer ${layer} of ${image}: ${listing.stderr}`);
      return listing.stdout
        .split('\n')
        .filter(Boolean)
        .map((p) => '/' + p.replace(/\/$/, ''));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function publishedPort(container: string, port: number): number {
  const mapping = docker('port', container, String(port)); // e.g. 127.0.0.1:49153
  return Number(mapping.split('\n')[0]!.split(':').at(-1));
}

/**
 * Starts a container as production runs it (read-only root, no capabilities,
 * no-new-privileges), removing any leftover of the same name first.
 */
export function runHardened(container: string, image: string, extra: string[]): void {
  run('docker', ['rm', '-f', container]);
  docker(
    'run',
    '-d',
    '--name',
    container,
    '--read-only',
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    ...extra,
    image,
  );
}

/**
 * Where the gateway writes, each a tmpfs owned by nginx (uid 101) as in
 * production: its temp files, its pid file, the configuration it renders at start.
 */
export const GATEWAY_WRITABLE = ['/var/cache/nginx', '/run', '/etc/nginx/conf.d'];

/** `--tmpfs` arguments for those places (all of them unless told which). */
export function gatewayTmpfs(paths: readonly string[] = GATEWAY_WRITABLE): string[] {
  return paths.flatMap((path) => ['--tmpfs', `${path}:uid=101,gid=101`]);
}

/**
 * A gateway container of `image` as production runs it (runHardened, its writable
 * places on tmpfs), port 8080 published on 127.0.0.1; `extra` adds to its options.
 */
export function runGateway(container: string, image: string, extra: string[] = []): void {
  runHardened(container, image, [...gatewayTmpfs(), ...extra, '-p', '127.0.0.1::8080']);
}

/**
 * e2e/gateway/echo-upstream.mjs in a read-only container on `network`, under the
 * name the gateway proxies to (`sidecar`): a gateway alone can then be tested
 * end to end.
 */
export function startEchoUpstream(container: string, network: string): void {
  docker(
    'run',
    '-d',
    '--name',
    container,
    '--network',
    network,
    '--network-alias',
    'sidecar',
    '--read-only',
    '--user',
    'node',
    '-v',
    `${join(REPO_ROOT, 'e2e/gateway/echo-upstream.mjs')}:/echo.mjs:ro`,
    'node:24-trixie-slim',
    'node',
    '/echo.mjs',
  );
}

/**
 * The linux/arm64 images, built from the same Dockerfiles on this amd64 machine and
 * run under QEMU (README, "Apple Silicon and arm64 servers"): their architecture
 * fields say arm64; the API's production image starts to healthy, loads
 * better-sqlite3's arm64 binary and keeps a report; the sidecar's proxies to it;
 * the gateway's passes `nginx -t`; the API's dev image resolves its own aarch64
 * binary even with the sources bind-mounted as the dev stack mounts them.
 *
 * QEMU and the arm64 stand-ins come first (scripts/docker/ensure-arm64.sh and
 * stand-ins.sh --arm64, each doing only what is missing); the times of every step
 * go to test-results/arm64-times.json for the quick benchmark. Its own network and
 * container names, ports published on 127.0.0.1 by Docker's choice: nothing
 * collides with the other suites.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARM64_BASE_IMAGES,
  ARM64_IMAGES,
  arm64Tag,
  buildArm64,
  prepareArm64,
  writeArm64Times,
  type Arm64Image,
} from '@stagecraft/testkit/arm64';
import { caSecretArgs } from '@stagecraft/testkit/ca-bundle';
import { docker, run } from '@stagecraft/testkit/command';
import { REPO_ROOT } from '@stagecraft/testkit/repository';
import { API_TOKEN_FILE, authorization } from './helpers/api-token.js';
import { publishedPort, requireDocker, runHardened, waitHealthy } from './helpers/docker.js';

const TAG = 'stagecraft-test-arm64';
const NETWORK = 'stagecraft-test-arm64-net';
const [API, SIDECAR, FIXTURES] = ['api', 'sidecar', 'fixtures'].map((c) => `stagecraft-test-arm64-${c}`) as [
  string,
  string,
  string,
];
const BUILT = ARM64_IMAGES.filter((i) => !(i.name === 'sidecar' && i.target === 'dev'));
const image = (name: Arm64Image['name'], target: Arm64Image['target']) =>
  arm64Tag(
    TAG,
    BUILT.find((i) => i.name === name && i.target === target)!,
  );

/** Node.js code that loads better-sqlite3, then prints the .node file the process mapped and its ELF machine. */
const LOADED_ADDON = `
  const fs = require('fs');
  const Database = require(require.resolve('better-sqlite3', { paths: [process.cwd()] }));
  const version = new Database(':memory:').prepare('select sqlite_version() as v').get().v;
  const addon = [...new Set(fs.readFileSync('/proc/self/maps', 'utf8').split('\\n')
    .map((line) => line.split(/\\s+/)[5]).filter((p) => p && p.endsWith('.node')))];
  // e_machine: 2 bytes at offset 18 of the ELF header (183 aarch64, 62 x86-64).
  const machine = addon.map((p) => fs.readFileSync(p).readUInt16LE(18));
  process.stdout.write(JSON.stringify({ arch: process.arch, version, addon, machine }));`;
const EM_AARCH64 = 183;

const containers = [API, SIDECAR, FIXTURES];
const times = { qemuMs: 0, standInsMs: 0, buildsMs: {} as Record<string, number> };

beforeAll(() => {
  requireDocker();
  Object.assign(times, prepareArm64());
  for (const built of BUILT) {
    times.buildsMs[`${built.name}:${built.target}`] = buildArm64(built, arm64Tag(TAG, built));
  }
  writeArm64Times({ date: new Date().toISOString(), ...times });
  console.log(`arm64: ${JSON.stringify(times)}`);
  for (const c of containers) run('docker', ['rm', '-f', c]);
  run('docker', ['network', 'rm', NETWORK]);
  docker('network', 'create', NETWORK);
});

afterAll(() => {
  for (const c of containers) run('docker', ['rm', '-f', c]);
  run('docker', ['network', 'rm', NETWORK]);
});

describe('linux/arm64 images, under emulation', () => {
  it('are arm64 images, built on arm64 stand-ins', () => {
    for (const name of [...BUILT.map((i) => arm64Tag(TAG, i)), ...Object.values(ARM64_BASE_IMAGES)]) {
      expect(docker('image', 'inspect', name, '--format', '{{.Os}}/{{.Architecture}}'), name).toBe(
        'linux/arm64',
      );
    }
    // Every stand-in labelled as such, as the amd64 ones are (standins/README.md).
    for (const name of Object.values(ARM64_BASE_IMAGES)) {
      expect(
        docker('image', 'inspect', name, '--format', '{{index .Config.Labels "dev.stagecraft.stand-in"}}'),
        name,
      ).toBe('true');
    }
  });

  it('API production: healthy, better-sqlite3 arm64 loaded, a report kept and read back through the arm64 sidecar', async () => {
    // A page to fetch, on this network only, allow-listed as the fixtures overlay does.
    docker(
      'run',
      '-d',
      '--name',
      FIXTURES,
      '--network',
      NETWORK,
      '--network-alias',
      'fixtures',
      '--read-only',
      '--user',
      'node',
      '-v',
      `${join(REPO_ROOT, 'e2e/fixtures')}:/site:ro`,
      'node:24-trixie-slim',
      'node',
      '/site/site.mjs',
    );
    runHardened(API, image('api', 'production'), [
      '--network',
      NETWORK,
      '--network-alias',
      'api',
      '--tmpfs',
      '/tmp',
      '--tmpfs',
      '/data:uid=65532,gid=65532',
      '-v',
      `${API_TOKEN_FILE}:/run/secrets/api-token:ro`,
      '-e',
      'API_TOKEN_FILE=/run/secrets/api-token',
      '-e',
      'FETCH_ALLOW_HOSTS=fixtures',
    ]);
    // Emulated start-up is slower than native: up to 2 minutes.
    console.log(`arm64 API healthy ${await waitHealthy(API, 120_000)} ms after start`);

    const loaded = JSON.parse(
      docker('exec', '-w', '/app/services/api', API, '/nodejs/bin/node', '-e', LOADED_ADDON),
    ) as {
      arch: string;
      addon: string[];
      machine: number[];
    };
    expect(loaded.arch).toBe('arm64');
    expect(loaded.addon).toEqual(['/app/node_modules/better-sqlite3/prebuilds/linux-arm64.node']);
    expect(loaded.machine).toEqual([EM_AARCH64]);

    runHardened(SIDECAR, image('sidecar', 'production'), [
      '--network',
      NETWORK,
      '--tmpfs',
      '/tmp',
      '-e',
      'UPSTREAM_URL=http://api:3000',
      '-p',
      '127.0.0.1::8080',
    ]);
    await waitHealthy(SIDECAR, 120_000);
    const base = `http://127.0.0.1:${publishedPort(SIDECAR, 8080)}`;
    const created = await fetch(`${base}/api/v1/reports`, {
      method: 'POST',
      headers: { ...authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://fixtures:8000/page.html' }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const report = (await created.json()) as { id: number; internal: number; external: number };
    expect([report.internal, report.external]).toEqual([2, 1]);
    const read = await fetch(`${base}/api/v1/reports/${report.id}`, { headers: authorization });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({
      id: report.id,
      url: 'http://fixtures:8000/page.html',
      internal: 2,
    });
  });

  it('picks the SQLite binary by TARGETARCH, and fails the build for a platform the package ships none for', () => {
    // prod-deps runs on the build machine's platform whatever the target, so a
    // linux/s390x target needs no s390x image and no emulation to reach its check.
    const result = run('docker', [
      'build',
      '--progress=plain',
      '--platform',
      'linux/s390x',
      '--build-arg',
      'BUILD_NODE_IMAGE=node:24-trixie-slim',
      ...caSecretArgs(),
      '--target',
      'prod-deps',
      '-f',
      'services/api/Dockerfile',
      '.',
    ]);
    const output = result.stdout + result.stderr;
    expect(result.status, 'a linux/s390x build of prod-deps fails').not.toBe(0);
    // npm installed the tree; what failed is the check for the target's binary.
    expect(output).toMatch(/added \d+ packages/);
    expect(output).toContain('prod-deps: better-sqlite3 ships no binary for linux-s390x');
  });

  it('gateway: its configuration passes nginx -t on the arm64 nginx', () => {
    const result = run('docker', [
      'run',
      '--rm',
      '--entrypoint',
      'nginx',
      image('gateway', 'production'),
      '-t',
    ]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain('test is successful');
    expect(docker('run', '--rm', '--entrypoint', 'uname', image('gateway', 'production'), '-m')).toBe(
      'aarch64',
    );
  });

  it('API dev: resolves its own aarch64 better-sqlite3 binary, the sources bind-mounted as the dev stack does', () => {
    // docker-compose.yml's bind mounts: sources only; the host's node_modules
    // (x64 on this machine) is never mounted, so nothing of it can be loaded.
    const output = docker(
      'run',
      '--rm',
      '-v',
      `${join(REPO_ROOT, 'services/api/src')}:/app/services/api/src:ro`,
      '-v',
      `${join(REPO_ROOT, 'packages/contract/src')}:/app/packages/contract/src:ro`,
      '--entrypoint',
      'node',
      image('api', 'dev'),
      '-e',
      LOADED_ADDON,
    );
    const loaded = JSON.parse(output) as { arch: string; addon: string[]; machine: number[] };
    expect(loaded.arch).toBe('arm64');
    expect(loaded.addon).toEqual(['/app/node_modules/better-sqlite3/prebuilds/linux-arm64.node']);
    expect(loaded.machine).toEqual([EM_AARCH64]);
    // And the dev image's own tools are arm64 too: tsx's esbuild binary, which npm chose for the platform it ran on.
    expect(
      docker('run', '--rm', '--entrypoint', 'sh', image('api', 'dev'), '-c', 'ls /app/node_modules/@esbuild'),
    ).toBe('linux-arm64');
  });
});

/**
 * Compose Watch (docker-compose.watch.yml), for real. Its configuration: the
 * source bind mounts of the API and the sidecar become sync rules to the same
 * paths, nothing else in the stack changes, and a service rebuilds on each file
 * its image installs its dependencies from and on its Dockerfile. The running
 * stack (`up --build --watch` in the background, on a copy of the repository):
 * an edit on the host shows in the next responses through the gateway without a
 * rebuild; a path .dockerignore excludes is never copied in; a dependency added
 * to the API's package.json (and the lockfile, as `npm install` writes both) can
 * be imported once Watch has rebuilt the image by itself.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '@stagecraft/testkit/command';
import {
  compose,
  composeUpWatch,
  containerIds,
  type ComposeProject,
  type ComposeWatch,
} from '@stagecraft/testkit/compose';
import { REPO_ROOT, copyRepository } from '@stagecraft/testkit/repository';
import { poll } from '@stagecraft/testkit/wait';
import { composeEnv } from './helpers/compose.js';
import { requireDocker } from './helpers/docker.js';

const WATCH_FILES = ['docker-compose.yml', 'docker-compose.watch.yml'];
const WATCHED = ['api', 'sidecar'];
const GATEWAY = 'http://127.0.0.1:18086';
// This suite's images under names of its own: a rebuild with a dependency added
// must never replace the stagecraft-*:dev images the development stack runs.
const IMAGES = {
  api: 'stagecraft-e2e-watch/api:dev',
  sidecar: 'stagecraft-e2e-watch/sidecar:dev',
  gateway: 'stagecraft-e2e-watch/gateway:dev',
};
// The dependency the test adds to the API: tiny, without dependencies of its
// own, already in the lockfile (the sidecar's http-proxy-middleware needs it) and
// so never installed in the API's image until the API asks for it.
const DEPENDENCY = 'is-plain-obj';

/** `!override` and `!reset`, which the overlay needs, came with Compose 2.24.4. */
function requireCompose(): void {
  const version = run('docker', ['compose', 'version', '--short']).stdout.trim();
  const [major = 0, minor = 0, patch = 0] = version.split(/[.-]/).map(Number);
  if (major * 1e6 + minor * 1e3 + patch < 2_024_004)
    throw new Error(`docker-compose.watch.yml needs Compose 2.24.4 or newer; this machine has ${version}`);
}

interface Volume {
  type: string;
  source: string;
  target: string;
}
interface Rule {
  path: string;
  action: string;
  target?: string;
}
interface Service {
  volumes?: Volume[];
  develop?: { watch: Rule[] };
  build?: { dockerfile: string };
}

function config(files: string[]): Record<string, Service> {
  const result = run('docker', ['compose', ...files.flatMap((f) => ['-f', f]), 'config', '--format', 'json']);
  if (result.status !== 0) throw new Error(`docker compose config failed: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { services: Record<string, Service> }).services;
}

describe('docker-compose.watch.yml', () => {
  it('starts with a comment giving its invocation', () => {
    const first = readFileSync(join(REPO_ROOT, 'docker-compose.watch.yml'), 'utf8').split('\n')[0]!;
    expect(first).toContain(
      'docker compose -f docker-compose.yml -f docker-compose.watch.yml up --build --watch',
    );
  });

  it('swaps the source bind mounts of the API and the sidecar for sync rules to the same paths, changing nothing else', () => {
    requireDocker();
    requireCompose();
    const base = config(['docker-compose.yml']);
    const watch = config(WATCH_FILES);
    expect(Object.keys(watch).sort()).toEqual(Object.keys(base).sort());
    // A service as configured, without the two keys the overlay may change.
    const rest = (service: Service) => {
      const copy = { ...service };
      delete copy.volumes;
      delete copy.develop;
      return copy;
    };
    for (const name of Object.keys(base)) {
      const baseVolumes = base[name]!.volumes ?? [];
      const { volumes = [], develop } = watch[name]!;
      expect(rest(watch[name]!), name).toEqual(rest(base[name]!));
      if (!WATCHED.includes(name)) {
        expect(volumes, name).toEqual(baseVolumes);
        expect(develop, name).toBeUndefined();
        continue;
      }
      const binds = baseVolumes.filter((v) => v.type === 'bind');
      expect(binds.length, name).toBeGreaterThan(0);
      expect(volumes, name).toEqual(baseVolumes.filter((v) => v.type !== 'bind'));
      expect(
        develop!.watch.filter((r) => r.action === 'sync').map((r) => [r.path, r.target]),
        name,
      ).toEqual(binds.map((v) => [v.source, v.target]));
    }
  });

  it("rebuilds each on a change to its Dockerfile or to a package.json or lockfile its image's deps stage installs from", () => {
    requireDocker();
    requireCompose();
    const watch = config(WATCH_FILES);
    for (const name of WATCHED) {
      const service = watch[name]!;
      const rebuilds = service
        .develop!.watch.filter((r) => r.action === 'rebuild')
        .map((r) => relative(REPO_ROOT, r.path))
        .sort();
      const dockerfile = service.build!.dockerfile;
      expect(rebuilds, name).toEqual(
        [
          dockerfile,
          'package-lock.json',
          'package.json',
          'packages/contract/package.json',
          'packages/telemetry/package.json',
          `services/${name}/package.json`,
        ].sort(),
      );
      // Each manifest is one the manifests stage holds for the deps stage's npm ci.
      const text = readFileSync(join(REPO_ROOT, dockerfile), 'utf8');
      const stage = (name: string) => {
        const start = text.indexOf(` AS ${name}\n`);
        expect(start, `${dockerfile}: stage ${name}`).toBeGreaterThan(0);
        return text.slice(start, text.indexOf('\nFROM ', start));
      };
      expect(stage('deps')).toMatch(/^COPY --from=manifests .*\n(.*\n)*.*npm ci/m);
      const copied = stage('manifests')
        .split('\n')
        .filter((line) => line.startsWith('COPY '))
        .flatMap((line) => line.split(/\s+/).map((word) => word.replace(/^\//, '')));
      for (const file of rebuilds.filter((f) => f !== dockerfile)) expect(copied, name).toContain(file);
    }
  });
});

describe('the watch stack', () => {
  let copy = '';
  let stack: ComposeProject | undefined;
  let watch: ComposeWatch | undefined;
  let ended: number | undefined;
  let original = '';
  const opsRoutes = () => join(copy, 'services/api/src/http/ops-routes.ts');
  const anchor = "res.json({ status: 'ok' });";

  /**
   * What went wrong, Compose's own lines first (a failed rebuild says why there),
   * then the end of the containers' logs; printed too, so a CI log shows it whole.
   */
  const watchReport = (headline: string) => {
    const report =
      `${headline}\n--- docker compose (its own lines):\n${watch!.composeLines().slice(-4000)}` +
      `\n--- all output, the end:\n${watch!.output().slice(-3000)}`;
    console.error(report);
    return report;
  };

  /**
   * Polls `fn` while `up --watch` runs. Its exit, the time running out, or (from
   * this call on) Compose saying a rebuild failed fails with Compose's output.
   */
  async function whileWatching<T>(
    what: string,
    fn: () => Promise<T | undefined>,
    timeoutMs: number,
  ): Promise<T> {
    const FAILED = /^.*(Build failed|failed to start after update).*$/gm;
    const failures = () => watch!.composeLines().match(FAILED) ?? [];
    const before = failures().length;
    let outcome: { value: T } | { exited: number } | { failed: string };
    try {
      outcome = await poll(
        what,
        async () => {
          if (ended !== undefined) return { exited: ended };
          const failed = failures();
          if (failed.length > before) return { failed: failed.at(-1)! };
          const value = await fn();
          return value === undefined ? undefined : { value };
        },
        timeoutMs,
        100,
      );
    } catch (error) {
      throw new Error(watchReport(String(error)), { cause: error });
    }
    if ('exited' in outcome)
      throw new Error(watchReport(`docker compose up --watch exited ${outcome.exited} before ${what}`));
    if ('failed' in outcome)
      throw new Error(watchReport(`docker compose up --watch said "${outcome.failed}" before ${what}`));
    return outcome.value;
  }

  const healthz = async () => {
    const r = await fetch(`${GATEWAY}/healthz`, { signal: AbortSignal.timeout(5_000) });
    return r.status === 200 ? await r.text() : undefined;
  };
  const inApi = (...command: string[]) =>
    compose(stack!, 'exec', '-T', '-w', '/app/services/api', 'api', ...command);

  beforeAll(async () => {
    requireDocker();
    requireCompose();
    // A copy of the repository: the suite edits sources and package manifests.
    copy = copyRepository('stagecraft-watch-');
    writeFileSync(
      join(copy, 'e2e-watch.images.yml'),
      `services:\n${Object.entries(IMAGES)
        .map(([service, image]) => `  ${service}:\n    image: ${image}\n`)
        .join('')}`,
    );
    stack = {
      project: 'stagecraft-e2e-watch',
      files: [...WATCH_FILES, 'e2e-watch.images.yml'],
      cwd: copy,
      env: composeEnv({ gateway: 18086, prometheus: 19096, inspect: 19232 }),
    };
    original = readFileSync(opsRoutes(), 'utf8');
    expect(original).toContain(anchor);
    compose(stack, 'down', '-v', '--remove-orphans');
    const started = Date.now();
    watch = composeUpWatch(stack, '--build');
    void watch.exited.then((code) => (ended = code));
    await whileWatching(
      'the stack to answer through the gateway and Watch to start',
      async () => (/Watch enabled/.test(watch!.output()) ? await healthz() : undefined),
      600_000,
    );
    console.log(`watch stack built and answering in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  afterAll(async () => {
    await watch?.stop(60_000);
    if (stack) compose(stack, 'down', '-v', '--remove-orphans');
    run('docker', ['image', 'rm', ...Object.values(IMAGES)]);
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it('shows a source edit on the host in the next responses through the gateway, in the same container', async () => {
    const before = containerIds(stack!).api;
    const marker = `watched-${Date.now()}`;
    const saved = Date.now();
    writeFileSync(opsRoutes(), original.replace(anchor, `res.json({ status: 'ok', edit: '${marker}' });`));
    const body = await whileWatching(
      'the edit to show through the gateway',
      async () => {
        const text = await healthz();
        return text?.includes(marker) ? text : undefined;
      },
      60_000,
    );
    expect(JSON.parse(body)).toEqual({ status: 'ok', edit: marker });
    console.log(`watch: save to response in ${Date.now() - saved} ms`);
    // Synced into the running container and reloaded by nodemon: no rebuild, no new container.
    expect(containerIds(stack!).api).toBe(before);
  });

  it('never copies a path .dockerignore excludes into the container', async () => {
    expect(readFileSync(join(copy, '.dockerignore'), 'utf8').split('\n')).toContain('**/.env');
    const src = join(copy, 'services/api/src');
    writeFileSync(join(src, '.env'), 'SECRET=never-synced\n');
    // Written after the excluded file: once it is in, Watch has seen both.
    writeFileSync(join(src, 'watch-probe.txt'), 'synced\n');
    const listing = await whileWatching(
      'watch-probe.txt to be copied in',
      async () => {
        const ls = inApi('ls', '-a', 'src');
        return ls.status === 0 && ls.stdout.split('\n').includes('watch-probe.txt') ? ls.stdout : undefined;
      },
      30_000,
    );
    expect(listing.split('\n')).not.toContain('.env');
  });

  it('rebuilds the API by itself after a dependency is added, and the new import works', async () => {
    // Not in the API's image yet: only the rebuild can make the import work.
    const missing = inApi('node', '-e', `import('${DEPENDENCY}').then(() => console.log('present'))`);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain(`Cannot find package '${DEPENDENCY}'`);
    const before = containerIds(stack!).api;

    // What `npm install is-plain-obj -w services/api` writes, without asking the
    // registry: the range in the API's package.json and its workspace entry in
    // the lockfile, whose node_modules/is-plain-obj the sidecar's install resolved.
    const lockFile = join(copy, 'package-lock.json');
    const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as {
      packages: Record<string, { version?: string; dependencies?: Record<string, string> }>;
    };
    const version = lock.packages[`node_modules/${DEPENDENCY}`]?.version;
    expect(version, `${DEPENDENCY} in the lockfile`).toBeDefined();
    const withDependency = (deps: Record<string, string> = {}) =>
      Object.fromEntries(
        Object.entries({ ...deps, [DEPENDENCY]: `^${version}` }).sort(([a], [b]) => a.localeCompare(b)),
      );
    const manifestFile = join(copy, 'services/api/package.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    manifest.dependencies = withDependency(manifest.dependencies);
    lock.packages['services/api']!.dependencies = withDependency(lock.packages['services/api']!.dependencies);
    const saved = Date.now();
    writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
    writeFileSync(lockFile, JSON.stringify(lock, null, 2) + '\n');
    writeFileSync(
      opsRoutes(),
      `import isPlainObject from '${DEPENDENCY}';\n` +
        original.replace(anchor, "res.json({ status: 'ok', dependency: isPlainObject({ plain: true }) });"),
    );

    const body = await whileWatching(
      'the rebuilt API to answer with its new dependency',
      async () => {
        const text = await healthz();
        return text?.includes('"dependency"') ? text : undefined;
      },
      // A fresh machine's rebuild: npm ci finds every tarball in the build's npm cache.
      300_000,
    );
    expect(JSON.parse(body)).toEqual({ status: 'ok', dependency: true });
    console.log(`watch: dependency added to response in ${((Date.now() - saved) / 1000).toFixed(1)} s`);
    expect(watch!.composeLines()).toMatch(/Rebuilding service "api" after changes were detected/);
    expect(containerIds(stack!).api).not.toBe(before);
    expect(
      inApi('node', '-e', `import('${DEPENDENCY}').then((m) => console.log(typeof m.default))`),
    ).toMatchObject({
      status: 0,
      stdout: 'function\n',
    });
  });
});

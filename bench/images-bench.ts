/**
 * Image benchmark (not a test): the production API image's size next to its base
 * image (the app's own layers) and next to a naive single-stage image of the same
 * service (bench/naive/api.Dockerfile); cold build time of the production target
 * and rebuild time after a one-line .ts change. Writes bench/results/images.json.
 *
 *   npm run bench:images
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const MB = 1e6;
const bundle = process.env.STAGECRAFT_CA_BUNDLE ?? '/etc/ssl/certs/ca-certificates.crt';
const secret = existsSync(bundle) ? ['--secret', `id=ca_bundle,src=${bundle}`] : [];

function docker(args: string[], cwd = root): string {
  return execFileSync('docker', args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * MB,
    env: { ...process.env, DOCKER_BUILDKIT: '1' },
  }).trim();
}

function timedBuild(args: string[], cwd: string): number {
  const started = performance.now();
  const result = spawnSync('docker', ['build', '-q', ...secret, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, DOCKER_BUILDKIT: '1' },
  });
  if (result.status !== 0) throw new Error(`docker build ${args.join(' ')} failed:\n${result.stderr}`);
  return (performance.now() - started) / 1000;
}

const size = (image: string) => Number(docker(['image', 'inspect', image, '--format', '{{.Size}}'])) / MB;

const context = mkdtempSync(join(tmpdir(), 'stagecraft-bench-images-'));
try {
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  for (const file of tracked) cpSync(join(root, file), join(context, file), { recursive: true });

  // Cold: no build cache at all (layers and npm cache mounts) for these builds.
  docker(['builder', 'prune', '--all', '--force']);
  const cold = timedBuild(
    ['-f', 'services/api/Dockerfile', '-t', 'stagecraft-bench/api:production', '.'],
    context,
  );
  const main = join(context, 'services/api/src/main.ts');
  writeFileSync(main, readFileSync(main, 'utf8') + '\n// one-line change for the rebuild benchmark\n');
  const rebuild = timedBuild(
    ['-f', 'services/api/Dockerfile', '-t', 'stagecraft-bench/api:production', '.'],
    context,
  );
  const naiveBuild = timedBuild(
    ['-f', 'bench/naive/api.Dockerfile', '-t', 'stagecraft-bench/api:naive', '.'],
    context,
  );

  const production = size('stagecraft-bench/api:production');
  const base = size('gcr.io/distroless/nodejs24-debian13');
  const naive = size('stagecraft-bench/api:naive');
  const standIn =
    docker([
      'image',
      'inspect',
      'gcr.io/distroless/nodejs24-debian13',
      '--format',
      '{{index .Config.Labels "dev.stagecraft.stand-in"}}',
    ]) === 'true';
  const result = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      memoryGb: Math.round(totalmem() / 2 ** 30),
      engine: docker(['version', '--format', '{{.Server.Version}}']),
    },
    baseImages: standIn ? 'local stand-ins (see standins/README.md)' : 'upstream',
    sizesMb: { production, base, appLayers: production - base, naive },
    buildSeconds: { cold, rebuildAfterTsChange: rebuild, naive: naiveBuild },
    goals: {
      'API app layers < 25 MB': production - base < 25,
      'production < 35% of naive': production / naive < 0.35,
      'rebuild after a .ts change < 20% of cold build': rebuild / cold < 0.2,
    },
  };
  console.log(
    `production ${production.toFixed(1)} MB = base ${base.toFixed(1)} MB + app ${(production - base).toFixed(1)} MB; naive ${naive.toFixed(1)} MB (${((production / naive) * 100).toFixed(0)}%)`,
  );
  console.log(
    `cold build ${cold.toFixed(1)} s, rebuild after a .ts change ${rebuild.toFixed(1)} s (${((rebuild / cold) * 100).toFixed(0)}%), naive build ${naiveBuild.toFixed(1)} s`,
  );
  for (const [goal, met] of Object.entries(result.goals))
    console.log(`${met ? 'met    ' : 'NOT MET'}  ${goal}`);
  const out = join(here, 'results', 'images.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(`written to ${out}`);
} finally {
  rmSync(context, { recursive: true, force: true });
}

/**
 * Images and builds: each production image's size, its base and the app's own
 * layers; the API built three ways (builder pattern, naive single stage,
 * multi-stage) with what each leaves on disk; cold build, rebuild after a .ts
 * change and after a package.json change, on a private copy of the repository.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { caSecretArgs } from '@stagecraft/testkit/ca-bundle';
import { docker, sh, shAsync, type CommandOptions } from '@stagecraft/testkit/command';
import { REPO_ROOT, copyRepository } from '@stagecraft/testkit/repository';
import { median } from '@stagecraft/testkit/stats';
import { log } from './log.js';

const MB = 1e6;
const TAG = 'stagecraft-bench';

export interface ImageFigures {
  production: Record<string, { sizeMb: number; baseMb: number; appMb: number; base: string }>;
  api: {
    multiStageMb: number;
    naiveMb: number;
    builder: { runtimeMb: number; buildImageMb: number; artefactsMb: number; leftBehindMb: number };
  };
  buildSeconds: {
    cold: number;
    tsChange: number;
    packageJsonChange: number;
    runs: number;
    coldMeans: string;
  };
  baseImagesAreStandIns: boolean;
}

const size = (image: string) => Number(docker('image', 'inspect', image, '--format', '{{.Size}}')) / MB;

function baseOf(dockerfile: string): string {
  // The image the final (production) stage starts FROM, with ARG defaults applied.
  const text = readFileSync(join(REPO_ROOT, dockerfile), 'utf8');
  const args = Object.fromEntries([...text.matchAll(/^ARG (\w+)=(\S+)/gm)].map((m) => [m[1]!, m[2]!]));
  const froms = [...text.matchAll(/^FROM (\S+)/gm)].map((m) =>
    m[1]!.replace(/\$\{(\w+)\}/g, (_, k: string) => args[k] ?? ''),
  );
  return froms.at(-1)!;
}

/** Seconds a command takes. */
function timed(command: string, args: string[], options: CommandOptions = {}): number {
  const started = performance.now();
  sh(command, args, options);
  return (performance.now() - started) / 1000;
}

function duMb(path: string): number {
  return Number(sh('du', ['-sb', path]).split('\t')[0]) / MB;
}

export async function measureImages(quick: boolean): Promise<ImageFigures> {
  const runs = quick ? 1 : 3;
  const context = copyRepository('stagecraft-bench-');
  const caSecret = caSecretArgs();
  try {
    const build = (dockerfile: string, tag: string, target: string[] = []) =>
      timed('docker', ['build', '-q', ...caSecret, ...target, '-f', dockerfile, '-t', tag, '.'], {
        cwd: context,
      });

    log('images: the other two ways (builder pattern, naive single stage), side by side');
    const artefacts = join(context, '.builder-out');
    await Promise.all([
      shAsync('bash', [
        join(REPO_ROOT, 'bench/builder/build.sh'),
        context,
        artefacts,
        `${TAG}/api-builder`,
        ...caSecret,
      ]),
      shAsync(
        'docker',
        ['build', '-q', ...caSecret, '-f', 'bench/naive/api.Dockerfile', '-t', `${TAG}/api:naive`, '.'],
        { cwd: context },
      ),
    ]);
    const builder = {
      runtimeMb: size(`${TAG}/api-builder-runtime`),
      buildImageMb: size(`${TAG}/api-builder-build`),
      artefactsMb: duMb(artefacts),
      leftBehindMb: 0,
    };
    builder.leftBehindMb = builder.buildImageMb + builder.artefactsMb;

    log(`images: builds of the API's production target (${runs} run${runs > 1 ? 's' : ''} each)`);
    const main = join(context, 'services/api/src/main.ts');
    const pkg = join(context, 'services/api/package.json');
    const originals = [readFileSync(main, 'utf8'), readFileSync(pkg, 'utf8')] as const;
    const cold: number[] = [];
    const ts: number[] = [];
    const pj: number[] = [];
    for (let i = 0; i < runs; i++) {
      writeFileSync(main, originals[0]);
      writeFileSync(pkg, originals[1]);
      // Cold: a full run empties the build cache, npm's cache mount included; a
      // quick run only turns the layer cache off (npm's cache stays warm).
      if (!quick) docker('builder', 'prune', '--all', '--force');
      cold.push(build('services/api/Dockerfile', `${TAG}/api:production`, quick ? ['--no-cache'] : []));
      writeFileSync(main, originals[0] + `\n// bench edit ${Date.now()}\n`);
      ts.push(build('services/api/Dockerfile', `${TAG}/api:production`));
      const manifest = JSON.parse(originals[1]) as Record<string, unknown>;
      manifest.description = `bench edit ${Date.now()}`;
      writeFileSync(pkg, JSON.stringify(manifest, null, 2) + '\n');
      pj.push(build('services/api/Dockerfile', `${TAG}/api:production`));
    }
    writeFileSync(main, originals[0]);
    writeFileSync(pkg, originals[1]);

    // The production images of every service, from the unmodified sources, under
    // the names docker-compose.prod.yml runs (so the stack measured next uses them).
    log('images: production images of every service');
    const services: [string, string, string][] = [
      ['api', 'services/api/Dockerfile', 'stagecraft-api:latest'],
      ['sidecar', 'services/sidecar/Dockerfile', 'stagecraft-sidecar:latest'],
      ['gateway', 'nginx/Dockerfile', 'stagecraft-gateway:latest'],
    ];
    const production: ImageFigures['production'] = {};
    for (const [name, dockerfile, tag] of services) {
      build(dockerfile, tag);
      const base = baseOf(dockerfile);
      const sizeMb = size(tag);
      const baseMb = size(base);
      production[name] = { sizeMb, baseMb, appMb: sizeMb - baseMb, base };
    }
    const standIn = docker(
      'image',
      'inspect',
      baseOf('services/api/Dockerfile'),
      '--format',
      '{{index .Config.Labels "dev.stagecraft.stand-in"}}',
    );
    return {
      production,
      api: { multiStageMb: production.api!.sizeMb, naiveMb: size(`${TAG}/api:naive`), builder },
      buildSeconds: {
        cold: median(cold),
        tsChange: median(ts),
        packageJsonChange: median(pj),
        runs,
        coldMeans: quick ? 'layer cache off, npm cache warm' : 'empty build cache, npm cache included',
      },
      baseImagesAreStandIns: standIn === 'true',
    };
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

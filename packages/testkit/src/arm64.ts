/**
 * linux/arm64 builds of the project's images on an amd64 machine, through QEMU
 * (README, "Apple Silicon and arm64 servers"), for e2e/arm64.test.ts and the
 * benchmark's arm64 section: QEMU registered and the arm64 stand-ins present (the
 * scripts do both, each only when missing), each image built and timed, and the
 * times the test recorded, which a quick benchmark reports instead of building.
 *
 * This engine's classic image store keeps one platform per name, so the arm64
 * base images live under project-local names (scripts/docker/stand-ins.sh
 * builds them) and reach the Dockerfiles through their ARGs; the stages that run
 * on the build machine's own platform keep the amd64 `node:24-trixie-slim`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { caSecretArgs } from './ca-bundle.js';
import { run } from './command.js';
import { REPO_ROOT } from './repository.js';

/** The arm64 stand-ins, by what the Dockerfiles call them (names as stand-ins.sh's ARM64_IMAGES). */
export const ARM64_BASE_IMAGES = {
  NODE_IMAGE: 'stagecraft-standin/arm64/node:24-trixie-slim',
  RUNTIME_IMAGE: 'stagecraft-standin/arm64/distroless-nodejs24-debian13:latest',
  NGINX_IMAGE: 'stagecraft-standin/arm64/nginx:1.30-trixie',
} as const;

/** One arm64 image of the project: which Dockerfile, which target. */
export interface Arm64Image {
  name: 'api' | 'sidecar' | 'gateway';
  target: 'production' | 'dev';
  dockerfile: string;
}

/**
 * Every arm64 image the README promises. The test builds all but the sidecar's dev
 * image (its emulated npm ci is the API's over again, and CI time counts); the full
 * benchmark builds all five.
 */
export const ARM64_IMAGES: readonly Arm64Image[] = [
  { name: 'api', target: 'production', dockerfile: 'services/api/Dockerfile' },
  { name: 'sidecar', target: 'production', dockerfile: 'services/sidecar/Dockerfile' },
  { name: 'gateway', target: 'production', dockerfile: 'nginx/Dockerfile' },
  { name: 'api', target: 'dev', dockerfile: 'services/api/Dockerfile' },
  { name: 'sidecar', target: 'dev', dockerfile: 'services/sidecar/Dockerfile' },
];

export const arm64Tag = (prefix: string, image: Arm64Image) =>
  `${prefix}/${image.name}:${image.target}-arm64`;

/** `docker build` arguments for an arm64 build of `image` (the gateway has one target, its last stage). */
export function arm64BuildArgs(image: Arm64Image): string[] {
  const bases =
    image.name === 'gateway'
      ? { NGINX_IMAGE: ARM64_BASE_IMAGES.NGINX_IMAGE }
      : {
          NODE_IMAGE: ARM64_BASE_IMAGES.NODE_IMAGE,
          BUILD_NODE_IMAGE: 'node:24-trixie-slim',
          RUNTIME_IMAGE: ARM64_BASE_IMAGES.RUNTIME_IMAGE,
        };
  return [
    '--platform',
    'linux/arm64',
    ...Object.entries(bases).flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]),
    ...(image.name === 'gateway' ? [] : ['--target', image.target]),
  ];
}

/** Runs a script of scripts/docker/, timed; throws with its output if it fails. */
function timedScript(script: string, args: string[] = []): number {
  const started = performance.now();
  const result = run(join(REPO_ROOT, 'scripts/docker', script), args);
  if (result.status !== 0) {
    throw new Error(`scripts/docker/${script} ${args.join(' ')} failed:\n${result.stderr.slice(-4000)}`);
  }
  return performance.now() - started;
}

/**
 * QEMU registered (ensure-arm64.sh: root is needed only where it is not yet) and
 * the arm64 stand-ins present (stand-ins.sh --arm64, built only where missing);
 * how long each took, in ms.
 */
export function prepareArm64(): { qemuMs: number; standInsMs: number } {
  const qemuMs = timedScript('ensure-arm64.sh');
  const standInsMs = timedScript('stand-ins.sh', ['--arm64']);
  return { qemuMs, standInsMs };
}

/** Builds `image` for linux/arm64 as `tag`; its time in ms. Throws with the build's output if it fails. */
export function buildArm64(image: Arm64Image, tag: string, extra: string[] = []): number {
  const started = performance.now();
  const result = run('docker', [
    'build',
    '--progress=plain',
    '-f',
    image.dockerfile,
    '-t',
    tag,
    ...caSecretArgs(),
    ...arm64BuildArgs(image),
    ...extra,
    '.',
  ]);
  if (result.status !== 0) {
    throw new Error(
      `building ${tag} for linux/arm64 failed\n${(result.stdout + result.stderr).slice(-6000)}`,
    );
  }
  return performance.now() - started;
}

/** What the arm64 test measured, for the quick benchmark. */
export interface Arm64Times {
  date: string;
  qemuMs: number;
  standInsMs: number;
  /** By `name:target`. */
  buildsMs: Record<string, number>;
}

/** Where the test leaves its times (test-results/: written anew by each test run). */
export const ARM64_TIMES_FILE = join(REPO_ROOT, 'test-results', 'arm64-times.json');

export function writeArm64Times(times: Arm64Times): void {
  mkdirSync(dirname(ARM64_TIMES_FILE), { recursive: true });
  writeFileSync(ARM64_TIMES_FILE, JSON.stringify(times, null, 2) + '\n');
}

/** The times the last arm64 test run recorded, or undefined when there are none. */
export function readArm64Times(): Arm64Times | undefined {
  try {
    return JSON.parse(readFileSync(ARM64_TIMES_FILE, 'utf8')) as Arm64Times;
  } catch {
    return undefined;
  }
}

/**
 * The linux/arm64 images built under QEMU on this amd64 machine (README, "Apple
 * Silicon and arm64 servers"): how long QEMU's setup, the arm64 stand-ins and
 * each image's build take. A full run builds all five arm64 images cold
 * (--no-cache); a quick run builds nothing and reports the times
 * e2e/arm64.test.ts recorded in this test run (CI runs the quick benchmark right
 * after the tests), or says there are none.
 */
import {
  ARM64_IMAGES,
  arm64Tag,
  buildArm64,
  prepareArm64,
  readArm64Times,
  type Arm64Times,
} from '@stagecraft/testkit/arm64';
import { log } from './log.js';

export interface Arm64Figures extends Arm64Times {
  /** Built by this run (cold), or read from what the arm64 test recorded. */
  source: 'bench' | 'e2e/arm64.test.ts';
}

export function measureArm64(quick: boolean): Arm64Figures | undefined {
  if (quick) {
    const recorded = readArm64Times();
    if (!recorded) log('arm64: no times recorded by e2e/arm64.test.ts in this test run: section left out');
    else log(`arm64 (as e2e/arm64.test.ts recorded them, ms): ${JSON.stringify(recorded)}`);
    return recorded && { ...recorded, source: 'e2e/arm64.test.ts' };
  }
  const { qemuMs, standInsMs } = prepareArm64();
  const buildsMs: Record<string, number> = {};
  for (const image of ARM64_IMAGES) {
    const key = `${image.name}:${image.target}`;
    buildsMs[key] = buildArm64(image, arm64Tag('stagecraft-bench', image), ['--no-cache']);
    log(`arm64: ${key} built cold in ${(buildsMs[key] / 1000).toFixed(1)} s`);
  }
  return { date: new Date().toISOString(), qemuMs, standInsMs, buildsMs, source: 'bench' };
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The report's section, or nothing when no figures exist. */
export function arm64Markdown(figures: Arm64Figures | undefined): string[] {
  if (!figures) return [];
  const how =
    figures.source === 'bench'
      ? 'each image built cold (`--no-cache`) by this run'
      : `read from what \`e2e/arm64.test.ts\` recorded on ${figures.date.slice(0, 10)} (cache as that run found it; the sidecar's dev image is not among its builds)`;
  return [
    '',
    '## linux/arm64 under emulation',
    '',
    `QEMU user-mode emulation on this amd64 machine; ${how}. The stages that make JavaScript and the npm trees run natively (BUILDPLATFORM); the dev images' \`npm ci\` and the gateway's own steps run emulated. QEMU's setup and the arm64 stand-ins take their time only where missing (an arm64 trixie rootfs is about 4 minutes through QEMU).`,
    '',
    '| step | time |',
    '| --- | --- |',
    `| QEMU registered (\`scripts/docker/ensure-arm64.sh\`) | ${s(figures.qemuMs)} |`,
    `| arm64 stand-ins (\`scripts/docker/stand-ins.sh --arm64\`) | ${s(figures.standInsMs)} |`,
    ...Object.entries(figures.buildsMs).map(
      ([image, ms]) => `| build \`${image}\` for linux/arm64 | ${s(ms)} |`,
    ),
  ];
}

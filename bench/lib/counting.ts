/** The link counter's own benchmark (services/api/bench/count-bench.ts), run as it is and read back. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from '@stagecraft/testkit/command';
import { REPO_ROOT } from '@stagecraft/testkit/repository';
import { log } from './log.js';

export interface CountingFigures {
  rows: { page: string; counterMBps: number; htmlparser2MBps: number }[];
  rssGrowthMb: number;
}

export function measureCounting(quick: boolean): CountingFigures {
  log('counting: the API benchmark of the link counter');
  sh('node', ['--expose-gc', '--import', 'tsx', 'bench/count-bench.ts', ...(quick ? ['--quick'] : [])], {
    cwd: join(REPO_ROOT, 'services/api'),
  });
  const result = JSON.parse(
    readFileSync(
      join(REPO_ROOT, `services/api/bench/results/${quick ? 'count.quick.json' : 'count.json'}`),
      'utf8',
    ),
  ) as CountingFigures;
  return { rows: result.rows, rssGrowthMb: result.rssGrowthMb };
}

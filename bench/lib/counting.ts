/** The link counter's own benchmark (services/api/bench/count-bench.ts), run as it is and read back. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, log, sh } from './exec.js';

export interface CountingFigures {
  rows: { page: string; counterMBps: number; htmlparser2MBps: number }[];
  rssGrowthMb: number;
}

export function measureCounting(quick: boolean): CountingFigures {
  log('counting: the API benchmark of the link counter');
  sh('node', ['--expose-gc', '--import', 'tsx', 'bench/count-bench.ts', ...(quick ? ['--quick'] : [])], {
    cwd: join(ROOT, 'services/api'),
  });
  const result = JSON.parse(
    readFileSync(
      join(ROOT, `services/api/bench/results/${quick ? 'count.quick.json' : 'count.json'}`),
      'utf8',
    ),
  ) as CountingFigures;
  return { rows: result.rows, rssGrowthMb: result.rssGrowthMb };
}

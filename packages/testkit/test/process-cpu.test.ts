import { describe, expect, it } from 'vitest';
import { processCpuUs, schedstatRunNs } from '../src/process-cpu.js';

describe('process-cpu', () => {
  it('reads the run time, the first field, from a schedstat text', () => {
    expect(schedstatRunNs('123456789 2048 17\n')).toBe(123_456_789);
  });

  it("reads this process's CPU time, which grows by about the busy work done", () => {
    const before = processCpuUs(process.pid);
    const start = performance.now();
    let x = 0;
    while (performance.now() - start < 200) x += Math.sqrt(x + 1);
    const grew = processCpuUs(process.pid) - before;
    expect(x).toBeGreaterThan(0);
    // 200 ms of wall time spinning on one thread: at least some of it on a CPU
    // even on a shared machine, and not more than all threads could use.
    expect(grew).toBeGreaterThan(50_000);
    expect(grew).toBeLessThan(5_000_000);
  });
});

import { describe, expect, it } from 'vitest';
import { processCpuUs, schedstatRunNs } from '../src/process-cpu.js';

describe('process-cpu', () => {
  it('reads the run time, the first field, from a schedstat text', () => {
    expect(schedstatRunNs('123456789 2048 17\n')).toBe(123_456_789);
  });

  it("reads this process's CPU time, as the process itself counts it (process.cpuUsage)", () => {
    const usage = () => {
      const { user, system } = process.cpuUsage();
      return user + system;
    };
    const before = processCpuUs(process.pid);
    const reference = usage();
    // Busy until the process has itself used 100 ms of CPU, however loaded the
    // machine (a wall-time spin got under half a core here when four test
    // workers shared two cores); bounded at 20 s of wall time.
    const deadline = performance.now() + 20_000;
    let x = 0;
    while (usage() - reference < 100_000 && performance.now() < deadline) x += Math.sqrt(x + 1);
    const counted = usage() - reference;
    const grew = processCpuUs(process.pid) - before;
    expect(x).toBeGreaterThan(0);
    expect(counted).toBeGreaterThanOrEqual(100_000);
    // Both count every thread of the process; the reads are not at the same instant.
    expect(grew).toBeGreaterThan(counted * 0.5);
    expect(grew).toBeLessThan(counted * 2 + 50_000);
  });
});

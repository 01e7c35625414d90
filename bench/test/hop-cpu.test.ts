import { describe, expect, it } from 'vitest';
import { cgroupCpuFiles, parseCgroupCpu } from '../lib/hop-cpu.js';

describe("a container's CPU account", () => {
  it('reads cgroup v2 cpu.stat in microseconds', () => {
    const text = 'usage_usec 1234567\nuser_usec 1000000\nsystem_usec 234567\nnr_periods 0\n';
    expect(parseCgroupCpu(text, 'usage_usec')).toBe(1_234_567);
  });

  it('reads cgroup v1 cpuacct.usage, in nanoseconds, as microseconds', () => {
    expect(parseCgroupCpu('98765432100\n', 'ns')).toBe(98_765_432.1);
  });

  it('refuses what it cannot read instead of charging zero', () => {
    expect(() => parseCgroupCpu('user_usec 5\n', 'usage_usec')).toThrow(/usage_usec/);
    expect(() => parseCgroupCpu('not a number', 'ns')).toThrow(/not a number/);
  });

  it('looks where both cgroup versions and both engine drivers keep it', () => {
    const paths = cgroupCpuFiles('abc').map((f) => f.path);
    expect(paths).toContain('/sys/fs/cgroup/system.slice/docker-abc.scope/cpu.stat');
    expect(paths).toContain('/sys/fs/cgroup/docker/abc/cpu.stat');
    expect(paths).toContain('/sys/fs/cgroup/cpuacct/docker/abc/cpuacct.usage');
  });
});

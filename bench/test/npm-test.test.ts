import { describe, expect, it } from 'vitest';
import { childrenCpuSeconds } from '../lib/npm-test.js';

describe("the children's CPU time", () => {
  it('reads cutime and cstime, even when the command name holds spaces and parentheses', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
    const stat = '4242 (node (bench) x) S 1 4242 4242 0 -1 4194304 10 20 0 0 150 30 1234 566 20 0 11';
    expect(childrenCpuSeconds(stat)).toBe(18);
  });
});

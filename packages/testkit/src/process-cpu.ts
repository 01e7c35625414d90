/**
 * The CPU time a process has used, for the benchmarks' CPU per request: the sum
 * of its threads' run time in /proc/<pid>/task/<tid>/schedstat (nanoseconds,
 * user and system together). /proc/<pid>/stat counts in clock ticks (10 ms), too
 * coarse for a window of a few seconds of requests costing ~100 us each. Node's
 * threads live as long as the process, so reading the threads alive now loses
 * none. Linux only.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The run time, in nanoseconds, that one thread's schedstat text gives: its first field. */
export function schedstatRunNs(text: string): number {
  return Number(text.trim().split(/\s+/)[0]);
}

/** CPU time process `pid` has used so far, in microseconds. */
export function processCpuUs(pid: number): number {
  const task = `/proc/${pid}/task`;
  let ns = 0;
  for (const tid of readdirSync(task)) {
    try {
      ns += schedstatRunNs(readFileSync(`${task}/${tid}/schedstat`, 'utf8'));
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return ns / 1e3;
}

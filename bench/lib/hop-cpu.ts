/**
 * CPU time per request of each hop of the running stack (gateway, sidecar, API),
 * read from each container's cgroup: nginx's master and workers, or a Node
 * process and its threads, all counted. The load itself runs in this process,
 * outside every container, so its CPU counts for no hop. A short idle window
 * first gives each container's background rate (timers, health checks), which
 * is taken off the loaded window.
 */
import { existsSync, readFileSync } from 'node:fs';
import { docker } from '@stagecraft/testkit/command';
import { sleep } from '@stagecraft/testkit/wait';

/** Where the engine keeps a container's CPU account, cgroup v2 or v1, either driver. */
export function cgroupCpuFiles(fullId: string): { path: string; unit: 'usage_usec' | 'ns' }[] {
  return [
    { path: `/sys/fs/cgroup/system.slice/docker-${fullId}.scope/cpu.stat`, unit: 'usage_usec' },
    { path: `/sys/fs/cgroup/docker/${fullId}/cpu.stat`, unit: 'usage_usec' },
    { path: `/sys/fs/cgroup/cpuacct/docker/${fullId}/cpuacct.usage`, unit: 'ns' },
    {
      path: `/sys/fs/cgroup/cpuacct/system.slice/docker-${fullId}.scope/cpuacct.usage`,
      unit: 'ns',
    },
  ];
}

/** Parses one cgroup CPU file into microseconds (pure: the text is handed in). */
export function parseCgroupCpu(text: string, unit: 'usage_usec' | 'ns'): number {
  if (unit === 'ns') {
    const ns = Number(text.trim());
    if (!Number.isFinite(ns)) throw new Error(`cpuacct.usage is not a number: ${text.slice(0, 40)}`);
    return ns / 1000;
  }
  const line = text.split('\n').find((l) => l.startsWith('usage_usec '));
  if (line === undefined) throw new Error('cpu.stat has no usage_usec line');
  return Number(line.slice('usage_usec '.length));
}

export interface CpuReader {
  /** The container's CPU time so far, in microseconds. */
  (): number;
}

/** A reader of one container's CPU time; throws, naming what it tried, where none is readable. */
export function containerCpu(id: string): CpuReader {
  const fullId = docker('inspect', '--format', '{{.Id}}', id).trim();
  const found = cgroupCpuFiles(fullId).find((f) => existsSync(f.path));
  if (found === undefined)
    throw new Error(
      `no cgroup CPU account for container ${id} (tried ${cgroupCpuFiles(fullId)
        .map((f) => f.path)
        .join(', ')})`,
    );
  return () => parseCgroupCpu(readFileSync(found.path, 'utf8'), found.unit);
}

export interface HopCpuFigures {
  /** CPU microseconds per request, idle rate taken off, by service name. */
  cpuUsPerRequest: Record<string, number>;
  /** Background CPU of each container, microseconds per second of wall time. */
  idleUsPerSecond: Record<string, number>;
}

/**
 * Runs `load` (which answers how many requests it completed) and charges each
 * container's CPU over that window, less its idle rate, to those requests.
 */
export async function cpuPerRequest(
  containers: Record<string, string>,
  load: () => Promise<number>,
  idleSeconds = 2,
): Promise<HopCpuFigures> {
  const readers = Object.entries(containers).map(([name, id]) => [name, containerCpu(id)] as const);
  const read = () => Object.fromEntries(readers.map(([name, r]) => [name, r()]));

  const idleStart = read();
  const idleT0 = performance.now();
  await sleep(idleSeconds * 1000);
  const idleEnd = read();
  const idleWall = (performance.now() - idleT0) / 1000;

  const before = read();
  const t0 = performance.now();
  const requests = await load();
  const after = read();
  const wall = (performance.now() - t0) / 1000;

  const idleUsPerSecond: Record<string, number> = {};
  const cpuUsPerRequest: Record<string, number> = {};
  for (const [name] of readers) {
    idleUsPerSecond[name] = (idleEnd[name]! - idleStart[name]!) / idleWall;
    const busy = after[name]! - before[name]! - idleUsPerSecond[name] * wall;
    cpuUsPerRequest[name] = Math.max(0, busy) / Math.max(1, requests);
  }
  return { cpuUsPerRequest, idleUsPerSecond };
}

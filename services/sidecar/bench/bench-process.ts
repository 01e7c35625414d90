/**
 * How the sidecar's benchmarks (proxy-bench.ts, ab-sidecar.ts, profile-sidecar.ts)
 * start each process they measure, the API, the sidecar or a forwarder: node
 * with `args`, on 127.0.0.1, at the production log level and NODE_ENV, awaited
 * until `ready` (whose first group is the port) matches its standard output.
 * Its output is read on afterwards, by `onOutput` or discarded: writing log
 * lines is part of each service's real cost, and a full pipe would stall it.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface BenchProcess {
  name: string;
  child: ChildProcess;
  port: number;
}

export function startBenchProcess(
  name: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  onOutput?: (text: string) => void,
): Promise<BenchProcess> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'info', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      const m = ready.exec(buffer);
      if (!m) return;
      child.stdout!.removeAllListeners('data');
      if (onOutput) child.stdout!.on('data', (out: Buffer) => onOutput(out.toString()));
      else child.stdout!.resume();
      resolve({ name, child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
}

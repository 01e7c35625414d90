/**
 * A Node.js program as a real child process, for tests and benchmarks of what
 * only a process has (its ports, its signals, its exit): started with this
 * process's node and environment plus the given variables, and awaited until a
 * line on its standard output says it is ready.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface NodeProcess {
  child: ChildProcess;
  /** The match of `ready` on the output so far. */
  ready: RegExpExecArray;
  /** Its exit code (null when a signal ended it), once it has exited and its output has been read. */
  exited: Promise<number | null>;
  /** The last 8,000 characters of its standard error (V8's out-of-memory report, when it died of one). */
  stderr: () => string;
  /** SIGKILL unless it has already exited; resolves once it has. */
  stop: () => Promise<void>;
}

export interface NodeProcessOptions extends Pick<SpawnOptions, 'uid' | 'gid'> {
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** What its standard output shows once it is ready, matched against all of it so far. */
  ready: RegExp;
}

/**
 * Runs `node ...args` and resolves once `ready` matches its standard output;
 * rejects, with its standard error, if it exits first. Standard output is read
 * to the end either way (a full pipe would stall the child).
 */
export function startNodeProcess(
  args: string[],
  { env, ready, ...options }: NodeProcessOptions,
): Promise<NodeProcess> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
  });
  // 'close', not 'exit': by then its standard error has been read to the end.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let stderr = '';
  child.stderr!.on('data', (data: Buffer) => (stderr = (stderr + data.toString()).slice(-8000)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (data: Buffer) => {
      output += data.toString();
      const match = ready.exec(output);
      if (match === null) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolve({ child, ready: match, exited, stderr: () => stderr, stop });
    };
    child.stdout!.on('data', onData);
    void exited.then((code) =>
      reject(new Error(`node ${args.join(' ')} exited with ${code} before it was ready: ${stderr}`)),
    );
  });
}

/** A Compose project driven from a test or a benchmark: its own project name, files, folder and environment. */
import { spawn } from 'node:child_process';
import { run, type Run } from './command.js';

export interface ComposeProject {
  project: string;
  files: string[];
  cwd: string;
  env: Record<string, string>;
}

/** `docker compose` on the project, whatever its exit status. */
export function compose(p: ComposeProject, ...args: string[]): Run {
  const fileArgs = p.files.flatMap((f) => ['-f', f]);
  return run('docker', ['compose', '-p', p.project, ...fileArgs, ...args], { cwd: p.cwd, env: p.env });
}

/**
 * `docker compose` on the project, which must exit 0; its standard output as
 * printed (not trimmed: tests count log lines). Throws with its output otherwise.
 */
export function mustCompose(p: ComposeProject, ...args: string[]): string {
  const result = compose(p, ...args);
  if (result.status !== 0) {
    throw new Error(
      `docker compose ${args.join(' ')} exited ${result.status}\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-6000)}`,
    );
  }
  return result.stdout;
}

/** Container ids of the project's services (stopped ones too), by service name. */
export function containerIds(p: ComposeProject): Record<string, string> {
  const out = mustCompose(p, 'ps', '--all', '--format', '{{.Service}} {{.ID}}');
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ') as [string, string]),
  );
}

/** A `docker compose up --watch` running in the background (it never exits by itself). */
export interface ComposeWatch {
  /** Its standard output and error so far, interleaved: the last 64,000 characters. */
  output: () => string;
  /**
   * Compose's own lines so far (Watch enabled, Syncing, Rebuilding ...), without
   * the containers' logs it attaches, which would push them out of output()'s
   * tail: the last 64,000 characters of them.
   */
  composeLines: () => string;
  /** Its exit status (-1 when a signal ended it), once it has exited. */
  exited: Promise<number>;
  /**
   * Ctrl-C (SIGINT to its process group: Compose stops the containers and exits),
   * then SIGKILL if it is still running after `graceMs`; resolves once it has exited.
   */
  stop: (graceMs?: number) => Promise<void>;
}

/**
 * `docker compose up --watch ...args` on the project as a background child in a
 * process group of its own (Compose runs as a child of the docker CLI: a signal
 * must reach both). Callers bound their waits on it and always stop it.
 */
export function composeUpWatch(p: ComposeProject, ...args: string[]): ComposeWatch {
  const fileArgs = p.files.flatMap((f) => ['-f', f]);
  const child = spawn('docker', ['compose', '-p', p.project, ...fileArgs, 'up', '--watch', ...args], {
    cwd: p.cwd,
    // As run() (command.ts): BuildKit for every build, the project's variables on top.
    env: { ...process.env, DOCKER_BUILDKIT: '1', ...p.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  let own = '';
  let partial = '';
  // A container's log line starts "<service>-<n>  | " (after a terminal control sequence).
  const containerLine = new RegExp(
    `^(${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z])*\\s*[\\w.-]+-\\d+\\s+\\|`,
  );
  const keep = (data: Buffer) => {
    const text = data.toString('utf8');
    output = (output + text).slice(-64_000);
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    const mine = lines.filter((line) => !containerLine.test(line));
    if (mine.length > 0) own = (own + mine.join('\n') + '\n').slice(-64_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  // 'exit', not 'close': a grandchild that outlived it could hold the pipes open.
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code) => resolve(code ?? -1));
    child.once('error', (error) => {
      output += `${String(error)}\n`;
      resolve(-1);
    });
  });
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // The group is gone already.
    }
  };
  const stop = async (graceMs = 60_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    signal('SIGINT');
    const timer = setTimeout(() => signal('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    output: () => output,
    composeLines: () => own + (containerLine.test(partial) ? '' : partial),
    exited,
    stop,
  };
}

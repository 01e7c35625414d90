/**
 * A process's module graph, for tests that prove what a start does not load
 * (the services' tracing SDK, when tracing is off): run node with
 * `--import RECORD_MODULES` and MODULE_LOG naming a file, and every module URL
 * the process resolves is appended to that file (record-modules.mjs, a
 * module.registerHooks resolve hook, which sees tsx's and Node's resolutions alike).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const RECORD_MODULES = fileURLToPath(new URL('./record-modules.mjs', import.meta.url));

/** The module URLs recorded in `file`, in the order they were resolved (repeats included). */
export function readModuleGraph(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((url) => url !== '');
}

/** The @opentelemetry/* packages a module graph holds, sorted. */
export function openTelemetryPackages(graph: readonly string[]): string[] {
  return [
    ...new Set(graph.flatMap((url) => /node_modules\/(@opentelemetry\/[^/]+)\//.exec(url)?.[1] ?? [])),
  ].sort();
}

/** The benchmark's progress lines: each stamped with the time of day, on standard output. */

export function log(message: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

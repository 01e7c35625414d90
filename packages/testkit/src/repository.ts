/**
 * The repository as the tools see it: where its root is, and a private copy of
 * it for tests and benchmarks that edit sources or build a modified context
 * (never the working tree itself).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder (this file is packages/testkit/src/repository.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * A copy of the repository's files as the next commit would hold them (tracked
 * and new files; ignored ones left out, deleted ones gone) in a fresh temporary
 * folder readable by container users. The caller removes it.
 */
export function copyRepository(prefix: string, root = REPO_ROOT): string {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const copy = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(copy, 0o755);
  for (const file of new Set(files.split('\0').filter(Boolean))) {
    if (existsSync(join(root, file))) cpSync(join(root, file), join(copy, file), { recursive: true });
  }
  return copy;
}

/** copyRepository on a small git repository of the test's own: what the next commit would hold, nothing else. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, copyRepository } from '../src/repository.js';

const made: string[] = [];
afterEach(() => {
  while (made.length > 0) rmSync(made.pop()!, { recursive: true, force: true });
});

describe('REPO_ROOT', () => {
  it("is the folder of the workspace's root package.json", () => {
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      workspaces: string[];
    };
    expect(manifest.workspaces).toContain('packages/testkit');
  });
});

describe('copyRepository', () => {
  it('copies tracked and new files, leaves out ignored and deleted ones, into a folder others can read', () => {
    const repo = mkdtempSync(join(tmpdir(), 'testkit-repo-'));
    made.push(repo);
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo });
    git('init', '-q');
    mkdirSync(join(repo, 'src'));
    writeFileSync(join(repo, '.gitignore'), 'ignored.txt\n');
    writeFileSync(join(repo, 'src/tracked.ts'), 'tracked');
    writeFileSync(join(repo, 'gone.ts'), 'deleted later');
    git('add', '.gitignore', 'src/tracked.ts', 'gone.ts');
    rmSync(join(repo, 'gone.ts'));
    writeFileSync(join(repo, 'new.ts'), 'new');
    writeFileSync(join(repo, 'ignored.txt'), 'ignored');

    const copy = copyRepository('testkit-copy-', repo);
    made.push(copy);
    expect(readFileSync(join(copy, 'src/tracked.ts'), 'utf8')).toBe('tracked');
    expect(readFileSync(join(copy, 'new.ts'), 'utf8')).toBe('new');
    expect(existsSync(join(copy, '.gitignore'))).toBe(true);
    expect(existsSync(join(copy, 'ignored.txt'))).toBe(false);
    expect(existsSync(join(copy, 'gone.ts'))).toBe(false);
    expect(existsSync(join(copy, '.git'))).toBe(false);
    expect(statSync(copy).mode & 0o777).toBe(0o755);
  });
});

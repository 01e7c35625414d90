/**
 * Holds the API to the import rule its README states: imports in src/ point one
 * way (http/ -> count/ -> fetch/, storage/ beside them), only main.ts imports
 * http/, only http/ and main.ts import storage/, count/ imports neither Express nor
 * prom-client, and fetch/ and storage/ import no other folder. Read from the
 * sources themselves, so a new import that breaks the rule fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/** Where a file or import target sits: its folder under src/, or its own name for a top-level file. */
function placeOf(path: string): string {
  const rel = relative(src, path).replaceAll('\\', '/');
  return rel.includes('/') ? rel.slice(0, rel.indexOf('/')) + '/' : rel.replace(/\.[jt]s$/, '');
}

/** Which places each place may import (its own folder is always allowed). */
const allowed: Record<string, readonly string[]> = {
  // tracing/: the type of the server-span hook only (tracing/start-tracing.ts).
  'http/': ['count/', 'fetch/', 'storage/', 'tracing/', 'config', 'logger', 'metrics'],
  'count/': ['fetch/', 'metrics'],
  // Type-only: the fetcher's options are built from the validated configuration.
  'fetch/': ['config'],
  'storage/': [],
  // The fetch hop observer's type, which tracing/ implements; stores it wraps are any object.
  'tracing/': ['fetch/'],
  main: ['http/', 'count/', 'fetch/', 'storage/', 'tracing/', 'config', 'logger', 'metrics'],
  // The allow list's parser is the SSRF guard's, so configuration and fetcher cannot disagree.
  config: ['fetch/'],
  logger: [],
  metrics: [],
};
/** Packages a place must not import, whatever the folder rule says. */
const forbiddenPackages: Record<string, readonly string[]> = {
  'count/': ['express', 'prom-client'],
  'fetch/': ['express', 'prom-client'],
  'storage/': ['express', 'prom-client'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
function specifiersOf(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)) {
    found.push(match[1]!);
  }
  return found;
}

/** The rule's violations, one line each, for a set of files and their text. */
function violations(files: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [file, text] of files) {
    const from = placeOf(file);
    for (const specifier of specifiersOf(text)) {
      if (specifier.startsWith('.')) {
        const to = placeOf(resolve(dirname(file), specifier));
        if (to !== from && !(allowed[from] ?? []).includes(to)) {
          found.push(`${relative(src, file)} imports ${to} (${specifier})`);
        }
      } else if ((forbiddenPackages[from] ?? []).includes(specifier)) {
        found.push(`${relative(src, file)} imports ${specifier}`);
      }
    }
  }
  return found;
}

const files = new Map(sourceFiles(src).map((file) => [file, readFileSync(file, 'utf8')]));

describe("the API's import rule", () => {
  it('knows every place in src/', () => {
    const places = new Set([...files.keys()].map(placeOf));
    expect([...places].filter((place) => !(place in allowed))).toEqual([]);
  });

  it('holds for every file in src/', () => {
    expect(files.size).toBeGreaterThan(20);
    expect(violations(files)).toEqual([]);
  });

  it('fails on an import pointing the wrong way', () => {
    const upward = new Map([
      [join(src, 'fetch/fetch-page.ts'), "import { countLinks } from '../count/count-links.js';\n"],
    ]);
    expect(violations(upward)).toEqual(['fetch/fetch-page.ts imports count/ (../count/count-links.js)']);
    const storage = new Map([
      [join(src, 'count/count-page.ts'), "export { x } from '../storage/reports-store.js';\n"],
    ]);
    expect(violations(storage)).toEqual([
      'count/count-page.ts imports storage/ (../storage/reports-store.js)',
    ]);
    const express = new Map([
      [join(src, 'count/count-links.ts'), "import type { Request } from 'express';\n"],
    ]);
    expect(violations(express)).toEqual(['count/count-links.ts imports express']);
    const dynamic = new Map([[join(src, 'storage/migrations.ts'), "await import('../http/app.js');\n"]]);
    expect(violations(dynamic)).toEqual(['storage/migrations.ts imports http/ (../http/app.js)']);
  });
});

/**
 * Compose's merge of an overlay onto a base file (`docker compose -f base -f
 * overlay`), for the files of this repository, so that a unit test can read what
 * Compose would run without Docker: docker-compose.prod.postgres.yml onto
 * docker-compose.prod.yml, compared with docker-stack.postgres.yml by
 * stack-parity.test.ts. The rules are the Compose specification's ("Merge"):
 * mappings merge key by key, a scalar replaces, `command`, `entrypoint` and a
 * health check's `test` replace, a service's `volumes`, `secrets` and `configs`
 * merge by where they are mounted, other sequences append what is not there yet;
 * `!reset` removes a value and `!override` replaces it whole. A list written as
 * `KEY=value` (environment and the like) is refused rather than guessed at: these
 * files write mappings. What the merged stack really runs is checked on the
 * running containers by e2e/reliability-postgres.test.ts.
 */
import { readFileSync } from 'node:fs';
import { parse, type CollectionTag, type ScalarTag } from 'yaml';

type Doc = Record<string, unknown>;

const RESET = Symbol('!reset');
/** What `!override` wraps: the value that replaces, unmerged. */
class Override {
  constructor(readonly value: unknown) {}
}

const tags: (CollectionTag | ScalarTag)[] = [
  ...(['seq', 'map'] as const).map((collection): CollectionTag => ({
    tag: '!reset',
    collection,
    resolve: () => RESET as never,
  })),
  { tag: '!reset', resolve: () => RESET },
  ...(['seq', 'map'] as const).map((collection): CollectionTag => ({
    tag: '!override',
    collection,
    resolve: (value) => new Override(value.toJSON()) as never,
  })),
];

/** Parses Compose YAML with its `!reset` and `!override` tags (YAML 1.1, as Docker reads it). */
export function parseCompose(text: string): Doc {
  return parse(text, { version: '1.1', customTags: tags }) as Doc;
}

export function readComposeFile(path: string): Doc {
  return parseCompose(readFileSync(path, 'utf8'));
}

function isMap(value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Override);
}

/** The key a service's mount is merged by: where it appears in the container. */
function mountKey(list: 'volumes' | 'secrets' | 'configs', entry: unknown): string {
  if (list === 'volumes') {
    if (typeof entry === 'string') {
      const parts = entry.split(':');
      return parts.length === 1 ? parts[0]! : parts[1]!;
    }
    return String((entry as Doc).target);
  }
  if (typeof entry === 'string') return entry;
  const { source, target } = entry as Doc;
  return String(target ?? source);
}

const REPLACED = new Set(['command', 'entrypoint', 'test']);
const BY_MOUNT = new Set(['volumes', 'secrets', 'configs']);
const KEY_VALUE_LISTS = new Set(['environment', 'labels', 'sysctls', 'extra_hosts', 'annotations']);

/** A value with its tags applied: what it is where nothing lay under it. */
function plain(value: unknown): unknown {
  if (value === RESET) return undefined;
  if (value instanceof Override) return value.value;
  if (Array.isArray(value)) return value.map(plain).filter((v) => v !== undefined);
  if (isMap(value))
    return Object.fromEntries(
      Object.entries(value)
        .map(([k, v]) => [k, plain(v)])
        .filter(([, v]) => v !== undefined),
    );
  return value;
}

function mergeValue(base: unknown, over: unknown, path: string[]): unknown {
  if (over === RESET) return undefined;
  if (over instanceof Override) return over.value;
  if (base === undefined) return plain(over);
  const key = path.at(-1)!;
  if (isMap(base) && isMap(over)) {
    const out: Doc = { ...base };
    for (const [k, v] of Object.entries(over)) {
      const merged = mergeValue(base[k], v, [...path, k]);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(over)) {
    if (KEY_VALUE_LISTS.has(key))
      throw new Error(`${path.join('.')}: a KEY=value list; write a mapping (compose-overlay.ts)`);
    if (REPLACED.has(key)) return over;
    const inService = path.length === 3 && path[0] === 'services';
    if (inService && BY_MOUNT.has(key)) {
      const list = key as 'volumes' | 'secrets' | 'configs';
      const byKey = new Map(base.map((e) => [mountKey(list, e), e]));
      for (const entry of over) byKey.set(mountKey(list, entry), entry);
      return [...byKey.values()];
    }
    const seen = new Set(base.map((e) => JSON.stringify(e)));
    return [...base, ...over.filter((e) => !seen.has(JSON.stringify(e)))];
  }
  // A list against a mapping (networks: [a] onto networks: {a: {...}}) is not in these files.
  if ((Array.isArray(base) && isMap(over)) || (isMap(base) && Array.isArray(over)))
    throw new Error(`${path.join('.')}: a list merged with a mapping; teach compose-overlay.ts`);
  return over;
}

/** `base` with `overlay` merged onto it, as `docker compose -f base -f overlay` reads them. */
export function mergeCompose(base: Doc, overlay: Doc): Doc {
  const out: Doc = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    const merged = mergeValue(base[key], value, [key]);
    if (merged === undefined) delete out[key];
    else out[key] = merged;
  }
  return out;
}

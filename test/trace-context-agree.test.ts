/**
 * The gateway starts or keeps a trace by its own copy of the traceparent rule (a
 * map in nginx's template, nginx having no JavaScript): that copy accepts exactly
 * what the contract's parser accepts, so no hop logs another trace id than the
 * hop before it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TRACEPARENT_PATTERN, parseTraceparent } from '@stagecraft/contract';
import { UNUSABLE, USABLE } from '../packages/contract/test/trace-context-cases.js';

describe("the gateway's copy of the pattern", () => {
  const template = readFileSync(
    fileURLToPath(new URL('../nginx/templates/00-gateway-http.conf.template', import.meta.url)),
    'utf8',
  );
  const block = /map \$http_traceparent \$stagecraft_trace_given \{\n\s*"~([^"]+)"\s+1;/.exec(template);
  // nginx's PCRE and JavaScript read this subset alike (anchors, classes, counts, lookahead).
  const nginxPattern = new RegExp(block?.[1] ?? 'missing');

  it('is in the template', () => {
    expect(block).not.toBeNull();
  });

  it.each([...USABLE.map((v) => [v, true] as const), ...UNUSABLE.map((v) => [v, false] as const)])(
    'agrees on %j',
    (value, usable) => {
      expect(nginxPattern.test(value)).toBe(usable);
      expect(parseTraceparent(value) !== null).toBe(usable);
    },
  );

  it('is the same pattern', () => {
    expect(nginxPattern.source).toBe(TRACEPARENT_PATTERN.source);
  });

  it("starts a trace from $request_id's 32 random hex digits as a usable traceparent", () => {
    const made = /map \$request_id \$stagecraft_new_traceparent \{\n\s*"~([^"]+)"\s+"([^"]+)";/.exec(
      template,
    );
    expect(made).not.toBeNull();
    const requestId = 'a3ce929d0e0e47364bf92f3577b34da6';
    const groups = new RegExp(made![1]!).exec(requestId)!.groups!;
    const value = made![2]!.replace(/\$(\w+)/g, (_all, name: string) => groups[name]!);
    expect(value).toMatch(TRACEPARENT_PATTERN);
    expect(parseTraceparent(value)?.traceId).toBe(requestId);
  });
});

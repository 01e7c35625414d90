/** The request id rule: a usable id goes on unchanged, anything else is replaced by a fresh UUID. */
import { describe, expect, it } from 'vitest';
import { isUsableRequestId, requestId } from '../src/request-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestId', () => {
  it.each(['abc', 'client-id.1', 'a:b_c', 'x'.repeat(128), '0f3c5e2a-9d5b-4c3e-8a1f-2b7c9d0e1f2a'])(
    'keeps %s',
    (id) => {
      expect(isUsableRequestId(id)).toBe(true);
      expect(requestId(id)).toBe(id);
    },
  );

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['too long', 'x'.repeat(129)],
    ['with a space', 'a b'],
    ['with a quote', 'a"b'],
    ['with a line break', 'a\nb'],
    ['repeated (Node joins two headers with a comma)', 'a, b'],
    ['an array', ['a', 'b']],
  ])('replaces one %s with a fresh UUID', (_name, given) => {
    const id = requestId(given);
    expect(id).toMatch(UUID);
    expect(requestId(given)).not.toBe(id);
  });
});

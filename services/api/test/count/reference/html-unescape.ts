/*
 * FROZEN ORACLE for the property tests: the counter as it was before the bounded-memory
 * rewrite (git HEAD 5ed27b2, src/count/html-unescape.ts), kept byte for byte below this comment so
 * that the tests can prove the new counter gives exactly the same counts. Not used by the
 * service; never edit it to make a test pass.
 */
/**
 * Go's `html.unescape(b, attribute=true)` (golang.org/x/net/html/escape.go): how
 * the tokenizer decodes character references in attribute values before
 * href-counter parses them, with Go's `convertNewlines` applied first ("\r\n" and
 * a lone "\r" become "\n"). Works on bytes; decoded characters are written as the
 * bytes of their UTF-8 encoding.
 *
 * Attribute rules that differ from text: a named reference without ';' that is
 * followed by '=' is left alone, and no longest-prefix match is tried (so "&ampx"
 * stays as written).
 */
import { characterEntities } from 'character-entities';
import { characterEntitiesLegacy } from 'character-entities-legacy';

const legacy = new Set<string>(characterEntitiesLegacy);
const namedCache = new Map<string, Uint8Array | null>();

/** Windows-1252 meanings of the C1 code points, as HTML5 (and Go) decode &#128; to &#159;. */
const C1_REPLACEMENTS = [
  0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152,
  0x008d, 0x017d, 0x008f, 0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122,
  0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
];

/** Go's entity table holds "amp;" and, for the legacy names only, "amp" as well. */
function lookupNamed(name: string): Uint8Array | null {
  let bytes = namedCache.get(name);
  if (bytes === undefined) {
    const bare = name.endsWith(';') ? name.slice(0, -1) : name;
    const known = (name.endsWith(';') || legacy.has(bare)) && Object.hasOwn(characterEntities, bare);
    bytes = known ? Buffer.from(characterEntities[bare] as string, 'utf8') : null;
    if (namedCache.size < 4096) namedCache.set(name, bytes);
  }
  return bytes;
}

function isAlnum(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** Output buffer reused between calls: decoding a value allocates nothing in the common case. */
let out = new Uint8Array(1024);
let outLength = 0;

function emit(byte: number): void {
  out[outLength++] = byte;
}

function emitUtf8(cp: number): void {
  if (cp < 0x80) emit(cp);
  else if (cp < 0x800) {
    emit(0xc0 | (cp >> 6));
    emit(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    emit(0xe0 | (cp >> 12));
    emit(0x80 | ((cp >> 6) & 0x3f));
    emit(0x80 | (cp & 0x3f));
  } else {
    emit(0xf0 | (cp >> 18));
    emit(0x80 | ((cp >> 12) & 0x3f));
    emit(0x80 | ((cp >> 6) & 0x3f));
    emit(0x80 | (cp & 0x3f));
  }
}

function isAmpSemicolon(s: Uint8Array, at: number, end: number): boolean {
  return at + 4 < end && s[at + 1] === 0x61 && s[at + 2] === 0x6d && s[at + 3] === 0x70 && s[at + 4] === 0x3b;
}

/**
 * Decodes the reference at s[src] === '&' (s[src, end) being the value).
 * Returns how many bytes of s it used.
 */
function unescapeEntity(s: Uint8Array, src: number, end: number): number {
  if (isAmpSemicolon(s, src, end)) {
    emit(0x26); // "&amp;", by far the most common reference in a URL
    return 5;
  }
  const n = end - src;
  let i = 1;
  if (n > 1 && s[src + 1] === 0x23 /* # */) {
    if (n <= 3) return literalAmpersand(); // Go needs at least "&#." to try.
    i++;
    let c = s[src + i] as number;
    const hex = c === 0x78 || c === 0x58;
    if (hex) i++;
    let x = 0; // Go's rune is an int32: keep the same wrap-around.
    while (i < n) {
      c = s[src + i] as number;
      i++;
      const d = hex ? hexDigit(c) : c >= 0x30 && c <= 0x39 ? c - 0x30 : -1;
      if (d >= 0) {
        x = (Math.imul(x, hex ? 16 : 10) + d) | 0;
        continue;
      }
      if (c !== 0x3b /* ; */) i--;
      break;
    }
    if (i <= 3) return literalAmpersand(); // no digits matched
    if (x >= 0x80 && x <= 0x9f) x = C1_REPLACEMENTS[x - 0x80] as number;
    else if (x <= 0 || (x >= 0xd800 && x <= 0xdfff) || x > 0x10ffff) x = 0xfffd;
    emitUtf8(x);
    return i;
  }
  if (n <= 1) return literalAmpersand();

  while (i < n) {
    const c = s[src + i] as number;
    i++;
    if (isAlnum(c)) continue;
    if (c !== 0x3b) i--;
    break;
  }
  if (i === 1) return literalAmpersand(); // empty name
  const endsWithSemicolon = s[src + i - 1] === 0x3b;
  if (!endsWithSemicolon && i < n && s[src + i] === 0x3d /* = */) return literalAmpersand();
  const value = lookupNamed(Buffer.from(s.buffer, s.byteOffset + src + 1, i - 1).toString('latin1'));
  if (value === null) return literalAmpersand();
  for (const byte of value) emit(byte);
  return i;
}

function literalAmpersand(): number {
  emit(0x26);
  return 1;
}

/**
 * An attribute value s[start, end) as Go's Token().Attr[i].Val holds it: newlines
 * normalised, then character references decoded. The result is a view of a
 * shared buffer, valid until the next call.
 */
export function decodeAttributeBytes(s: Uint8Array, start: number, end: number): Uint8Array {
  // No reference decodes to more than 4 bytes per byte it replaces, plus slack.
  if (out.length < (end - start) * 4 + 16) out = new Uint8Array((end - start) * 4 + 16);
  outLength = 0;
  for (let i = start; i < end;) {
    const c = s[i] as number;
    if (c === 0x26) i += unescapeEntity(s, i, end);
    else if (c === 0x0d) {
      // Go's convertNewlines runs first, on the raw value: "\r\n" and "\r" become "\n".
      emit(0x0a);
      i += i + 1 < end && s[i + 1] === 0x0a ? 2 : 1;
    } else {
      emit(c);
      i++;
    }
  }
  return out.subarray(0, outLength);
}

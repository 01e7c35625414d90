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
 *
 * Two forms of the same rules: decodeAttributeBytes for a value held whole (at
 * most MAX_DECODE_INPUT bytes, so its output buffer is bounded), and
 * AttributeDecoder for a value of any length fed in pieces, which keeps at most
 * one entity name (MAX_NAME_LENGTH bytes) and a number.
 */
import { characterEntities } from 'character-entities';
import { characterEntitiesLegacy } from 'character-entities-legacy';

const legacy = new Set<string>(characterEntitiesLegacy);
/** Bounded twice over: at most 4096 names, none longer than MAX_NAME_LENGTH + 1. */
const namedCache = new Map<string, Uint8Array | null>();

/**
 * The longest entity name ("CounterClockwiseContourIntegral"). A longer run of
 * letters and digits after '&' names nothing: it is never looked up or kept.
 */
export const MAX_NAME_LENGTH = Math.max(...Object.keys(characterEntities).map((name) => name.length));

/** The longest value decodeAttributeBytes decodes; longer ones go through AttributeDecoder. */
export const MAX_DECODE_INPUT = 64 * 1024;

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

/**
 * Output buffer reused between calls: decoding a value allocates nothing in the
 * common case. It only grows to fit the longest value decoded so far, and values
 * are at most MAX_DECODE_INPUT bytes, so it never exceeds 4 * MAX_DECODE_INPUT + 16.
 */
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

/** What Go decodes the numeric reference x to (x is an int32, wrapped as Go's rune is). */
function numericCodePoint(x: number): number {
  if (x >= 0x80 && x <= 0x9f) return C1_REPLACEMENTS[x - 0x80] as number;
  if (x <= 0 || (x >= 0xd800 && x <= 0xdfff) || x > 0x10ffff) return 0xfffd;
  return x;
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
    emitUtf8(numericCodePoint(x));
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
  if (i - 1 > MAX_NAME_LENGTH + 1) return literalAmpersand(); // names nothing; keeps the cache small
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
  if (end - start > MAX_DECODE_INPUT) {
    throw new RangeError(`decodeAttributeBytes: ${end - start} bytes, over ${MAX_DECODE_INPUT}`);
  }
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

/** The size of decodeAttributeBytes' shared output buffer (for the memory tests). */
export function decodeBufferBytes(): number {
  return out.length;
}

/** Where a decoded byte goes: AttributeDecoder's consumer. */
export interface ByteSink {
  push(c: number): void;
}

// AttributeDecoder states: where in a character reference the decoder is.
const D_TEXT = 0;
const D_AMP = 1; // after '&'
const D_HASH = 2; // after "&#"
const D_DIGITS = 3; // after "&#" or "&#x", reading digits
const D_NAME = 4; // after '&' and letters or digits

/**
 * decodeAttributeBytes for a value fed in pieces of any size, each decoded byte
 * pushed to `sink` as soon as it is known. Go's unescape reads each reference with
 * a loop that may run over the whole rest of the value (a run of digits or
 * letters); here that loop is an automaton whose state is: the name read so far
 * (no name is longer than MAX_NAME_LENGTH, so a longer run is text and is not
 * kept), or the number so far (an int32 that wraps as Go's rune does) and how many
 * bytes Go's `i` has counted (only whether it exceeds 3 matters).
 */
export class AttributeDecoder {
  private state = D_TEXT;
  private afterCr = false;
  private hex = false;
  private consumed = 0; // Go's i in the numeric branch, capped at 4
  private third = 0; // the byte Go's i counted after "&#", replayed as text if no digits matched
  private code = 0;
  private readonly name = new Uint8Array(MAX_NAME_LENGTH);
  private nameLength = 0;

  constructor(private readonly sink: ByteSink) {}

  /** Starts a new value. */
  reset(): void {
    this.state = D_TEXT;
    this.afterCr = false;
  }

  /** The bytes s[start, end) of the value. */
  write(s: Uint8Array, start: number, end: number): void {
    for (let i = start; i < end; i++) {
      const c = s[i] as number;
      // Go's convertNewlines runs first: "\r\n" and a lone "\r" become "\n".
      if (c === 0x0d) {
        this.afterCr = true;
        this.byte(0x0a);
      } else if (c === 0x0a && this.afterCr) this.afterCr = false;
      else {
        this.afterCr = false;
        this.byte(c);
      }
    }
  }

  /** The value ended: a reference cut off by its end is decoded as Go does there. */
  end(): void {
    switch (this.state) {
      case D_AMP:
        this.sink.push(0x26);
        break;
      case D_HASH:
        this.sink.push(0x26);
        this.sink.push(0x23);
        break;
      case D_DIGITS:
        this.endNumeric();
        break;
      case D_NAME:
        this.endName(false);
        break;
    }
    this.state = D_TEXT;
  }

  private byte(c: number): void {
    for (;;) {
      switch (this.state) {
        case D_TEXT:
          if (c === 0x26) this.state = D_AMP;
          else this.sink.push(c);
          return;

        case D_AMP:
          if (c === 0x23) {
            this.state = D_HASH;
            return;
          }
          this.nameLength = 0;
          this.state = D_NAME;
          continue;

        case D_HASH:
          this.code = 0;
          this.state = D_DIGITS;
          if (c === 0x78 || c === 0x58) {
            this.hex = true;
            this.consumed = 3;
            this.third = c;
            return;
          }
          this.hex = false;
          this.consumed = 2;
          continue;

        case D_DIGITS: {
          const d = this.hex ? hexDigit(c) : c >= 0x30 && c <= 0x39 ? c - 0x30 : -1;
          if (d >= 0 || c === 0x3b) {
            if (this.consumed === 2) this.third = c;
            if (this.consumed < 4) this.consumed++;
            if (d < 0) {
              this.endNumeric(); // ';' ends the reference and is part of it
              return;
            }
            this.code = (Math.imul(this.code, this.hex ? 16 : 10) + d) | 0;
            return;
          }
          this.endNumeric();
          continue; // c is read again as text
        }

        default: // D_NAME
          if (isAlnum(c)) {
            if (this.nameLength < MAX_NAME_LENGTH) {
              this.name[this.nameLength++] = c;
              return;
            }
            this.literalName(false); // too long to name anything: all of it is text
            continue;
          }
          if (c === 0x3b) {
            this.endName(true);
            return;
          }
          if (c === 0x3d)
            this.literalName(false); // "&name=" is left alone in attributes
          else this.endName(false);
          continue;
      }
    }
  }

  private endNumeric(): void {
    this.state = D_TEXT;
    if (this.consumed <= 3) {
      // No digits matched: Go writes the '&' and reads on from the '#' as text.
      this.sink.push(0x26);
      this.sink.push(0x23);
      if (this.consumed === 3) this.sink.push(this.third);
      return;
    }
    const cp = numericCodePoint(this.code);
    const sink = this.sink;
    if (cp < 0x80) sink.push(cp);
    else if (cp < 0x800) {
      sink.push(0xc0 | (cp >> 6));
      sink.push(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      sink.push(0xe0 | (cp >> 12));
      sink.push(0x80 | ((cp >> 6) & 0x3f));
      sink.push(0x80 | (cp & 0x3f));
    } else {
      sink.push(0xf0 | (cp >> 18));
      sink.push(0x80 | ((cp >> 12) & 0x3f));
      sink.push(0x80 | ((cp >> 6) & 0x3f));
      sink.push(0x80 | (cp & 0x3f));
    }
  }

  /** A name ended (with its ';' if `semicolon`): its value, or the text as written. */
  private endName(semicolon: boolean): void {
    const name = this.name;
    if (semicolon && this.nameLength === 3 && name[0] === 0x61 && name[1] === 0x6d && name[2] === 0x70) {
      this.sink.push(0x26); // "&amp;", by far the most common reference in a URL: no lookup
      this.state = D_TEXT;
      return;
    }
    let key = '';
    for (let k = 0; k < this.nameLength; k++) key += String.fromCharCode(this.name[k] as number);
    const value = this.nameLength === 0 && !semicolon ? null : lookupNamed(semicolon ? key + ';' : key);
    if (value === null) {
      this.literalName(semicolon);
      return;
    }
    for (const byte of value) this.sink.push(byte);
    this.state = D_TEXT;
  }

  private literalName(semicolon: boolean): void {
    this.sink.push(0x26);
    for (let k = 0; k < this.nameLength; k++) this.sink.push(this.name[k] as number);
    if (semicolon) this.sink.push(0x3b);
    this.state = D_TEXT;
  }
}

/**
 * href-counter's counting rule over a stream of HTML bytes.
 *
 * A resumable byte-level port of the golang.org/x/net/html tokenizer that
 * href-counter was built with (Next/readStartTag/readTag/readRawOrRCDATA/
 * readScript/readComment, before the 2023-2025 changes to self-closing detection
 * and duplicate attributes). Chunk boundaries may fall anywhere, even inside a
 * tag name or a character reference.
 *
 * Memory is bounded by a constant, whatever the page: no DOM, no text, no list of
 * hrefs. Each href value is classified as soon as it ends, into counts pending on
 * the tag; the tag's '>' commits them if it turns out to be a non-self-closing
 * `<a` start tag (the name and end-tag flag are known before any attribute, and
 * self-closing is the byte before '>'), and a tag cut off by the end of input
 * drops them. A value is never copied: one read whole inside a chunk is decoded
 * and parsed in place if it is at most `valueCap` bytes (decodeAttributeBytes'
 * buffer is bounded by that), and any other value - longer, or spread over chunks -
 * is streamed byte by byte through AttributeDecoder into GoUrlStream, which
 * together decide exactly as the in-place functions do, with a few numbers of state.
 */
import { AttributeDecoder, MAX_DECODE_INPUT, decodeAttributeBytes } from './html-unescape.js';
import {
  GoUrlStream,
  URL_EXTERNAL,
  URL_INTERNAL,
  URL_REJECTED,
  decodeHost,
  goUrlHost,
  parseGoUrlBytes,
  type HostRange,
} from './go-url.js';

export interface LinkCounts {
  internal: number;
  external: number;
}

/**
 * The default longest href decoded in place; longer ones are streamed. 8 KiB holds
 * every real link (RFC 9110 asks URI handlers to support at least 8000 octets), so
 * the slower byte-by-byte path is left to pages built to be pathological, and the
 * shared decode buffer stays at 4 * 8 KiB + 16 bytes.
 */
export const DEFAULT_VALUE_CAP = 8 * 1024;

export interface LinkCounterOptions {
  /**
   * Longest href value (in bytes) decoded and parsed in place; longer ones are
   * streamed. 0 to MAX_DECODE_INPUT; the tests use tiny caps to drive the
   * streaming path with short inputs and compare it with the in-place one.
   */
  valueCap?: number;
}

// Tokenizer states. Names follow the Go functions (and WHATWG states) they port.
const DATA = 0;
const TAG_OPEN = 1; // after '<'
const END_TAG_OPEN = 2; // after '</'
const MARKUP_1 = 3; // after '<!'
const MARKUP_2 = 4; // after '<!-'
const COMMENT = 5;
const COMMENT_BANG = 6; // after '--!' inside a comment
const BOGUS = 7; // read until '>' (doctype, '<?', '<!x', '</ x')
const TAG_NAME = 8;
const BEFORE_ATTR = 9; // skipWhiteSpace, then '>' ends the tag or an attribute starts
const ATTR_KEY = 10;
const AFTER_KEY = 11; // readTagAttrVal: skip white space, expect '='
const BEFORE_VALUE = 12;
const VALUE_QUOTED = 13;
const VALUE_UNQUOTED = 14;
const RAW = 15; // RAWTEXT/RCDATA: style, textarea, title, xmp, iframe, noembed, noframes, noscript
const RAW_LT = 16;
const PLAINTEXT = 17;
const MATCH_END_TAG = 18; // readRawEndTag (and the double-escape "script" match)
const SCRIPT = 19;
const SCRIPT_LT = 20;
const SCRIPT_ESCAPE_START = 21;
const SCRIPT_ESCAPE_START_DASH = 22;
const SCRIPT_ESCAPED = 23;
const SCRIPT_ESCAPED_DASH = 24;
const SCRIPT_ESCAPED_DASH_DASH = 25;
const SCRIPT_ESCAPED_LT = 26;
const SCRIPT_DOUBLE_ESCAPED = 27;
const SCRIPT_DOUBLE_ESCAPED_DASH = 28;
const SCRIPT_DOUBLE_ESCAPED_DASH_DASH = 29;
const SCRIPT_DOUBLE_ESCAPED_LT = 30;

/** What MATCH_END_TAG does once the whole name and a terminator byte were read. */
const ON_MATCH_END_RAW = 0; // "</name" closes the raw text: tokenize it as an end tag
const ON_MATCH_DOUBLE_ESCAPE = 1; // "<script" inside an escaped script
const ON_MATCH_DOUBLE_ESCAPE_END = 2; // "</script" inside a double-escaped script

/**
 * Tag names are tracked as a number, not a string, so that reading a tag allocates
 * nothing: each ASCII letter is a base-27 digit (1..26, case-folded), any other
 * byte or a name longer than the longest raw tag makes it NOT_A_KNOWN_NAME.
 */
const NOT_A_KNOWN_NAME = -1;
const LONGEST_RAW_TAG = 9;

function nameDigit(c: number): number {
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x7a ? l - 0x60 : 0;
}

function nameCode(name: string): number {
  let code = 0;
  for (let i = 0; i < name.length; i++) code = code * 27 + nameDigit(name.charCodeAt(i));
  return code;
}

const A_TAG = nameCode('a');
const SCRIPT_TAG = nameCode('script');
const PLAINTEXT_TAG = nameCode('plaintext');
const RAW_TAG_NAMES = [
  'iframe',
  'noembed',
  'noframes',
  'noscript',
  'plaintext',
  'script',
  'style',
  'textarea',
  'title',
  'xmp',
];
const RAW_TAG_CODES = RAW_TAG_NAMES.map(nameCode);
const SHORTEST_RAW_CODE = Math.min(...RAW_TAG_CODES);

/** The raw-text element a start tag opens, if any. A loop over ten numbers: no hashing per tag. */
function rawTagOf(code: number): string | undefined {
  if (code < SHORTEST_RAW_CODE) return undefined;
  for (let k = 0; k < RAW_TAG_CODES.length; k++) if (RAW_TAG_CODES[k] === code) return RAW_TAG_NAMES[k];
  return undefined;
}

/**
 * A plain loop rather than Uint8Array#indexOf: the distances scanned here are
 * mostly a few dozen bytes, where the builtin's call overhead costs more than the scan.
 */
function findByte(b: Uint8Array, c: number, from: number): number {
  const n = b.length;
  for (let i = from; i < n; i++) if (b[i] === c) return i;
  return -1;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c;
}

function isLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

function isHrefKey(b: Uint8Array, at: number): boolean {
  return (
    ((b[at] as number) | 0x20) === 0x68 &&
    ((b[at + 1] as number) | 0x20) === 0x72 &&
    ((b[at + 2] as number) | 0x20) === 0x65 &&
    ((b[at + 3] as number) | 0x20) === 0x66
  );
}

function bytesEqual(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array): boolean {
  if (aEnd - aStart !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[aStart + i] !== b[i]) return false;
  return true;
}

/**
 * The page URL's host as href-counter compares it: Go's url.Parse of exactly the
 * string the client asked for (host and port, not normalised). Null where Go
 * rejects the URL.
 */
export function pageHost(pageUrl: string): Buffer | null {
  return goUrlHost(pageUrl);
}

export class LinkCounter {
  internal = 0;
  external = 0;

  private state = DATA;
  private lastByte = -1; // last byte of the previous chunk, for the self-closing check
  private isEndTag = false;
  private tagName = 0; // name code, see nameCode
  private tagNameLength = 0;
  private keyLength = 0;
  private keyIsHref = false;
  private quote = 0;
  private capturing = false; // this value belongs to an href of an <a> start tag
  // Links of the tag being read, counted when its '>' shows it is an <a> start tag.
  private pendingInternal = 0;
  private pendingExternal = 0;
  private readonly host: HostRange = { start: 0, end: 0, escaped: false };
  private readonly valueCap: number;
  private readonly url: GoUrlStream;
  private readonly decoder: AttributeDecoder; // decodes into `url`
  private dashes = 0;
  private rawTag = '';
  private matchIndex = 0;
  private matchName = '';
  private onMatch = ON_MATCH_END_RAW;
  private onMismatch = RAW;

  constructor(
    private readonly baseHost: Uint8Array,
    options: LinkCounterOptions = {},
  ) {
    const cap = options.valueCap ?? DEFAULT_VALUE_CAP;
    if (!Number.isInteger(cap) || cap < 0 || cap > MAX_DECODE_INPUT)
      throw new RangeError(`valueCap must be an integer from 0 to ${MAX_DECODE_INPUT}, got ${cap}`);
    this.valueCap = cap;
    this.url = new GoUrlStream(baseHost);
    this.decoder = new AttributeDecoder(this.url);
  }

  /** Counts for a page URL, given as the client sent it (see pageHost). */
  static forPage(pageUrl: string, options?: LinkCounterOptions): LinkCounter {
    const host = pageHost(pageUrl);
    if (host === null) throw new RangeError(`page URL is not a valid URL reference: ${pageUrl}`);
    return new LinkCounter(host, options);
  }

  write(chunk: Uint8Array): void {
    // A plain Uint8Array view: its indexOf is a V8 builtin, while Buffer's goes
    // through a C++ binding whose call overhead dominates short scans.
    const buf = Buffer.isBuffer(chunk)
      ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      : chunk;
    const n = buf.length;
    let i = 0;
    let state = this.state;

    while (i < n) {
      switch (state) {
        case DATA: {
          // The hot loop: text, then whole start tags read by readTagFast, without
          // going back through the switch until something else than text follows.
          for (;;) {
            const lt = findByte(buf, 0x3c, i);
            if (lt < 0) {
              i = n;
              break;
            }
            i = lt + 1;
            const c = i < n ? (buf[i] as number) : 0;
            if (!isLetter(c)) {
              state = TAG_OPEN;
              break;
            }
            const next = this.readTagFast(buf, i, false);
            if (next < 0) {
              // The tag goes on past this chunk: read it again with the resumable states.
              this.startTag(false, nameDigit(c), 1);
              state = TAG_NAME;
              i++;
              break;
            }
            i = next;
            state = this.endTag(buf[next - 2] === 0x2f);
            if (state !== DATA) break;
          }
          break;
        }

        case TAG_OPEN: {
          const c = buf[i] as number;
          if (isLetter(c)) {
            const next = this.readTagFast(buf, i, false);
            if (next >= 0) {
              i = next;
              state = this.endTag(buf[next - 2] === 0x2f);
            } else {
              this.startTag(false, nameDigit(c), 1);
              state = TAG_NAME;
              i++;
            }
          } else if (c === 0x2f /* / */) {
            state = END_TAG_OPEN;
            i++;
          } else if (c === 0x21 /* ! */) {
            state = MARKUP_1;
            i++;
          } else if (c === 0x3f /* ? */) {
            state = BOGUS;
            i++;
          } else {
            state = DATA; // not a tag: reconsume as text (it may be another '<')
          }
          break;
        }

        case END_TAG_OPEN: {
          const c = buf[i] as number;
          if (c === 0x3e /* > */) {
            state = DATA; // "</>" is dropped
            i++;
          } else if (isLetter(c)) {
            const next = this.readTagFast(buf, i, true);
            if (next >= 0) {
              i = next;
              state = DATA;
            } else {
              this.startTag(true, nameDigit(c), 1);
              state = TAG_NAME;
              i++;
            }
          } else {
            state = BOGUS;
            i++;
          }
          break;
        }

        case MARKUP_1:
          if (buf[i] === 0x2d) {
            state = MARKUP_2;
            i++;
          } else state = BOGUS; // doctype or bogus comment: both read to the next '>'
          break;

        case MARKUP_2:
          if (buf[i] === 0x2d) {
            state = COMMENT;
            this.dashes = 2; // Go starts at 2, so "<!-->" and "<!--->" end at once
            i++;
          } else state = BOGUS;
          break;

        case COMMENT: {
          if (this.dashes === 0) {
            // Only a '-' can change anything while no dashes are pending.
            const dash = findByte(buf, 0x2d, i);
            if (dash < 0) {
              i = n;
              break;
            }
            i = dash;
          }
          const c = buf[i] as number;
          i++;
          if (c === 0x2d) this.dashes++;
          else if (c === 0x3e && this.dashes >= 2) state = DATA;
          else if (c === 0x21 && this.dashes >= 2) state = COMMENT_BANG;
          else this.dashes = 0;
          break;
        }

        case COMMENT_BANG: {
          const c = buf[i] as number;
          i++; // consumed either way, as Go does
          if (c === 0x3e) state = DATA;
          else {
            this.dashes = 0;
            state = COMMENT;
          }
          break;
        }

        case BOGUS: {
          const gt = findByte(buf, 0x3e, i);
          if (gt < 0) i = n;
          else {
            i = gt + 1;
            state = DATA;
          }
          break;
        }

        case TAG_NAME: {
          while (i < n) {
            const c = buf[i] as number;
            if (isSpace(c)) {
              i++;
              state = BEFORE_ATTR;
              break;
            }
            if (c === 0x2f || c === 0x3e) {
              state = BEFORE_ATTR; // reconsume
              break;
            }
            const digit = nameDigit(c);
            this.tagName =
              digit === 0 || this.tagNameLength >= LONGEST_RAW_TAG || this.tagName === NOT_A_KNOWN_NAME
                ? NOT_A_KNOWN_NAME
                : this.tagName * 27 + digit;
            this.tagNameLength++;
            i++;
          }
          break;
        }

        case BEFORE_ATTR: {
          const c = buf[i] as number;
          if (isSpace(c)) {
            i++;
          } else if (c === 0x3e) {
            const before = i > 0 ? (buf[i - 1] as number) : this.lastByte;
            i++;
            state = this.endTag(before === 0x2f);
          } else {
            // An attribute key starts here; '/' and '=' end an empty key at once.
            this.keyLength = 0;
            this.keyIsHref = true;
            state = ATTR_KEY;
          }
          break;
        }

        case ATTR_KEY: {
          while (i < n) {
            const c = buf[i] as number;
            if (isSpace(c) || c === 0x2f) {
              i++;
              state = this.endKey();
              break;
            }
            if (c === 0x3d || c === 0x3e) {
              state = this.endKey(); // reconsume
              break;
            }
            if (this.keyLength < 4 && lower(c) !== 'href'.charCodeAt(this.keyLength)) {
              this.keyIsHref = false;
            }
            this.keyLength++;
            i++;
          }
          break;
        }

        case AFTER_KEY: {
          const c = buf[i] as number;
          if (isSpace(c)) i++;
          else if (c === 0x3d) {
            i++;
            state = BEFORE_VALUE;
          } else {
            this.endAttribute(); // no value: reconsume c as the next attribute or '>'
            state = BEFORE_ATTR;
          }
          break;
        }

        case BEFORE_VALUE: {
          const c = buf[i] as number;
          if (isSpace(c)) i++;
          else if (c === 0x3e) {
            this.endAttribute(); // "k=>": empty value, reconsume '>'
            state = BEFORE_ATTR;
          } else if (c === 0x22 || c === 0x27) {
            this.quote = c;
            i++;
            state = VALUE_QUOTED;
          } else {
            state = VALUE_UNQUOTED;
          }
          break;
        }

        case VALUE_QUOTED: {
          const end = findByte(buf, this.quote, i);
          const stop = end < 0 ? n : end;
          if (this.capturing && stop > i) this.decoder.write(buf, i, stop);
          if (end < 0) i = n;
          else {
            i = end + 1;
            this.endAttribute();
            state = BEFORE_ATTR;
          }
          break;
        }

        case VALUE_UNQUOTED: {
          const start = i;
          let done = false;
          while (i < n) {
            const c = buf[i] as number;
            if (isSpace(c) || c === 0x3e) {
              done = true;
              break;
            }
            i++;
          }
          if (this.capturing && i > start) this.decoder.write(buf, start, i);
          if (done) {
            if (buf[i] !== 0x3e) i++; // white space is consumed, '>' is reconsumed
            this.endAttribute();
            state = BEFORE_ATTR;
          }
          break;
        }

        case RAW: {
          const lt = findByte(buf, 0x3c, i);
          if (lt < 0) i = n;
          else {
            i = lt + 1;
            state = RAW_LT;
          }
          break;
        }

        case RAW_LT:
          if (buf[i] === 0x2f) {
            i++;
            this.matchEndTag(this.rawTag, ON_MATCH_END_RAW, RAW);
            state = MATCH_END_TAG;
          } else state = RAW; // reconsume
          break;

        case PLAINTEXT:
          i = n; // everything up to the end of input is text
          break;

        case MATCH_END_TAG: {
          const c = buf[i] as number;
          if (this.matchIndex < this.matchName.length) {
            if (lower(c) !== this.matchName.charCodeAt(this.matchIndex)) {
              state = this.onMismatch; // reconsume
            } else {
              this.matchIndex++;
              i++;
            }
            break;
          }
          if (!(isSpace(c) || c === 0x2f || c === 0x3e)) {
            state = this.onMismatch; // reconsume
            break;
          }
          if (this.onMatch === ON_MATCH_END_RAW) {
            // Go backs up and reads "</name" + c again as an ordinary end tag.
            this.startTag(true, nameCode(this.rawTag), this.rawTag.length);
            this.rawTag = '';
            state = TAG_NAME; // reconsume the terminator
          } else if (this.onMatch === ON_MATCH_DOUBLE_ESCAPE) {
            i++;
            state = SCRIPT_DOUBLE_ESCAPED;
          } else {
            i++;
            state = SCRIPT_ESCAPED;
          }
          break;
        }

        case SCRIPT: {
          const lt = findByte(buf, 0x3c, i);
          if (lt < 0) i = n;
          else {
            i = lt + 1;
            state = SCRIPT_LT;
          }
          break;
        }

        case SCRIPT_LT: {
          const c = buf[i] as number;
          if (c === 0x2f) {
            i++;
            this.matchEndTag('script', ON_MATCH_END_RAW, SCRIPT);
            state = MATCH_END_TAG;
          } else if (c === 0x21) {
            i++;
            state = SCRIPT_ESCAPE_START;
          } else state = SCRIPT;
          break;
        }

        case SCRIPT_ESCAPE_START:
        case SCRIPT_ESCAPE_START_DASH:
          if (buf[i] === 0x2d) {
            i++;
            state = state === SCRIPT_ESCAPE_START ? SCRIPT_ESCAPE_START_DASH : SCRIPT_ESCAPED_DASH_DASH;
          } else state = SCRIPT;
          break;

        case SCRIPT_ESCAPED:
        case SCRIPT_ESCAPED_DASH:
        case SCRIPT_ESCAPED_DASH_DASH: {
          const c = buf[i] as number;
          i++;
          if (c === 0x2d) state = state === SCRIPT_ESCAPED ? SCRIPT_ESCAPED_DASH : SCRIPT_ESCAPED_DASH_DASH;
          else if (c === 0x3c) state = SCRIPT_ESCAPED_LT;
          else if (c === 0x3e && state === SCRIPT_ESCAPED_DASH_DASH) state = SCRIPT;
          else state = SCRIPT_ESCAPED;
          break;
        }

        case SCRIPT_ESCAPED_LT: {
          const c = buf[i] as number;
          if (c === 0x2f) {
            i++;
            this.matchEndTag('script', ON_MATCH_END_RAW, SCRIPT_ESCAPED);
            state = MATCH_END_TAG;
          } else if (isLetter(c)) {
            this.matchEndTag('script', ON_MATCH_DOUBLE_ESCAPE, SCRIPT_ESCAPED);
            state = MATCH_END_TAG; // reconsume the letter as the first of "script"
          } else state = SCRIPT; // Go goes back to plain script data here
          break;
        }

        case SCRIPT_DOUBLE_ESCAPED:
        case SCRIPT_DOUBLE_ESCAPED_DASH:
        case SCRIPT_DOUBLE_ESCAPED_DASH_DASH: {
          const c = buf[i] as number;
          i++;
          if (c === 0x2d)
            state =
              state === SCRIPT_DOUBLE_ESCAPED ? SCRIPT_DOUBLE_ESCAPED_DASH : SCRIPT_DOUBLE_ESCAPED_DASH_DASH;
          else if (c === 0x3c) state = SCRIPT_DOUBLE_ESCAPED_LT;
          else if (c === 0x3e && state === SCRIPT_DOUBLE_ESCAPED_DASH_DASH) state = SCRIPT;
          else state = SCRIPT_DOUBLE_ESCAPED;
          break;
        }

        case SCRIPT_DOUBLE_ESCAPED_LT:
          if (buf[i] === 0x2f) {
            i++;
            this.matchEndTag('script', ON_MATCH_DOUBLE_ESCAPE_END, SCRIPT_DOUBLE_ESCAPED);
            state = MATCH_END_TAG;
          } else state = SCRIPT_DOUBLE_ESCAPED;
          break;

        default:
          throw new Error(`link counter: unknown state ${state}`);
      }
    }

    this.state = state;
    if (n > 0) this.lastByte = buf[n - 1] as number;
  }

  /**
   * Ends the input. A tag cut off by the end of input is not a tag (Go returns an
   * error token): its pending links are dropped.
   */
  end(): LinkCounts {
    this.pendingInternal = this.pendingExternal = 0;
    this.capturing = false;
    return { internal: this.internal, external: this.external };
  }

  /** A tag begins; `code` and `length` describe what of its name was read so far. */
  private startTag(isEnd: boolean, code: number, length: number): void {
    this.isEndTag = isEnd;
    this.tagName = code === 0 ? NOT_A_KNOWN_NAME : code;
    this.tagNameLength = length;
    this.pendingInternal = this.pendingExternal = 0;
    this.capturing = false;
  }

  private endKey(): number {
    this.capturing = !this.isEndTag && this.keyIsHref && this.keyLength === 4 && this.isAnchor();
    if (this.capturing) {
      this.url.reset();
      this.decoder.reset();
    }
    return AFTER_KEY;
  }

  private isAnchor(): boolean {
    return this.tagName === A_TAG;
  }

  /** An attribute ended: an href of an <a> start tag is classified now, counted at '>'. */
  private endAttribute(): void {
    if (this.capturing) {
      this.decoder.end();
      const outcome = this.url.end();
      if (outcome === URL_INTERNAL) this.pendingInternal++;
      else if (outcome === URL_EXTERNAL) this.pendingExternal++;
      this.capturing = false;
    }
  }

  /** The tag's closing '>' was read: count its links and pick the next state. */
  private endTag(selfClosing: boolean): number {
    if (this.isEndTag) return DATA;
    if (!selfClosing && this.isAnchor()) {
      this.internal += this.pendingInternal;
      this.external += this.pendingExternal;
    }
    this.pendingInternal = this.pendingExternal = 0;
    // Go switches to raw text even after a self-closing "<script/>".
    const rawTag = rawTagOf(this.tagName);
    if (rawTag !== undefined) {
      this.rawTag = rawTag;
      if (this.tagName === PLAINTEXT_TAG) return PLAINTEXT;
      return this.tagName === SCRIPT_TAG ? SCRIPT : RAW;
    }
    return DATA;
  }

  /**
   * The common case, a whole tag inside one chunk, read in one tight loop with the
   * same rules as the states TAG_NAME to VALUE_UNQUOTED. `p` is at the first letter
   * of the name. Returns the index after the closing '>' (tag name and the links
   * of its href values recorded for endTag), or -1 when the chunk ends first: the
   * caller then reads the tag again, byte by byte, with the resumable states.
   * Changes nothing else (the value streams it may use are reset before each
   * value). Only the last tag of a chunk can be read twice, so time stays linear.
   */
  private readTagFast(b: Uint8Array, p: number, isEnd: boolean): number {
    const n = b.length;
    let code = nameDigit(b[p] as number);
    let length = 1;
    let c: number;
    for (p++; ; p++) {
      if (p >= n) return -1;
      c = b[p] as number;
      if (isSpace(c)) {
        p++;
        break;
      }
      if (c === 0x2f || c === 0x3e) break;
      const digit = nameDigit(c);
      code =
        digit === 0 || length >= LONGEST_RAW_TAG || code === NOT_A_KNOWN_NAME
          ? NOT_A_KNOWN_NAME
          : code * 27 + digit;
      length++;
    }
    const anchor = !isEnd && code === A_TAG;
    let internal = 0;
    let external = 0;
    for (;;) {
      while (p < n && isSpace(b[p] as number)) p++;
      if (p >= n) return -1;
      if (b[p] === 0x3e) break;
      // Attribute key: '/' or white space ends it (consumed), '=' or '>' too (not consumed).
      const keyStart = p;
      let keyEnd: number;
      for (;;) {
        if (p >= n) return -1;
        c = b[p] as number;
        if (isSpace(c) || c === 0x2f) {
          keyEnd = p++;
          break;
        }
        if (c === 0x3d || c === 0x3e) {
          keyEnd = p;
          break;
        }
        p++;
      }
      // Attribute value: only after '='; quoted, or up to white space or '>'.
      let valueStart = p;
      let valueEnd = p;
      while (p < n && isSpace(b[p] as number)) p++;
      if (p >= n) return -1;
      if (b[p] === 0x3d) {
        p++;
        while (p < n && isSpace(b[p] as number)) p++;
        if (p >= n) return -1;
        c = b[p] as number;
        if (c === 0x22 || c === 0x27) {
          const close = findByte(b, c, p + 1);
          if (close < 0) return -1;
          valueStart = p + 1;
          valueEnd = close;
          p = close + 1;
        } else if (c !== 0x3e) {
          valueStart = p;
          while (p < n && !isSpace(b[p] as number) && b[p] !== 0x3e) p++;
          if (p >= n) return -1;
          valueEnd = p;
          if (b[p] !== 0x3e) p++;
        } else {
          valueStart = valueEnd = p;
        }
      }
      if (anchor && keyEnd - keyStart === 4 && isHrefKey(b, keyStart)) {
        const outcome = this.classify(b, valueStart, valueEnd);
        if (outcome === URL_INTERNAL) internal++;
        else if (outcome === URL_EXTERNAL) external++;
      }
    }
    this.startTag(isEnd, code, length);
    this.pendingInternal = internal;
    this.pendingExternal = external;
    return p + 1;
  }

  /** One href value raw[start, end), by href-counter's rule: URL_REJECTED, URL_INTERNAL or URL_EXTERNAL. */
  private classify(raw: Uint8Array, start: number, end: number): number {
    if (end - start > this.valueCap) {
      // Too long to decode in place: the same rule, streamed.
      this.url.reset();
      this.decoder.reset();
      this.decoder.write(raw, start, end);
      this.decoder.end();
      return this.url.end();
    }
    let b = raw;
    for (let i = start; i < end; i++) {
      const c = raw[i] as number;
      if (c === 0x26 /* & */ || c === 0x0d /* \r */) {
        b = decodeAttributeBytes(raw, start, end);
        start = 0;
        end = b.length;
        break;
      }
    }
    const host = this.host;
    if (!parseGoUrlBytes(b, start, end, host)) return URL_REJECTED; // Go rejects it: not counted
    const internal =
      (end > start && b[start] === 0x23) /* starts with '#' */ ||
      host.start === host.end ||
      (host.escaped
        ? Buffer.compare(decodeHost(b, host), this.baseHost) === 0
        : bytesEqual(b, host.start, host.end, this.baseHost));
    return internal ? URL_INTERNAL : URL_EXTERNAL;
  }

  private matchEndTag(name: string, onMatch: number, onMismatch: number): void {
    this.matchName = name;
    this.matchIndex = 0;
    this.onMatch = onMatch;
    this.onMismatch = onMismatch;
  }
}

/** Counts links in a whole document held in memory (tests, POST bodies already read). */
export function countLinks(
  html: string | Uint8Array,
  pageUrl: string,
  options?: LinkCounterOptions,
): LinkCounts {
  const counter = LinkCounter.forPage(pageUrl, options);
  counter.write(typeof html === 'string' ? Buffer.from(html, 'utf8') : html);
  return counter.end();
}

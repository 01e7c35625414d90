/**
 * Property-based proof that the bounded-memory counter counts EXACTLY as the
 * counter it replaced (a frozen copy in ./reference, which held every href whole):
 * adversarial pages and href values are generated with fast-check, fed in
 * arbitrary chunks (down to one byte) and with tiny value caps, so that both the
 * in-place path and the streaming path (AttributeDecoder + GoUrlStream) are
 * compared with the reference on short inputs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_VALUE_CAP, LinkCounter, countLinks } from '../../src/count/count-links.js';
import { GoUrlStream, URL_EXTERNAL, URL_INTERNAL, URL_REJECTED } from '../../src/count/go-url.js';
import { AttributeDecoder } from '../../src/count/html-unescape.js';
import { countLinks as referenceCountLinks } from './reference/count-links.js';
import { decodeHost, goUrlHost, parseGoUrlBytes, type HostRange } from './reference/go-url.js';
import { decodeAttributeBytes as referenceDecode } from './reference/html-unescape.js';

/** Page URLs whose hosts exercise the comparison: ports, IPv6 with a zone, %-escapes, userinfo. */
const PAGES = [
  'http://example.com/docs/page.html',
  'http://example.com:8080/',
  'http://[::1]:80/',
  'http://[fe80::1%25en0]/',
  'http://h%C3%A9.test/',
  'http://user@example.com/',
  'https://o.org',
];

/** Bits of href values: every URL form Go's parser treats specially, and references that decode to them. */
const URL_PIECES = [
  ...['http:', 'https:', 'HTTP:', 'mailto:', 'javascript:', 'a', 'b', 'x1', '1a:', 'cache_object:', '_'],
  ...['+', '-', '.', ':', '::', '/', '//', '///', '?', '??', '#', '##', '@', '@@', 'user:pw@', 'u%41@'],
  ...['%', '%2', '%25', '%2525', '%41', '%4', '%zz', '%C3%A9', '%c3', '%20', '%80', '%ff', '%3A'],
  ...['[', ']', '[::1]', '[fe80::1%25en0]', '%25en0', '%25%20', '%25%41', '%25%C3', ':80', ':8x', '0'],
  ...['8080', 'example.com', 'EXAMPLE.com', 'example.com:8080', 'o.org', 'h%C3%A9.test', 'hé.test', 'é'],
  ...['*', '\t', '\x01', '\x7f', '\n', '\r', '\r\n', '<', '=', '`'],
  ...['&amp;', '&#35;', '&#x23;', '&#58;', '&#x3A;', '&#0000058;', '&#x00003a;', '&colon;', '&sol;'],
  ...['&num;', '&commat;', '&lsqb;', '&rsqb;', '&percnt;', '&quest;', '&amp', '&ampx', '&amp=', '&#'],
  ...['&#x', '&#;', '&#x;', '&;', '&', '&#9;', '&#128;', '&#0;', '&#xD800;', '&#99999999999;'],
  ...['&#x110000;', '&CounterClockwiseContourIntegral;', '&nGt;', '&lt', '&notit;', '&zzzz;', '&#5z'],
  ...['&#x5', '&#5', '&#13;', '&#x7F;', '&#64;', '&#91;', '&#93;', '&#37;', '&#x25;32;5'],
];

/** Markup around the values: tags, raw text, comments, quotes, white space. */
const SOUP = [
  ...['<a', '<A', '<a ', ' href', ' HrEf', ' href=', '=', '"', "'", '>', '/>', '/', ' ', '\r', '\n'],
  ...['text', '<!--', '-->', '--!>', '<!-', '<!DOCTYPE html>', '<?x?>', '</', '</ x>', '</a>', '<'],
  ...['<script>', '</script>', '<!--<script>', '</script >', '<style>', '</STYLE>', '<title>'],
  ...['</title>', '<textarea>', '</textarea>', '<plaintext>', '<a/', '<<', '\0', '\xff', 'x'],
];

/** scheme, "//", userinfo, host, port, path, query, fragment: each valid, odd, or broken. */
const structuredUrl = fc
  .tuple(
    fc.constantFrom('', '', 'http:', 'HTTPS:', 'x+y.z-1:', '1a:', 'mailto:', 'http&#58;'),
    fc.constantFrom('//', '//', '//', '//', '/', '///', '', '&#47;/'),
    fc.constantFrom(
      '',
      '',
      '',
      'user@',
      'u:p@',
      'a@b@',
      '%41@',
      '%4@',
      'ü@',
      '@',
      'us er@',
      '%zz@',
      'u&#64;',
    ),
    fc.constantFrom(
      ...['example.com', 'example.com', 'EXAMPLE.com', 'o.org', 'o.org', '[::1]', '[fe80::1%25en0]'],
      ...['[fe80::1%25%41]', '[fe80::1%25%2]', '[fe80::1%25%20x]', '[::1', '::1]', '[]', '[a]%25b]'],
      ...['h%C3%A9.test', 'hé.test', 'h%41.test', 'x%25', '', '[%25]', '[%%25]', 'example&#46;com'],
      ...['exa&#109;ple.com', '&#91;::1&#93;', 'ex&ampl.com', 'example.com&#58;8080', 'ex\tample.com'],
    ),
    fc.constantFrom('', '', '', ':80', ':8080', ':', ':8x', ':80:90', ']:80', '@'),
    fc.constantFrom('', '/', '/x', '/a%41', '/a%zz', '/a:b', '/%', '?q', '?%zz', '/x?y#z', '#f', '#%zz'),
    fc.constantFrom('', '', '#', '#%4', '#%41', '#\x01', '?#', '&#35;x'),
  )
  .map((parts) => parts.join(''));

/** A structured URL with arbitrary pieces spliced in, or pieces alone. */
const urlValue = fc.oneof(
  { arbitrary: structuredUrl, weight: 4 },
  {
    arbitrary: fc
      .tuple(structuredUrl, fc.array(fc.constantFrom(...URL_PIECES), { maxLength: 3 }), fc.nat())
      .map(([url, pieces, at]) => {
        const cut = at % (url.length + 1);
        return url.slice(0, cut) + pieces.join('') + url.slice(cut);
      }),
    weight: 2,
  },
  {
    arbitrary: fc.array(fc.constantFrom(...URL_PIECES), { maxLength: 12 }).map((parts) => parts.join('')),
    weight: 1,
  },
);

const attribute = fc
  .record({
    key: fc.constantFrom('href', 'HREF', 'HrEf', 'href', 'title', 'hreflang', 'xhref', 'hre'),
    eq: fc.constantFrom('=', ' = ', '\n=\r\n', '', '='),
    quote: fc.constantFrom('"', "'", ''),
    value: urlValue,
  })
  .map(({ key, eq, quote, value }) => (eq === '' ? ` ${key}` : ` ${key}${eq}${quote}${value}${quote}`));

/** An `<a>`-like tag: many, repeated, mixed-case hrefs; self-closing or cut-off endings. */
const anchor = fc
  .record({
    name: fc.constantFrom('a', 'A', 'a', 'a', '/a', 'abbr', 'link'),
    attributes: fc.array(attribute, { maxLength: 6 }),
    close: fc.constantFrom('>', '>', '/>', ' />', '', '\n>'),
  })
  .map(({ name, attributes, close }) => `<${name}${attributes.join('')}${close}`);

const soupPage = fc
  .array(fc.oneof(anchor, fc.constantFrom(...SOUP), fc.constantFrom(...URL_PIECES)), { maxLength: 24 })
  .map((parts) => parts.join(''));

const anchorPage = fc.array(anchor, { minLength: 1, maxLength: 6 }).map((tags) => tags.join('text'));

/** Chunk sizes, used in turn: one byte at a time, or a cycle of small sizes (0 writes an empty chunk). */
const chunking = fc.oneof(
  fc.constant([1]),
  fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 8 }),
);

/** Caps from "stream every value" to the production default (fast path for short values). */
const valueCap = fc.constantFrom(0, 1, 2, 3, 5, 8, 16, DEFAULT_VALUE_CAP);

function countChunked(bytes: Buffer, page: string, cap: number, sizes: readonly number[]): [number, number] {
  const counter = LinkCounter.forPage(page, { valueCap: cap });
  let k = 0;
  for (let offset = 0; offset < bytes.length;) {
    let size = sizes[k++ % sizes.length] as number;
    if (size === 0 && sizes.every((s) => s === 0)) size = 1;
    // A fresh copy per chunk: nothing may depend on an earlier chunk's memory.
    counter.write(Buffer.from(bytes.subarray(offset, offset + size)));
    offset += size;
  }
  const { internal, external } = counter.end();
  return [internal, external];
}

function reference(bytes: Buffer, page: string): [number, number] {
  const { internal, external } = referenceCountLinks(bytes, page);
  return [internal, external];
}

function checkPage(html: string, page: string, cap: number, sizes: readonly number[]): void {
  const bytes = Buffer.from(html, 'utf8');
  const expected = reference(bytes, page);
  const whole = countLinks(bytes, page, { valueCap: cap });
  expect([whole.internal, whole.external]).toEqual(expected);
  expect(countChunked(bytes, page, cap, sizes)).toEqual(expected);
}

describe('the counter counts exactly as the reference (property-based)', () => {
  it('on generated <a> tags, whole or in any chunks, with any value cap', () => {
    fc.assert(
      fc.property(anchorPage, fc.constantFrom(...PAGES), valueCap, chunking, (html, page, cap, sizes) =>
        checkPage(html, page, cap, sizes),
      ),
      { numRuns: 1500 },
    );
  });

  it('on generated markup soup (raw text, comments, broken tags), whole or in any chunks', () => {
    fc.assert(
      fc.property(soupPage, fc.constantFrom(...PAGES), valueCap, chunking, (html, page, cap, sizes) =>
        checkPage(html, page, cap, sizes),
      ),
      { numRuns: 1500 },
    );
  });

  it('on values far over the cap: long runs of digits, names, escapes, userinfo and hosts', () => {
    const longRun = fc
      .record({
        piece: fc.constantFrom('a', '0', '%41', '@', 'u@', '&amp;', '&#', ':', '/', '1', '%25', ']', 'é'),
        times: fc.integer({ min: 1, max: 3000 }),
      })
      .map(({ piece, times }) => piece.repeat(times));
    const longValue = fc
      .array(fc.oneof(fc.constantFrom(...URL_PIECES), longRun), { minLength: 1, maxLength: 8 })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(
        longValue,
        fc.constantFrom(...PAGES),
        fc.constantFrom(0, 64, DEFAULT_VALUE_CAP),
        fc.constantFrom('"', "'", ''),
        (value, page, cap, quote) =>
          checkPage(`<a href=${quote}${value}${quote}>`, page, cap, [4096, 1, 777]),
      ),
      { numRuns: 150 },
    );
  });

  it('on the exact forms of the review: numeric references with thousands of leading zeros', () => {
    for (const cap of [0, 16, DEFAULT_VALUE_CAP]) {
      for (const value of [
        'http&#' + '0'.repeat(20_000) + '58;//o.org/',
        'http&#x' + '0'.repeat(20_000) + '3A;//example.com/',
        '&#' + '0'.repeat(20_000) + '35;top',
        '&' + 'a'.repeat(20_000) + ';',
        'http://' + 'u@'.repeat(10_000) + 'example.com/',
        'http://[' + '1:'.repeat(10_000) + ']:80/',
      ]) {
        checkPage(`<a href="${value}">`, PAGES[0] as string, cap, [1000, 1, 3]);
      }
    }
  });
});

describe('cases an outside review found the generators too rarely make', () => {
  // Each one survived a one-line mutation of the streaming code that every property
  // above let pass: "%5" taken for the start of a zone id ("%25"), and a '\r' ending
  // one value remembered into the next one's leading '\n'.
  it.each([
    ['a "%5" inside IPv6 brackets is not a zone', '<a href="http://[::1%5]/">'],
    ['a "%25" zone is', '<a href="http://[::1%25eth0]/">'],
    ["a value ending in \r does not join the next value's \n", '<a href="x\r" href="\nhttp://o.org/">'],
    ['nor across attributes of another name', '<a href="x\r" title="" href="\nhttp://o.org/">'],
  ])('%s', (_name, html) => {
    for (const page of PAGES)
      for (const cap of [0, 1, 2, 3, DEFAULT_VALUE_CAP]) checkPage(html, page, cap, [1, 2, 3, 1000]);
  });
});

describe('the streaming parts agree with the in-place functions (property-based)', () => {
  /** References and newlines at their densest. */
  const ENTITY_PIECES = [
    ...['&', '#', 'x', 'X', '0', '0000', '5', '58', 'a', 'F', ';', '=', 'amp', 'lt', 'notin', 'nGt'],
    ...['CounterClockwiseContourIntegral', 'a'.repeat(40), '\r', '\n', '\r\n', 'é', '&amp;', '&#x'],
    ...['&#', '99999999999', 'D800', '128', ' ', '%'],
  ];
  const entityValue = fc.array(fc.constantFrom(...ENTITY_PIECES), { maxLength: 16 }).map((p) => p.join(''));

  it('AttributeDecoder fed in any pieces decodes as decodeAttributeBytes', () => {
    fc.assert(
      fc.property(entityValue, chunking, (value, sizes) => {
        const bytes = Buffer.from(value, 'utf8');
        const expected = Buffer.from(referenceDecode(bytes, 0, bytes.length));
        const out: number[] = [];
        const decoder = new AttributeDecoder({ push: (c) => void out.push(c) });
        let k = 0;
        for (let offset = 0; offset < bytes.length;) {
          const size = Math.max(1, sizes[k++ % sizes.length] as number);
          decoder.write(bytes, offset, Math.min(bytes.length, offset + size));
          offset += size;
        }
        decoder.end();
        expect(Buffer.from(out).toString('latin1')).toBe(expected.toString('latin1'));
      }),
      { numRuns: 3000 },
    );
  });

  /** href-counter's rule on a decoded value, with the reference url.Parse port. */
  function referenceOutcome(b: Uint8Array, base: Uint8Array): number {
    const host: HostRange = { start: 0, end: 0, escaped: false };
    if (!parseGoUrlBytes(b, 0, b.length, host)) return URL_REJECTED;
    const internal =
      (b.length > 0 && b[0] === 0x23) ||
      host.start === host.end ||
      (host.escaped
        ? Buffer.compare(decodeHost(b, host), base) === 0
        : Buffer.compare(b.subarray(host.start, host.end), base) === 0);
    return internal ? URL_INTERNAL : URL_EXTERNAL;
  }

  function streamOutcome(b: Uint8Array, base: Uint8Array): number {
    const stream = new GoUrlStream(base);
    stream.reset();
    for (const c of b) stream.push(c);
    return stream.end();
  }

  it('GoUrlStream gives parseGoUrlBytes and the host comparison, byte by byte', () => {
    // The bytes Go's rules turn on, densely: "//" first makes most of them an authority.
    const critical = fc
      .tuple(
        fc.constantFrom('', '//', 'http://'),
        fc.array(fc.constantFrom(...'[]@:%25/?#aAf8.\x01 h\xc3'), { maxLength: 14 }),
      )
      .map(([head, chars]) => Buffer.from(head + chars.join(''), 'latin1'));
    const bytes = fc.oneof(
      urlValue.map((v) => Buffer.from(v, 'utf8')),
      critical,
      fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a)),
    );
    fc.assert(
      fc.property(bytes, fc.constantFrom(...PAGES), (b, page) => {
        const base = goUrlHost(page) as Buffer;
        expect(streamOutcome(b, base)).toBe(referenceOutcome(b, base));
      }),
      { numRuns: 5000 },
    );
  });

  it('GoUrlStream decides every rejection rule, on hand-picked cases too', () => {
    const base = goUrlHost('http://[fe80::1%25en0]:8080/') as Buffer;
    for (const value of [
      'http://[fe80::1%25en0]:8080/',
      'http://[fe80::1%25en0]:8080',
      'http://[fe80::1%25%41]/',
      'http://[fe80::1%25%2]/',
      'http://[fe80::1%25en0]]/',
      'http://[a]%25b]/',
      'http://[a%%25b]/',
      'http://[%25]:x/',
      'http://[::1]:/',
      'http://[::1]]:80/',
      'http://a@[::1]@[::1]:80/',
      'http://%@x/',
      'http://a%4@x/',
      'http://ü@x/',
      'http://x:80:90/',
      'http://x:/',
      'http://%C3%A9/',
      'http://%c3%zz/',
      'http://%25/',
      'http://%2/',
      '//x?#',
      '///x:y',
      'a:b:c',
      '*',
      '*#%zz',
      '#\x01',
      '?\x7f',
      '',
      ':',
      'x#%4',
      'x#%41',
    ]) {
      const b = Buffer.from(value, 'utf8');
      expect([value, streamOutcome(b, base)]).toEqual([value, referenceOutcome(b, base)]);
    }
  });
});

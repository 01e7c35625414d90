import { describe, expect, it } from 'vitest';
import { LinkCounter, countLinks } from '../../src/count/count-links.js';

const PAGE = 'http://example.com/docs/page.html';

function count(html: string, page = PAGE): [number, number] {
  const { internal, external } = countLinks(html, page);
  return [internal, external];
}

/** The same document fed in every possible two-chunk split and one byte at a time. */
function countChunked(html: string, page = PAGE): [number, number][] {
  const bytes = Buffer.from(html, 'utf8');
  const results: [number, number][] = [];
  for (let split = 0; split <= bytes.length; split++) {
    const counter = LinkCounter.forPage(page);
    counter.write(bytes.subarray(0, split));
    counter.write(bytes.subarray(split));
    const r = counter.end();
    results.push([r.internal, r.external]);
  }
  const bytewise = LinkCounter.forPage(page);
  for (const byte of bytes) bytewise.write(Uint8Array.of(byte));
  const r = bytewise.end();
  results.push([r.internal, r.external]);
  return results;
}

describe('counting rule: what is internal and what is external', () => {
  it.each([
    ['relative path', '<a href="guide/x.html">', [1, 0]],
    ['root-relative path', '<a href="/x">', [1, 0]],
    ['dot segments', '<a href="../up">', [1, 0]],
    ['query only', '<a href="?q=1">', [1, 0]],
    ['empty href', '<a href="">', [1, 0]],
    ['href without a value', '<a href>', [1, 0]],
    ['absolute, same host', '<a href="http://example.com/other">', [1, 0]],
    ['absolute, other scheme same host', '<a href="https://example.com/">', [1, 0]],
    ['absolute, other host', '<a href="http://example.org/">', [0, 1]],
    ['subdomain is another host', '<a href="http://www.example.com/">', [0, 1]],
    ['host compare is exact: case', '<a href="http://EXAMPLE.com/">', [0, 1]],
    ['same host with another port', '<a href="http://example.com:8080/">', [0, 1]],
    ['scheme-relative, same host', '<a href="//example.com/x">', [1, 0]],
    ['scheme-relative, other host', '<a href="//cdn.example.net/lib.js">', [0, 1]],
    ['fragment only', '<a href="#top">', [1, 0]],
    ['fragment only, empty', '<a href="#">', [1, 0]],
    ['mailto has no host', '<a href="mailto:someone@example.org">', [1, 0]],
    ['javascript: has no host', '<a href="javascript:void(0)">', [1, 0]],
    ['tel: has no host', '<a href="tel:+1555">', [1, 0]],
    ['userinfo does not change the host', '<a href="http://user:pw@example.com/">', [1, 0]],
    ['IPv6 literal host', '<a href="http://[::1]:80/">', [0, 1]],
  ])('%s', (_name, html, expected) => {
    expect(count(html)).toEqual(expected);
  });

  it('compares host and port exactly as the client wrote the page URL', () => {
    expect(count('<a href="http://example.com:8080/">', 'http://example.com:8080/')).toEqual([1, 0]);
    expect(count('<a href="http://example.com/">', 'http://example.com:8080/')).toEqual([0, 1]);
  });
});

describe('counting rule: which tags and attributes count', () => {
  it.each([
    ['upper-case tag and attribute', '<A HREF="/x">', [1, 0]],
    ['mixed case', '<a HrEf="http://o.org/">', [0, 1]],
    ['repeated href counts each time', '<a href="/x" href="http://o.org/" href="#y">', [2, 1]],
    ['self-closing <a/> is not a start tag', '<a href="/x"/>', [0, 0]],
    ['self-closing with a space', '<a href="/x" />', [0, 0]],
    ['unquoted value ending in a slash makes the tag self-closing (Go)', '<a href=/x/>', [0, 0]],
    ['end tags are not counted', '</a href="/x">', [0, 0]],
    ['other tags with href are not counted', '<link href="/x"><area href="/y"><base href="/z">', [0, 0]],
    ['tag name must be exactly a', '<abbr href="/x"><a1 href="/y">', [0, 0]],
    ['unquoted values', '<a href=/x>', [1, 0]],
    ['single-quoted values', "<a href='http://o.org/'>", [0, 1]],
    ['white space around =', '<a href = "/x" >', [1, 0]],
    ['quoted value may hold >', '<a href="/x>y">', [1, 0]],
    ['attribute named like href is not href', '<a hreflang="en" data-href="/x" xhref="/y">', [0, 0]],
    ['slash between attributes', '<a/href="/x">', [1, 0]],
  ])('%s', (_name, html, expected) => {
    expect(count(html)).toEqual(expected);
  });
});

describe('counting rule: character references in values', () => {
  it.each([
    ['&amp; in a query', '<a href="/s?a=1&amp;b=2">', [1, 0]],
    ['numeric reference builds the scheme', '<a href="http&#58;//o.org/">', [0, 1]],
    ['hex reference', '<a href="http&#x3A;//o.org/">', [0, 1]],
    ['named reference for the colon', '<a href="http&colon;//o.org/">', [0, 1]],
    ['&#35; makes a fragment only after decoding', '<a href="&#35;top">', [1, 0]],
    ['reference to a control character is rejected', '<a href="/x&#9;y">', [0, 0]],
    ['legacy name without semicolon decodes', '<a href="http://o.org/?a&ampb">', [0, 1]],
    ['name before = is left alone in attributes', '<a href="/?x&amp=1">', [1, 0]],
  ])('%s', (_name, html, expected) => {
    expect(count(html)).toEqual(expected);
  });

  it('decodes the host before comparing it', () => {
    expect(count('<a href="http://example&#46;com/">')).toEqual([1, 0]);
  });
});

describe('counting rule: raw text elements hide tags', () => {
  it.each(['script', 'style', 'textarea', 'title', 'noscript', 'xmp', 'iframe', 'noembed', 'noframes'])(
    '<%s> content is text',
    (tag) => {
      expect(count(`<${tag}><a href="http://o.org/"></${tag}><a href="/after">`)).toEqual([1, 0]);
    },
  );

  it('ends raw text only at the matching end tag, in any case', () => {
    expect(count('<style></styles><a href="/x"></STYLE ><a href="/y">')).toEqual([1, 0]);
    expect(count('<title></title<a href="/x">')).toEqual([0, 0]);
  });

  it('plaintext swallows the rest of the document', () => {
    expect(count('<a href="/a"><plaintext><a href="/b"></plaintext><a href="/c">')).toEqual([1, 0]);
  });

  it('even a self-closing <script/> starts raw text', () => {
    expect(count('<script/><a href="/x"></script><a href="/y">')).toEqual([1, 0]);
  });

  it('follows the script escape states', () => {
    // Inside <!-- <script> the first </script> does not end the script.
    expect(
      count('<script><!--<script></script><a href="/hidden"></script>--></script><a href="/x">'),
    ).toEqual([1, 0]);
    expect(count('<script><!-- </script><a href="/x">')).toEqual([1, 0]);
  });
});

describe('counting rule: comments, doctype and malformed markup', () => {
  it.each([
    ['comment hides links', '<!-- <a href="/x"> --><a href="/y">', [1, 0]],
    ['<!--> is an empty comment', '<!--><a href="/y">', [1, 0]],
    ['--!> ends a comment', '<!-- x --!><a href="/y">', [1, 0]],
    ['doctype', '<!DOCTYPE html><a href="/y">', [1, 0]],
    ['bogus comment <? ... >', '<?xml version="1.0"?><a href="/y">', [1, 0]],
    ['</ followed by a non-letter', '</ <a href="/x">><a href="/y">', [1, 0]],
    ['stray < is text', 'a < b <3 <<a href="/y">', [1, 0]],
    ['unterminated tag at the end is not counted', '<a href="/x"', [0, 0]],
    ['a quote left open takes in the next tag', '<a href="/x><a href="/y">', [1, 0]],
    ['a quote never closed swallows the rest', '<a href="/x><a href=/y>', [0, 0]],
    ['unterminated comment', '<!-- <a href="/x">', [0, 0]],
    ['NUL bytes and binary noise', '\u0000\u0001<a href="/x">\u00ff\ufffd', [1, 0]],
    ['deeply nested', '<div>'.repeat(1000) + '<a href="/x">' + '</div>'.repeat(1000), [1, 0]],
  ])('%s', (_name, html, expected) => {
    expect(count(html)).toEqual(expected);
  });
});

describe('counting rule: URLs Go rejects are not counted', () => {
  it.each([
    ['invalid percent-escape', '/a%zzb'],
    ['truncated percent-escape', '/a%4'],
    ['percent at the end', '/a%'],
    ['invalid escape in the fragment', '#a%zz'],
    ['ASCII control character', '/a\u0001b'],
    ['DEL character', '/a\u007fb'],
    ['newline inside', '/a\nb'],
    ['tab inside', 'http://o.org/\t'],
    ['leading colon', ':foo'],
    ['colon in the first segment of a scheme-less reference', '1a:b'],
    ['colon in the first segment (underscore makes it scheme-less)', 'cache_object:foo/bar'],
    ['port that is not a number', 'http://o.org:8x/'],
    ['port after a bracketed host that is not a number', 'http://[::1]:x/'],
    ['unclosed IPv6 bracket', 'http://[::1/'],
    ['space in the host', 'http://o .org/'],
    ['percent-escape of an ASCII byte in the host', 'http://o%2Eorg/'],
    ['invalid character in userinfo', 'http://us er@o.org/'],
  ])('%s', (_name, value) => {
    expect(count(`<a href="${value}">`)).toEqual([0, 0]);
  });

  it('still counts what Go accepts next to what it rejects', () => {
    expect(count('<a href="/ok"><a href="/bad%"><a href="http://o.org/ok">')).toEqual([1, 1]);
  });
});

describe('streaming', () => {
  it.each([
    '<a href="/x">text<A HREF=\'http://o.org/\'>',
    '<script>if (a<b) {}</script><a href="/y"><!-- c --><a href="//o.org/">',
    '<a href="/s?a=1&amp;b=2&#35;x" title="t"><title>x</title><a href=#top>',
    '<textarea></textarea ><a\nhref\n=\n"/x"\n>',
  ])('gives the same counts wherever chunk boundaries fall: %s', (html) => {
    const expected = count(html);
    expect(expected[0] + expected[1]).toBeGreaterThan(0);
    for (const result of countChunked(html)) expect(result).toEqual(expected);
  });

  it('does not keep chunks it has read', () => {
    const counter = LinkCounter.forPage(PAGE);
    const chunk = Buffer.from('<p>' + 'text '.repeat(20_000) + '<a href="/x">' + '</p>');
    for (let i = 0; i < 200; i++) counter.write(chunk);
    expect(counter.end()).toEqual({ internal: 200, external: 0 });
  });

  it('rejects a page URL Go cannot parse', () => {
    expect(() => LinkCounter.forPage('http://[::1/')).toThrow(RangeError);
  });
});

/**
 * Deterministic documentation-like HTML of a requested size: navigation, headings,
 * paragraphs with inline links (relative, absolute, fragment), code blocks, a
 * script and a style block, entities in attributes. Seeded, so every run counts
 * the same bytes.
 */
export function makePage(bytes: number, seed = 42): Buffer {
  let state = seed >>> 0;
  const rand = (n: number): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  const words = [
    'stage',
    'build',
    'layer',
    'cache',
    'image',
    'node',
    'runtime',
    'compose',
    'proxy',
    'metric',
  ];
  const text = (n: number): string => Array.from({ length: n }, () => words[rand(words.length)]).join(' ');
  const hrefs = [
    () => `/guide/${words[rand(10)]}.html`,
    () => `https://docs.example.test/ref/${words[rand(10)]}`,
    () => `https://github.example.org/${words[rand(10)]}/${words[rand(10)]}`,
    () => `#${words[rand(10)]}`,
    () => `../${words[rand(10)]}/?q=${rand(100)}&amp;lang=en`,
  ];
  const blocks = [
    () =>
      `<p class="body">${text(12)} <a href="${hrefs[rand(5)]!()}" title="${text(2)}">${text(2)}</a> ${text(8)}.</p>\n`,
    () => `<h2 id="s${rand(1000)}">${text(3)}</h2>\n`,
    () =>
      `<pre><code class="language-dockerfile">FROM node:24 AS ${words[rand(10)]}\nRUN npm ci &amp;&amp; npm run build\n</code></pre>\n`,
    () =>
      `<ul class="nav">${Array.from({ length: 4 }, () => `<li><a class="nav-link" href="${hrefs[rand(5)]!()}">${text(1)}</a></li>`).join('')}</ul>\n`,
    () =>
      `<div class="note"><img src="/img/${rand(99)}.png" alt="${text(2)}"><span>${text(6)}</span></div>\n`,
    () =>
      `<script>window.dataLayer = window.dataLayer || []; if (a < b) { track("<a href='x'>"); }</script>\n`,
    () => `<style>.nav > li a { color: #${rand(999)}; }</style>\n`,
  ];
  const head =
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Guide</title></head><body>\n';
  const parts: string[] = [head];
  let size = head.length;
  while (size < bytes) {
    const weights = rand(10);
    const block = (weights < 5 ? blocks[0] : blocks[1 + rand(blocks.length - 1)])!();
    parts.push(block);
    size += block.length;
  }
  return Buffer.from(parts.join('').slice(0, bytes), 'utf8');
}

/**
 * The chat's markdown renderer (webview/markdown.ts, run here in Node: it touches no DOM) against
 * the generated hostile inputs: each render under a second of CPU, output proportional to the
 * input, and nothing executable in it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_ANSWER_CHARS } from '../../src/core/bounds.js';
import { renderMarkdown } from '../../webview/markdown.js';
import { pathologicalInputs, randomInputs } from '../support/hostileInputs.js';

const MAX_MS = 1_000;
/** `"` becomes `&quot;` (6 characters); tags add a little per line. */
const MAX_GROWTH = 8;

function check(name: string, text: string): void {
  const started = process.cpuUsage();
  const html = renderMarkdown(text);
  const used = process.cpuUsage(started);
  const ms = (used.user + used.system) / 1000;
  assert.ok(ms < MAX_MS, `${name} took ${ms.toFixed(0)} ms`);
  assert.ok(html.length <= MAX_GROWTH * text.length + 10_000, `${name}: ${html.length} characters of HTML from ${text.length}`);
  // Only real tags count: escaped text such as `&lt;img onerror=…&gt;` is inert.
  for (const [tag] of html.matchAll(/<[a-z][^>]*>/gi)) {
    assert.ok(!/^<(?:script|style|iframe|object|embed|form|input|base|meta|link)\b/i.test(tag), `${name}: ${tag.slice(0, 80)}`);
    assert.ok(!/\s(?:on\w+|style|srcdoc|formaction)\s*=/i.test(tag), `${name}: ${tag.slice(0, 80)}`);
  }
  for (const [, href] of html.matchAll(/href="([^"]*)"/g)) assert.match(href!, /^https?:\/\//i, `${name}: link target ${href!.slice(0, 80)}`);
}

describe('chat markdown renderer under hostile input', () => {
  test('pathological nesting, emphasis, tables and attributes', () => {
    for (const { name, text } of pathologicalInputs()) check(name, text);
  });
  test('random bytes', () => {
    for (const { name, text } of randomInputs(0xc4a7, 40)) check(name, text);
  });
  test('markup-shaped payloads', () => {
    const payloads = [
      `<img src=x onerror=alert(1)>${'<b>'.repeat(10_000)}`,
      `[x](javascript:alert(1)) [y](data:text/html,<script>) ${'[z](vbscript:x) '.repeat(5_000)}`,
      // markdown-it rescans for each unclosed `![` (100k characters take about 0.9 s of CPU); no answer is longer than MAX_ANSWER_CHARS.
      '!['.repeat(MAX_ANSWER_CHARS / 2),
      `\`\`\`js\n${'/*'.repeat(50_000)}\n\`\`\``,
      `\`\`\`typescript\n${'<'.repeat(100_000)}\n\`\`\``,
    ];
    payloads.forEach((text, i) => check(`payload ${i}`, text));
  });
});

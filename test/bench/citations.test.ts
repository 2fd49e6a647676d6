import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { checkFileCitations, checkFolderCitations, EVAL_CORPORA, type CitationReport } from '../../bench/citations.js';

const ROOT = path.resolve(__dirname, '..', '..');

function assertExact(report: CitationReport, what: string): void {
  assert.ok(report.passages > 0, `${what}: no passages`);
  const sample = report.failures.slice(0, 5).map((f) => `${f.path}:${f.startLine}-${f.endLine} ${f.end} ${JSON.stringify(f.words)}`);
  assert.equal(report.failures.length, 0, `${what}: ${report.failures.length} of ${report.passages} passages cite the wrong lines, e.g.\n${sample.join('\n')}`);
}

/** A long section (so it is split) in every format, with the markup that used to shift lines. */
const longParagraphs = (n: number): string[] => Array.from({ length: n }, (_, i) => `Paragraph ${i} tells about topic${i} ${'and more words '.repeat(12)}end${i}.`);

const FIXTURES: Record<string, string> = {
  'guide.md': ['---', 'title: Guide', 'tags: [a, b]', '---', '', '# Guide', '', '{{< note >}}', ...longParagraphs(20).flatMap((p) => [p, '', '', '', '']), '```js', 'for (const line of file) {}', '```'].join('\n'),
  'page.html': [
    '<html><head><title>Page</title>', '<style>', 'p { color: red }', '</style></head><body>', '<h1>Page</h1>',
    ...longParagraphs(20).map((p) => `<p>${p.replace(/ and /g, '\n and <b>bold</b> &amp; ')}</p>\n\n`),
    '<pre>', 'SELECT 1;', '', 'SELECT 2;', '</pre>', '<dl><dt>term</dt>', '<dd>its definition</dd></dl>', '</body></html>',
  ].join('\n'),
  'doc.adoc': ['= Doc', ':toc:', ':version: 1.0', '', '== Part', '', ...longParagraphs(20).flatMap((p) => [p, '', '// a comment', '']), '----', 'code line', '----'].join('\n'),
  'doc.rst': ['Doc', '===', '', '.. note::', '', ...longParagraphs(20).flatMap((p) => [`   ${p}`, '']), '::', '', '    literal', ''].join('\n'),
  'notes.txt': ['Notes', '=====', '', ...longParagraphs(20).flatMap((p) => [p, '', '']), ''].join('\n'),
  'lib.py': ['def f():', '    """Summary.', '', ...longParagraphs(20).map((p) => `    ${p}`), '    """', '    return 1'].join('\n'),
  'lib.go': ['package x', '', ...longParagraphs(20).map((p) => `// ${p}`), '//go:noinline', '// Last.', 'func F() {}'].join('\n'),
  'minified.html': `<html><body><h1>One line</h1>${longParagraphs(400).map((p) => `<p>${p}</p>`).join('')}</body></html>`,
  'oneline.md': longParagraphs(400).join(' '),
};

for (const [name, content] of Object.entries(FIXTURES)) {
  test(`every passage of ${name} cites lines holding its first and last words`, () => {
    const report = checkFileCitations(name, content);
    assert.ok(report.passages > 1, `${name} is long enough to be split`);
    assertExact(report, name);
  });
}

test('a line-less file becomes bounded passages that all cite its one line', () => {
  const report = checkFileCitations('oneline.md', FIXTURES['oneline.md']!);
  assert.ok(report.passages > 50);
  assert.ok(report.longestPassage <= 256 * 4, `a passage of ${report.longestPassage} characters`);
  assertExact(report, 'oneline.md');
});

for (const corpus of EVAL_CORPORA) {
  const folder = path.join(ROOT, '.cache', `${corpus}-docs`);
  const reason = existsSync(folder) ? false : `corpus ${corpus} not fetched: run bash ../shared/eval/get-${corpus}-docs.sh ${folder}`;
  test(`every passage of the ${corpus} evaluation corpus cites exact lines`, { skip: reason }, async () => {
    assertExact(await checkFolderCitations(folder), corpus);
  });
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDocument } from '../../../src/core/parse/parseDocument.js';
import { assertTextWithinLines, lineOf, sectionAt, sourceOf, withoutSourceLines } from './support.js';

const GUIDE = [
  '---',
  'title: "Lumen CLI guide"',
  'tags: [cli, install]',
  '---',
  '',
  '# Lumen CLI',
  '',
  'The **Lumen** CLI (`lumenctl`) talks to the [gateway](https://lumen.example/gw) for you.',
  '<!-- TODO: screenshot -->',
  '',
  '## Install',
  '',
  '### Linux',
  '',
  'Download the tarball and unpack it:',
  '',
  '```bash',
  '# this is a shell comment, not a heading',
  'tar -xzf lumenctl.tar.gz -C /usr/local/bin',
  '```',
  '',
  '### macOS ###',
  '',
  '![Homebrew logo](img/brew.png) Use _Homebrew_: `brew install lumenctl`.',
  '',
  'Configuration',
  '-------------',
  '',
  'Settings live in `~/.lumen/config.toml`.',
  '<!--',
  'internal note: the old path was ~/.lumenrc',
  '-->',
  'See <a href="#env">environment variables</a> too.',
  '',
  '---',
  '',
  'A thematic break above must not become a heading.',
  '',
  '## Troubleshooting',
  '',
  '- Check the key:',
  '  - run `lumenctl whoami`',
  '    and read the output',
  '- Check the clock',
  '',
  '    indented code block line',
  '',
  '#hashtag is not a heading',
].join('\n');

test('markdown: front matter title, heading paths and exact line ranges', () => {
  const lines = GUIDE.split('\n');
  const doc = parseDocument('docs/cli.md', GUIDE);
  assert.equal(doc.title, 'Lumen CLI guide');
  assert.deepEqual(
    doc.sections.map((s) => s.headingPath),
    [
      ['Lumen CLI'],
      ['Lumen CLI', 'Install', 'Linux'],
      ['Lumen CLI', 'Install', 'macOS'],
      ['Lumen CLI', 'Configuration'],
      ['Lumen CLI', 'Troubleshooting'],
    ],
  );

  const intro = sectionAt(doc, 'Lumen CLI');
  assert.equal(intro.startLine, 6);
  assert.equal(intro.endLine, 8);
  assert.equal(intro.text, 'The Lumen CLI (lumenctl) talks to the gateway for you.');

  const linux = sectionAt(doc, 'Lumen CLI', 'Install', 'Linux');
  assert.equal(linux.startLine, lineOf(lines, '### Linux'));
  assert.equal(linux.endLine, lineOf(lines, 'tar -xzf lumenctl.tar.gz -C /usr/local/bin'));
  assert.match(linux.text, /^# this is a shell comment, not a heading$/m);
  assert.match(linux.text, /tar -xzf lumenctl\.tar\.gz/);

  const mac = sectionAt(doc, 'Lumen CLI', 'Install', 'macOS');
  assert.equal(mac.text, 'Homebrew logo Use Homebrew: brew install lumenctl.');
  assert.equal(mac.startLine, 22);
  assert.equal(mac.endLine, 24);

  const config = sectionAt(doc, 'Lumen CLI', 'Configuration');
  assert.equal(config.startLine, lineOf(lines, 'Configuration'));
  assert.equal(config.endLine, lineOf(lines, 'A thematic break above must not become a heading.'));
  assert.doesNotMatch(config.text, /internal note|<a|---/);
  assert.match(config.text, /See environment variables too\./);
  assert.match(config.text, /~\/\.lumen\/config\.toml/);

  const trouble = sectionAt(doc, 'Lumen CLI', 'Troubleshooting');
  assert.equal(trouble.endLine, lines.length);
  assert.match(trouble.text, /^Check the key:$/m);
  assert.match(trouble.text, /run lumenctl whoami/);
  assert.match(trouble.text, /indented code block line/);
  assert.match(trouble.text, /#hashtag is not a heading/);

  assert.ok(!doc.sections.some((s) => /tags: \[cli/.test(s.text)), 'front matter is not text');
  assertTextWithinLines(GUIDE, doc);
});

test('markdown: CRLF line endings give the same sections', () => {
  const lf = parseDocument('cli.md', GUIDE);
  const crlf = parseDocument('cli.md', GUIDE.replace(/\n/g, '\r\n'));
  assert.deepEqual(crlf, lf);
});

test('markdown: TOML front matter and a title from the first H1 or the file name', () => {
  const toml = ['+++', "title = 'Retention policies'", 'weight = 3', '+++', '', 'Events are kept for 30 days.'].join('\n');
  const doc = parseDocument('retention.md', toml);
  assert.equal(doc.title, 'Retention policies');
  assert.deepEqual(withoutSourceLines(doc.sections), [{ headingPath: [], startLine: 6, endLine: 6, text: 'Events are kept for 30 days.' }]);

  assert.equal(parseDocument('a/b/Setup.markdown', 'Intro\n\n# Real title\n\nBody').title, 'Real title');
  assert.equal(parseDocument('a/b/Setup.MD', '## Only h2\n\nBody').title, 'Setup');
});

test('markdown: text before the first heading has an empty heading path; heading-only sections are dropped', () => {
  const content = 'Preamble line.\n\n# Title\n\n## Empty\n\n## Full\nBody.';
  const doc = parseDocument('x.md', content);
  assert.deepEqual(
    doc.sections.map((s) => [s.headingPath, s.startLine, s.endLine]),
    [
      [[], 1, 1],
      [['Title', 'Full'], 7, 8],
    ],
  );
});

test('markdown: an unterminated fence runs to the end and hides headings', () => {
  const content = ['# API', '', '~~~~python', '# not a heading', 'print("hi")', '', '## still code'].join('\n');
  const doc = parseDocument('api.md', content);
  assert.equal(doc.sections.length, 1);
  assert.deepEqual(doc.sections[0]!.headingPath, ['API']);
  assert.equal(doc.sections[0]!.startLine, 1);
  assert.equal(doc.sections[0]!.endLine, 7);
  assert.equal(doc.sections[0]!.text, '# not a heading\nprint("hi")\n\n## still code');
});

test('markdown: a longer fence may contain shorter fences', () => {
  const content = ['# Docs', '````md', '```js', '# inner', '```', '````', '## After', 'text'].join('\n');
  const doc = parseDocument('f.md', content);
  assert.deepEqual(doc.sections.map((s) => s.headingPath), [['Docs'], ['Docs', 'After']]);
  assert.equal(doc.sections[0]!.text, '```js\n# inner\n```');
  assert.equal(doc.sections[0]!.endLine, 5);
});

test('markdown: empty and whitespace-only files', () => {
  assert.deepEqual(parseDocument('notes/empty.md', ''), { title: 'empty', sections: [] });
  assert.deepEqual(parseDocument('notes/blank.md', '\n \n\t\n'), { title: 'blank', sections: [] });
  assert.deepEqual(parseDocument('fm.md', '---\ntitle: Only front matter\n---\n'), { title: 'Only front matter', sections: [] });
});

test('markdown: setext H1 and multi-level nesting', () => {
  const content = ['Service guide', '=============', '', 'Intro.', '', '## A', '### A.1', '#### A.1.a', 'deep', '## B', 'b text'].join('\n');
  const doc = parseDocument('s.md', content);
  assert.equal(doc.title, 'Service guide');
  assert.deepEqual(doc.sections.map((s) => s.headingPath), [['Service guide'], ['Service guide', 'A', 'A.1', 'A.1.a'], ['Service guide', 'B']]);
  assert.deepEqual(withoutSourceLines([sectionAt(doc, 'Service guide', 'A', 'A.1', 'A.1.a')])[0], { headingPath: ['Service guide', 'A', 'A.1', 'A.1.a'], startLine: 8, endLine: 9, text: 'deep' });
});

test('mdx: imports, exports and JSX tags are dropped, their text children kept', () => {
  const lines = [
    '---',
    'title: Quickstart',
    '---',
    '',
    "import { Callout, Tabs } from '@halyard/docs'",
    'import {',
    '  Tab,',
    "} from '@halyard/tabs'",
    'export const meta = {',
    "  owner: 'platform',",
    '}',
    '',
    '# Send your first event',
    '',
    '<Callout type="warning">',
    '  Keys expire after **90 days**.',
    '</Callout>',
    '',
    '<Tabs',
    '  defaultValue="ts"',
    '>',
    '{/* hidden editor note */}',
    '```ts',
    "import { LumenClient } from '@halyard/lumen-sdk'",
    '```',
    '</Tabs>',
  ];
  const content = lines.join('\n');
  const doc = parseDocument('quickstart.mdx', content);
  assert.equal(doc.title, 'Quickstart');
  assert.equal(doc.sections.length, 1);
  const section = doc.sections[0]!;
  assert.deepEqual(section.headingPath, ['Send your first event']);
  assert.equal(section.startLine, 13);
  assert.equal(section.endLine, 24);
  assert.equal(section.text, "Keys expire after 90 days.\n\nimport { LumenClient } from '@halyard/lumen-sdk'");
  assert.doesNotMatch(sourceOf(content, section), /owner: 'platform'/);
});

test('markdown (not mdx): import lines are ordinary text', () => {
  const doc = parseDocument('esm.md', 'import x from "y" is how you load it.');
  assert.equal(doc.sections[0]!.text, 'import x from "y" is how you load it.');
});

test('markdown: escapes, reference links, tables and snake_case survive cleanup', () => {
  const content = [
    '# Ref',
    'Use \\*literal stars\\* and [the docs][docs] with max_batch_size = 2 * 3.',
    '',
    '| Key | Default |',
    '|-----|--------:|',
    '| `retention_days` | 30 |',
    '',
    '[docs]: https://lumen.example/docs',
  ].join('\n');
  const doc = parseDocument('ref.md', content);
  assert.equal(doc.sections[0]!.text, 'Use *literal stars* and the docs with max_batch_size = 2 * 3.\n\n| Key | Default |\n| retention_days | 30 |');
  assert.equal(doc.sections[0]!.endLine, 6);
});

test('markdown: fences nested in list items still hide headings', () => {
  const content = ['# Steps', '', '1. Configure:', '', '    ```yaml', '# comment, not a heading', 'retention: 30d', '    ```', '', '2. Restart.'].join('\n');
  const doc = parseDocument('steps.md', content);
  assert.deepEqual(withoutSourceLines(doc.sections), [
    { headingPath: ['Steps'], startLine: 1, endLine: 10, text: '1. Configure:\n\n# comment, not a heading\nretention: 30d\n\n2. Restart.' },
  ]);
});

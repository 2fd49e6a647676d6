import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CODE_EXTENSIONS, DOC_EXTENSIONS, formatOf } from '../../../src/core/parse/formats.js';
import { parseDocument } from '../../../src/core/parse/parseDocument.js';
import { withoutSourceLines } from './support.js';

test('formatOf: by extension, case-insensitive', () => {
  assert.equal(formatOf('docs/README.md'), 'markdown');
  assert.equal(formatOf('docs/Quickstart.MDX'), 'markdown');
  assert.equal(formatOf('a.markdown'), 'markdown');
  assert.equal(formatOf('C:\\docs\\Page.HTM'), 'html');
  assert.equal(formatOf('x.html'), 'html');
  assert.equal(formatOf('x.adoc'), 'asciidoc');
  assert.equal(formatOf('x.asciidoc'), 'asciidoc');
  assert.equal(formatOf('x.rst'), 'rst');
  assert.equal(formatOf('notes.TXT'), 'text');
  assert.equal(formatOf('src/client.ts'), 'code');
  assert.equal(formatOf('lib/x.hpp'), 'code');
  assert.equal(formatOf('logo.png'), undefined);
  assert.equal(formatOf('Makefile'), undefined);
  assert.equal(formatOf('.md'), undefined, 'a dot file has no extension');
  assert.equal(formatOf('archive.md.gz'), undefined);
});

test('extension lists cover every format and do not overlap', () => {
  assert.deepEqual([...DOC_EXTENSIONS].sort(), ['adoc', 'asciidoc', 'htm', 'html', 'markdown', 'md', 'mdx', 'rst', 'txt']);
  assert.equal(CODE_EXTENSIONS.length, 21);
  for (const extension of CODE_EXTENSIONS) {
    assert.equal(formatOf(`f.${extension}`), 'code');
    assert.ok(!DOC_EXTENSIONS.includes(extension));
  }
});

test('parseDocument: a byte order mark does not shift lines or hide the first heading', () => {
  const doc = parseDocument('bom.md', '\uFEFF# Title\n\nBody.');
  assert.deepEqual({ ...doc, sections: withoutSourceLines(doc.sections) }, { title: 'Title', sections: [{ headingPath: ['Title'], startLine: 1, endLine: 3, text: 'Body.' }] });
});

test('parseDocument: unknown extensions are read as plain text', () => {
  const doc = parseDocument('CHANGELOG', 'Changes\n=======\n\n1.0 first release');
  assert.deepEqual(withoutSourceLines(doc.sections), [{ headingPath: ['Changes'], startLine: 1, endLine: 4, text: '1.0 first release' }]);
});

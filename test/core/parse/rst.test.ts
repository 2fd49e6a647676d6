import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDocument } from '../../../src/core/parse/parseDocument.js';
import { assertTextWithinLines, lineOf, sectionAt } from './support.js';

const GLOSSARY = [
  '.. This is a comment and must not be indexed.',
  '   It continues on an indented line.',
  '',
  '==================',
  ' Lumen glossary',
  '==================',
  '',
  'Terms used across the :ref:`Lumen docs <docs-index>` and :term:`SDKs`.',
  '',
  '.. _ingest:',
  '',
  'Ingest',
  '======',
  '',
  'The **gateway** accepts events over `HTTPS <https://lumen.example>`_.',
  '',
  '.. code-block:: python',
  '   :linenos:',
  '',
  '   # not a heading',
  '   client.send(event)',
  '',
  'Retries',
  '-------',
  '',
  'See ``max_attempts``::',
  '',
  '    retry:',
  '      max_attempts: 5',
  '',
  '----------',
  '',
  '.. note:: Retries are *idempotent*',
  '   because of event IDs.',
  '',
  'Storage',
  '=======',
  '',
  '.. toctree::',
  '   :maxdepth: 2',
  '',
  '   clickhouse',
  '',
  'ClickHouse stores events.',
];

test('rst: adornment hierarchy, directives, comments and roles', () => {
  const content = GLOSSARY.join('\n');
  const doc = parseDocument('reference/glossary.rst', content);
  assert.equal(doc.title, 'Lumen glossary');
  assert.deepEqual(
    doc.sections.map((s) => [s.headingPath, s.startLine, s.endLine]),
    [
      [['Lumen glossary'], 4, 8],
      [['Lumen glossary', 'Ingest'], lineOf(GLOSSARY, 'Ingest'), lineOf(GLOSSARY, '   client.send(event)')],
      [['Lumen glossary', 'Ingest', 'Retries'], 23, 34],
      [['Lumen glossary', 'Storage'], lineOf(GLOSSARY, 'Storage'), GLOSSARY.length],
    ],
  );
  assert.equal(sectionAt(doc, 'Lumen glossary').text, 'Terms used across the Lumen docs and SDKs.');
  assert.equal(
    sectionAt(doc, 'Lumen glossary', 'Ingest').text,
    'The gateway accepts events over HTTPS.\n\n   # not a heading\n   client.send(event)',
  );
  assert.equal(
    sectionAt(doc, 'Lumen glossary', 'Ingest', 'Retries').text,
    'See max_attempts:\n\n    retry:\n      max_attempts: 5\n\nRetries are idempotent\nbecause of event IDs.',
  );
  assert.equal(sectionAt(doc, 'Lumen glossary', 'Storage').text, 'ClickHouse stores events.');
  const all = doc.sections.map((s) => s.text).join('\n');
  for (const hidden of ['comment', 'continues', '_ingest', 'linenos', 'maxdepth', 'clickhouse\n', 'toctree', '-----']) {
    assert.ok(!all.includes(hidden), `"${hidden}" should not be text`);
  }
  assertTextWithinLines(content, doc);
});

test('rst: overline+underline is a different style from underline only', () => {
  const content = ['Part', '====', '', 'p', '', '=======', 'Chapter', '=======', '', 'c', '', 'Part two', '========', '', 'q'].join('\n');
  const doc = parseDocument('styles.rst', content);
  assert.equal(doc.title, 'Part');
  assert.deepEqual(doc.sections.map((s) => s.headingPath), [['Part'], ['Part', 'Chapter'], ['Part two']]);
});

test('rst: CRLF, no title and empty input', () => {
  const crlf = GLOSSARY.join('\r\n');
  assert.deepEqual(parseDocument('g.rst', crlf), parseDocument('g.rst', GLOSSARY.join('\n')));
  const untitled = parseDocument('docs/notes.rst', 'Just a paragraph\nover two lines.');
  assert.deepEqual(untitled, { title: 'notes', sections: [{ headingPath: [], startLine: 1, endLine: 2, text: 'Just a paragraph\nover two lines.', sourceLines: [{ first: 1, last: 1 }, { first: 2, last: 2 }] }] });
  assert.deepEqual(parseDocument('docs/empty.rst', ''), { title: 'empty', sections: [] });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDocument } from '../../../src/core/parse/parseDocument.js';
import { assertTextWithinLines, sectionAt, withoutSourceLines } from './support.js';

const RESTORE = [
  'Restoring ClickHouse from backup',
  '================================',
  '',
  'Owner: team-storage',
  '',
  'Before you start',
  '----------------',
  '',
  '  * Confirm the backup ID with the on-call lead.',
  '',
  'Steps',
  '-----',
  '',
  '1. Stop the sinks:',
  '',
  '      lumenctl sinks pause --all',
  '',
  'x',
  '-----------------------------------------',
  '',
  'Verifying',
  '~~~~~~~~~',
  '',
  'Row counts should match.',
  '',
  '== Appendix',
  'Contacts are in the wiki.',
];

test('text: underlined headings nest by order of appearance; prefixed titles work', () => {
  const content = RESTORE.join('\n');
  const doc = parseDocument('runbooks/restore.txt', content);
  assert.equal(doc.title, 'Restoring ClickHouse from backup');
  assert.deepEqual(
    doc.sections.map((s) => [s.headingPath, s.startLine, s.endLine]),
    [
      [['Restoring ClickHouse from backup'], 1, 4],
      [['Restoring ClickHouse from backup', 'Before you start'], 6, 9],
      [['Restoring ClickHouse from backup', 'Steps'], 11, 19],
      [['Restoring ClickHouse from backup', 'Steps', 'Verifying'], 21, 24],
      [['Restoring ClickHouse from backup', 'Appendix'], 26, 27],
    ],
  );
  // "x" over a long rule is not a heading: the underline is far longer than the text.
  assert.match(sectionAt(doc, 'Restoring ClickHouse from backup', 'Steps').text, /lumenctl sinks pause --all\n\nx\n-{41}$/);
  assertTextWithinLines(content, doc);
});

test('text: title from a short first line, else the file name', () => {
  const notes = parseDocument('docs/env.txt', 'Environment variables\n\nLUMEN_API_KEY_ID is the key.\n');
  assert.equal(notes.title, 'Environment variables');
  assert.deepEqual(withoutSourceLines(notes.sections), [
    { headingPath: [], startLine: 1, endLine: 3, text: 'Environment variables\n\nLUMEN_API_KEY_ID is the key.' },
  ]);
  const long = 'This first line is a long sentence that goes on and on well past the eighty character limit.';
  assert.equal(parseDocument('docs/long.txt', long).title, 'long');
  assert.deepEqual(parseDocument('docs/empty.txt', ''), { title: 'empty', sections: [] });
});

test('text: CRLF gives the same result', () => {
  assert.deepEqual(parseDocument('r.txt', RESTORE.join('\r\n')), parseDocument('r.txt', RESTORE.join('\n')));
});

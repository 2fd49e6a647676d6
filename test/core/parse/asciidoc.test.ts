import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDocument } from '../../../src/core/parse/parseDocument.js';
import { assertTextWithinLines, lineOf, sectionAt, withoutSourceLines } from './support.js';

const RUNBOOK = [
  '= ClickHouse disk full',
  'Platform Team <platform@example.com>',
  ':toc: left',
  ':icons: font',
  '',
  'Use this runbook when *disk usage* on a ClickHouse node passes 85%.',
  '// internal: page the storage on-call first',
  '',
  '== Diagnose',
  '',
  '.Check free space',
  '[source,bash]',
  '----',
  'df -h /var/lib/clickhouse',
  '== not a heading inside a listing',
  '= nor this',
  '----',
  '',
  '////',
  'Commented out:',
  '== Old section',
  '////',
  '',
  '=== Large parts',
  '',
  'See xref:retention.adoc#ttl[retention TTLs] and <<cleanup,the cleanup step>>.',
  '',
  '====',
  'An example block keeps its text.',
  '== still not a heading',
  '====',
  '',
  '[[cleanup]]',
  '== Clean up',
  '',
  '* Drop detached parts with `SYSTEM DROP DETACHED PARTS`.',
  '** Then check link:https://grafana.example/d/ch[the dashboard].',
  '',
  '[NOTE]',
  '****',
  'Sidebar text.',
  '****',
  '',
  '....',
  'literal block',
  '....',
  ':hidden-attr: yes',
];

test('asciidoc: title, sections, blocks and comments', () => {
  const content = RUNBOOK.join('\n');
  const doc = parseDocument('runbooks/clickhouse-disk-full.adoc', content);
  assert.equal(doc.title, 'ClickHouse disk full');
  assert.deepEqual(
    doc.sections.map((s) => [s.headingPath, s.startLine, s.endLine]),
    [
      [['ClickHouse disk full'], 1, 6],
      [['ClickHouse disk full', 'Diagnose'], 9, 16],
      [['ClickHouse disk full', 'Diagnose', 'Large parts'], 24, 30],
      [['ClickHouse disk full', 'Clean up'], lineOf(RUNBOOK, '== Clean up'), lineOf(RUNBOOK, 'literal block')],
    ],
  );
  assert.equal(sectionAt(doc, 'ClickHouse disk full').text, 'Use this runbook when disk usage on a ClickHouse node passes 85%.');
  assert.equal(
    sectionAt(doc, 'ClickHouse disk full', 'Diagnose').text,
    'Check free space\ndf -h /var/lib/clickhouse\n== not a heading inside a listing\n= nor this',
  );
  assert.equal(
    sectionAt(doc, 'ClickHouse disk full', 'Diagnose', 'Large parts').text,
    'See retention TTLs and the cleanup step.\n\nAn example block keeps its text.\n== still not a heading',
  );
  assert.equal(
    sectionAt(doc, 'ClickHouse disk full', 'Clean up').text,
    'Drop detached parts with SYSTEM DROP DETACHED PARTS.\nThen check the dashboard.\n\nSidebar text.\n\nliteral block',
  );
  const all = doc.sections.map((s) => s.text).join('\n');
  for (const hidden of ['Platform Team', ':toc:', 'internal: page', 'Commented out', 'Old section', 'hidden-attr', '[source', '[[cleanup]]']) {
    assert.ok(!all.includes(hidden), `"${hidden}" should not be text`);
  }
  assertTextWithinLines(content, doc);
});

test('asciidoc: CRLF, missing title and empty file', () => {
  const content = RUNBOOK.join('\r\n');
  assert.deepEqual(parseDocument('a.adoc', content), parseDocument('a.adoc', RUNBOOK.join('\n')));
  const untitled = parseDocument('guides/alerting.asciidoc', 'Intro text.\n\n== Rules\nRule text.');
  assert.equal(untitled.title, 'alerting');
  assert.deepEqual(untitled.sections.map((s) => [s.headingPath, s.startLine, s.endLine]), [[[], 1, 1], [['Rules'], 3, 4]]);
  assert.deepEqual(parseDocument('x/empty.adoc', ''), { title: 'empty', sections: [] });
});

test('asciidoc: an unterminated listing block keeps the rest as text', () => {
  const doc = parseDocument('u.adoc', '= T\n\n== Run\n----\nmake\n== in block');
  assert.deepEqual(withoutSourceLines(doc.sections), [{ headingPath: ['T', 'Run'], startLine: 3, endLine: 6, text: 'make\n== in block' }]);
});

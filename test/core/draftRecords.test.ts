import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChunkDraft } from '../../src/core/chunker.js';
import { chunksOf, decodeDrafts, encodeDrafts, passageRecordsOf } from '../../src/core/draftRecords.js';

const decoder = new TextDecoder();

/** Drafts whose JSON escapes, and whose UTF-8 is longer than their UTF-16. */
const DRAFTS: ChunkDraft[] = [
  { startLine: 1, endLine: 3, text: 'Plain text.', title: 'Intro', headingPath: ['Intro'] },
  { startLine: 4, endLine: 9, text: 'Quotes " and \\ backslashes, a tab\tand\nnewlines; control \u0001.', title: 'Es"caped', headingPath: ['A', 'B \\ C'] },
  { startLine: 10, endLine: 10, text: 'Ünïcödé — 日本語, an emoji 🚀 and a lone surrogate \ud800 here.', title: 'Ü', headingPath: [] },
  { startLine: 11, endLine: 12, text: '', title: '', headingPath: [''] },
];

test("a segment's passage records made from encoded drafts are JSON.stringify of each passage, byte for byte", () => {
  const files = [
    // Ids across digit boundaries: each record's id field is as long as its own number.
    { path: 'docs/a "quoted" file.md', firstChunkId: 8, drafts: encodeDrafts(DRAFTS) },
    { path: 'empty.md', firstChunkId: 12, drafts: encodeDrafts([]) },
    { path: 'ü/日本.html', firstChunkId: 98, drafts: encodeDrafts(DRAFTS.slice(0, 3)) },
  ];
  const expected = files.flatMap(({ path, firstChunkId, drafts }) => decodeDrafts(drafts).map((draft, d) => JSON.stringify({ id: firstChunkId + d, path, ...draft })));
  const records = passageRecordsOf(files);
  assert.equal(records.ends.length, expected.length);
  const made = Array.from(records.ends, (end, i) => records.read(i === 0 ? 0 : records.ends[i - 1]!, end));
  assert.deepEqual(made.map((bytes) => decoder.decode(bytes)), expected);
  assert.deepEqual(made.map((bytes) => Buffer.from(bytes)), expected.map((record) => Buffer.from(record)));
  // JSON escapes a lone surrogate, so it survives the trip.
  assert.deepEqual(JSON.parse(decoder.decode(made[6]!)), { id: 100, path: 'ü/日本.html', ...DRAFTS[2] });
  assert.equal(passageRecordsOf([]).ends.length, 0);
});

test('encoded drafts decode to the drafts they were made from, and count their text in UTF-16 code units', () => {
  const encoded = encodeDrafts(DRAFTS.slice(0, 2));
  assert.deepEqual(decodeDrafts(encoded), DRAFTS.slice(0, 2));
  assert.deepEqual(decodeDrafts(encodeDrafts(DRAFTS)), DRAFTS);
  assert.equal(encoded.textLength, DRAFTS[0]!.text.length + DRAFTS[1]!.text.length);
  assert.equal(encodeDrafts([DRAFTS[2]!]).textLength, DRAFTS[2]!.text.length);
  // Their own buffer, never a slice of Buffer's shared pool: a worker transfers it.
  assert.equal(encoded.bytes.byteOffset, 0);
  assert.equal(encoded.bytes.buffer.byteLength, encoded.bytes.byteLength);
  assert.deepEqual(
    chunksOf('p.md', 5, encoded).map((chunk) => [chunk.id, chunk.path, chunk.startLine]),
    [
      [5, 'p.md', 1],
      [6, 'p.md', 4],
    ],
  );
});

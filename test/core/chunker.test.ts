import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunkDocument } from '../../src/core/chunker.js';
import { estimateTokens } from '../../src/core/tokenEstimate.js';
import type { LineSpan, ParsedDocument } from '../../src/core/types.js';

/** `count` text lines read one per source line from `first` on. */
const spans = (first: number, count: number): LineSpan[] => Array.from({ length: count }, (_, k) => ({ first: first + k, last: first + k }));

test('a short section is one chunk with its exact lines, title and heading path', () => {
  const doc: ParsedDocument = { title: 'Guide', sections: [{ headingPath: ['Guide', 'Install'], startLine: 3, endLine: 5, text: 'one\ntwo\nthree', sourceLines: spans(3, 3) }] };
  assert.deepEqual(chunkDocument(doc), [{ startLine: 3, endLine: 5, title: 'Guide', headingPath: ['Guide', 'Install'], text: 'one\ntwo\nthree' }]);
});

test('a long section splits at paragraphs within the budget, with overlap, and line ranges stay exact', () => {
  const paragraphs = Array.from({ length: 30 }, (_, i) => `Paragraph ${i} ${'word '.repeat(30)}\nsecond line of paragraph ${i}`);
  const text = paragraphs.join('\n\n');
  const lines = text.split('\n');
  const doc: ParsedDocument = { title: 'T', sections: [{ headingPath: ['T'], startLine: 10, endLine: 10 + lines.length - 1, text, sourceLines: spans(10, lines.length) }] };
  const chunks = chunkDocument(doc, { maxTokens: 120, overlapTokens: 50 });
  assert.ok(chunks.length > 5);
  for (const chunk of chunks) {
    assert.ok(estimateTokens(chunk.text) <= 120 + 10, `chunk over budget: ${estimateTokens(chunk.text)}`);
    // The chunk's text is exactly the source lines it claims.
    assert.equal(chunk.text, lines.slice(chunk.startLine - 10, chunk.endLine - 10 + 1).join('\n').trim());
  }
  for (let i = 1; i < chunks.length; i++) {
    assert.ok(chunks[i]!.startLine <= chunks[i - 1]!.endLine, 'consecutive chunks overlap');
    assert.ok(chunks[i]!.startLine > chunks[i - 1]!.startLine, 'chunks advance');
  }
  const covered = new Set<number>();
  for (const chunk of chunks) for (let line = chunk.startLine; line <= chunk.endLine; line++) covered.add(line);
  lines.forEach((line, i) => {
    if (line.trim()) assert.ok(covered.has(10 + i), `line ${10 + i} lost`);
  });
});

test('sections never merge: each chunk keeps its own heading path', () => {
  const doc: ParsedDocument = {
    title: 'Doc',
    sections: [
      { headingPath: ['Doc', 'A'], startLine: 1, endLine: 2, text: 'alpha', sourceLines: spans(2, 1) },
      { headingPath: ['Doc', 'B'], startLine: 3, endLine: 4, text: 'beta', sourceLines: spans(4, 1) },
    ],
  };
  assert.deepEqual(chunkDocument(doc).map((chunk) => chunk.headingPath), [['Doc', 'A'], ['Doc', 'B']]);
});

test('a line longer than a piece is cut at spaces into bounded pieces that all cite that line', () => {
  const words = Array.from({ length: 2000 }, (_, i) => `w${i}`);
  const text = words.join(' ');
  const doc: ParsedDocument = { title: 'T', sections: [{ headingPath: ['T'], startLine: 7, endLine: 7, text, sourceLines: spans(7, 1) }] };
  const chunks = chunkDocument(doc, { maxTokens: 100, overlapTokens: 0 });
  assert.ok(chunks.length > 20);
  for (const chunk of chunks) {
    assert.ok(chunk.text.length <= 400, `piece of ${chunk.text.length} characters`);
    assert.deepEqual([chunk.startLine, chunk.endLine], [7, 7]);
  }
  // No word is cut: the pieces' words are the line's words, in order.
  assert.deepEqual(chunks.flatMap((chunk) => chunk.text.split(' ')), words);
});

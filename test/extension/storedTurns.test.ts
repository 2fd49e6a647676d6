import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cutNote, MAX_ANSWER_CHARS, MAX_PASSAGE_CHARS, STORED_EXCERPT_CHARS } from '../../src/core/bounds.js';
import { storedTurn } from '../../src/extension/storedTurns.js';
import { isHostToWebview, type ChatTurn } from '../../src/shared/chatProtocol.js';

const init = (turns: ChatTurn[]) => ({ type: 'init', turns, index: { state: 'ready', files: 1, chunks: 1 }, backend: { kind: 'none' }, examples: [] });

describe('stored chat turns', () => {
  test('a turn over the protocol cap, stored before bounds existed, is reloaded as a bounded reference and init validates', () => {
    const oversized: ChatTurn = {
      id: 't1',
      question: 'How do I rotate keys?',
      answer: 'a'.repeat(250_000),
      citations: [{ n: 1, folder: '', path: 'huge/one-line.txt', startLine: 1, endLine: 1, heading: 'Keys', text: 'z'.repeat(1_900_000) }],
      state: 'done',
      mode: 'generated',
    };
    // The failure the issue saw: one such turn blanks the whole history on every reload.
    assert.equal(isHostToWebview(init([oversized])), false);

    const kept = storedTurn(oversized);
    assert.equal(isHostToWebview(init([kept])), true);
    assert.ok(kept.answer.length <= MAX_ANSWER_CHARS + 200);
    const [citation] = kept.citations;
    assert.deepEqual({ ...citation, text: undefined }, { ...oversized.citations[0], text: undefined }, 'the reference itself is kept');
    assert.ok(citation!.text.length <= STORED_EXCERPT_CHARS);
    assert.ok(citation!.text.startsWith('zzz'));
  });

  test('the largest answer and passage core lets through fit the protocol', () => {
    const answer = 'a'.repeat(MAX_ANSWER_CHARS) + cutNote(`longer than ${MAX_ANSWER_CHARS} characters`);
    assert.equal(isHostToWebview({ type: 'delta', id: 't1', text: answer }), true);
    const citation = { n: 1, folder: '', path: 'a.md', startLine: 1, endLine: 2, text: 'p'.repeat(MAX_PASSAGE_CHARS) };
    assert.equal(isHostToWebview({ type: 'sources', id: 't1', citations: Array.from({ length: 50 }, (_, i) => ({ ...citation, n: i + 1 })) }), true);
  });

  test("a selection stored with its lines packed into its path (older versions) loads with a line range of its own", () => {
    const base: ChatTurn = { id: 't2', question: 'Explain the selected code', answer: 'It parses [1].', citations: [], state: 'done', mode: 'retrieval-only' };
    const old = { ...base, selection: { path: 'src/time/parse.ts:10-24', languageId: 'typescript' } };
    assert.equal(isHostToWebview(init([old])), true, 'the old shape still validates');
    const loaded = storedTurn(old);
    assert.deepEqual(loaded.selection, { path: 'src/time/parse.ts', languageId: 'typescript', startLine: 10, endLine: 24 });
    assert.equal(isHostToWebview(init([loaded])), true);
    // Already split, a path without a range, or a range that is not one: kept as it is.
    const current = { ...base, selection: { path: 'notes:1-2.md', languageId: 'markdown', startLine: 3, endLine: 4 } };
    assert.deepEqual(storedTurn(current).selection, current.selection);
    assert.deepEqual(storedTurn({ ...base, selection: { path: 'src/a.ts', languageId: 'typescript' } }).selection, { path: 'src/a.ts', languageId: 'typescript' });
    assert.deepEqual(storedTurn({ ...base, selection: { path: 'src/a.ts:9-3', languageId: 'typescript' } }).selection, { path: 'src/a.ts:9-3', languageId: 'typescript' });
    assert.equal(isHostToWebview(init([{ ...base, selection: { path: 'src/a.ts', languageId: 'typescript', startLine: 5, endLine: 2 } }])), false, 'an inverted range is refused');
  });
});

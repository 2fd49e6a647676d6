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
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONFIDENCE_FLOOR, passageConfidence, queryTerms } from '../../../src/core/search/confidence.js';
import { keywordTokens } from '../../../src/core/search/tokenize.js';

/** Page statistics where every word of `known` occurs in `df` of 100 pages. */
function statistics(known: Record<string, number>): { documents: number; documentFrequency: Map<string, number> } {
  const documentFrequency = new Map<string, number>();
  for (const [word, df] of Object.entries(known)) for (const term of keywordTokens(word)) documentFrequency.set(term, df);
  return { documents: 100, documentFrequency };
}

const passage = (text: string) => new Set(keywordTokens(`Manual\nSection\n${text}`));

test('confidence: one shared word does not pass for an answer, several do', () => {
  const stats = statistics({ capital: 3, replication: 4, standby: 5, configure: 30, streaming: 6 });
  const offTopic = queryTerms('What is the capital of Mongolia?', stats);
  assert.ok(passageConfidence(offTopic, passage('Capital letters in identifiers are folded.')) < CONFIDENCE_FLOOR, 'only "capital" is shared');
  const onTopic = queryTerms('How do I configure streaming replication to a standby?', stats);
  assert.equal(passageConfidence(onTopic, passage('To configure streaming replication, set up the standby server.')), 1);
  // Two of four words, both rare: partial coverage, still short of full evidence.
  const partial = passageConfidence(onTopic, passage('Streaming replication sends WAL records.'));
  assert.ok(partial > CONFIDENCE_FLOOR && partial < 0.5, `partial ${partial}`);
});

test('confidence: a one-word question is fully credited by a passage with that word; gibberish scores 0', () => {
  const stats = statistics({ vacuum: 10 });
  assert.equal(passageConfidence(queryTerms('vacuum', stats), passage('VACUUM reclaims storage.')), 1);
  assert.equal(passageConfidence(queryTerms('zzzzzz qqqq', stats), passage('VACUUM reclaims storage.')), 0);
  assert.equal(passageConfidence(queryTerms('', stats), passage('VACUUM reclaims storage.')), 0);
});

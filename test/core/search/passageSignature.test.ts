import assert from 'node:assert/strict';
import { test } from 'node:test';
import { searchSignatures, shinglesSimilar } from '../../../src/core/search/passageSignature.js';
import { keywordTokens } from '../../../src/core/search/tokenize.js';
import type { Chunk } from '../../../src/core/types.js';

let nextId = 1;
const chunk = (text: string, headingPath = ['Guide', 'Backups']): Chunk => ({ id: nextId++, path: 'a.md', title: 'Guide', headingPath, text, startLine: 1, endLine: 1 });

/** Jaccard of word 3-shingles over the passage's keyword tokens, by strings: what the ids must reproduce. */
function referenceJaccard(a: Chunk, b: Chunk): number {
  const shingles = (c: Chunk) => {
    const words = keywordTokens(`${c.title}\n${c.headingPath.join('\n')}\n${c.text}`);
    if (words.length < 3) return new Set([words.join(' ')]);
    return new Set(words.slice(2).map((word, i) => `${words[i]} ${words[i + 1]} ${word}`));
  };
  const x = shingles(a);
  const y = shingles(b);
  const shared = [...x].filter((s) => y.has(s)).length;
  return shared / (x.size + y.size - shared);
}

test('shingle similarity by term ids equals the Jaccard of the passages keyword-token shingles', () => {
  const base = 'Nightly backups of the orders database run at 02:00 UTC and are kept for 35 days in cold storage. Restore with pg_restore --clean.';
  const passages = [
    chunk(base),
    chunk(base.replace('35 days', '35 days.')),
    chunk(base.replace('cold storage', 'warm storage')),
    chunk(`${base} Ask the on-call DBA before a restore in production; the restore replaces every table.`),
    chunk('The orders database run nightly backups at 02:00 kept 35 days storage cold.'),
    chunk('Unrelated: configure the maxBatchBytes option of the exporter.'),
    chunk('pg_dump', ['Guide']),
    chunk('pg_dump', ['Guide']),
    chunk('pg_restore', ['Guide']),
  ];
  const signatures = searchSignatures();
  for (const a of passages) {
    for (const b of passages) {
      const jaccard = referenceJaccard(a, b);
      for (const threshold of [0.5, 0.8, 0.95]) {
        assert.equal(shinglesSimilar(signatures.of(a), signatures.of(b), threshold), jaccard >= threshold, `${a.text} / ${b.text} at ${threshold} (Jaccard ${jaccard})`);
      }
    }
  }
});

test('a signature holds exactly the passage terms, its own heading terms once each in order, and is kept per passage', () => {
  const passage = chunk('Set retention_days in the RetentionPolicy; retention applies nightly.', ['Guide', 'Storage', 'Retention and retention days']);
  const signatures = searchSignatures();
  const signature = signatures.of(passage);
  const terms = new Set(keywordTokens(`Guide\nGuide\nStorage\nRetention and retention days\n${passage.text}`));
  assert.equal(signature.terms.length, terms.size);
  assert.deepEqual(new Set(signature.terms), new Set([...terms].map((term) => signatures.idOf(term))));
  assert.deepEqual([...signature.heading], [...new Set(keywordTokens('Retention and retention days'))].map((term) => signatures.idOf(term)));
  assert.equal(signatures.of(passage), signature, 'made once');
  assert.notEqual(signatures.of({ ...passage }), signature, 'another passage object (a reloaded generation) gets its own');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpanCache, spanHash } from '../../../src/core/search/spanCache.js';

test('span cache: finds a span in place, tells colliding hashes and prefixes apart, keeps every entry as it grows, stops at its limit', () => {
  const cache = new SpanCache<number>(10_000);
  const text = 'alpha beta alphabet';
  cache.set(text, 0, 5, spanHash(text, 0, 5), 1);
  assert.equal(cache.get('xx alpha', 3, 8, spanHash('xx alpha', 3, 8)), 1, 'the same characters anywhere in any text');
  assert.equal(cache.get(text, 11, 19, spanHash(text, 11, 19)), undefined, 'alphabet is not alpha');
  // Two spans forced onto one hash: the characters decide.
  cache.set(text, 6, 10, 42, 2);
  cache.set('gamma', 0, 5, 42, 3);
  assert.equal(cache.get(text, 6, 10, 42), 2);
  assert.equal(cache.get('gamma', 0, 5, 42), 3);
  assert.equal(cache.get('delta', 0, 5, 42), undefined);
  assert.equal(cache.get('bet', 0, 3, 42), undefined, 'a prefix of a stored key is another key');
  const words = Array.from({ length: 9_000 }, (_, i) => `w${i}`);
  for (const [i, word] of words.entries()) cache.set(word, 0, word.length, spanHash(word, 0, word.length), i);
  assert.ok(words.every((word, i) => cache.get(` ${word} `, 1, word.length + 1, spanHash(` ${word} `, 1, word.length + 1)) === i), 'all entries survive the table growing');
  assert.equal(cache.get(text, 0, 5, spanHash(text, 0, 5)), 1);
  for (let i = 0; i < 2_000; i++) cache.set(`x${i}`, 0, `x${i}`.length, spanHash(`x${i}`, 0, `x${i}`.length), i);
  assert.equal(cache.size, 10_000);
  assert.equal(cache.get('x1999', 0, 5, spanHash('x1999', 0, 5)), undefined, 'nothing past the limit');
});

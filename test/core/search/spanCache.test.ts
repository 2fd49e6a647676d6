import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodeUnits, SpanCache, spanHash } from '../../../src/core/search/spanCache.js';

/** A text's code units in an array of its own (CodeUnits reuses one). */
const unitsOf = (text: string): Uint16Array => Uint16Array.from({ length: text.length }, (_, i) => text.charCodeAt(i));

test('span cache: finds a span in place, tells colliding hashes and prefixes apart, keeps every entry as it grows, stops at its limit', () => {
  const cache = new SpanCache<number>(10_000);
  const text = unitsOf('alpha beta alphabet');
  const put = (units: Uint16Array, start: number, end: number, value: number, hash = spanHash(units, start, end)) => cache.set(units, start, end, hash, value);
  const find = (units: Uint16Array, start: number, end: number, hash = spanHash(units, start, end)) => cache.get(units, start, end, hash);
  put(text, 0, 5, 1);
  assert.equal(find(unitsOf('xx alpha'), 3, 8), 1, 'the same characters anywhere in any text');
  assert.equal(find(text, 11, 19), undefined, 'alphabet is not alpha');
  // Two spans forced onto one hash: the characters decide.
  put(text, 6, 10, 2, 42);
  put(unitsOf('gamma'), 0, 5, 3, 42);
  assert.equal(find(text, 6, 10, 42), 2);
  assert.equal(find(unitsOf('gamma'), 0, 5, 42), 3);
  assert.equal(find(unitsOf('delta'), 0, 5, 42), undefined);
  assert.equal(find(unitsOf('bet'), 0, 3, 42), undefined, 'a prefix of a stored key is another key');
  const words = Array.from({ length: 9_000 }, (_, i) => `w${i}`);
  for (const [i, word] of words.entries()) put(unitsOf(word), 0, word.length, i);
  assert.ok(words.every((word, i) => find(unitsOf(` ${word} `), 1, word.length + 1) === i), 'all entries survive the table growing');
  assert.equal(find(text, 0, 5), 1);
  for (let i = 0; i < 2_000; i++) put(unitsOf(`x${i}`), 0, `x${i}`.length, i);
  assert.equal(cache.size, 10_000);
  assert.equal(find(unitsOf('x1999'), 0, 5), undefined, 'nothing past the limit');
});

test("code units: a string of any shape gives charCodeAt's units, lone surrogates included, the array growing for a long text", () => {
  const codeUnits = new CodeUnits();
  const long = 'ab'.repeat(3_000);
  const shapes = [
    'plain one-byte text',
    'sliced from a longer one-byte string'.slice(7),
    ['joined ', 'by ', 'a cons'].reduce((a, b) => a + b),
    'twö-byte 中文 and 😀 astral',
    'lone \ud800 high and \udc00 low surrogates',
    (long + '中').slice(1),
    '',
    'short again',
  ];
  for (const text of shapes) {
    const units = codeUnits.of(text);
    assert.ok(units.length >= text.length);
    assert.deepEqual([...units.subarray(0, text.length)], [...unitsOf(text)], JSON.stringify(text.slice(0, 40)));
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodeUnits, NO_SPAN, SpanCache, SpanTable, spanHash } from '../../../src/core/search/spanCache.js';

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

test('span table: every value found, every absent span absent, over short (in the slot) and long keys, shared hashes, growth and the front', () => {
  let seed = 5;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const alphabet = ['a', 'b', 'é', '\u0000', '中'];
  const keyOf = () => Array.from({ length: 1 + Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  // Few hashes: most keys share theirs with others (and with others' front slots), so the key's units decide.
  const hashOf = (key: string) => (spanHash(unitsOf(key), 0, key.length) & 7) * 4096;
  const table = new SpanTable(100_000);
  const reference = new Map<string, number>();
  const lookUp = (key: string) => {
    // Inside a longer text, at an offset: the span is compared in place.
    const units = unitsOf(`xy${key}z`);
    return table.get(units, 2, 2 + key.length, hashOf(key));
  };
  for (let n = 0; n < 3_000; n++) {
    const key = keyOf();
    if (!reference.has(key)) {
      const value = n % 3 === 0 ? -n - 1 : n;
      table.set(unitsOf(key), 0, key.length, hashOf(key), value);
      reference.set(key, value);
    }
    // Lookups between inserts move keys in and out of the front slots.
    for (let k = 0; k < 3; k++) {
      const probe = keyOf();
      assert.equal(lookUp(probe), reference.get(probe) ?? NO_SPAN, JSON.stringify(probe));
    }
  }
  assert.equal(table.size, reference.size);
  for (const [key, value] of reference) assert.equal(lookUp(key), value, JSON.stringify(key));
  // A key one unit longer than a stored one, its last unit 0 (as a slot pads an odd key), is another key.
  table.set(unitsOf('abc'), 0, 3, 1, 7);
  assert.equal(table.get(unitsOf('abc'), 0, 3, 1), 7);
  assert.equal(table.get(unitsOf('abc\u0000'), 0, 4, 1), NO_SPAN);
  assert.equal(table.get(unitsOf('abd'), 0, 3, 1), NO_SPAN);
});

test('span table: stops at its limit, and never stores an empty span', () => {
  const table = new SpanTable(2);
  table.set(unitsOf('ab'), 0, 0, 3, 1);
  assert.equal(table.size, 0);
  table.set(unitsOf('one'), 0, 3, 1, 1);
  table.set(unitsOf('two'), 0, 3, 2, 2);
  table.set(unitsOf('six'), 0, 3, 3, 6);
  assert.equal(table.size, 2);
  assert.deepEqual(['one', 'two', 'six'].map((word, i) => table.get(unitsOf(word), 0, 3, i + 1)), [1, 2, NO_SPAN]);
});

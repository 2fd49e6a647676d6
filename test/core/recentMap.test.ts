import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentMap } from '../../src/core/recentMap.js';

test('RecentMap keeps at most its limit and forgets the least recently used entry first', () => {
  const map = new RecentMap<string, number>(3);
  map.set('a', 1);
  map.set('b', 2);
  map.set('c', 3);
  // Reading 'a' makes 'b' the oldest.
  assert.equal(map.get('a'), 1);
  map.set('d', 4);
  assert.equal(map.size, 3);
  assert.equal(map.get('b'), undefined);
  assert.deepEqual(['a', 'c', 'd'].map((key) => map.get(key)), [1, 3, 4]);
  // Setting a kept key replaces its value without dropping another entry, and makes it the newest.
  map.set('c', 30);
  assert.equal(map.size, 3);
  map.set('e', 5);
  assert.equal(map.get('a'), undefined, "'a' was the oldest after 'c' and 'd' were read and 'c' set");
  assert.deepEqual(['c', 'd', 'e'].map((key) => map.get(key)), [30, 4, 5]);
  map.clear();
  assert.equal(map.size, 0);
  assert.equal(map.get('c'), undefined);
});

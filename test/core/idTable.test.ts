import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdIndex, IdTable } from '../../src/core/idTable.js';

test('setAll gives each id its place, as one set per id would, over ids old and new, large and negative', () => {
  const ids = [5, 3, 2_000_000, 7, 5_000, -4, 2 ** 30];
  const bulk = new IdTable();
  const single = new IdTable();
  for (const table of [bulk, single]) table.set(3, 99);
  bulk.setAll(Int32Array.from(ids), 10);
  ids.forEach((id, i) => single.set(id, 10 + i));
  assert.equal(bulk.size, single.size);
  assert.equal(bulk.size, ids.length);
  for (const id of [...ids, 4, 6, 2_000_001]) assert.equal(bulk.get(id), single.get(id), `id ${id}`);
  assert.equal(bulk.get(3), 11, 'an id already present takes its new place');
  bulk.setAll([], 0);
  assert.equal(bulk.size, ids.length);
});

test('IdIndex finds every id of a list and none other, ascending or not, whichever is asked first', () => {
  // In the unordered list a binary search misses 40, which is there.
  for (const ids of [[1, 2, 5, 9, 40, 41], [9, 1, 41, 5, 2, 40], [3]]) {
    const absent = [0, 3, 4, 10, 42, -1].filter((id) => !ids.includes(id));
    const hitsFirst = new IdIndex(Int32Array.from(ids));
    const missesFirst = new IdIndex(Int32Array.from(ids));
    for (const id of absent) assert.equal(missesFirst.indexOf(id), -1, `${id} in ${ids}`);
    [...ids].reverse().forEach((id) => {
      assert.equal(hitsFirst.indexOf(id), ids.indexOf(id), `${id} in ${ids}`);
      assert.equal(missesFirst.indexOf(id), ids.indexOf(id), `${id} in ${ids}, after misses`);
    });
    for (const id of absent) assert.equal(hitsFirst.indexOf(id), -1, `${id} in ${ids}, after hits`);
  }
  assert.equal(new IdIndex([]).indexOf(1), -1);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdTable } from '../../src/core/idTable.js';

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

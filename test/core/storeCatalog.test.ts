import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Catalog, type CatalogEntry } from '../../src/core/storeCatalog.js';

function entriesOf(count: number, firstFileId: number): Map<string, CatalogEntry> {
  const entries = new Map<string, CatalogEntry>();
  let chunkId = firstFileId * 10;
  for (let i = 0; i < count; i++) {
    // Paths of equal length side by side, non-ASCII ones, and files without chunks.
    const chunkIds = Array.from({ length: i % 4 }, () => chunkId++);
    entries.set(i % 5 === 0 ? `docs/é${i}.md` : `docs/p${String(i).padStart(3, '0')}.md`, { hash: `h${i}`, size: i * 10, mtimeMs: 1000 + i, fileId: firstFileId + i, chunkIds });
  }
  return entries;
}

function contentsOf(catalog: Catalog): Record<string, CatalogEntry> {
  return Object.fromEntries([...catalog.all()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

test('a catalog read from its file and changed in a few files encodes the same entries as one built from objects', () => {
  const expected = entriesOf(40, 1);
  const read = Catalog.decode(Catalog.of(new Map(expected)).encode());
  // Removed at the start, the middle and the end, replaced, added and touched.
  for (const gone of ['docs/é0.md', 'docs/p017.md', 'docs/p039.md']) {
    read.delete(gone);
    expected.delete(gone);
  }
  const replaced: CatalogEntry = { hash: 'new', size: 1, mtimeMs: 2, fileId: 100, chunkIds: [900, 901] };
  const added: CatalogEntry = { hash: 'added', size: 3, mtimeMs: 4, fileId: 101, chunkIds: [902] };
  read.set('docs/p018.md', replaced);
  expected.set('docs/p018.md', replaced);
  read.set('docs/new.md', added);
  expected.set('docs/new.md', added);
  const touched = { ...expected.get('docs/é5.md')!, size: 77 };
  read.set('docs/é5.md', touched);
  expected.set('docs/é5.md', touched);

  assert.equal(read.size, expected.size);
  assert.equal(read.get('docs/p018.md')?.hash, 'new');
  assert.equal(read.get('docs/p017.md'), undefined);
  assert.equal(read.hasStat('docs/p019.md', 190, 1019), true);
  assert.equal(read.hasStat('docs/p019.md', 191, 1019), false);
  assert.equal(read.hasStat('docs/none.md', 0, 0), false);

  const again = Catalog.decode(read.encode());
  assert.deepEqual(contentsOf(again), Object.fromEntries([...expected].sort(([a], [b]) => (a < b ? -1 : 1))));
  assert.equal(again.chunkCount, [...expected.values()].reduce((sum, entry) => sum + entry.chunkIds.length, 0));
  assert.equal(again.pathOf(100), 'docs/p018.md');
  assert.equal(again.fileOf(901), 100);
  assert.equal(again.pathOf(19), undefined, "a replaced file's old id is gone");
  assert.equal(again.pathOf(18), undefined, "a removed file's id is gone");
});

test('lookups by path answer the same before and after the catalog switches from scanning to a map of paths', () => {
  const entries = entriesOf(30, 1);
  const read = Catalog.decode(Catalog.of(new Map(entries)).encode());
  // Far more lookups than are scanned: each answer is checked on either side of the switch.
  for (let round = 0; round < 4; round++) {
    for (const [relativePath, entry] of entries) {
      assert.deepEqual(read.get(relativePath), entry);
      assert.equal(read.hasStat(relativePath, entry.size, entry.mtimeMs), true);
    }
    assert.equal(read.get('docs/p00.md'), undefined, 'a prefix of a path is not that path');
    assert.equal(read.get('docs/p0000.md'), undefined);
  }
});

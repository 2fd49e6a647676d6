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
  // By file id, before the catalog is written (changed entries over the rows read) and after.
  for (const catalog of [read, again]) {
    assert.deepEqual(Array.from(catalog.chunkIdsOf(100) ?? []), [900, 901]);
    assert.deepEqual(Array.from(catalog.chunkIdsOf(4) ?? [-1]), expected.get('docs/p003.md')!.chunkIds);
    assert.equal(catalog.chunkIdsOf(19), undefined, "a replaced file's old chunks are gone");
    assert.equal(catalog.chunkIdsOf(18), undefined, "a removed file's chunks are gone");
  }
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

test('a delta of a few changes, read with the catalog file it was written against, is that catalog with the changes; deltas accumulate', () => {
  const expected = entriesOf(40, 1);
  const base = Catalog.of(new Map(expected)).encode();
  const writer = Catalog.decode(base);
  const changes: [string, CatalogEntry | null][] = [
    ['docs/p001.md', null],
    ['docs/p002.md', { hash: 'new', size: 5, mtimeMs: 6, fileId: 100, chunkIds: [900, 901] }],
    ['docs/added.md', { hash: 'added', size: 7, mtimeMs: 8, fileId: 101, chunkIds: [902] }],
    ['docs/p003.md', { ...expected.get('docs/p003.md')!, mtimeMs: 99 }],
  ];
  const apply = (catalog: Catalog, [relativePath, entry]: [string, CatalogEntry | null]) => {
    if (entry) catalog.set(relativePath, entry);
    else catalog.delete(relativePath);
    if (entry) expected.set(relativePath, entry);
    else expected.delete(relativePath);
  };
  for (const change of changes) apply(writer, change);
  const sorted = () => Object.fromEntries([...expected].sort(([a], [b]) => (a < b ? -1 : 1)));
  const check = (reader: Catalog, what: string) => {
    assert.equal(reader.size, expected.size, what);
    assert.equal(reader.chunkCount, [...expected.values()].reduce((sum, entry) => sum + entry.chunkIds.length, 0), what);
    // The lookups a search makes, before anything makes entries of the whole catalog.
    for (const [relativePath, entry] of expected) {
      assert.equal(reader.pathOf(entry.fileId), relativePath, `${what}: file ${entry.fileId}`);
      for (const id of entry.chunkIds) assert.equal(reader.fileOf(id), entry.fileId, `${what}: chunk ${id}`);
      assert.deepEqual(Array.from(reader.chunkIdsOf(entry.fileId) ?? [-1]), entry.chunkIds, `${what}: chunks of file ${entry.fileId}`);
    }
    assert.equal(reader.pathOf(2), undefined, `${what}: a removed file's id`);
    assert.equal(reader.pathOf(3), undefined, `${what}: a replaced file's old id`);
    assert.equal(reader.chunkIdsOf(2), undefined, `${what}: a removed file's chunks`);
    assert.equal(reader.chunkIdsOf(3), undefined, `${what}: a replaced file's old chunks`);
    for (const id of [...entriesOf(40, 1).get('docs/p002.md')!.chunkIds, ...entriesOf(40, 1).get('docs/p001.md')!.chunkIds]) assert.equal(reader.fileOf(id), undefined, `${what}: chunk ${id} of a file gone`);
    assert.equal(reader.get('docs/p001.md'), undefined, what);
    assert.deepEqual(contentsOf(reader), sorted(), what);
  };
  const first = writer.delta()!;
  assert.ok(first.length * 4 < base.length, `the delta holds the changes only: ${first.length} vs ${base.length} bytes`);
  check(Catalog.decode(base, first), 'one delta');

  // The next run reads the catalog with its delta, changes more, and writes every change since the catalog file.
  const next = Catalog.decode(base, first);
  apply(next, ['docs/p002.md', { hash: 'newer', size: 9, mtimeMs: 10, fileId: 102, chunkIds: [903] }]);
  apply(next, ['docs/added.md', null]);
  apply(next, ['docs/p004.md', null]);
  const second = next.delta()!;
  assert.deepEqual(contentsOf(Catalog.decode(next.encode())), sorted(), 'the whole catalog written from a delta read');
  check(Catalog.decode(base, second), 'a delta of two runs');
  // Asked for every entry (as integrityProblems does), it holds them as objects: its next commit writes the whole catalog.
  check(next, 'the writer');
  assert.equal(next.delta(), undefined);

  const other = Catalog.of(new Map([...entriesOf(40, 1)].map(([relativePath, entry]) => [`other/${relativePath}`, entry]))).encode();
  assert.throws(() => Catalog.decode(other, first), /does not match its catalog/);
  assert.throws(() => Catalog.decode(base, base), /not a Docent catalog delta/);
  assert.throws(() => Catalog.decode(base, first.subarray(0, first.length - 8)), /catalog/);
});

test('a catalog with many changes, or not read from a catalog file, writes no delta', () => {
  const many = Catalog.decode(Catalog.of(entriesOf(40, 1)).encode());
  for (let i = 0; i < 65; i++) many.set(`docs/new-${i}.md`, { hash: 'h', size: 1, mtimeMs: 1, fileId: 1000 + i, chunkIds: [] });
  assert.equal(many.delta(), undefined);
  assert.equal(Catalog.of(entriesOf(3, 1)).delta(), undefined);
  assert.equal(Catalog.empty().delta(), undefined);
});

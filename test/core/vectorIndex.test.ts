import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { clusteredVectors, type ClusteredVectors } from '../../bench/ann.js';
import {
  ExactVectorIndex,
  HnswVectorIndex,
  metadataPathFor,
  VectorIndexFileError,
  type VectorIndex,
  type VectorSearchHit,
} from '../../src/core/vectorIndex.js';

const DIMENSIONS = 48;
const shape = { dimensions: DIMENSIONS, clusters: 20, noise: 1, clusterSeed: 7 };
const points = clusteredVectors({ ...shape, count: 3000, pointSeed: 8 });
const queries = clusteredVectors({ ...shape, count: 100, pointSeed: 9 });

let directory: string;
before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'docent-vectors-'));
});
after(async () => {
  await rm(directory, { recursive: true, force: true });
});

function fill(index: VectorIndex, data: ClusteredVectors, labels: Iterable<number>): void {
  for (const label of labels) index.upsert(label, data.row(label));
}

function range(count: number, start = 0): number[] {
  return Array.from({ length: count }, (_, i) => start + i);
}

function recallAt10(approximate: VectorIndex, exact: VectorIndex): number {
  let found = 0;
  for (let q = 0; q < queries.count; q++) {
    const truth = new Set(exact.search(queries.row(q), 10).map((hit) => hit.label));
    found += approximate.search(queries.row(q), 10).filter((hit) => truth.has(hit.label)).length;
  }
  return found / (queries.count * 10);
}

/** Every live label, via a search as wide as the index. */
function searchableLabels(index: VectorIndex): number[] {
  return index
    .search(queries.row(0), index.size)
    .map((hit) => hit.label)
    .sort((a, b) => a - b);
}

function unit(values: number[]): Float32Array {
  const norm = Math.hypot(...values);
  return Float32Array.from(values, (value) => value / norm);
}

function assertBestFirst(hits: VectorSearchHit[]): void {
  for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1]!.score >= hits[i]!.score, 'hits are sorted best first');
}

describe('HnswVectorIndex', () => {
  test('finds the same neighbours as exact search on clustered vectors', () => {
    const hnsw = HnswVectorIndex.create(DIMENSIONS);
    const exact = new ExactVectorIndex(DIMENSIONS);
    hnsw.upsertMany(range(points.count).map((label) => ({ label, vector: points.row(label) })));
    fill(exact, points, range(points.count));
    assert.equal(hnsw.size, points.count);

    assert.ok(recallAt10(hnsw, exact) >= 0.97);
    const hits = hnsw.search(queries.row(0), 10);
    const truth = exact.search(queries.row(0), 10);
    assertBestFirst(hits);
    assert.equal(hits[0]!.label, truth[0]!.label);
    assert.ok(Math.abs(hits[0]!.score - truth[0]!.score) < 1e-5, 'score is the cosine similarity');
    // A stored vector is its own best match with similarity 1.
    const self = hnsw.search(points.row(123), 1)[0]!;
    assert.equal(self.label, 123);
    assert.ok(Math.abs(self.score - 1) < 1e-5);
  });

  test('upsert of an existing label moves it instead of adding a second copy', () => {
    const index = HnswVectorIndex.create(DIMENSIONS);
    fill(index, points, range(200));
    index.upsert(5, points.row(1500));
    assert.equal(index.size, 200);
    assert.equal(index.search(points.row(1500), 1)[0]!.label, 5);
    assert.ok(!index.search(points.row(5), 10).some((hit) => hit.label === 5), 'old position no longer matches');
    assert.deepEqual(searchableLabels(index), range(200));
  });

  test('remove hides a label, is a no-op for unknown labels, and a removed label can come back', () => {
    const index = HnswVectorIndex.create(DIMENSIONS);
    fill(index, points, range(100));
    assert.equal(index.remove(42), true);
    assert.equal(index.has(42), false);
    assert.equal(index.size, 99);
    assert.ok(!index.search(points.row(42), 99).some((hit) => hit.label === 42));
    assert.equal(index.remove(42), false);
    assert.equal(index.remove(123456), false);

    index.upsert(42, points.row(42));
    assert.equal(index.search(points.row(42), 1)[0]!.label, 42);
    assert.deepEqual(searchableLabels(index), range(100));
  });

  test('churn reuses removed slots: capacity stays put and no label is lost or duplicated', () => {
    const index = HnswVectorIndex.create(DIMENSIONS, { initialCapacity: 64 });
    const live = new Set(range(60));
    fill(index, points, live);
    let nextLabel = 60;
    for (let round = 0; round < 150; round++) {
      const victims = [...live].filter((_, i) => (i + round) % 6 === 0);
      for (const label of victims) {
        assert.equal(index.remove(label), true);
        live.delete(label);
      }
      // One label removed this round comes back first, into some other label's slot: the case where
      // slot reuse could leave a label stored twice or unreachable. The rest are new labels.
      const comers = [victims[0]!, ...range(victims.length - 1, nextLabel)];
      nextLabel += victims.length - 1;
      for (const label of comers) {
        index.upsert(label, points.row(label % points.count));
        live.add(label);
      }
    }
    assert.equal(index.capacity, 64);
    assert.equal(index.size, 60);
    assert.deepEqual(searchableLabels(index), [...live].sort((a, b) => a - b));
    for (const label of live) assert.ok(index.has(label));
    const probe = [...live][17]!;
    assert.equal(index.search(points.row(probe % points.count), 1)[0]!.label, probe);
  });

  test('grows past its initial capacity by doubling', () => {
    const index = HnswVectorIndex.create(DIMENSIONS, { initialCapacity: 16 });
    fill(index, points, range(40));
    assert.equal(index.capacity, 64);
    index.upsertMany(range(300, 40).map((label) => ({ label, vector: points.row(label) })));
    assert.equal(index.capacity, 512);
    assert.equal(index.size, 340);
    assert.deepEqual(searchableLabels(index), range(340));
  });

  test('handles an empty index, k larger than the index, and k = 0', () => {
    const index = HnswVectorIndex.create(DIMENSIONS, { initialCapacity: 4 });
    assert.deepEqual(index.search(queries.row(0), 10), []);
    fill(index, points, [3, 4, 5]);
    const hits = index.search(queries.row(0), 10, 1);
    assert.deepEqual(hits.map((hit) => hit.label).sort(), [3, 4, 5]);
    assertBestFirst(hits);
    assert.deepEqual(index.search(queries.row(0), 0), []);
    index.remove(3);
    index.remove(4);
    index.remove(5);
    assert.deepEqual(index.search(queries.row(0), 10), []);
  });

  test('save then load gives identical results, keeps removed slots reusable, and leaves no temp files', async () => {
    const index = HnswVectorIndex.create(DIMENSIONS, { initialCapacity: 1000 });
    fill(index, points, range(1000));
    for (const label of range(50, 50)) index.remove(label);
    index.upsert(7, points.row(2500));
    const path = join(directory, 'roundtrip.hnsw');
    await index.save(path);

    const loaded = await HnswVectorIndex.load(path, DIMENSIONS);
    assert.equal(loaded.size, 950);
    assert.equal(loaded.capacity, 1000);
    assert.equal(loaded.has(60), false);
    assert.equal(loaded.has(7), true);
    for (let q = 0; q < queries.count; q++) {
      assert.deepEqual(loaded.search(queries.row(q), 10), index.search(queries.row(q), 10));
    }

    // Removed slots survive the round trip as free space, and a removed label can return.
    fill(loaded, points, [...range(49, 2000), 60]);
    assert.equal(loaded.capacity, 1000);
    assert.equal(loaded.search(points.row(60), 1)[0]!.label, 60);

    // Saving over an existing index replaces it.
    await loaded.save(path);
    assert.equal((await HnswVectorIndex.load(path, DIMENSIONS)).size, 1000);
    assert.deepEqual((await readdir(directory)).filter((name) => name.startsWith('roundtrip')).sort(), ['roundtrip.hnsw', 'roundtrip.hnsw.meta.json']);
  });

  test('load rejects damaged, missing and mismatched files with a clear error', async () => {
    const index = HnswVectorIndex.create(DIMENSIONS);
    fill(index, points, range(300));
    const path = join(directory, 'damaged.hnsw');
    const save = async (): Promise<void> => index.save(path);
    const problem = (kind: string, message: RegExp) => (error: unknown) =>
      error instanceof VectorIndexFileError && error.problem === kind && message.test(error.message);

    await save();
    const { size } = await stat(path);
    await truncate(path, size - 1000);
    await assert.rejects(HnswVectorIndex.load(path, DIMENSIONS), problem('corrupt', /truncated or was modified/));

    // Same length, flipped bytes inside the graph: hnswlib itself would load this and may crash in a search.
    await save();
    const bytes = await readFile(path);
    bytes.fill(0xff, 1500, 1564);
    await writeFile(path, bytes);
    await assert.rejects(HnswVectorIndex.load(path, DIMENSIONS), problem('corrupt', /checksum/));

    await save();
    await assert.rejects(HnswVectorIndex.load(path, DIMENSIONS + 1), problem('incompatible', new RegExp(`${DIMENSIONS}-dimensional.*expected ${DIMENSIONS + 1}`)));

    await writeFile(metadataPathFor(path), '{"format":');
    await assert.rejects(HnswVectorIndex.load(path, DIMENSIONS), problem('corrupt', /not valid JSON/));
    await writeFile(metadataPathFor(path), '{"format":"something-else"}');
    await assert.rejects(HnswVectorIndex.load(path, DIMENSIONS), problem('incompatible', /not a version 1/));
    await rm(metadataPathFor(path));
    await assert.rejects(HnswVectorIndex.load(path, DIMENSIONS), problem('missing', /metadata/));

    await save();
    await rm(path);
    await assert.rejects(HnswVectorIndex.load(path, DIMENSIONS), problem('missing', /No vector index/));
  });

  test('rejects changes while a save is in progress but keeps answering searches', async () => {
    const index = HnswVectorIndex.create(DIMENSIONS);
    fill(index, points, range(500));
    const saving = index.save(join(directory, 'busy.hnsw'));
    assert.throws(() => index.upsert(1, points.row(1)), /being saved/);
    assert.throws(() => index.remove(1), /being saved/);
    assert.equal(index.search(points.row(9), 1)[0]!.label, 9);
    await saving;
    assert.equal(index.remove(1), true);
  });
});

describe('vector validation (both indexes)', () => {
  for (const make of [() => HnswVectorIndex.create(4), () => new ExactVectorIndex(4)]) {
    const index = make();
    test(`${index.constructor.name} names the problem with a bad vector`, () => {
      index.upsert(1, unit([1, 0, 0, 0]));
      assert.throws(() => index.upsert(2, new Float32Array(3).fill(1)), /Dimension mismatch: vector for label 2 has 3 dimensions, the index has 4/);
      assert.throws(() => index.search(new Float32Array(5).fill(1), 1), /Dimension mismatch: query vector has 5 dimensions/);
      assert.throws(() => index.upsert(2, Float32Array.of(1, Number.NaN, 0, 0)), /element 1 is NaN/);
      assert.throws(() => index.search(Float32Array.of(1, 0, Number.POSITIVE_INFINITY, 0), 1), /element 2 is Infinity/);
      assert.throws(() => index.upsert(2, new Float32Array(4)), /all zeros/);
      assert.throws(() => index.upsert(2.5, unit([1, 1, 0, 0])), /integers/);
      assert.throws(() => index.search(unit([1, 0, 0, 0]), -1), /k must be/);
      // A bad item anywhere in a batch leaves the index untouched.
      const batch = [
        { label: 10, vector: unit([0, 1, 0, 0]) },
        { label: 11, vector: new Float32Array(2) },
      ];
      assert.throws(() => index.upsertMany(batch), /Dimension mismatch/);
      assert.equal(index.size, 1);
      assert.equal(index.has(10), false);
    });
  }
  for (const make of [() => HnswVectorIndex.create(4), () => new ExactVectorIndex(4)]) {
    const index = make();
    test(`${index.constructor.name} returns a stored vector by label, unit length, and nothing once removed`, () => {
      index.upsert(7, Float32Array.of(3, 4, 0, 0));
      index.upsert(8, Float32Array.of(0, 0, 2, 0));
      assert.deepEqual([...index.vectorOf(7)!].map((value) => Number(value.toFixed(6))), [0.6, 0.8, 0, 0]);
      assert.deepEqual([...index.vectorOf(8)!], [0, 0, 1, 0]);
      assert.equal(index.vectorOf(9), undefined);
      index.remove(7);
      assert.equal(index.vectorOf(7), undefined);
      assert.deepEqual([...index.vectorOf(8)!], [0, 0, 1, 0], 'the other vector survives the removal');
    });
  }
});

describe('ExactVectorIndex', () => {
  test('scores by cosine similarity regardless of vector length', () => {
    const index = new ExactVectorIndex(3);
    index.upsert(1, Float32Array.of(10, 0, 0));
    index.upsert(2, Float32Array.of(1, 1, 0));
    const hits = index.search(Float32Array.of(0.5, 0, 0), 2);
    assert.equal(hits[0]!.label, 1);
    assert.ok(Math.abs(hits[0]!.score - 1) < 1e-6);
    assert.ok(Math.abs(hits[1]!.score - Math.SQRT1_2) < 1e-6);
  });

  test('swap-remove keeps every other vector attached to its own label', () => {
    const index = new ExactVectorIndex(DIMENSIONS, 8);
    fill(index, points, range(50));
    assert.equal(index.capacity, 64);
    for (const label of [0, 49, 25, 48, 1]) assert.equal(index.remove(label), true);
    assert.equal(index.remove(25), false);
    assert.equal(index.size, 45);
    const live = range(50).filter((label) => ![0, 49, 25, 48, 1].includes(label));
    for (const label of live) {
      const best = index.search(points.row(label), 1)[0]!;
      assert.equal(best.label, label);
      assert.ok(Math.abs(best.score - 1) < 1e-5);
    }
    const all = index.search(queries.row(0), 1000);
    assert.deepEqual(all.map((hit) => hit.label).sort((a, b) => a - b), live);
    assertBestFirst(all);
  });

  test('top-k equals a full sort of all scores', () => {
    const index = new ExactVectorIndex(DIMENSIONS);
    fill(index, points, range(500));
    const everything = index.search(queries.row(3), 500);
    assert.equal(everything.length, 500);
    assertBestFirst(everything);
    assert.deepEqual(index.search(queries.row(3), 7), everything.slice(0, 7));
  });
});

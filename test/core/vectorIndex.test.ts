import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { clusteredVectors, type ClusteredVectors } from '../../bench/ann.js';
import { HierarchicalNSW } from 'hnswlib-node';
import { ExactVectorIndex, HnswVectorIndex, VectorIndexFileError, buildGraphFile, type VectorIndex, type VectorSearchHit } from '../../src/core/vectorIndex.js';

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

function unit(values: number[]): Float32Array {
  const norm = Math.hypot(...values);
  return Float32Array.from(values, (value) => value / norm);
}

function assertBestFirst(hits: VectorSearchHit[]): void {
  for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1]!.score >= hits[i]!.score, 'hits are sorted best first');
}

/** `points`' rows for `labels`, back to back. */
function rowsOf(labels: number[]): Float32Array {
  const rows = new Float32Array(labels.length * DIMENSIONS);
  labels.forEach((label, i) => rows.set(points.row(label), i * DIMENSIONS));
  return rows;
}

/** The graph of `points`' rows for `labels`, labeled as they are. */
function graphOf(labels: number[], options = {}): HnswVectorIndex {
  return HnswVectorIndex.build(DIMENSIONS, labels, rowsOf(labels), options);
}

function hnswRecallAt10(graph: HnswVectorIndex, exact: ExactVectorIndex, efSearch: number): number {
  let found = 0;
  for (let q = 0; q < queries.count; q++) {
    const truth = new Set(exact.search(queries.row(q), 10).map((hit) => hit.label));
    found += graph.search(queries.row(q), 10, efSearch).filter((hit) => truth.has(hit.label)).length;
  }
  return found / (queries.count * 10);
}

describe('HnswVectorIndex', () => {
  test('finds the same neighbours as exact search on clustered vectors, and more of them with a larger ef', () => {
    const graph = graphOf(range(points.count));
    const exact = new ExactVectorIndex(DIMENSIONS);
    fill(exact, points, range(points.count));
    assert.equal(graph.size, points.count);

    assert.ok(hnswRecallAt10(graph, exact, 64) >= 0.97);
    assert.ok(hnswRecallAt10(graph, exact, 200) >= hnswRecallAt10(graph, exact, 10));
    const hits = graph.search(queries.row(0), 10, 64);
    const truth = exact.search(queries.row(0), 10);
    assertBestFirst(hits);
    assert.equal(hits[0]!.label, truth[0]!.label);
    assert.ok(Math.abs(hits[0]!.score - truth[0]!.score) < 1e-5, 'score is the cosine similarity');
    // A stored vector is its own best match with similarity 1.
    const self = graph.search(points.row(123), 1, 64)[0]!;
    assert.equal(self.label, 123);
    assert.ok(Math.abs(self.score - 1) < 1e-5);
  });

  test('keeps the labels it was built with, however large or sparse', () => {
    const labels = [5, 1_000_003, 77, 2 ** 31 - 1];
    const graph = graphOf([0, 1, 2, 3]);
    const relabeled = HnswVectorIndex.build(DIMENSIONS, labels, Float32Array.from([0, 1, 2, 3].flatMap((label) => [...points.row(label)])));
    assert.deepEqual(relabeled.labels().sort((a, b) => a - b), [...labels].sort((a, b) => a - b));
    assert.equal(relabeled.search(points.row(2), 1, 10)[0]!.label, 77);
    assert.equal(graph.search(points.row(2), 1, 10)[0]!.label, 2);
  });

  test('remove hides a label from every search and is false for unknown or removed labels', () => {
    const graph = graphOf(range(100));
    assert.equal(graph.remove(42), true);
    assert.equal(graph.size, 99);
    assert.ok(!graph.search(points.row(42), 99, 100).some((hit) => hit.label === 42));
    assert.deepEqual(
      graph
        .search(queries.row(0), 100, 100)
        .map((hit) => hit.label)
        .sort((a, b) => a - b),
      range(100).filter((label) => label !== 42),
    );
    assert.equal(graph.remove(42), false);
    assert.equal(graph.remove(123456), false);
  });

  test('handles an empty graph, k larger than the graph, and k = 0', () => {
    assert.deepEqual(graphOf([]).search(queries.row(0), 10, 10), []);
    const graph = graphOf([3, 4, 5]);
    const hits = graph.search(queries.row(0), 10, 1);
    assert.deepEqual(hits.map((hit) => hit.label).sort(), [3, 4, 5]);
    assertBestFirst(hits);
    assert.deepEqual(graph.search(queries.row(0), 0, 10), []);
    for (const label of [3, 4, 5]) graph.remove(label);
    assert.deepEqual(graph.search(queries.row(0), 10, 10), []);
  });

  test('a graph file built in a worker is byte for byte the graph hnswlib builds here, and loads to the same results, before and after the same removals', async () => {
    const labels = range(1000);
    const path = join(directory, 'roundtrip.hnsw');
    const checksum = await buildGraphFile(path, DIMENSIONS, labels, rowsOf(labels));
    assert.equal(checksum.bytes, (await stat(path)).size);
    // The reference: hnswlib on this thread, as the store built graphs before the worker (M 16, efConstruction 200).
    const reference = new HierarchicalNSW('cosine', DIMENSIONS);
    reference.initIndex({ maxElements: labels.length, m: 16, efConstruction: 200 });
    for (const label of labels) reference.addPoint(Array.from(points.row(label)), label);
    const referencePath = join(directory, 'reference.hnsw');
    reference.writeIndexSync(referencePath);
    assert.ok((await readFile(path)).equals(await readFile(referencePath)), 'the same bytes as a graph built on this thread');

    const graph = graphOf(labels);
    const loaded = HnswVectorIndex.load(path, DIMENSIONS, checksum);
    assert.equal(loaded.size, 1000);
    assert.deepEqual(loaded.labels().sort((a, b) => a - b), labels);
    for (let q = 0; q < queries.count; q++) assert.deepEqual(loaded.search(queries.row(q), 10, 64), graph.search(queries.row(q), 10, 64));
    for (const label of range(50, 50)) assert.ok(graph.remove(label) && loaded.remove(label));
    assert.equal(loaded.size, 950);
    for (let q = 0; q < queries.count; q++) assert.deepEqual(loaded.search(queries.row(q), 10, 64), graph.search(queries.row(q), 10, 64));
    assert.ok(!loaded.search(points.row(60), 10, 64).some((hit) => hit.label === 60));
    await assert.rejects(graph.writeUnplaced(join(directory, 'removed.hnsw')), /saved as built/);
    assert.deepEqual((await readdir(directory)).filter((name) => name.startsWith('roundtrip')), ['roundtrip.hnsw']);
  });

  test('a worker build reports its progress up to the whole count, and moves the rows rather than copying them', async () => {
    const labels = range(2500);
    const rows = rowsOf(labels);
    const progress: [number, number][] = [];
    const built = buildGraphFile(join(directory, 'progress.hnsw'), DIMENSIONS, labels, rows, {}, { onProgress: (added, total) => progress.push([added, total]) });
    assert.equal(rows.length, 0, 'the rows went to the worker');
    await built;
    assert.deepEqual(progress, [[1000, 2500], [2000, 2500], [2500, 2500]]);
  });

  test('a cancelled or failed worker build rejects and leaves no file behind', async () => {
    const labels = range(points.count);
    const controller = new AbortController();
    let heard = 0;
    const cancelled = buildGraphFile(join(directory, 'cancelled.hnsw'), DIMENSIONS, labels, rowsOf(labels), {}, {
      signal: controller.signal,
      onProgress: () => {
        heard++;
        controller.abort();
      },
    });
    await assert.rejects(cancelled, (error: unknown) => (error as Error).name === 'AbortError');
    assert.equal(heard, 1, 'no progress after the abort');
    await assert.rejects(buildGraphFile(join(directory, 'cancelled.hnsw'), DIMENSIONS, [1], rowsOf([1]), {}, { signal: controller.signal }), (error: unknown) => (error as Error).name === 'AbortError');
    await assert.rejects(buildGraphFile(join(directory, 'failed.hnsw'), 4, [1, 2], Float32Array.of(1, 0, 0, 0, 0, Number.NaN, 0, 0)), /vector for label 2: element 1 is NaN/);
    assert.deepEqual((await readdir(directory)).filter((name) => name.startsWith('cancelled') || name.startsWith('failed')), []);
  });

  test('load rejects damaged and missing files with a clear error before hnswlib reads them', async () => {
    const path = join(directory, 'damaged.hnsw');
    const checksum = await buildGraphFile(path, DIMENSIONS, range(300), rowsOf(range(300)));
    const problem = (kind: string, message: RegExp) => (error: unknown) => error instanceof VectorIndexFileError && error.problem === kind && message.test(error.message);
    const good = await readFile(path);

    await truncate(path, good.length - 1000);
    assert.throws(() => HnswVectorIndex.load(path, DIMENSIONS, checksum), problem('corrupt', /truncated or was modified/));

    // Same length, flipped bytes inside the graph: hnswlib itself would load this and may crash in a search.
    const flipped = Buffer.from(good);
    flipped.fill(0xff, 1500, 1564);
    await writeFile(path, flipped);
    assert.throws(() => HnswVectorIndex.load(path, DIMENSIONS, checksum), problem('corrupt', /checksum/));

    await rm(path);
    assert.throws(() => HnswVectorIndex.load(path, DIMENSIONS, checksum), problem('missing', /No vector index/));
  });

  test('build names the problem with a bad vector or label and builds nothing', () => {
    const rows = (...vectors: number[][]) => Float32Array.from(vectors.flat());
    assert.throws(() => HnswVectorIndex.build(4, [1, 2], rows([1, 0, 0, 0])), /2 labels need 8 values, got 4/);
    assert.throws(() => HnswVectorIndex.build(4, [1, 2], rows([1, 0, 0, 0], [0, Number.NaN, 0, 0])), /vector for label 2: element 1 is NaN/);
    assert.throws(() => HnswVectorIndex.build(4, [1, 2], rows([1, 0, 0, 0], [0, 0, 0, 0])), /all zeros/);
    assert.throws(() => HnswVectorIndex.build(4, [1, 2.5], rows([1, 0, 0, 0], [0, 1, 0, 0])), /integers/);
    const graph = HnswVectorIndex.build(4, [1], rows([1, 0, 0, 0]));
    assert.throws(() => graph.search(new Float32Array(5).fill(1), 1, 10), /Dimension mismatch: query vector has 5 dimensions/);
    assert.throws(() => graph.search(unit([1, 0, 0, 0]), -1, 10), /k must be/);
  });
});

describe('ExactVectorIndex validation', () => {
  test('names the problem with a bad vector', () => {
    const index = new ExactVectorIndex(4);
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

  test('returns a stored vector by label, unit length, and nothing once removed', () => {
    const index = new ExactVectorIndex(4);
    index.upsert(7, Float32Array.of(3, 4, 0, 0));
    index.upsert(8, Float32Array.of(0, 0, 2, 0));
    assert.deepEqual([...index.vectorOf(7)!].map((value) => Number(value.toFixed(6))), [0.6, 0.8, 0, 0]);
    assert.deepEqual([...index.vectorOf(8)!], [0, 0, 1, 0]);
    assert.equal(index.vectorOf(9), undefined);
    index.remove(7);
    assert.equal(index.vectorOf(7), undefined);
    assert.deepEqual([...index.vectorOf(8)!], [0, 0, 1, 0], 'the other vector survives the removal');
  });
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

  test('every score is the double of four running sums (dimensions i mod 4, the rest into the first), whatever the dimensions', () => {
    // The order the kernel sums in (vectorRows.ts): a change of it moves scores by an ulp and can swap near-ties.
    const reference = (row: Float32Array, query: Float32Array): number => {
      const sums = [0, 0, 0, 0];
      const whole = row.length - (row.length % 4);
      for (let i = 0; i < whole; i++) sums[i % 4]! += row[i]! * query[i]!;
      for (let i = whole; i < row.length; i++) sums[0]! += row[i]! * query[i]!;
      return sums[0]! + sums[1]! + sums[2]! + sums[3]!;
    };
    for (const dimensions of [1, 2, 3, 4, 5, 7, 8, 9, 48, 100, 255, 256]) {
      const data = clusteredVectors({ ...shape, dimensions, count: 301, pointSeed: dimensions });
      const index = new ExactVectorIndex(dimensions, 4); // grown on the way, twice over
      fill(index, data, range(301));
      index.remove(17); // the last row moves into the hole
      const query = data.row(5).map((value, i) => value * (i % 3 === 0 ? -1.5 : 0.75));
      const unitQuery = query.map((value) => value / Math.hypot(...query));
      const hits = index.search(query, 300);
      assert.equal(hits.length, 300);
      for (const hit of hits) assert.equal(hit.score, reference(index.vectorOf(hit.label)!, unitQuery), `${dimensions}-d, label ${hit.label}`);
      assert.ok(!hits.some((hit) => hit.label === 17));
    }
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

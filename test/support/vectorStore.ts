/** Stores filled with many passages and clustered vectors straight through the writer's API, for graph-building tests. */
import { clusteredVectors, type ClusteredVectors } from '../../bench/ann.js';
import type { ChunkDraft } from '../../src/core/chunker.js';
import { encodeDrafts } from '../../src/core/draftRecords.js';
import type { DocStore } from '../../src/core/store.js';

export const VECTOR_DIMENSIONS = 64;
const PER_FILE = 100;

/** The vectors fillWithVectors gives a store of `count` passages: row i is passage i's (ids follow in the order added). */
export function testVectors(count: number): ClusteredVectors {
  return clusteredVectors({ count, dimensions: VECTOR_DIMENSIONS, clusters: 50, noise: 1, clusterSeed: 11, pointSeed: 12 });
}

/**
 * Adds `count` one-line passages in files of PER_FILE with testVectors(count) to `store` (locked,
 * fresh), not committed. Returns the passages' ids in row order.
 */
export function fillWithVectors(store: DocStore, count: number): number[] {
  const vectors = testVectors(count);
  store.resetVectors({ id: 'clustered-test-vectors', dimensions: VECTOR_DIMENSIONS });
  const ids: number[] = [];
  for (let start = 0; start < count; start += PER_FILE) {
    const path = `part-${start / PER_FILE}.md`;
    const rows = Array.from({ length: Math.min(PER_FILE, count - start) }, (_, i) => start + i);
    const drafts: ChunkDraft[] = rows.map((row, i) => ({ startLine: i + 1, endLine: i + 1, title: path, headingPath: [], text: `passage ${row} about topic${row % 37}` }));
    ids.push(...store.addFile(path, { hash: `hash-${start}`, size: drafts.length, mtimeMs: 0 }, encodeDrafts(drafts), rows.map((row) => vectors.row(row).slice())));
  }
  return ids;
}

/** Makes the next commit the last of an index run, the one that builds HNSW graphs. */
export function markLastCommit(store: DocStore): void {
  store.lastIndex = { finishedAt: new Date().toISOString(), seconds: 0, generation: store.generation + 1 };
}

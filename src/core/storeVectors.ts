/**
 * A store's passage vectors, searched by cosine: exactly below a measured size, by a persisted
 * HNSW graph per segment above it (`npm run bench:ann`, BENCHMARKS.md "HNSW in the store").
 * Segments with a graph (named in the manifest with its checksum) are searched by their graph,
 * loaded and verified at the first search that needs it; every other segment's vectors, and
 * those a writer added since, are searched exactly in one contiguous array. With no graph the
 * search is the exact one alone, so a store below the threshold ranks as it always did.
 */
import type { SegmentView } from './storeSegment.js';
import { IdTable } from './idTable.js';
import { ExactVectorIndex, HnswVectorIndex, type VectorSearchHit } from './vectorIndex.js';

/** A segment needs at least this many live vectors for a graph (below it exact search is fast enough and costs no build). */
export const HNSW_MIN_VECTORS = 20_000;
/** Graph construction: out-degree and candidate list while building. */
export const HNSW_BUILD = { M: 16, efConstruction: 200 };
/** The candidate list of a graph search: recall@100 ≥ 0.97 at every measured size. */
export const HNSW_EF_SEARCH = 400;

/** One segment searched by its graph; its rows answer `vectorOf`. */
interface GraphPart {
  segment: SegmentView;
  /** Each live passage's row in the segment. */
  rows: IdTable;
  /** Loaded at the first search; removals since the store opened are applied then. */
  graph: HnswVectorIndex | undefined;
  /** Loads the graph (a StoreError when it is damaged), or undefined when it is gone with its generation (then the rows are searched exactly). */
  load: () => HnswVectorIndex | undefined;
}

/** A segment's vectors, and how to load its graph when it has one. */
export interface VectorSource {
  segment: SegmentView;
  load?: () => HnswVectorIndex | undefined;
}

export class StoreVectors {
  private readonly graphs: GraphPart[] = [];

  private constructor(private readonly exact: ExactVectorIndex) {}

  /** No vectors yet (a new store, or every vector being replaced). */
  static empty(dimensions: number, capacity: number): StoreVectors {
    return new StoreVectors(new ExactVectorIndex(dimensions, Math.max(1024, capacity)));
  }

  /**
   * The live vectors (`live`) of `segments` (oldest first): those of a segment with a graph
   * `loader` stay in the segment until read; the others are copied into the exact index.
   */
  static of(dimensions: number, sources: readonly VectorSource[], live: (id: number) => boolean): StoreVectors {
    let exactRows = 0;
    for (const { segment, load } of sources) if (!load) exactRows += segment.chunkIds.length;
    const vectors = StoreVectors.empty(dimensions, exactRows);
    for (const { segment, load } of sources) {
      if (segment.dimensions === 0) continue;
      const ids = segment.chunkIds;
      if (load) {
        const rows = new IdTable();
        for (let i = 0; i < ids.length; i++) if (live(ids[i]!)) rows.set(ids[i]!, i);
        vectors.graphs.push({ segment, rows, graph: undefined, load });
        continue;
      }
      const values = segment.vectors();
      for (let i = 0; i < ids.length; i++) if (live(ids[i]!)) vectors.exact.upsert(ids[i]!, values.subarray(i * dimensions, (i + 1) * dimensions));
    }
    return vectors;
  }

  get dimensions(): number {
    return this.exact.dimensions;
  }

  get size(): number {
    return this.graphs.reduce((sum, part) => sum + part.rows.size, this.exact.size);
  }

  /** Adds a vector the writer made (never one of a segment's passages: ids are not reused). */
  upsert(id: number, vector: Float32Array): void {
    this.exact.upsert(id, vector);
  }

  remove(id: number): void {
    if (this.exact.remove(id)) return;
    for (const part of this.graphs) {
      if (!part.rows.has(id)) continue;
      part.rows.delete(id);
      part.graph?.remove(id);
      return;
    }
  }

  /** The stored vector, unit length. */
  vectorOf(id: number): Float32Array | undefined {
    const exact = this.exact.vectorOf(id);
    if (exact) return exact;
    for (const { segment, rows } of this.graphs) {
      const row = rows.get(id);
      if (row !== undefined) return unitCopy(segment.vector(row));
    }
    return undefined;
  }

  /** Up to `k` nearest live passages, best first (ties by id). */
  search(query: Float32Array, k: number): VectorSearchHit[] {
    for (const part of [...this.graphs]) this.loadGraph(part);
    const exact = this.exact.search(query, k);
    if (this.graphs.length === 0) return exact;
    const hits = [exact];
    for (const part of this.graphs) hits.push(part.graph!.search(query, k, HNSW_EF_SEARCH));
    return hits
      .flat()
      .sort((a, b) => b.score - a.score || a.label - b.label)
      .slice(0, k);
  }

  /** Loads the part's graph if not yet; a graph gone with its generation hands the part's rows to the exact index. */
  private loadGraph(part: GraphPart): void {
    if (part.graph) return;
    const graph = part.load();
    if (!graph) {
      this.graphs.splice(this.graphs.indexOf(part), 1);
      const { segment } = part;
      for (const id of segment.chunkIds) {
        const row = part.rows.get(id);
        if (row !== undefined) this.exact.upsert(id, segment.vector(row));
      }
      return;
    }
    // Passages removed by later segments or by the writer since: still waypoints, never hits.
    for (const label of graph.labels()) if (!part.rows.has(label)) graph.remove(label);
    part.graph = graph;
  }
}

function unitCopy(vector: Float32Array): Float32Array {
  let squares = 0;
  for (const value of vector) squares += value * value;
  const norm = Math.sqrt(squares);
  return vector.map((value) => value / norm);
}

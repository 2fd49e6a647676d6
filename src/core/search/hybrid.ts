/**
 * Hybrid retrieval: the keyword (BM25F) ranking, its head re-ordered by page-level dense
 * evidence, and the vector (HNSW) ranking are fused by weighted reciprocal rank fusion, then
 * near-duplicate passages (the same text copied across pages, or overlapping windows of one
 * section) are collapsed so the k results say k different things.
 */
import { embeddingTextOf } from '../chunkText.js';
import type { CollectionStatistics, DocStore } from '../store.js';
import type { Embedder, RetrievalHit, Retriever } from '../types.js';
import { passageConfidence, queryTerms } from './confidence.js';

export interface HybridSearchOptions {
  k: number;
  queryVector?: Float32Array;
  signal?: AbortSignal;
  /** Shared IDF when several indexes are searched together (see MultiFolderRetriever). */
  collection?: CollectionStatistics;
}

export interface FusionOptions {
  /** RRF constant: larger flattens the rank curve. */
  rrfK: number;
  keywordWeight: number;
  vectorWeight: number;
  /** How deep each ranking is read before fusion. */
  candidates: number;
  /**
   * Weight of page-level evidence in the keyword ranking: a passage's normalised BM25F score
   * plus this times its whole file's normalised score. Questions often use words spread over
   * a page rather than one passage; see the study in BENCHMARKS.md.
   */
  fileWeight: number;
  /**
   * Weight of page-level dense evidence: the pages of the keyword ranking's first
   * `pageDenseCandidates` passages are re-scored by their best passage's cosine to the query
   * (centred on those pages' mean, scaled by max − mean). It only reorders that head, so the
   * dense model can break near-ties between pages BM25F already found but never pull in others.
   */
  pageDenseWeight: number;
  pageDenseCandidates: number;
  /** Word-shingle Jaccard similarity at or above which two passages count as duplicates. */
  duplicateThreshold: number;
}

/**
 * Defaults measured on the dev sets (BENCHMARKS.md). A small RRF constant keeps the keyword
 * ranking's confident top positions apart; with the usual 60 even a light vector weight
 * reshuffles them and costs MRR.
 */
export const DEFAULT_FUSION: FusionOptions = {
  rrfK: 10,
  keywordWeight: 1,
  vectorWeight: 0.1,
  candidates: 100,
  fileWeight: 0.5,
  pageDenseWeight: 0.1,
  pageDenseCandidates: 20,
  duplicateThreshold: 0.8,
};

export class HybridRetriever implements Retriever {
  constructor(
    private readonly store: DocStore,
    private readonly embedder: Embedder | undefined,
    readonly fusion: FusionOptions = DEFAULT_FUSION,
  ) {}

  get embedderId(): string {
    return this.store.embedder?.id ?? 'none';
  }

  get generation(): number {
    return this.store.generation;
  }

  fileHash(path: string): string | undefined {
    return this.store.file(path)?.hash;
  }

  /** This index's keyword statistics for `query`, to sum with other indexes' before searching them all. */
  keywordStatistics(query: string): CollectionStatistics {
    return this.store.keywordStatistics(query);
  }

  async search(query: string, options: HybridSearchOptions): Promise<RetrievalHit[]> {
    const { fusion, store } = this;
    const fused = new Map<number, number>();
    const addRanking = (ids: number[], weight: number): void => {
      ids.forEach((id, rank) => fused.set(id, (fused.get(id) ?? 0) + weight / (fusion.rrfK + rank + 1)));
    };
    let queryVector: Float32Array | undefined;
    if (store.vectorCount > 0 && (fusion.vectorWeight > 0 || fusion.pageDenseWeight > 0)) {
      queryVector = options.queryVector;
      if (!queryVector && this.embedder && this.embedder.id === store.embedder?.id) {
        [queryVector] = await this.embedder.embed([query], options.signal);
      }
    }
    const keyword = this.keywordRanking(query, queryVector, options.collection);
    addRanking(keyword.ids, fusion.keywordWeight);
    if (queryVector && fusion.vectorWeight > 0) {
      addRanking(store.searchVectors(queryVector, fusion.candidates).map((hit) => hit.label), fusion.vectorWeight);
    }
    const ranked = [...fused].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    const hits = collapseDuplicates(ranked, store, options.k, fusion.duplicateThreshold);
    // Fused scores are rank-based; relevance puts lists from different indexes on one scale.
    const top = hits[0]?.score ?? 0;
    const terms = queryTerms(query, options.collection?.pages ?? store.keywordStatistics(query).pages);
    return hits.map((hit) => ({
      ...hit,
      relevance: top > 0 ? (hit.score / top) * keyword.bestScore : 0,
      confidence: passageConfidence(terms, hit.chunk),
    }));
  }

  /** Chunk ids by passage score plus page-level evidence, best first, and the best passage's raw BM25F score. */
  keywordRanking(query: string, queryVector?: Float32Array, collection?: CollectionStatistics): { ids: number[]; bestScore: number } {
    const { fusion, store } = this;
    // Read deep: page evidence can lift a passage from far down the passage-only ranking.
    const passages = store.searchPassages(query, Math.max(1000, fusion.candidates), collection?.passages);
    if (passages.length === 0) return { ids: [], bestScore: 0 };
    const best = passages[0]!.score;
    const pageScore = new Map<string, number>();
    if (fusion.fileWeight > 0) {
      const pages = store.searchPages(query, 1000, collection?.pages);
      const bestPage = pages[0]?.score ?? 1;
      for (const page of pages) pageScore.set(page.path, page.score / bestPage);
    }
    const scored = passages.map((hit) => {
      const path = store.chunk(hit.id)?.path;
      const page = path === undefined ? 0 : (pageScore.get(path) ?? 0);
      return { id: hit.id, score: hit.score / best + fusion.fileWeight * page };
    });
    scored.sort((a, b) => b.score - a.score || a.id - b.id);
    if (queryVector && fusion.pageDenseWeight > 0) this.addPageDenseEvidence(scored, queryVector);
    return { ids: scored.slice(0, fusion.candidates).map((hit) => hit.id), bestScore: best };
  }

  /** Re-scores and re-sorts the head of `ranked` (sorted, best first) in place; see FusionOptions. */
  private addPageDenseEvidence(ranked: { id: number; score: number }[], queryVector: Float32Array): void {
    const { fusion, store } = this;
    if (queryVector.length !== store.embedder?.dimensions) return;
    const head = ranked.slice(0, fusion.pageDenseCandidates);
    const pathOf = (id: number): string => store.chunk(id)?.path ?? '';
    const pageCosine = new Map<string, number>();
    for (const hit of head) {
      const path = pathOf(hit.id);
      if (pageCosine.has(path)) continue;
      // The page's best passage, not its centroid: a long page is about many things.
      let best = -Infinity;
      for (const id of store.file(path)?.chunkIds ?? []) {
        const vector = store.vectorOf(id);
        if (vector) best = Math.max(best, cosine(queryVector, vector));
      }
      if (best > -Infinity) pageCosine.set(path, best);
    }
    if (pageCosine.size < 2) return;
    const values = [...pageCosine.values()];
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    const spread = Math.max(...values) - mean;
    if (!(spread > 0)) return;
    for (const hit of head) {
      const page = pageCosine.get(pathOf(hit.id));
      if (page !== undefined) hit.score += (fusion.pageDenseWeight * (page - mean)) / spread;
    }
    head.sort((a, b) => b.score - a.score || a.id - b.id);
    ranked.splice(0, head.length, ...head);
  }
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    normA += a[i]! * a[i]!;
    normB += b[i]! * b[i]!;
  }
  return normA > 0 && normB > 0 ? dot / Math.sqrt(normA * normB) : 0;
}

function collapseDuplicates(ranked: [number, number][], store: DocStore, k: number, threshold: number): RetrievalHit[] {
  const kept: { hit: RetrievalHit; shingles: Set<string> }[] = [];
  for (const [id, score] of ranked) {
    const chunk = store.chunk(id);
    if (!chunk) continue;
    const shingles = shinglesOf(embeddingTextOf(chunk));
    if (kept.some((other) => jaccard(shingles, other.shingles) >= threshold)) continue;
    kept.push({ hit: { chunk, score }, shingles });
    if (kept.length >= k) break;
  }
  return kept.map((entry) => entry.hit);
}

function shinglesOf(text: string): Set<string> {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const shingles = new Set<string>();
  for (let i = 0; i + 3 <= words.length; i++) shingles.add(`${words[i]} ${words[i + 1]} ${words[i + 2]}`);
  if (shingles.size === 0) shingles.add(words.join(' '));
  return shingles;
}

function jaccard(a: Set<string>, b: Set<string>): number {
  let shared = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const item of small) if (large.has(item)) shared++;
  return shared / (a.size + b.size - shared);
}

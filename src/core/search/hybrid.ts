/**
 * Hybrid retrieval: the keyword (BM25F) ranking, its head re-ordered by page-level dense
 * evidence, and the vector (HNSW) ranking are fused by weighted reciprocal rank fusion, then
 * near-duplicate passages (the same text copied across pages, or overlapping windows of one
 * section) are collapsed so the k results say k different things.
 */
import type { CollectionStatistics, DocStore } from '../store.js';
import type { KeywordStatistics } from './keywordIndex.js';
import type { Embedder, RetrievalHit, Retriever, ScoreParts, SearchMode } from '../types.js';
import { CONFIDENCE_FLOOR, passageConfidence, queryTerms, type QueryTerms } from './confidence.js';
import { searchSignatures, shinglesSimilar, type PassageSignature, type SearchSignatures } from './passageSignature.js';
import type { VectorSearchHit } from '../vectorIndex.js';
import type { FileChunkIds } from '../storeCatalog.js';
import { BUILT_IN_MODELS } from '../embedding/builtInModels.js';
import { RecentMap } from '../recentMap.js';

export interface HybridSearchOptions {
  k: number;
  queryVector?: Float32Array;
  signal?: AbortSignal;
  /** Shared IDF when several indexes are searched together (see MultiFolderRetriever). */
  collection?: CollectionStatistics;
  /** Which rankings are read; default hybrid. */
  mode?: SearchMode;
  /** Attach each hit's score parts (RetrievalHit.explain). */
  explain?: boolean;
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
   * `pageDenseCandidates` passages are re-scored by their dense score (best passage's cosine to
   * the query, plus the centroid's: pageCentroidWeight), centred on those pages' mean and
   * scaled by max − mean. It only reorders that head, so the
   * dense model can break near-ties between pages BM25F already found but never pull in others.
   */
  pageDenseWeight: number;
  pageDenseCandidates: number;
  /**
   * A page's dense score is its best passage's cosine plus this times the cosine of the page's
   * centroid (the mean of its passage vectors): the best passage finds a page where one passage
   * answers, the centroid one whose subject is the question's though no single passage says it
   * all (BENCHMARKS.md).
   */
  pageCentroidWeight: number;
  /**
   * Dense mode (`mode: 'dense'`): each passage of the vector ranking scores its cosine plus this
   * times its page centroid's cosine, so a page whose subject is the question's outranks one
   * that has a single close passage among unrelated ones (BENCHMARKS.md, drank). Only the
   * question's embedding is compared: dense mode stays free of keyword evidence.
   */
  denseCentroidWeight: number;
  /**
   * Below this confidence of the best keyword passage (confidence.ts: the share of the
   * question's distinctive words it holds), the page-dense weight grows by
   * `lowConfidenceDenseGain` × the shortfall: a question that paraphrases, in words the best
   * passage does not hold, is one the dense model must answer, while one whose words it holds
   * keeps the keyword order (BENCHMARKS.md, rank5).
   */
  lowConfidenceBelow: number;
  lowConfidenceDenseGain: number;
  /** Word-shingle Jaccard similarity at or above which two passages count as duplicates. */
  duplicateThreshold: number;
  /**
   * Passages and pages BM25F's IDF assumes beyond the indexed ones, none holding the query's
   * terms: in a dozen-file workspace a term in half the pages would otherwise look common and
   * weigh almost nothing; in a large one these few change little (BENCHMARKS.md).
   */
  backgroundPassages: number;
  backgroundPages: number;
  /**
   * Multiplier of a superseded page's keyword scores when the question is not about versions or
   * the old ways: release notes (changelog, what's new, release-N), which mention every feature in
   * passing, and legacy pages (legacy, obsolete or deprecated in the path or title), which describe
   * what the current pages replaced.
   */
  supersededPageWeight: number;
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
  fileWeight: 0.3,
  pageDenseWeight: 0.1,
  pageDenseCandidates: 20,
  duplicateThreshold: 0.8,
  backgroundPassages: 1000,
  backgroundPages: 50,
  supersededPageWeight: 0.5,
  pageCentroidWeight: 0,
  denseCentroidWeight: 0,
  lowConfidenceBelow: 0.6,
  lowConfidenceDenseGain: 0,
};

/**
 * The built-in static model's fusion, measured on the five dev sets (BENCHMARKS.md, "page
 * centroid" and rank5): its dense side earns twice the page-dense weight, the page centroid, and
 * up to 1.9 times that weight when the best keyword passage holds little of the question. GloVe-SIF
 * and models the project never measured keep DEFAULT_FUSION (GloVe-SIF with the first two: mean
 * MRR@10 0.796 against its own 0.802).
 */
const STATIC_MODEL_FUSION: Partial<FusionOptions> = { pageDenseWeight: 0.2, pageCentroidWeight: 1, lowConfidenceDenseGain: 1.5, denseCentroidWeight: 0.25 };

/** The fusion measured for the model with id `embedderId` (a model's id is its folder name and a hash of its weights). */
export function defaultFusionFor(embedderId: string | undefined): FusionOptions {
  return embedderId?.startsWith(`${BUILT_IN_MODELS.static}-`) ? { ...DEFAULT_FUSION, ...STATIC_MODEL_FUSION } : DEFAULT_FUSION;
}

/** Pages whose centroids a retriever keeps (a 256-d centroid is 1 KiB). */
const CENTROID_CACHE_PAGES = 4096;
/**
 * Hits ordered together before a search's list is cut to k (ownSectionsFirst): any k up to it gets
 * the first k of one order, so the chat's six passages open as `docent query`'s ten do.
 */
const ORDER_WINDOW = 10;

export class HybridRetriever implements Retriever {
  /** Unit centroids by file id, for the store's generation `cachedGeneration` (a commit can change a page's passages). */
  private readonly centroids = new RecentMap<number, Float32Array>(CENTROID_CACHE_PAGES);
  /** Whether a page's title calls it legacy, by file id, for the same generation. */
  private readonly legacyTitles = new Map<number, boolean>();
  private cachedGeneration = -1;

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
    const mode = options.mode ?? 'hybrid';
    const useKeyword = mode !== 'dense';
    const vectorWeight = mode === 'dense' ? 1 : mode === 'keyword' ? 0 : fusion.vectorWeight;
    const pageDenseWeight = mode === 'hybrid' ? fusion.pageDenseWeight : 0;
    const fused = new Map<number, number>();
    const parts = new Map<number, ScoreParts>();
    const partsOf = (id: number): ScoreParts => {
      let entry = parts.get(id);
      if (!entry) parts.set(id, (entry = { fused: 0 }));
      return entry;
    };
    const addRanking = (ids: number[], weight: number, field: 'keywordRank' | 'vectorRank'): void => {
      ids.forEach((id, rank) => {
        fused.set(id, (fused.get(id) ?? 0) + weight / (fusion.rrfK + rank + 1));
        if (options.explain) partsOf(id)[field] = rank + 1;
      });
    };
    // Weights first: a keyword search never reads the vectors.
    const readsVectors = (vectorWeight > 0 || pageDenseWeight > 0) && store.vectorCount > 0;
    let queryVector = readsVectors ? options.queryVector : undefined;
    const embedding = readsVectors && !queryVector && this.embedder && this.embedder.id === store.embedder?.id ? this.embedder.embed([query], options.signal) : undefined;
    // The passage and page rankings need no vector: they run while a worker embeds the query.
    let candidates: KeywordCandidates | undefined;
    try {
      candidates = useKeyword ? this.keywordCandidates(query, options.collection, options.explain ? partsOf : undefined) : undefined;
    } catch (error) {
      embedding?.catch(() => undefined);
      throw error;
    }
    if (embedding) [queryVector] = await embedding;
    if (mode === 'dense' && !queryVector) throw new Error(`dense search needs the embedding model this index was built with (${this.embedderId})`);
    const keyword = candidates
      ? this.rankCandidates(candidates, mode === 'hybrid' ? queryVector : undefined, options.explain ? partsOf : undefined)
      : { ids: [], bestScore: 0 };
    addRanking(keyword.ids, fusion.keywordWeight, 'keywordRank');
    if (queryVector && vectorWeight > 0) {
      const nearest = store.searchVectors(queryVector, fusion.candidates);
      const vectorHits = mode === 'dense' && fusion.denseCentroidWeight > 0 ? this.withPageCentroids(nearest, queryVector) : nearest;
      if (options.explain) for (const hit of vectorHits) partsOf(hit.label).denseCosine ??= cosineOf(queryVector, store.vectorOf(hit.label));
      addRanking(vectorHits.map((hit) => hit.label), vectorWeight, 'vectorRank');
    }
    const ranked = [...fused].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    const terms = queryTerms(query, options.collection?.pages ?? store.keywordStatistics(query).pages);
    const signatures = searchSignatures();
    // Ordered over at least ORDER_WINDOW hits and then cut: a file's passages trade places only
    // among those kept, so cutting first made the first hit depend on k.
    const collapsed = collapseDuplicates(ranked, store, Math.max(options.k, ORDER_WINDOW), fusion.duplicateThreshold, terms, signatures).map(({ terms: passage, ...hit }) => ({
      ...hit,
      confidence: passageConfidence(terms, passage),
    }));
    const hits = ownSectionsFirst(collapsed, terms, signatures)
      .slice(0, options.k)
      .map(({ signature, ...hit }) => hit);
    // Fused scores are rank-based; relevance puts lists from different indexes on one scale.
    // Dense-only lists have no keyword score: their cosine stands in.
    const top = hits[0]?.score ?? 0;
    const scale = useKeyword ? keyword.bestScore : hits[0] && queryVector ? Math.max(0, cosineOf(queryVector, store.vectorOf(hits[0].chunk.id))) : 0;
    return hits.map((hit) => {
      const relevance = top > 0 ? (hit.score / top) * scale : 0;
      if (!options.explain) return { ...hit, relevance };
      const explain = partsOf(hit.chunk.id);
      explain.fused = hit.score;
      if (queryVector) explain.denseCosine ??= cosineOf(queryVector, store.vectorOf(hit.chunk.id));
      return { ...hit, relevance, explain };
    });
  }

  /** Chunk ids by passage score plus page-level evidence, best first, and the best passage's raw BM25F score. */
  keywordRanking(
    query: string,
    queryVector?: Float32Array,
    collection?: CollectionStatistics,
    explain?: (id: number) => ScoreParts,
  ): { ids: number[]; bestScore: number } {
    return this.rankCandidates(this.keywordCandidates(query, collection, explain), queryVector, explain);
  }

  /** keywordRanking's passages by BM25F plus page evidence, sorted: all of it the query's vector is not needed for. */
  private keywordCandidates(query: string, collection?: CollectionStatistics, explain?: (id: number) => ScoreParts): KeywordCandidates {
    const { fusion, store } = this;
    // Read deep: page evidence can lift a passage from far down the passage-only ranking.
    const statistics = collection ?? store.keywordStatistics(query);
    const passages = store.searchPassages(query, Math.max(1000, fusion.candidates), withBackground(statistics.passages, fusion.backgroundPassages));
    if (passages.length === 0) return { scored: [], bestScore: 0, confidence: 0 };
    const best = passages[0]!.score;
    // By file id: of the thousand pages only those of the passages here have their paths decoded.
    const pageScore = new Map<number, number>();
    if (fusion.fileWeight > 0) {
      const pages = store.searchPages(query, 1000, withBackground(statistics.pages, fusion.backgroundPages));
      const bestPage = pages[0]?.score ?? 1;
      for (const page of pages) pageScore.set(page.id, page.score / bestPage);
    }
    const demote = fusion.supersededPageWeight !== 1 && !VERSION_QUESTION.test(query);
    const byPath = new Map<number, boolean>();
    const supersededByPath = (fileId: number): boolean => {
      let is = byPath.get(fileId);
      if (is === undefined) byPath.set(fileId, (is = SUPERSEDED_PATH.test(store.filePath(fileId) ?? '')));
      return is;
    };
    const scored = passages.map((hit) => {
      const fileId = store.chunkFile(hit.id);
      const page = fileId === undefined ? 0 : (pageScore.get(fileId) ?? 0);
      const demoted = demote && fileId !== undefined && supersededByPath(fileId);
      return { id: hit.id, fileId, score: (demoted ? fusion.supersededPageWeight : 1) * (hit.score / best + fusion.fileWeight * page), bm25f: hit.score, page, demoted };
    });
    scored.sort((a, b) => b.score - a.score || a.id - b.id);
    if (demote) this.demoteLegacyTitles(scored);
    if (explain) {
      for (const hit of scored.slice(0, fusion.candidates)) {
        const parts = explain(hit.id);
        parts.passageBm25f = hit.bm25f;
        parts.pageEvidence = hit.page;
      }
    }
    // Read only where it scales the page-dense weight.
    const confidence = fusion.lowConfidenceDenseGain > 0 && fusion.pageDenseWeight > 0 ? this.confidenceOf(scored[0]!.id, queryTerms(query, statistics.pages)) : 1;
    return { scored, bestScore: best, confidence };
  }

  /** The candidates' head re-ordered by page-level dense evidence (with a vector), cut to `candidates`. */
  private rankCandidates({ scored, bestScore, confidence }: KeywordCandidates, queryVector?: Float32Array, explain?: (id: number) => ScoreParts): { ids: number[]; bestScore: number } {
    const { fusion } = this;
    if (scored.length === 0) return { ids: [], bestScore: 0 };
    if (queryVector && fusion.pageDenseWeight > 0) {
      const shortfall = Math.max(0, fusion.lowConfidenceBelow - confidence);
      this.addPageDenseEvidence(scored, queryVector, fusion.pageDenseWeight * (1 + fusion.lowConfidenceDenseGain * shortfall), explain);
    }
    return { ids: scored.slice(0, fusion.candidates).map((hit) => hit.id), bestScore };
  }

  /**
   * Demotes, in `ranked` (sorted, best first), the passages of the first `candidates` whose page
   * title calls it legacy, and re-sorts until those all have had their title read: a title costs a
   * passage read, so only the pages that would be returned are looked at (and remembered per store
   * generation); path-named ones were demoted before sorting.
   */
  private demoteLegacyTitles(ranked: { id: number; fileId: number | undefined; score: number; demoted: boolean }[]): void {
    const { fusion } = this;
    this.forGeneration();
    for (;;) {
      let changed = false;
      for (let i = 0; i < Math.min(ranked.length, fusion.candidates); i++) {
        const hit = ranked[i]!;
        if (hit.demoted || hit.fileId === undefined || !this.hasLegacyTitle(hit.fileId)) continue;
        hit.score *= fusion.supersededPageWeight;
        hit.demoted = changed = true;
      }
      if (!changed) return;
      ranked.sort((a, b) => b.score - a.score || a.id - b.id);
    }
  }

  private hasLegacyTitle(fileId: number): boolean {
    const { store } = this;
    let legacy = this.legacyTitles.get(fileId);
    if (legacy === undefined) {
      const first = store.fileChunkIds(fileId)?.[0];
      legacy = LEGACY_TITLE.test((first !== undefined && store.chunk(first)?.title) || '');
      this.legacyTitles.set(fileId, legacy);
    }
    return legacy;
  }

  /** Forgets what the per-page caches hold when the store has moved on to another generation. */
  private forGeneration(): void {
    if (this.cachedGeneration === this.store.generation) return;
    this.centroids.clear();
    this.legacyTitles.clear();
    this.cachedGeneration = this.store.generation;
  }

  /** passageConfidence of one passage (its signature is made once and kept, as collapseDuplicates reads it). */
  private confidenceOf(id: number, query: QueryTerms): number {
    const chunk = this.store.chunk(id);
    if (!chunk) return 0;
    const signatures = searchSignatures();
    const signature = signatures.of(chunk);
    return passageConfidence(query, termsHeld(query, queryTermIds(query, signatures), signature, signatures));
  }

  /** Re-scores and re-sorts the head of `ranked` (sorted, best first) in place by `weight` × page-level dense evidence; see FusionOptions. */
  private addPageDenseEvidence(ranked: { id: number; score: number }[], queryVector: Float32Array, weight: number, explain?: (id: number) => ScoreParts): void {
    const { fusion, store } = this;
    if (queryVector.length !== store.embedder?.dimensions) return;
    const head = ranked.slice(0, fusion.pageDenseCandidates);
    const fileOf = (id: number): number => store.chunkFile(id) ?? -1;
    const pageCosine = new Map<number, number>();
    for (const hit of head) {
      const fileId = fileOf(hit.id);
      if (pageCosine.has(fileId)) continue;
      const chunkIds = store.fileChunkIds(fileId) ?? [];
      let best = -Infinity;
      for (const id of chunkIds) {
        const vector = store.vectorOf(id);
        if (vector) best = Math.max(best, cosine(queryVector, vector));
      }
      if (best === -Infinity) continue;
      pageCosine.set(fileId, fusion.pageCentroidWeight > 0 ? best + fusion.pageCentroidWeight * cosine(queryVector, this.pageCentroid(fileId, chunkIds, queryVector.length)) : best);
    }
    if (pageCosine.size < 2) return;
    const values = [...pageCosine.values()];
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    const spread = Math.max(...values) - mean;
    if (!(spread > 0)) return;
    for (const hit of head) {
      const page = pageCosine.get(fileOf(hit.id));
      if (page === undefined) continue;
      const boost = (weight * (page - mean)) / spread;
      hit.score += boost;
      if (explain) explain(hit.id).pageDense = boost;
    }
    head.sort((a, b) => b.score - a.score || a.id - b.id);
    ranked.splice(0, head.length, ...head);
  }

  /** `hits` re-scored by FusionOptions.denseCentroidWeight × their page centroid's cosine, best first. */
  private withPageCentroids(hits: VectorSearchHit[], queryVector: Float32Array): VectorSearchHit[] {
    const { fusion, store } = this;
    const pageCosine = new Map<number, number>();
    return hits
      .map((hit) => {
        const fileId = store.chunkFile(hit.label);
        const chunkIds = fileId === undefined ? undefined : store.fileChunkIds(fileId);
        if (fileId === undefined || !chunkIds) return hit;
        let page = pageCosine.get(fileId);
        if (page === undefined) pageCosine.set(fileId, (page = cosine(queryVector, this.pageCentroid(fileId, chunkIds, queryVector.length))));
        return { label: hit.label, score: hit.score + fusion.denseCentroidWeight * page };
      })
      .sort((a, b) => b.score - a.score || a.label - b.label);
  }

  /** The unit mean of the page's passage vectors, computed once per page and generation. */
  private pageCentroid(fileId: number, chunkIds: FileChunkIds, dimensions: number): Float32Array {
    const { store } = this;
    this.forGeneration();
    let centroid = this.centroids.get(fileId);
    if (centroid) return centroid;
    centroid = new Float32Array(dimensions);
    for (const id of chunkIds) {
      const vector = store.vectorOf(id);
      if (vector) for (let i = 0; i < dimensions; i++) centroid[i]! += vector[i]!;
    }
    let norm = 0;
    for (let i = 0; i < dimensions; i++) norm += centroid[i]! * centroid[i]!;
    if (norm > 0) for (let i = 0, scale = 1 / Math.sqrt(norm); i < dimensions; i++) centroid[i]! *= scale;
    this.centroids.set(fileId, centroid);
    return centroid;
  }
}

/** Passages by keyword score (plus page evidence), best first, the best passage's raw BM25F score and its confidence. */
interface KeywordCandidates {
  scored: { id: number; score: number }[];
  bestScore: number;
  confidence: number;
}

/**
 * Superseded pages by file name: release notes (a changelog/news/what's-new file or folder, or
 * release-<version>) and legacy pages (legacy_plugins.md, appendix-obsolete.html, deprecations.md).
 */
const SUPERSEDED_PATH =
  /(?:^|[\/_.-])(?:whats-?new|changelog|changes|news|history|release-?notes?|release-\d[\d.-]*|legacy|obsolete|deprecated|deprecations)(?:[\/_.-]|$)/i;
/** A page whose title says it is legacy: "Installing Python Modules (Legacy version)", "Obsolete or Renamed Features". */
const LEGACY_TITLE = /\b(?:legacy|obsolete|deprecated)\b/i;
/** A question about versions, changes or old ways, which superseded pages do answer. */
const VERSION_QUESTION = /\d|\b(?:new|newer|changed?|changes|changelog|releases?|released|version|versions|deprecated|deprecation|legacy|obsolete|added|removed|upgrade|upgrading|migrate|migrating|migration|since|introduced)\b/i;

function withBackground(statistics: KeywordStatistics, documents: number): KeywordStatistics {
  return { documents: statistics.documents + documents, documentFrequency: statistics.documentFrequency };
}

function cosineOf(query: Float32Array, vector: Float32Array | undefined): number {
  return vector && vector.length === query.length ? cosine(query, vector) : 0;
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

/**
 * The first `k` of `ranked` that are no near-copy of a better one, each with the query terms its
 * passage holds and its signature (read again by ownSectionsFirst).
 */
function collapseDuplicates(
  ranked: [number, number][],
  store: DocStore,
  k: number,
  threshold: number,
  query: QueryTerms,
  signatures: SearchSignatures,
): (RetrievalHit & { terms: Set<string>; signature: PassageSignature })[] {
  const queryIds = queryTermIds(query, signatures);
  const kept: (RetrievalHit & { terms: Set<string>; signature: PassageSignature })[] = [];
  for (const [id, score] of ranked) {
    const chunk = store.chunk(id);
    if (!chunk) continue;
    const signature = signatures.of(chunk);
    if (kept.some((other) => shinglesSimilar(signature, other.signature, threshold))) continue;
    kept.push({ chunk, score, terms: termsHeld(query, queryIds, signature, signatures), signature });
    if (kept.length >= k) break;
  }
  return kept;
}

/** The query terms' ids; a term no passage seen yet holds has none (no passage holds it, until one that does is read). */
function queryTermIds(query: QueryTerms, signatures: SearchSignatures): (number | undefined)[] {
  return query.terms.map(({ term }) => signatures.idOf(term));
}

/** The query terms `signature`'s passage holds; `queryIds` from queryTermIds, looked up again where a later passage gave a term its id. */
function termsHeld(query: QueryTerms, queryIds: (number | undefined)[], signature: PassageSignature, signatures: SearchSignatures): Set<string> {
  const terms = new Set<string>();
  query.terms.forEach(({ term }, i) => {
    const termId = queryIds[i] ?? signatures.idOf(term);
    if (termId !== undefined && signature.terms.includes(termId)) terms.add(term);
  });
  return terms;
}

/**
 * Within each file, the passages whose own section heading names more of the question's terms
 * (IDF-weighted) come first, fused order breaking ties: a page's passages all carry its title,
 * so without this a sub-step can open before the section the question asks about. Passages only
 * trade places with their own file's, and each place keeps its score: the files' order stays.
 * A passage below the confidence floor is not moved up: an answer drops it, and its file's
 * passage that does answer would then open below another file's.
 */
function ownSectionsFirst<T extends RetrievalHit & { confidence: number; signature: PassageSignature }>(hits: T[], query: QueryTerms, signatures: SearchSignatures): T[] {
  const weightOf = new Map<number, number>();
  for (const { term, weight } of query.terms) {
    const id = signatures.idOf(term);
    if (id !== undefined) weightOf.set(id, weight);
  }
  const headingMatch = (hit: T): number => {
    if (hit.confidence < CONFIDENCE_FLOOR) return 0;
    let sum = 0;
    for (const id of hit.signature.heading) sum += weightOf.get(id) ?? 0;
    return sum;
  };
  const byFile = new Map<string, { hit: T; match: number; order: number }[]>();
  hits.forEach((hit, order) => {
    const list = byFile.get(hit.chunk.path) ?? [];
    if (list.length === 0) byFile.set(hit.chunk.path, list);
    list.push({ hit, match: headingMatch(hit), order });
  });
  const result = [...hits];
  for (const list of byFile.values()) {
    if (list.length < 2) continue;
    const sorted = [...list].sort((a, b) => b.match - a.match || a.order - b.order);
    sorted.forEach((entry, i) => {
      const slot = list[i]!.order;
      result[slot] = { ...entry.hit, score: hits[slot]!.score };
    });
  }
  return result;
}

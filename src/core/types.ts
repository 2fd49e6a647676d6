/** Shared data shapes of the retrieval engine. Nothing here imports `vscode`. */
import type { Placement } from './onnx/placementTypes.js';

/** A run of a document under one heading path, with its line range in the original file. */
export interface Section {
  /** Headings from the document title down to this section, e.g. ["Guide", "Install", "Linux"]. */
  headingPath: string[];
  /** 1-based, inclusive, lines of the ORIGINAL file. */
  startLine: number;
  endLine: number;
  /** Plain text of the section (markup removed, code kept). */
  text: string;
  /** Where each line of `text` comes from (index i = text line i), so a piece of the section cites exact lines. */
  sourceLines: LineSpan[];
}

/** 1-based, inclusive range of original lines one parsed text line was read from. */
export interface LineSpan {
  first: number;
  last: number;
}

export interface ParsedDocument {
  /** Document title: front matter title, first H1, <title>, or file name. */
  title: string;
  sections: Section[];
}

/** One indexed passage. `id` is stable for the life of the chunk and is the HNSW label. */
export interface Chunk {
  id: number;
  /** Relative to the indexed folder, '/' separators. */
  path: string;
  startLine: number;
  endLine: number;
  title: string;
  headingPath: string[];
  text: string;
}

/** Turns texts into unit-length vectors. Implementations may run off the main thread. */
export interface Embedder {
  /** Stable identifier recorded in the store; a change forces re-embedding. */
  readonly id: string;
  readonly dimensions: number;
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
  dispose(): Promise<void>;
  /** Where it runs and how fast, once it has run (ONNX embedders); undefined before first use. */
  runtime?(): EmbedderRuntime | undefined;
}

export interface EmbedderRuntime {
  /** Execution provider in use: 'cpu', 'cuda', 'webgpu', 'dml', 'coreml', or 'remote'. */
  provider: string;
  kind: 'cpu' | 'gpu' | 'remote';
  /** Adapter index (CUDA, DirectML). */
  deviceId?: number;
  /** Why faster providers were passed over. */
  fallbackReasons: string[];
  /** Where onnxruntime placed the model's nodes (GPU providers). */
  placement?: Placement;
  textsPerSecond: number;
}

export interface RetrievalHit {
  chunk: Chunk;
  /** Fused score, higher is better; comparable only within one result list. */
  score: number;
  /**
   * The same order on a scale that compares across indexes searched with the same collection
   * statistics: the list's first hit carries its index's best raw BM25F passage score for the
   * query, the others in proportion to their fused score. 0 when nothing matched a keyword.
   */
  relevance?: number;
  /** Why it ranks here; only when the search asked to explain. */
  explain?: ScoreParts;
}

/** Which rankings a search reads: BM25F with page evidence, the vector index, or both fused. */
export type SearchMode = 'keyword' | 'dense' | 'hybrid';

export const SEARCH_MODES: readonly SearchMode[] = ['keyword', 'dense', 'hybrid'];

/** A hit's score parts (docent query --explain); absent parts did not contribute. */
export interface ScoreParts {
  /** Raw BM25F score of the passage. */
  passageBm25f?: number;
  /** Its page's BM25F score relative to the best page (0–1), added with fusion.fileWeight. */
  pageEvidence?: number;
  /** Page-level dense boost added to the keyword score. */
  pageDense?: number;
  /** Cosine between the query and the passage vectors. */
  denseCosine?: number;
  /** 1-based rank in the keyword and vector rankings that were fused. */
  keywordRank?: number;
  vectorRank?: number;
  /** Weighted reciprocal rank fusion score: the final order. */
  fused: number;
}

/** What the answer pipeline needs from an index. */
export interface Retriever {
  /** Identifier of the embedder whose vectors the index holds (query vectors must come from it). */
  readonly embedderId: string;
  /** Bumped on every committed index change. */
  readonly generation: number;
  /** Best passages first. `queryVector` lets a caller reuse a cached query embedding. */
  search(query: string, options: { k: number; queryVector?: Float32Array; signal?: AbortSignal }): Promise<RetrievalHit[]>;
  /** Content hash of an indexed file as of now, or undefined when it is no longer indexed. */
  fileHash(path: string): string | undefined;
}

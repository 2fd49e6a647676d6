/**
 * What a Workspace is opened with. Plain data (no functions, no class instances), so a front end
 * can build it from its settings and send it to another process as is; what cannot be sent (an
 * event sink, an embedder the caller already holds) is passed beside it (WorkspaceDependencies).
 */
import type { ChunkingOptions } from '../chunker.js';
import type { IndexProgress, IndexReport } from '../indexer.js';
import type { SkipReason } from '../discovery.js';
import type { DeviceChoice } from '../onnx/session.js';
import type { AnswerPipelineOptions, BackendConfig, PipelineLimits, PipelineTimeouts } from '../pipeline/types.js';
import type { FusionOptions } from '../search/hybrid.js';
import type { KeywordIndexOptions } from '../search/keywordIndex.js';
import type { Embedder } from '../types.js';
import type { IndexState } from './indexState.js';

export interface WorkspaceFolder {
  /** Unique among the folders; with several folders it prefixes every path (`api-docs/guide/auth.md`). */
  name: string;
  /** The folder that is indexed; absent when an existing store is only searched (`docent query --store`). */
  root?: string;
  storeDir: string;
}

export interface IndexingOptions {
  /** Gitignore-style globs left out, in addition to the built-in DEFAULT_EXCLUDES unless `defaultExcludes` is false. */
  exclude?: string[];
  defaultExcludes?: boolean;
  /** File extensions to index; absent or empty: every supported format. Refused entries (refusedIncludeEntry) are dropped with a warning. */
  include?: string[];
  /** Index files matching SECRET_FILE_PATTERNS; front ends set it only from a user's own settings. */
  allowSecretFiles?: boolean;
  maxFileBytes?: number;
  /** Commit a checkpoint after this many changed files (default 200). */
  checkpointFiles?: number;
  chunking?: ChunkingOptions;
}

export interface SearchOptions {
  fusion?: Partial<FusionOptions>;
  /** BM25F parameters of stores created by this workspace (an existing store keeps its own). */
  keyword?: KeywordIndexOptions;
}

export interface AnswerOptions {
  /** Absent or null: retrieval-only answers. An empty `model` is asked of the server (/v1/models). */
  backend?: BackendConfig | null;
  limits?: Partial<PipelineLimits>;
  cache?: Omit<NonNullable<AnswerPipelineOptions['cacheOptions']>, 'persistent'>;
  /** Bound of the answer cache file in the first folder's store (default 8 MiB); 0: answers are cached in memory only. */
  persistentCacheBytes?: number;
  timeouts?: Partial<PipelineTimeouts>;
}

export interface WorkspaceOptions {
  folders: WorkspaceFolder[];
  /** Create empty stores where none exist (front ends that index); otherwise a missing store is a StoreError. */
  createStores?: boolean;
  /** `default | hashing | none | <model folder>` (embedderChoice.ts); absent: the model the first store was built with. */
  embedder?: string;
  device?: DeviceChoice;
  /** GPU index for CUDA and DirectML (docent.embedding.deviceId, --device-id). */
  deviceId?: number;
  embeddingWorkers?: number;
  indexing?: IndexingOptions;
  search?: SearchOptions;
  answers?: AnswerOptions;
}

export interface FolderIndexReport {
  folder: string;
  report: IndexReport;
}

/** What a workspace tells its front end, through the sink it was given. */
export type WorkspaceEvent =
  /** At the start of an index run, at most every PROGRESS_INTERVAL_MS while it runs, and when it ends. */
  | { type: 'indexState'; state: IndexState }
  /** Every file of the folder being indexed (for a terminal's progress line). */
  | { type: 'fileProgress'; folder: string; progress: IndexProgress }
  | { type: 'fileSkipped'; folder: string; path: string; reason: SkipReason | 'parse-error'; detail: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export interface WorkspaceDependencies {
  sink?: (event: WorkspaceEvent) => void;
  /** An embedder the caller holds and disposes (benchmarks share one across workspaces); overrides `embedder`. */
  embedder?: Embedder;
}

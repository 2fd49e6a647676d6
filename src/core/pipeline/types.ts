/** Public shapes of the answer pipeline. Nothing here imports `vscode`. */
import type { Embedder, Retriever } from '../types.js';
import type { ChatMessage } from './prompt.js';
import type { PipelineMetrics } from './pipelineMetrics.js';

export interface Turn {
  role: 'user' | 'assistant';
  content: string;
}

/** Text the user has selected in the editor; it changes the answer, so it is part of the cache key. */
export interface EditorSelection {
  text: string;
  languageId: string;
  path: string;
  /** The selected lines, 1-based and inclusive. */
  startLine: number;
  endLine: number;
}

export interface AnswerRequest {
  question: string;
  /** Prior turns, oldest first. When absent and `conversationId` is set, the stored turns are used. */
  history?: Turn[];
  conversationId?: string;
  selection?: EditorSelection;
  /** Searched instead of the question, never rewritten (Explain Selection searches with the selection's terms). */
  searchQuery?: string;
  k?: number;
  signal?: AbortSignal;
  /** Answers this request instead of the configured backend (@docent answers with the model picked in the editor's chat). */
  backend?: ChatBackend;
}

export interface Citation {
  /** The number the answer text uses, `[n]`. */
  n: number;
  path: string;
  startLine: number;
  endLine: number;
  heading?: string;
  text: string;
}

/** A citation placed in a workspace: the folder it lies in ('' in a single-folder workspace) and its path inside that folder. */
export interface LocatedCitation extends Citation {
  folder: string;
}

export type AnswerMode = 'generated' | 'extractive' | 'retrieval-only';

export type Stage =
  | 'normalise'
  | 'cache'
  | 'sharedCache'
  | 'rewrite'
  | 'embed'
  | 'retrieve'
  | 'prompt'
  | 'queue'
  | 'firstToken'
  | 'generate'
  | 'cite'
  /** Writing the answer to the cache (the name is part of the metrics and `docent ask --json` output). */
  | 'store'
  | 'total';

/** Why an answer degraded, for front ends that offer a fix per failure (Set API key only for 401/403, …). */
export interface DegradedCause {
  kind: 'unreachable' | 'server-error' | 'rate-limited' | 'rejected' | 'malformed-stream' | 'truncated-stream' | 'timeout' | 'circuit-open';
  /** The HTTP status the backend answered with, when it answered. */
  status?: number;
}

/** How much of the workspace the index covered when an answer was made, if not all of it. */
export interface PartialIndex {
  /** An index run is still going, is paused, or stopped before it finished (cancelled, killed). */
  state: 'indexing' | 'paused' | 'stopped';
  /** Files searchable as they are now: unchanged ones and those the run has reached. */
  filesIndexed: number;
  /** Files found in the workspace; absent until a run has listed them. */
  filesTotal?: number;
}

export interface Answer {
  answer: string;
  citations: Citation[];
  cached: boolean;
  degraded: boolean;
  degradedReason?: string;
  degradedCause?: DegradedCause;
  mode: AnswerMode;
  /**
   * Present when nothing in the docs answers the question (no hit passed the confidence floor):
   * the headings of the closest passages, to ask about instead.
   */
  suggestions?: string[];
  /**
   * The query retrieval ran with: the question itself, or the standalone form a follow-up was
   * rewritten to (front ends show it as "Searched: …" when it differs from the question).
   */
  searchedQuery?: string;
  /** Present when the index did not cover the workspace yet: the answer says so at its top and is never cached. */
  partialIndex?: PartialIndex;
  /** Milliseconds per stage that ran. */
  timings: Partial<Record<Stage, number>>;
}

/**
 * Streamed while an answer is produced. The `token` texts concatenate to exactly `Answer.answer`;
 * `passages` (what retrieval found, numbered as the prompt numbers them) comes once as soon as
 * retrieval ends, before any token; `sources` comes once, after the last token.
 */
export type AnswerEvent =
  | { type: 'token'; text: string }
  | { type: 'passages'; citations: Citation[] }
  /** Before the first token of an answer made while the index does not cover the workspace (its notice comes first). */
  | { type: 'partialIndex'; partial: PartialIndex }
  | { type: 'sources'; citations: Citation[] }
  | { type: 'status'; stage: Stage };

export interface BackendConfig {
  /** OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1 */
  baseURL: string;
  /** Empty: the one model the server serves (see withServedModel). */
  model: string;
  apiKey?: string;
}

export interface PipelineLimits {
  /** Passages retrieved per question. */
  k: number;
  /** Budget for the whole prompt (system, history, selection, sources, question). */
  maxPromptTokens: number;
  maxAnswerTokens: number;
  maxHistoryTurns: number;
  maxHistoryTokens: number;
  maxConversations: number;
  conversationIdleMs: number;
  /** Backend requests in flight at once. */
  maxInFlight: number;
  /** Callers allowed to wait for a slot; beyond it they get a BusyError at once. */
  maxQueue: number;
  maxQueueWaitMs: number;
  /** Retries of 5xx, 429 and connection errors, only before the first token. */
  maxRetries: number;
  retryBaseMs: number;
  /** Consecutive backend failures that open the breaker. */
  breakerFailureThreshold: number;
  breakerCooldownMs: number;
}

export interface CacheLevelOptions {
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
}

/** Where the answer cache persists (answerCacheFile.ts); here so the browser-side protocol imports no Node code. */
export interface PersistentCacheOptions {
  file: string;
  maxBytes: number;
  /**
   * What the entries were computed over (the folders and their stores): a file written for
   * another set of folders is ignored, since its entries' generations count another index.
   */
  scope: string;
}

export interface CacheOptions {
  /** Off: no answer, embedding or negative cache and no single-flight (the "uncached" benchmark column). */
  enabled: boolean;
  answers: CacheLevelOptions;
  embeddings: CacheLevelOptions;
  /** TTL of "nothing relevant found". */
  negativeTtlMs: number;
  /** Each entry's TTL is shortened by a random fraction up to this, so entries do not expire together. */
  ttlJitter: number;
  /** Optional shared second level (`docent.cache.redisUrl`), e.g. redis://127.0.0.1:6379. */
  redisUrl?: string | undefined;
  /** The answer cache kept in a file too (answerCacheFile.ts), so it outlives the process. */
  persistent?: PersistentCacheOptions | undefined;
}

export interface PipelineTimeouts {
  /** Embedding plus retrieval. */
  retrievalMs: number;
  /** From the start of generation (retries included) to the first streamed token. */
  firstTokenMs: number;
  /** Between two streamed tokens: a stream that stops sending is ended with a message and frees its slot. */
  idleTokenMs: number;
  totalMs: number;
}

export interface PipelineLogger {
  info(message: string): void;
  warn(message: string): void;
}

/** Counts text in model tokens; the default estimates chars / 4. */
export interface TokenCounter {
  count(text: string): number;
}

export interface AnswerPipelineOptions {
  retriever: Retriever;
  embedder?: Embedder;
  /** Absent (and no `chatBackend`): retrieval-only mode. */
  backend?: BackendConfig | undefined;
  /** A backend the caller made (the editor's models, through the extension host); wins over `backend`. */
  chatBackend?: ChatBackend;
  limits?: Partial<PipelineLimits>;
  cacheOptions?: Partial<Omit<CacheOptions, 'answers' | 'embeddings'>> & {
    answers?: Partial<CacheLevelOptions>;
    embeddings?: Partial<CacheLevelOptions>;
  };
  timeouts?: Partial<PipelineTimeouts>;
  tokenCounter?: TokenCounter;
  logger?: PipelineLogger;
  /** What the index does not cover yet, asked per question (undefined: all of it). */
  partialIndex?: () => PartialIndex | undefined;
  /** Counters and latency histograms to carry on with (a pipeline rebuilt by new settings keeps its history). */
  metrics?: PipelineMetrics;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Every sample since start, counted into fixed log-spaced buckets. */
  histogram: LatencyHistogram;
}

export interface LatencyHistogram {
  /** Inclusive upper bounds in ms, powers of two, the same for every stage. */
  boundsMs: readonly number[];
  /** counts[i] holds samples in (boundsMs[i-1], boundsMs[i]]; the extra last entry holds those above the last bound. */
  counts: number[];
  sumMs: number;
}

export interface CacheLevelStats {
  hits: number;
  misses: number;
  hitRatio: number;
  entries: number;
  bytes: number;
}

export interface MetricsSnapshot {
  requests: number;
  errors: number;
  degraded: number;
  busyRejections: number;
  /** Cached answers dropped because a source file changed or retrieval no longer agrees. */
  invalidations: number;
  stages: Partial<Record<Stage, LatencySummary>>;
  caches: {
    answer: CacheLevelStats;
    negative: CacheLevelStats;
    embedding: CacheLevelStats;
    /** Hits are callers that joined an identical question already in flight. */
    singleFlight: CacheLevelStats;
    /** The shared Redis level, when configured. */
    redis?: CacheLevelStats;
  };
  queueDepth: number;
  inFlight: number;
  breaker: BreakerState;
  conversations: number;
  /** Whether the shared Redis level is connected; absent when none is configured. */
  sharedCacheConnected?: boolean;
}

export interface StreamOptions {
  signal: AbortSignal;
  /** Deadline for the first token, counted from this call, retries and waits included. */
  firstTokenMs: number;
  /** Deadline between two tokens once the first came. */
  idleTokenMs: number;
  /** Sent as max_tokens; a server that streams more content chunks than this is cut off. */
  maxTokens: number;
  /** Characters kept; the rest is dropped and a note says so. */
  maxChars: number;
  onFirstToken?: () => void;
  onToken: (text: string) => void;
}

export interface ChatBackend {
  /** Says which backend and model answered (part of the answer cache key). */
  readonly identity: string[];
  /** Streams one answer and resolves with its full text; failures reject with BackendFailure, StageTimeoutError or the abort reason. */
  stream(messages: ChatMessage[], options: StreamOptions): Promise<string>;
  /** One short answer, not streamed (rewriting follow-ups). */
  complete(messages: ChatMessage[], maxTokens: number, signal: AbortSignal): Promise<string>;
}

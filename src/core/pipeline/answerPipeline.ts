/**
 * The answer pipeline: normalise → answer cache → (rewrite follow-up) → embed → retrieve →
 * prompt → generate (streamed) → cite → cache. Every stage is timed; backend trouble degrades
 * to an extractive answer instead of failing the question.
 */
import type { Embedder, RetrievalHit, Retriever } from '../types.js';
import { linkedController, raceAbort, withTimeout } from './abort.js';
import { AnswerCacheFile } from './answerCacheFile.js';
import { OpenAIChatBackend } from './backend.js';
import { BoundedCache, cachedAnswerBytes, digestKey, embeddingBytes } from './caches.js';
import type { CachedAnswer, NegativeAnswer } from './caches.js';
import { chooseExtractivePassages, citedSources, extractiveBody, NOTHING_FOUND_ANSWER } from './citations.js';
import { CircuitBreaker } from './circuitBreaker.js';
import { ConversationHistory, REWRITE_SYSTEM_PROMPT, rewriteFollowUpHeuristically } from './conversations.js';
import { abortReason, BackendFailure, BusyError, StageTimeoutError } from './errors.js';
import { ConcurrencyLimiter } from '../concurrencyLimiter.js';
import { PipelineMetrics } from './pipelineMetrics.js';
import { RedisSecondLevel } from './redisCache.js';
import { boundHistory, buildPrompt, citationFromHit } from './prompt.js';
import type { ChatMessage } from './prompt.js';
import { SingleFlight } from './singleFlight.js';
import { normaliseQuestion, tidyQuestion } from './question.js';
import { estimatedTokenCounter } from './tokenBudget.js';
import type {
  Answer,
  AnswerEvent,
  DegradedCause,
  AnswerPipelineOptions,
  AnswerRequest,
  CacheOptions,
  ChatBackend,
  EditorSelection,
  MetricsSnapshot,
  PartialIndex,
  PipelineLimits,
  PipelineLogger,
  PipelineTimeouts,
  Stage,
  TokenCounter,
  Turn,
} from './types.js';
import { errorMessage } from '../errorMessage.js';
import { MAX_ANSWER_CHARS } from '../bounds.js';
import { CONFIDENCE_FLOOR } from '../search/confidence.js';
import { monotonicMs } from '../clock.js';

export const DEFAULT_LIMITS: PipelineLimits = {
  k: 6,
  maxPromptTokens: 3000,
  maxAnswerTokens: 700,
  maxHistoryTurns: 4,
  maxHistoryTokens: 800,
  maxConversations: 200,
  conversationIdleMs: 30 * 60_000,
  maxInFlight: 4,
  maxQueue: 32,
  maxQueueWaitMs: 20_000,
  maxRetries: 2,
  retryBaseMs: 250,
  breakerFailureThreshold: 5,
  breakerCooldownMs: 30_000,
};

export const DEFAULT_TIMEOUTS: PipelineTimeouts = { retrievalMs: 5_000, firstTokenMs: 20_000, idleTokenMs: 30_000, totalMs: 120_000 };

export const DEFAULT_CACHE_OPTIONS: CacheOptions = {
  enabled: true,
  answers: { maxEntries: 2_000, maxBytes: 32 * 1024 * 1024, ttlMs: 6 * 3_600_000 },
  embeddings: { maxEntries: 10_000, maxBytes: 16 * 1024 * 1024, ttlMs: 24 * 3_600_000 },
  negativeTtlMs: 30_000,
  ttlJitter: 0.1,
};

/** Bump when the key layout or cached entry shape changes. */
const CACHE_KEY_VERSION = 3;
const NEGATIVE_CACHE_MAX_ENTRIES = 1_000;
const REWRITE_MAX_TOKENS = 64;

interface Question {
  text: string;
  history: Turn[];
  selection: EditorSelection | undefined;
  searchQuery: string | undefined;
  k: number;
  key: string;
  /** The request's own backend, else the configured one; undefined: retrieval-only. */
  backend: ChatBackend | undefined;
  /** When the caller asked; the total timeout counts from here. */
  startedAt: number;
}

interface Produced {
  answer: Answer;
  /** The standalone query retrieval ran with (what the conversation remembers). */
  query: string;
}

export class AnswerPipeline {
  private readonly retriever: Retriever;
  private readonly embedder: Embedder | undefined;
  private readonly backend: ChatBackend | undefined;
  private readonly limits: PipelineLimits;
  private readonly timeouts: PipelineTimeouts;
  private readonly cacheOptions: CacheOptions;
  private readonly counter: TokenCounter;
  private readonly logger: PipelineLogger | undefined;
  private readonly answers: BoundedCache<CachedAnswer>;
  private readonly negatives: BoundedCache<NegativeAnswer>;
  private readonly embeddings: BoundedCache<Float32Array>;
  private readonly flights = new SingleFlight<Produced, AnswerEvent>();
  /** Keys whose cached answer is being re-checked against a changed index. */
  private readonly revalidating = new Set<string>();
  private readonly limiter: ConcurrencyLimiter;
  private readonly breaker: CircuitBreaker;
  private readonly conversations: ConversationHistory;
  private readonly sharedCache: RedisSecondLevel | undefined;
  private readonly cacheFile: AnswerCacheFile | undefined;
  private readonly stats: PipelineMetrics;
  private readonly partialIndex: (() => PartialIndex | undefined) | undefined;
  private singleFlightJoins = 0;
  private singleFlightRuns = 0;
  private warnedEmbedderMismatch = false;

  constructor(options: AnswerPipelineOptions) {
    this.stats = options.metrics ?? new PipelineMetrics();
    this.retriever = options.retriever;
    this.embedder = options.embedder;
    this.partialIndex = options.partialIndex;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    const cache = options.cacheOptions ?? {};
    this.cacheOptions = {
      ...DEFAULT_CACHE_OPTIONS,
      ...cache,
      answers: { ...DEFAULT_CACHE_OPTIONS.answers, ...cache.answers },
      embeddings: { ...DEFAULT_CACHE_OPTIONS.embeddings, ...cache.embeddings },
    };
    this.counter = options.tokenCounter ?? estimatedTokenCounter;
    this.logger = options.logger;
    const jitter = this.cacheOptions.ttlJitter;
    this.answers = new BoundedCache({ ...this.cacheOptions.answers, ttlJitter: jitter }, cachedAnswerBytes);
    this.negatives = new BoundedCache(
      { maxEntries: NEGATIVE_CACHE_MAX_ENTRIES, maxBytes: NEGATIVE_CACHE_MAX_ENTRIES * 512, ttlMs: this.cacheOptions.negativeTtlMs, ttlJitter: jitter },
      (_value, key) => key.length * 2 + 64,
    );
    this.embeddings = new BoundedCache({ ...this.cacheOptions.embeddings, ttlJitter: jitter }, embeddingBytes);
    this.limiter = new ConcurrencyLimiter(this.limits.maxInFlight, this.limits.maxQueue, this.limits.maxQueueWaitMs);
    this.breaker = new CircuitBreaker(this.limits.breakerFailureThreshold, this.limits.breakerCooldownMs, (state) =>
      this.logger?.info(`docent: answer backend circuit ${state}`),
    );
    this.conversations = new ConversationHistory(
      this.limits.maxConversations,
      this.limits.conversationIdleMs,
      this.limits.maxHistoryTurns,
      this.limits.maxHistoryTokens,
      this.counter,
    );
    if (this.cacheOptions.enabled && this.cacheOptions.redisUrl) this.sharedCache = new RedisSecondLevel(this.cacheOptions.redisUrl, this.logger);
    if (this.cacheOptions.enabled && this.cacheOptions.persistent) {
      this.cacheFile = new AnswerCacheFile(this.cacheOptions.persistent, () => this.answers.entries(), this.logger);
    }
    if (options.chatBackend) {
      this.backend = options.chatBackend;
    } else if (options.backend) {
      this.backend = new OpenAIChatBackend(
        options.backend,
        { maxRetries: this.limits.maxRetries, retryBaseMs: this.limits.retryBaseMs },
        this.timeouts.totalMs,
      );
    }
  }

  async ask(request: AnswerRequest, onEvent?: (event: AnswerEvent) => void): Promise<Answer> {
    const startedAt = monotonicMs();
    this.stats.requests++;
    const emit = this.safeEmitter(onEvent);
    const signal = request.signal ?? new AbortController().signal;
    try {
      signal.throwIfAborted();
      emit({ type: 'status', stage: 'normalise' });
      const question = this.normalise(request, startedAt);
      const normaliseMs = monotonicMs() - startedAt;
      this.stats.recordStage('normalise', normaliseMs);

      let produced: Produced | undefined;
      const lookupTimings: Answer['timings'] = { normalise: normaliseMs };
      if (this.cacheOptions.enabled) {
        emit({ type: 'status', stage: 'cache' });
        const cacheStarted = monotonicMs();
        produced = this.fromCache(question);
        this.record(lookupTimings, 'cache', cacheStarted);
        if (produced) {
          emit({ type: 'token', text: produced.answer.answer });
          emit({ type: 'sources', citations: produced.answer.citations });
          produced.answer.timings = lookupTimings;
        }
      }
      if (!produced) {
        // A question asked after an index change never shares a run that started before it.
        const flightKey = `${question.key}@${this.retriever.generation}`;
        if (this.cacheOptions.enabled) {
          const flight = this.flights.run(flightKey, (flightSignal, flightEmit) => this.produce(question, flightSignal, flightEmit), signal, emit);
          if (flight.joined) this.singleFlightJoins++;
          else this.singleFlightRuns++;
          produced = await flight.result;
        } else {
          produced = await this.produce(question, signal, emit);
        }
        // Joiners share the answer object; each caller gets its own copy and total.
        produced = { ...produced, answer: { ...produced.answer, timings: { ...lookupTimings, ...produced.answer.timings } } };
      }
      if (request.conversationId !== undefined) this.conversations.append(request.conversationId, produced.query, produced.answer.answer);
      produced.answer.searchedQuery = produced.query;
      const totalMs = monotonicMs() - startedAt;
      produced.answer.timings.total = totalMs;
      this.stats.recordStage('total', totalMs);
      return produced.answer;
    } catch (error) {
      this.stats.errors++;
      if (error instanceof BusyError) this.stats.busyRejections++;
      throw error;
    }
  }

  metrics(): MetricsSnapshot {
    const joins = this.singleFlightJoins;
    const runs = this.singleFlightRuns;
    return {
      requests: this.stats.requests,
      errors: this.stats.errors,
      degraded: this.stats.degraded,
      busyRejections: this.stats.busyRejections,
      invalidations: this.stats.invalidations,
      stages: this.stats.stageSummaries(),
      caches: {
        answer: this.answers.stats(),
        negative: this.negatives.stats(),
        embedding: this.embeddings.stats(),
        singleFlight: { hits: joins, misses: runs, hitRatio: joins + runs === 0 ? 0 : joins / (joins + runs), entries: this.flights.size, bytes: 0 },
        ...(this.sharedCache ? { redis: this.sharedCache.stats() } : {}),
      },
      queueDepth: this.limiter.queueDepth,
      inFlight: this.limiter.inFlight,
      breaker: this.breaker.state,
      conversations: this.conversations.size,
      ...(this.sharedCache ? { sharedCacheConnected: this.sharedCache.connected } : {}),
    };
  }

  /** The counters and latency histograms, for a pipeline that replaces this one to carry on with. */
  get recorder(): PipelineMetrics {
    return this.stats;
  }

  prometheus(): string {
    return this.stats.prometheus(this.metrics());
  }

  /** Clears the in-process levels and the cache file; a shared Redis level is left to its TTLs (other users rely on it). */
  clearCache(): void {
    this.answers.clear();
    this.negatives.clear();
    this.embeddings.clear();
    this.cacheFile?.saveSoon();
  }

  /** Starts the answer cache with the entries of its file (a previous process's answers). */
  async loadPersistentCache(): Promise<void> {
    if (this.cacheFile) this.answers.restore(await this.cacheFile.load());
  }

  /** Saves the answer cache's file and closes the shared cache connection, if any. */
  async dispose(): Promise<void> {
    await this.cacheFile?.flush();
    await this.sharedCache?.close();
  }

  private normalise(request: AnswerRequest, startedAt: number): Question {
    const text = tidyQuestion(request.question);
    if (!text) throw new Error('The question is empty.');
    const k = request.k ?? this.limits.k;
    if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a positive integer, got ${k}.`);
    const stored = request.history ?? (request.conversationId !== undefined ? this.conversations.turns(request.conversationId) : []);
    const history = boundHistory(stored, this.limits.maxHistoryTurns, this.limits.maxHistoryTokens, this.counter);
    const selection = request.selection;
    const searchQuery = request.searchQuery === undefined ? undefined : tidyQuestion(request.searchQuery) || undefined;
    const backend = request.backend ?? this.backend;
    // The index generation is deliberately NOT in the key: every save in the editor bumps it, so
    // keying on it would empty the whole cache on each save of any file. Instead each entry
    // records the hashes of every file that fed its prompt (checked synchronously on every hit:
    // an edit to a source file is never served) and the generation it was proven against; after
    // an index change a background retrieval re-proves it or drops it (see revalidateInBackground).
    const key = digestKey([
      CACHE_KEY_VERSION,
      backend ? backend.identity : 'retrieval-only',
      this.retriever.embedderId,
      k,
      this.limits.maxPromptTokens,
      this.limits.maxAnswerTokens,
      normaliseQuestion(text),
      history.map((turn) => [turn.role, turn.content]),
      selection ? [selection.path, selection.startLine, selection.endLine, selection.languageId, selection.text] : null,
      searchQuery ?? null,
    ]);
    return { text, history, selection, searchQuery, k, key, backend, startedAt };
  }

  /**
   * A cached answer whose sources are unchanged, or undefined. Synchronous, so a hit costs no
   * event-loop turn: the p99 of a hit stays in the sub-millisecond range under load.
   */
  private fromCache(question: Question): Produced | undefined {
    const entry = this.answers.get(question.key);
    if (!entry) {
      // "Nothing found" may be found in the files an unfinished index run has not reached yet.
      const negative = this.partialIndex?.() ? undefined : this.negatives.get(question.key);
      if (!negative) return undefined;
      if (negative.generation === this.retriever.generation) return { answer: nothingFoundAnswer(true, negative.suggestions), query: question.searchQuery ?? question.text };
      this.negatives.demoteHit(question.key);
      return undefined;
    }
    if (!this.sourcesUnchanged(entry.sourceHashes)) {
      this.answers.demoteHit(question.key);
      this.cacheFile?.saveSoon();
      this.stats.invalidations++;
      return undefined;
    }
    if (entry.generation !== this.retriever.generation) this.revalidateInBackground(question, entry);
    const answer: Answer = { answer: entry.answer, citations: entry.citations, cached: true, degraded: false, mode: entry.mode, timings: {} };
    return { answer, query: entry.query };
  }

  /**
   * After an index change, an entry whose own sources are unchanged is still served (it never
   * quotes a changed file), while one retrieval checks whether the same passages still come
   * first; if not — e.g. a better passage was added — the entry is dropped and the next ask
   * regenerates. One check per entry at a time, bounded by the retrieval timeout.
   */
  private revalidateInBackground(question: Question, entry: CachedAnswer): void {
    if (this.revalidating.has(question.key)) return;
    this.revalidating.add(question.key);
    const generation = this.retriever.generation;
    this.retrieve(entry.query, question.k, new AbortController().signal, undefined)
      .then((hits) => {
        const same =
          this.retriever.generation === generation &&
          hits.length === entry.retrievedIds.length &&
          hits.every((hit, i) => hit.chunk.id === entry.retrievedIds[i]) &&
          this.sourcesUnchanged(entry.sourceHashes);
        if (same) {
          entry.generation = generation;
          this.cacheFile?.saveSoon();
        } else if (this.answers.peek(question.key) === entry) {
          this.answers.delete(question.key);
          this.cacheFile?.saveSoon();
          // Also from the shared level, or the next miss would fetch the same answer back.
          void this.sharedCache?.delete(question.key);
          this.stats.invalidations++;
        }
      })
      .catch((error: unknown) => this.logger?.warn(`docent: revalidating a cached answer failed: ${errorMessage(error)}`))
      .finally(() => this.revalidating.delete(question.key));
  }

  /**
   * An answer another process cached in Redis, if its sources hash the same here. Its
   * generation number is another index's, so it is re-proven against ours in the background.
   */
  private async fromSharedCache(question: Question): Promise<Produced | undefined> {
    const entry = await this.sharedCache!.get(question.key);
    if (!entry) return undefined;
    if (!this.sourcesUnchanged(entry.sourceHashes)) {
      this.sharedCache!.demoteHit();
      return undefined;
    }
    entry.generation = -1;
    this.answers.set(question.key, entry);
    this.cacheFile?.saveSoon();
    this.revalidateInBackground(question, entry);
    return { answer: { answer: entry.answer, citations: entry.citations, cached: true, degraded: false, mode: entry.mode, timings: {} }, query: entry.query };
  }

  private sourcesUnchanged(sourceHashes: CachedAnswer['sourceHashes']): boolean {
    return sourceHashes.every(([path, hash]) => this.retriever.fileHash(path) === hash);
  }

  /** Everything after a cache miss; shared by identical concurrent questions. */
  private async produce(question: Question, outerSignal: AbortSignal, emit: (event: AnswerEvent) => void): Promise<Produced> {
    const timings: Answer['timings'] = {};
    const stage = <T>(name: Stage, run: () => Promise<T>): Promise<T> => {
      emit({ type: 'status', stage: name });
      const started = monotonicMs();
      return run().finally(() => this.record(timings, name, started));
    };
    const { controller, dispose } = linkedController(outerSignal);
    const remainingMs = Math.max(0, this.timeouts.totalMs - (monotonicMs() - question.startedAt));
    const totalTimer = setTimeout(() => controller.abort(new StageTimeoutError('total', this.timeouts.totalMs)), remainingMs);
    const signal = controller.signal;
    try {
      const shared = this.sharedCache ? await stage('sharedCache', () => this.fromSharedCache(question)) : undefined;
      if (shared) {
        emit({ type: 'token', text: shared.answer.answer });
        emit({ type: 'sources', citations: shared.answer.citations });
        shared.answer.timings = timings;
        return shared;
      }
      const query = question.searchQuery ?? (question.history.length > 0 ? await stage('rewrite', () => this.rewrite(question, signal)) : question.text);
      const generation = this.retriever.generation;
      const partial = this.partialIndex?.();
      const hits = await this.retrieve(query, question.k, signal, timings, emit);
      const sourceHashes = this.hashesOf(hits);
      // A retrieval that raced an index change, or ran on an index still being built, is answered but never cached.
      const cacheable = this.cacheOptions.enabled && this.retriever.generation === generation && !partial;
      const sources = hits.map((hit, i) => citationFromHit(hit, i + 1));
      // What an answer without a model shows: the question's `k` passages, several pages before more of one.
      const shownPassages = () => chooseExtractivePassages(sources, hits.map((hit) => hit.confidence ?? 1), question.k, CONFIDENCE_FLOOR);
      if (hits.length > 0) emit({ type: 'passages', citations: sources });
      // Said first, before any text of the answer, and kept at its top.
      const notice = partial ? partialIndexNotice(partial) : '';
      if (partial) {
        emit({ type: 'partialIndex', partial });
        emit({ type: 'token', text: notice });
      }
      const finish = (answer: Answer): Produced => {
        answer.timings = { ...timings, ...answer.timings };
        if (partial) {
          answer.answer = notice + answer.answer;
          answer.partialIndex = partial;
        }
        emit({ type: 'sources', citations: answer.citations });
        return { answer, query };
      };

      if (!hits.some((hit) => (hit.confidence ?? 1) >= CONFIDENCE_FLOOR)) {
        const suggestions = closestHeadings(hits);
        if (cacheable) this.negatives.set(question.key, { generation, suggestions }, this.cacheOptions.negativeTtlMs);
        const answer = nothingFoundAnswer(false, suggestions);
        emit({ type: 'token', text: answer.answer });
        return finish(answer);
      }

      const backend = question.backend;
      if (!backend) {
        const passages = shownPassages();
        const text = `Most relevant passages (no answer backend is configured):\n\n${extractiveBody(query, passages)}`;
        emit({ type: 'token', text });
        const answer: Answer = { answer: text, citations: passages, cached: false, degraded: false, mode: 'retrieval-only', timings: {} };
        if (cacheable) this.cacheAnswer(question, query, generation, hits, sourceHashes, answer);
        return finish(answer);
      }

      const prompt = await stage('prompt', async () =>
        buildPrompt({
          question: query === question.text || query === question.searchQuery ? question.text : `${question.text}\n(Standalone form: ${query})`,
          history: question.history,
          selection: question.selection,
          hits,
          maxPromptTokens: this.limits.maxPromptTokens,
          maxHistoryTokens: this.limits.maxHistoryTokens,
          counter: this.counter,
        }),
      );

      let streamed = '';
      const degrade = (reason: string, cause: DegradedCause): Produced => {
        this.stats.degraded++;
        const passages = shownPassages();
        const tail = `${streamed ? '\n\n' : ''}⚠ ${reason}. Showing the most relevant passages instead.\n\n${extractiveBody(query, passages)}`;
        emit({ type: 'token', text: tail });
        // Keep what already streamed (the caller has shown it) and its citations, then the passages.
        const cited = citedSources(streamed, prompt.sources);
        const citations = [...cited, ...passages.filter((passage) => !cited.some((c) => c.n === passage.n))];
        return finish({ answer: streamed + tail, citations, cached: false, degraded: true, degradedReason: reason, degradedCause: cause, mode: 'extractive', timings: {} });
      };

      if (!this.breaker.tryPass()) return degrade('The answer backend is unavailable (circuit open after repeated failures)', { kind: 'circuit-open' });

      let release: () => void;
      try {
        release = await stage('queue', () => this.limiter.acquire(signal));
      } catch (error) {
        this.breaker.recordNeutral();
        if (isTotalTimeout(error)) return degrade(`No answer within ${this.timeouts.totalMs} ms (waiting for the backend)`, { kind: 'timeout' });
        throw error;
      }

      let text: string;
      try {
        const generateStarted = monotonicMs();
        emit({ type: 'status', stage: 'generate' });
        try {
          text = await backend.stream(prompt.messages, {
            signal,
            firstTokenMs: this.timeouts.firstTokenMs,
            idleTokenMs: this.timeouts.idleTokenMs,
            maxTokens: this.limits.maxAnswerTokens,
            maxChars: MAX_ANSWER_CHARS,
            onFirstToken: () => this.record(timings, 'firstToken', generateStarted),
            onToken: (token) => {
              streamed += token;
              emit({ type: 'token', text: token });
            },
          });
        } finally {
          this.record(timings, 'generate', generateStarted);
        }
        this.breaker.recordSuccess();
      } catch (error) {
        if (signal.aborted && !isTotalTimeout(abortReason(signal))) {
          this.breaker.recordNeutral();
          throw abortReason(signal);
        }
        if (error instanceof BackendFailure && error.kind === 'rate-limited') this.breaker.recordNeutral();
        else this.breaker.recordFailure();
        this.logger?.warn(`docent: answer degraded: ${errorMessage(error)}`);
        return degrade(capitalise(errorMessage(error)), degradedCauseOf(error));
      } finally {
        release();
      }

      const citeStarted = monotonicMs();
      const citations = citedSources(text, prompt.sources);
      this.record(timings, 'cite', citeStarted);
      const answer: Answer = { answer: text, citations, cached: false, degraded: false, mode: 'generated', timings: {} };
      // A source edited while the answer was generated makes it stale already: do not keep it.
      if (cacheable && this.sourcesUnchanged(sourceHashes)) this.cacheAnswer(question, query, generation, hits, sourceHashes, answer, timings);
      return finish(answer);
    } finally {
      clearTimeout(totalTimer);
      dispose();
    }
  }

  /** Embeds (through the embedding cache) and retrieves within the retrieval timeout. */
  private retrieve(
    query: string,
    k: number,
    signal: AbortSignal,
    timings: Answer['timings'] | undefined,
    emit?: (event: AnswerEvent) => void,
  ): Promise<RetrievalHit[]> {
    const timeoutMs = this.timeouts.retrievalMs;
    return withTimeout(signal, timeoutMs, () => new StageTimeoutError('retrieve', timeoutMs), async (stageSignal) => {
      emit?.({ type: 'status', stage: 'embed' });
      const embedStarted = monotonicMs();
      const queryVector = await this.embedQuery(query, stageSignal);
      if (timings) this.record(timings, 'embed', embedStarted);
      emit?.({ type: 'status', stage: 'retrieve' });
      const retrieveStarted = monotonicMs();
      const options: { k: number; queryVector?: Float32Array; signal: AbortSignal } = { k, signal: stageSignal };
      if (queryVector) options.queryVector = queryVector;
      const hits = await raceAbort(this.retriever.search(query, options), stageSignal);
      if (timings) this.record(timings, 'retrieve', retrieveStarted);
      return hits;
    });
  }

  /** The query vector, only when the index holds vectors from this very embedder. */
  private async embedQuery(query: string, signal: AbortSignal): Promise<Float32Array | undefined> {
    const embedder = this.embedder;
    if (!embedder) return undefined;
    if (embedder.id !== this.retriever.embedderId) {
      if (!this.warnedEmbedderMismatch) {
        this.warnedEmbedderMismatch = true;
        this.logger?.warn(`docent: embedder ${embedder.id} does not match the index (${this.retriever.embedderId}); retrieving without a query vector`);
      }
      return undefined;
    }
    const key = `${embedder.id}\n${query}`;
    const cached = this.cacheOptions.enabled ? this.embeddings.get(key) : undefined;
    if (cached) return cached;
    const [vector] = await raceAbort(embedder.embed([query], signal), signal);
    if (!vector) throw new Error(`Embedder ${embedder.id} returned no vector.`);
    if (this.cacheOptions.enabled) this.embeddings.set(key, vector);
    return vector;
  }

  /** A standalone query for a follow-up: by the backend when it is healthy, else by heuristic. */
  private async rewrite(question: Question, signal: AbortSignal): Promise<string> {
    const heuristic = () => rewriteFollowUpHeuristically(question.text, question.history);
    const backend = question.backend;
    if (!backend || this.breaker.state !== 'closed') return heuristic();
    const messages: ChatMessage[] = [
      { role: 'system', content: REWRITE_SYSTEM_PROMPT },
      ...question.history.map((turn) => ({ role: turn.role, content: turn.content })),
      { role: 'user', content: question.text },
    ];
    let release: (() => void) | undefined;
    try {
      release = await this.limiter.acquire(signal);
      const timeoutMs = this.timeouts.firstTokenMs;
      const rewritten = await withTimeout(signal, timeoutMs, () => new StageTimeoutError('rewrite', timeoutMs), (stageSignal) =>
        backend.complete(messages, REWRITE_MAX_TOKENS, stageSignal),
      );
      const query = tidyQuestion(rewritten.split('\n')[0]!.replace(/^["'“]|["'”]$/g, ''));
      return query || heuristic();
    } catch (error) {
      if (signal.aborted) throw abortReason(signal);
      this.logger?.warn(`docent: follow-up rewrite by the backend failed (${errorMessage(error)}); using the heuristic`);
      return heuristic();
    } finally {
      release?.();
    }
  }

  private cacheAnswer(
    question: Question,
    query: string,
    generation: number,
    hits: RetrievalHit[],
    sourceHashes: CachedAnswer['sourceHashes'],
    answer: Answer,
    timings?: Answer['timings'],
  ): void {
    const started = monotonicMs();
    const entry: CachedAnswer = {
      answer: answer.answer,
      citations: answer.citations,
      mode: answer.mode,
      query,
      generation,
      retrievedIds: hits.map((hit) => hit.chunk.id),
      sourceHashes,
    };
    this.answers.set(question.key, entry);
    this.cacheFile?.saveSoon();
    void this.sharedCache?.set(question.key, entry, this.answers.jitteredTtl(this.cacheOptions.answers.ttlMs));
    if (timings) this.record(timings, 'store', started);
  }

  private hashesOf(hits: RetrievalHit[]): CachedAnswer['sourceHashes'] {
    const paths = [...new Set(hits.map((hit) => hit.chunk.path))];
    return paths.map((path) => [path, this.retriever.fileHash(path)]);
  }

  private record(timings: Answer['timings'], stage: Stage, startedAt: number): void {
    const ms = monotonicMs() - startedAt;
    timings[stage] = ms;
    this.stats.recordStage(stage, ms);
  }

  /** A throwing event listener must not break the answer for everyone sharing it. */
  private safeEmitter(onEvent?: (event: AnswerEvent) => void): (event: AnswerEvent) => void {
    if (!onEvent) return () => {};
    return (event) => {
      try {
        onEvent(event);
      } catch (error) {
        this.logger?.warn(`docent: answer event listener threw: ${errorMessage(error)}`);
      }
    };
  }
}

function nothingFoundAnswer(cached: boolean, suggestions: string[]): Answer {
  const text = suggestions.length === 0 ? NOTHING_FOUND_ANSWER : `${NOTHING_FOUND_ANSWER}\n\nClosest topics in your docs:\n${suggestions.map((s) => `- ${s}`).join('\n')}`;
  return { answer: text, citations: [], cached, degraded: false, mode: 'retrieval-only', suggestions, timings: {} };
}

/** The first paragraph of an answer made while the index does not cover the workspace. */
function partialIndexNotice({ state, filesIndexed, filesTotal }: PartialIndex): string {
  const count = (n: number) => n.toLocaleString('en-US');
  const files = filesTotal === undefined ? `${count(filesIndexed)} files` : `${count(filesIndexed)} of ${count(filesTotal)} files`;
  const what =
    state === 'indexing'
      ? `Indexing is in progress: ${files} indexed so far${filesTotal === undefined ? ' (still listing the workspace)' : ''}`
      : state === 'paused'
        ? `Indexing is paused: ${files} indexed`
        : `The index is incomplete: its last run stopped at ${files}`;
  const next = state === 'paused' ? ' Resume indexing for a complete answer.' : state === 'stopped' ? ' Reindex for a complete answer.' : '';
  return `⚠ ${what} — this answer may miss pages.${next}\n\n`;
}

const MAX_SUGGESTIONS = 5;

/** Distinct "Title › Heading" labels of the hits, best first. */
function closestHeadings(hits: RetrievalHit[]): string[] {
  const labels: string[] = [];
  for (const { chunk } of hits) {
    const heading = chunk.headingPath.at(-1);
    const label = heading && heading !== chunk.title ? `${chunk.title} › ${heading}` : chunk.title;
    if (label && !labels.includes(label)) labels.push(label);
    if (labels.length === MAX_SUGGESTIONS) break;
  }
  return labels;
}

function isTotalTimeout(error: unknown): boolean {
  return error instanceof StageTimeoutError && error.stage === 'total';
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function degradedCauseOf(error: unknown): DegradedCause {
  if (error instanceof BackendFailure) return { kind: error.kind, ...(error.status !== undefined ? { status: error.status } : {}) };
  if (error instanceof StageTimeoutError) return { kind: 'timeout' };
  return { kind: 'malformed-stream' };
}

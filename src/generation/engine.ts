/**
 * Generation engine: one ONNX decoder session serving many sequences with continuous
 * (iteration-level) batching.
 *
 * Each scheduler step first runs ONE batched prefill over the prompts waiting for it (whole short
 * prompts, or the next chunk of at most `prefillChunk` tokens of a long one), within a budget of
 * `prefillBudget` padded prompt tokens, and then ONE batched decode over every sequence that has
 * a token to feed. A new request therefore joins at the next step, a long prompt costs running
 * streams at most one budget of prefill per step, and a finished or cancelled sequence drops out
 * of the very next step, freeing its cache.
 *
 * The decoder itself (session, KV caches, token choice) runs in a worker thread: see
 * decoderRuntime.ts for where the cache lives on each provider and decoderGraph.ts for what is
 * changed in the export at load time (last-token logits only; GroupQueryAttention's layout).
 * This thread keeps the scheduling, the text and the HTTP streams.
 */
import type { ActiveDevice, DeviceChoice } from '../core/onnx/session.js';
import { GenerationMetrics, type EngineGauges } from './generationMetrics.js';
import { readDecoderFolder, type DecoderIo, type DecoderFolder } from './decoderFolder.js';
import { openDecoder, type DecoderPort, type DecoderThread } from './decoderPort.js';
import type { RunReport, RuntimeInfo } from './decoderRuntime.js';
import type { SamplingParams } from './sampling.js';
import { TextCodec, TextStream } from './textCodec.js';

export interface EngineOptions {
  device?: DeviceChoice;
  /** Adapter index for CUDA and DirectML. */
  deviceId?: number;
  /** Where the decoder runs: a worker thread (default) or this thread (benchmark baseline). */
  thread?: DecoderThread;
  /** Called after every session run with what it fetched and moved (benchmarks, tests). */
  onRun?: (report: RunReport) => void;
  /** Most sequences admitted at once (prefilling + decoding). */
  maxBatch?: number;
  /** Most prompt + max_tokens summed over admitted sequences. */
  maxTokensInFlight?: number;
  /** Most requests waiting for admission; beyond it submit() rejects with queue_full. */
  maxQueue?: number;
  /** Most prompt tokens of one sequence per prefill run; longer prompts are prefilled in chunks of this size. */
  prefillChunk?: number;
  /**
   * Most padded prompt tokens (rows × longest chunk) per scheduler step, shared by the prompts
   * prefilled together in one run. Defaults to `prefillChunk`.
   */
  prefillBudget?: number;
  /** onnxruntime intra-op threads; unset leaves onnxruntime's default (one per physical core). */
  intraOpThreads?: number;
}

export interface GenerationRequest {
  promptIds: number[];
  maxTokens: number;
  sampling: SamplingParams;
  stop?: string[];
  /** Keep generating past end-of-sequence tokens (benchmarks want fixed lengths). */
  ignoreEos?: boolean;
  signal?: AbortSignal;
  /** Text as it becomes final (held back while it could still be a stop string). */
  onText?: (delta: string) => void;
  onToken?: (id: number) => void;
}

export type FinishReason = 'stop' | 'length' | 'cancelled';

export interface GenerationResult {
  text: string;
  tokenIds: number[];
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
}

export type RejectionReason = 'queue_full' | 'context_length_exceeded' | 'empty_prompt' | 'draining';

export class GenerationRejectedError extends Error {
  override name = 'GenerationRejectedError';
  constructor(
    message: string,
    readonly reason: RejectionReason,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

type SequenceState = 'queued' | 'prefill' | 'decode' | 'done';

class Sequence {
  state: SequenceState = 'queued';
  /** Prompt tokens already in the cache. */
  prefilled = 0;
  /** Tokens in the cache (prompt + fed generated tokens). */
  cacheLength = 0;
  readonly generated: number[] = [];
  /** Sampled but not yet fed to the decoder. */
  nextToken = 0;
  readonly submittedAt = performance.now();
  lastTokenAt?: number;
  readonly stream: TextStream;
  readonly maxTokens: number;

  constructor(
    readonly id: number,
    readonly request: GenerationRequest,
    codec: TextCodec,
    maxTokens: number,
    readonly resolve: (result: GenerationResult) => void,
    readonly reject: (error: unknown) => void,
  ) {
    this.stream = new TextStream(codec, request.stop ?? []);
    this.maxTokens = maxTokens;
  }

  get budget(): number {
    return this.request.promptIds.length + this.maxTokens;
  }
}

export class GenerationEngine {
  readonly metrics = new GenerationMetrics();
  readonly maxBatch: number;
  readonly maxTokensInFlight: number;
  readonly maxQueue: number;
  /** Prompt tokens per prefill run (the whole prompt when the export cannot chunk). */
  prefillChunk: number;
  /** Padded prompt tokens prefilled per scheduler step, in one run shared by several prompts. */
  readonly prefillBudget: number;
  private readonly eos: Set<number>;
  private readonly onRun?: (report: RunReport) => void;
  private nextId = 1;
  private readonly queue: Sequence[] = [];
  private readonly prefilling: Sequence[] = [];
  private readonly decoding: Sequence[] = [];
  private tokensInFlight = 0;
  private lastBatchSize = 0;
  private loop?: Promise<void>;
  private draining = false;
  private readonly idleWaiters: Array<() => void> = [];

  private constructor(
    readonly folder: DecoderFolder,
    private readonly decoder: DecoderPort,
    readonly codec: TextCodec,
    options: EngineOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 16;
    this.maxTokensInFlight = options.maxTokensInFlight ?? Math.max(folder.contextLength, 16_384);
    this.maxQueue = options.maxQueue ?? 256;
    this.prefillChunk = decoder.info.acceptsChunkedPrefill ? (options.prefillChunk ?? 128) : Number.MAX_SAFE_INTEGER;
    this.prefillBudget = Math.max(options.prefillBudget ?? options.prefillChunk ?? 128, options.prefillChunk ?? 128);
    this.eos = new Set(codec.eosTokenIds);
    this.onRun = options.onRun;
  }

  static async load(dir: string, options: EngineOptions = {}): Promise<GenerationEngine> {
    const folder = await readDecoderFolder(dir);
    const codec = new TextCodec(folder.tokenizerJson, folder.tokenizerConfig, folder.eosTokenIds);
    const decoder = await openDecoder(
      {
        folder: { modelPath: folder.modelPath, genaiConfig: folder.genaiConfig, config: folder.config },
        device: { choice: options.device ?? 'auto', deviceId: options.deviceId },
        intraOpThreads: options.intraOpThreads,
      },
      options.thread ?? 'worker',
    );
    return new GenerationEngine(folder, decoder, codec, options);
  }

  /** The execution provider in use, where its nodes were placed, and why others were passed over. */
  get device(): ActiveDevice {
    return this.decoder.info.device;
  }

  get io(): DecoderIo {
    return this.decoder.info.io;
  }

  /** Attention kind, cache layout and whether the cache stays on the device. */
  get runtime(): RuntimeInfo {
    return this.decoder.info;
  }

  get modelId(): string {
    return this.folder.id;
  }

  get contextLength(): number {
    return this.folder.contextLength;
  }

  gauges(): EngineGauges {
    return { queueDepth: this.queue.length, activeSequences: this.prefilling.length + this.decoding.length, batchSize: this.lastBatchSize };
  }

  /**
   * Queues a generation. Throws GenerationRejectedError synchronously (before any response is
   * started) when the request can never run or the queue is full.
   */
  submit(request: GenerationRequest): Promise<GenerationResult> {
    const promptLength = request.promptIds.length;
    if (this.draining) throw new GenerationRejectedError('the server is shutting down', 'draining');
    if (promptLength === 0) throw new GenerationRejectedError('the prompt is empty', 'empty_prompt');
    if (promptLength >= this.contextLength) {
      throw new GenerationRejectedError(
        `This model's maximum context length is ${this.contextLength} tokens; the prompt has ${promptLength} tokens.`,
        'context_length_exceeded',
      );
    }
    const maxTokens = Math.max(1, Math.min(request.maxTokens, this.contextLength - promptLength));
    if (promptLength + maxTokens > this.maxTokensInFlight) {
      throw new GenerationRejectedError(
        `prompt (${promptLength}) + max_tokens (${maxTokens}) exceeds this server's ${this.maxTokensInFlight} tokens in flight`,
        'context_length_exceeded',
      );
    }
    if (this.queue.length >= this.maxQueue) throw new GenerationRejectedError('too many requests are waiting; retry shortly', 'queue_full', 1);
    if (request.signal?.aborted) return Promise.resolve(emptyResult(promptLength));

    return new Promise<GenerationResult>((resolve, reject) => {
      const sequence = new Sequence(this.nextId++, request, this.codec, maxTokens, resolve, reject);
      this.queue.push(sequence);
      request.signal?.addEventListener('abort', () => this.finish(sequence, 'cancelled'), { once: true });
      this.admit();
      this.loop ??= this.run();
    });
  }

  /** Refuses new requests and resolves once every admitted and queued request has finished. */
  drain(): Promise<void> {
    this.draining = true;
    if (!this.loop) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async dispose(): Promise<void> {
    await this.drain();
    await this.decoder.dispose();
  }

  private async run(): Promise<void> {
    while (this.queue.length + this.prefilling.length + this.decoding.length > 0) {
      this.admit();
      await this.prefillStep();
      await this.decodeStep();
    }
    this.lastBatchSize = 0;
    this.loop = undefined;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private admit(): void {
    while (this.queue.length > 0 && this.prefilling.length + this.decoding.length < this.maxBatch) {
      const next = this.queue[0]!;
      if (this.tokensInFlight + next.budget > this.maxTokensInFlight) break;
      this.queue.shift();
      this.tokensInFlight += next.budget;
      next.state = 'prefill';
      this.decoder.admit(next.id, next.request.sampling);
      this.prefilling.push(next);
    }
  }

  /**
   * Prefill within one step's budget: the prompts at the head of the line, each with its next
   * chunk, go into ONE run as long as rows × longest chunk stays within `prefillBudget` (the
   * first always goes, so a chunk longer than the budget still progresses). A decoder that
   * cannot batch rows with a past (GroupQueryAttention) prefills such a chunk alone, then moves
   * the sequence to the back of the line so that fresh prompts are not held up behind it.
   */
  private async prefillStep(): Promise<void> {
    const rows: Array<{ sequence: Sequence; length: number }> = [];
    const pastAlone = !this.decoder.info.batchedPrefillWithPast;
    let width = 0;
    for (const sequence of this.prefilling) {
      if (sequence.state !== 'prefill') continue;
      const hasPast = sequence.prefilled > 0;
      if (pastAlone && rows.length > 0 && (hasPast || rows[0]!.sequence.prefilled > 0)) continue;
      const length = Math.min(this.prefillChunk, sequence.request.promptIds.length - sequence.prefilled);
      const widened = Math.max(width, length);
      if (rows.length > 0 && (rows.length + 1) * widened > this.prefillBudget) break;
      rows.push({ sequence, length });
      width = widened;
      if (pastAlone && hasPast) break;
    }
    if (rows.length === 0) return;
    await this.prefillRows(rows);
    const alone = rows[0]!.sequence;
    if (pastAlone && rows.length === 1 && alone.state === 'prefill' && alone.prefilled > 0) {
      this.prefilling.splice(this.prefilling.indexOf(alone), 1);
      this.prefilling.push(alone);
    }
  }

  /** One prefill run over several prompts' next chunks (padding and caches: decoderRuntime.ts). */
  private async prefillRows(rows: Array<{ sequence: Sequence; length: number }>): Promise<void> {
    const sequences = rows.map((r) => r.sequence);
    let result: Awaited<ReturnType<DecoderPort['prefill']>>;
    try {
      result = await this.decoder.prefill(
        rows.map(({ sequence, length }) => ({
          id: sequence.id,
          tokens: sequence.request.promptIds.slice(sequence.prefilled, sequence.prefilled + length),
          sample: sequence.prefilled + length >= sequence.request.promptIds.length,
        })),
      );
    } catch (error) {
      this.fail(sequences, error);
      return;
    }
    this.metrics.prefillRuns++;
    this.observe(result.report);
    rows.forEach(({ sequence, length }, row) => {
      if (sequence.state !== 'prefill') return; // cancelled while the step ran
      sequence.prefilled += length;
      sequence.cacheLength += length;
      this.metrics.promptTokens += length;
      if (sequence.prefilled < sequence.request.promptIds.length) return;
      this.prefilling.splice(this.prefilling.indexOf(sequence), 1);
      sequence.state = 'decode';
      this.decoding.push(sequence);
      this.accept(sequence, result.tokens[row]!);
    });
  }

  /** One batched step over every sequence with a token to feed. */
  private async decodeStep(): Promise<void> {
    const rows = this.decoding.filter((s) => s.state === 'decode');
    this.lastBatchSize = rows.length;
    if (rows.length === 0) return;
    let result: Awaited<ReturnType<DecoderPort['decode']>>;
    try {
      result = await this.decoder.decode(rows.map((s) => ({ id: s.id, token: s.nextToken })));
    } catch (error) {
      this.fail(rows, error);
      return;
    }
    this.metrics.decodeSteps++;
    this.observe(result.report);
    rows.forEach((sequence, row) => {
      sequence.cacheLength++;
      if (sequence.state === 'decode') this.accept(sequence, result.tokens[row]!);
    });
  }

  private observe(report: RunReport): void {
    this.metrics.hostInputBytes += report.inputBytes;
    this.metrics.hostOutputBytes += report.outputBytes;
    this.onRun?.(report);
  }

  /** Chooses the next token of a sequence and decides whether it goes on. */
  private accept(sequence: Sequence, token: number): void {
    const now = performance.now();
    if (sequence.lastTokenAt === undefined) this.metrics.timeToFirstToken.observe((now - sequence.submittedAt) / 1000);
    else this.metrics.interTokenLatency.observe((now - sequence.lastTokenAt) / 1000);
    sequence.lastTokenAt = now;
    this.metrics.addTokens(1);

    if (this.eos.has(token) && !sequence.request.ignoreEos) {
      this.finish(sequence, 'stop');
      return;
    }
    sequence.generated.push(token);
    const delta = sequence.stream.push(token);
    try {
      sequence.request.onToken?.(token);
      if (delta) sequence.request.onText?.(delta);
    } catch (error) {
      this.fail([sequence], error); // a throwing listener ends its own request, not the engine
      return;
    }
    if (sequence.stream.stopped) this.finish(sequence, 'stop');
    else if (sequence.generated.length >= sequence.maxTokens || sequence.cacheLength >= this.contextLength) this.finish(sequence, 'length');
    else sequence.nextToken = token;
  }

  private finish(sequence: Sequence, reason: FinishReason): void {
    if (sequence.state === 'done') return;
    const wasAdmitted = sequence.state !== 'queued';
    this.release(sequence);
    if (wasAdmitted) this.tokensInFlight -= sequence.budget;
    const rest = reason === 'cancelled' ? '' : sequence.stream.flush();
    try {
      if (rest) sequence.request.onText?.(rest);
    } catch (error) {
      this.metrics.finish('error');
      sequence.reject(error);
      return;
    }
    this.metrics.finish(reason);
    sequence.resolve({
      text: sequence.stream.fullText,
      tokenIds: [...sequence.generated],
      finishReason: reason,
      promptTokens: sequence.request.promptIds.length,
      completionTokens: sequence.generated.length,
    });
  }

  private fail(sequences: Sequence[], error: unknown): void {
    for (const sequence of sequences) {
      if (sequence.state === 'done') continue;
      if (sequence.state !== 'queued') this.tokensInFlight -= sequence.budget;
      this.release(sequence);
      this.metrics.finish('error');
      sequence.reject(error);
    }
  }

  private release(sequence: Sequence): void {
    for (const list of [this.queue, this.prefilling, this.decoding]) {
      const index = list.indexOf(sequence);
      if (index >= 0) list.splice(index, 1);
    }
    if (sequence.state !== 'queued') this.decoder.release([sequence.id]);
    sequence.state = 'done';
  }
}

function emptyResult(promptTokens: number): GenerationResult {
  return { text: '', tokenIds: [], finishReason: 'cancelled', promptTokens, completionTokens: 0 };
}

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
 * Keeping the KV cache on the device. What onnxruntime-node (1.30) offers:
 * - `preferredOutputLocation` ('cpu' | 'cpu-pinned' | 'gpu-buffer' | 'ml-tensor') is parsed by
 *   the Node binding, but device-resident outputs only exist for the WebGPU ('gpu-buffer') and
 *   WebNN ('ml-tensor') providers. There is no JS tensor type for CUDA or DirectML memory.
 * - There is no IO-binding API in the JS binding, so outputs cannot be bound to preallocated
 *   device buffers, and `session.run` runs synchronously on the JS thread (after one
 *   setImmediate), so the event loop waits while a step runs.
 * What that costs: on CUDA/DirectML every step copies the whole past cache host → device and the
 * present cache device → host (2 × KV bytes per step over PCIe, about 25 GB/s), and the padded
 * batch is rebuilt on the host when its composition changes. ('cpu-pinned' outputs could speed
 * those copies up on CUDA; untested without a GPU, so not enabled.) On CPU the `present` arrays
 * are fed back as the next step's `past` as they are; the binding's only cost is copying each
 * output into a JS buffer.
 */
import * as ort from 'onnxruntime-node';
import { createSession, type ActiveDevice, type DeviceChoice } from '../core/onnx/session.js';
import { gather, allocate, blockDims, type KvBlock, type KvGeometry, type KvArray } from './kvBatch.js';
import { GenerationMetrics, type EngineGauges } from './generationMetrics.js';
import { describeDecoderIo, readDecoderFolder, type DecoderIo, type IdElementType, type DecoderFolder } from './decoderFolder.js';
import { logitsRow, TokenSampler, type SamplingParams } from './sampling.js';
import { TextCodec, TextStream } from './textCodec.js';

export interface EngineOptions {
  device?: DeviceChoice;
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
  /** The cache while the sequence is not part of the decode batch. */
  ownCache?: KvBlock;
  readonly generated: number[] = [];
  /** Sampled but not yet fed to the decoder. */
  nextToken = 0;
  readonly submittedAt = performance.now();
  lastTokenAt?: number;
  readonly stream: TextStream;
  readonly sampler: TokenSampler;
  readonly maxTokens: number;

  constructor(
    readonly request: GenerationRequest,
    codec: TextCodec,
    maxTokens: number,
    readonly resolve: (result: GenerationResult) => void,
    readonly reject: (error: unknown) => void,
  ) {
    this.stream = new TextStream(codec, request.stop ?? []);
    this.sampler = new TokenSampler(request.sampling);
    this.maxTokens = maxTokens;
  }

  get budget(): number {
    return this.request.promptIds.length + this.maxTokens;
  }
}

interface DecodeBatch {
  rows: Sequence[];
  cache: KvBlock;
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
  private readonly geometry: KvGeometry;
  private readonly eos: Set<number>;
  private readonly queue: Sequence[] = [];
  private readonly prefilling: Sequence[] = [];
  private readonly decoding: Sequence[] = [];
  private batch?: DecodeBatch;
  private tokensInFlight = 0;
  private lastBatchSize = 0;
  private loop?: Promise<void>;
  private draining = false;
  private readonly idleWaiters: Array<() => void> = [];

  private constructor(
    readonly folder: DecoderFolder,
    private readonly session: ort.InferenceSession,
    readonly device: ActiveDevice,
    readonly io: DecoderIo,
    readonly codec: TextCodec,
    options: EngineOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 16;
    this.maxTokensInFlight = options.maxTokensInFlight ?? Math.max(folder.contextLength, 16_384);
    this.maxQueue = options.maxQueue ?? 256;
    this.prefillChunk = options.prefillChunk ?? 128;
    this.prefillBudget = Math.max(options.prefillBudget ?? this.prefillChunk, this.prefillChunk);
    this.geometry = { slots: io.slots.length, outer: io.kvOuter, heads: io.kvHeads, headDim: io.headDim, type: io.kvType };
    this.eos = new Set(codec.eosTokenIds);
  }

  static async load(dir: string, options: EngineOptions = {}): Promise<GenerationEngine> {
    const folder = await readDecoderFolder(dir);
    const codec = new TextCodec(folder.tokenizerJson, folder.tokenizerConfig, folder.eosTokenIds);
    const { session, active } = await createSession(folder.modelPath, options.device ?? 'auto', {
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
    });
    try {
      const engine = new GenerationEngine(folder, session, active, describeDecoderIo(session, folder), codec, options);
      if (!(await engine.acceptsChunkedPrefill())) engine.prefillChunk = Number.MAX_SAFE_INTEGER;
      return engine;
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  /**
   * Some exports (e.g. onnxruntime-genai's Llama builder) only accept several new tokens when the
   * past is empty, so a prompt cannot be prefilled in chunks. One tiny run tells.
   */
  private async acceptsChunkedPrefill(): Promise<boolean> {
    try {
      await this.runDecoder([[0, 0]], [[1, 2]], [0], allocate(this.geometry, 1, 1), { logSeverityLevel: 4 });
      return true;
    } catch {
      return false;
    }
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
      const sequence = new Sequence(request, this.codec, maxTokens, resolve, reject);
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
    await this.session.release();
  }

  private async run(): Promise<void> {
    while (this.queue.length + this.prefilling.length + this.decoding.length > 0) {
      this.admit();
      await this.prefillStep();
      await this.decodeStep();
    }
    this.batch = undefined;
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
      next.ownCache = allocate(this.geometry, 1, 0);
      this.prefilling.push(next);
    }
  }

  /**
   * Prefill within one step's budget: the prompts at the head of the line, each with its next
   * chunk, go into ONE run as long as rows × longest chunk stays within `prefillBudget` (the
   * first always goes, so a chunk longer than the budget still progresses).
   */
  private async prefillStep(): Promise<void> {
    const rows: Array<{ sequence: Sequence; length: number }> = [];
    let width = 0;
    for (const sequence of this.prefilling) {
      if (sequence.state !== 'prefill') continue;
      const length = Math.min(this.prefillChunk, sequence.request.promptIds.length - sequence.prefilled);
      const widened = Math.max(width, length);
      if (rows.length > 0 && (rows.length + 1) * widened > this.prefillBudget) break;
      rows.push({ sequence, length });
      width = widened;
    }
    if (rows.length > 0) await this.prefillRows(rows, width);
  }

  /**
   * One prefill run over several prompts' next chunks. Past caches are left-padded to the longest
   * (as in decode); chunks are RIGHT-padded to `width`, so no real token ever sees a padding token
   * (they come after it) and every padding query still sees real tokens (no all-masked softmax
   * row). Afterwards each row's real entries, one contiguous span, become its own cache again.
   */
  private async prefillRows(rows: Array<{ sequence: Sequence; length: number }>, width: number): Promise<void> {
    const sequences = rows.map((r) => r.sequence);
    const past = rows.length === 1 ? sequences[0]!.ownCache! : gather(this.geometry, sequences.map((s) => ({ block: s.ownCache!, row: 0, start: 0, length: s.cacheLength })));
    const tokens = rows.map(({ sequence, length }) => {
      const chunk = sequence.request.promptIds.slice(sequence.prefilled, sequence.prefilled + length);
      return [...chunk, ...new Array<number>(width - length).fill(chunk[length - 1]!)];
    });
    // Padding positions repeat the last real one: never attended to, and always inside the rotary table.
    const positions = rows.map(({ sequence, length }) => Array.from({ length: width }, (_, i) => sequence.prefilled + Math.min(i, length - 1)));
    const pads = sequences.map((s) => past.time - s.cacheLength);
    const chunkPads = rows.map(({ length }) => width - length);
    let outputs: ort.InferenceSession.OnnxValueMapType;
    try {
      outputs = await this.runDecoder(tokens, positions, pads, past, {}, chunkPads);
    } catch (error) {
      this.fail(sequences, error);
      return;
    }
    this.metrics.prefillRuns++;
    const present = this.presentBlock(outputs, rows.length, past.time + width);
    const logits = outputs[this.io.logits]!;
    const vocab = logits.dims[2]!;
    rows.forEach(({ sequence, length }, row) => {
      if (sequence.state !== 'prefill') return; // cancelled while the step ran
      const cacheLength = sequence.cacheLength + length;
      sequence.ownCache =
        rows.length === 1 && length === width ? present : gather(this.geometry, [{ block: present, row, start: pads[row]!, length: cacheLength }]);
      sequence.prefilled += length;
      sequence.cacheLength = cacheLength;
      this.metrics.promptTokens += length;
      if (sequence.prefilled < sequence.request.promptIds.length) return;
      this.prefilling.splice(this.prefilling.indexOf(sequence), 1);
      sequence.state = 'decode';
      this.decoding.push(sequence);
      this.accept(sequence, logitsRow(logits.data as Float32Array | Uint16Array, row * width + length - 1, vocab));
    });
  }

  /** One batched step over every sequence with a token to feed. */
  private async decodeStep(): Promise<void> {
    const rows = this.decoding.filter((s) => s.state === 'decode');
    this.lastBatchSize = rows.length;
    if (rows.length === 0) {
      this.batch = undefined;
      return;
    }
    const batch = this.batchFor(rows);
    const pads = rows.map((s) => batch.cache.time - s.cacheLength);
    let outputs: ort.InferenceSession.OnnxValueMapType;
    try {
      outputs = await this.runDecoder(
        rows.map((s) => [s.nextToken]),
        rows.map((s) => [s.cacheLength]),
        pads,
        batch.cache,
      );
    } catch (error) {
      this.batch = undefined;
      this.fail(rows, error);
      return;
    }
    this.metrics.decodeSteps++;
    batch.cache = this.presentBlock(outputs, rows.length, batch.cache.time + 1);
    const logits = outputs[this.io.logits]!;
    const vocab = logits.dims[2]!;
    rows.forEach((sequence, row) => {
      sequence.cacheLength++;
      if (sequence.state === 'decode') this.accept(sequence, logitsRow(logits.data as Float32Array | Uint16Array, row, vocab));
    });
  }

  /** The decode batch for these rows, regathered only when its membership changed. */
  private batchFor(rows: Sequence[]): DecodeBatch {
    const current = this.batch;
    if (current && current.rows.length === rows.length && current.rows.every((s, i) => s === rows[i])) return current;
    const cache = gather(
      this.geometry,
      rows.map((sequence) => {
        const index = current ? current.rows.indexOf(sequence) : -1;
        if (index >= 0) return { block: current!.cache, row: index, start: current!.cache.time - sequence.cacheLength, length: sequence.cacheLength };
        return { block: sequence.ownCache!, row: 0, start: 0, length: sequence.cacheLength };
      }),
    );
    for (const sequence of rows) sequence.ownCache = undefined;
    this.batch = { rows, cache };
    return this.batch;
  }

  /**
   * Runs the decoder on equal-length token rows whose caches are left-padded by `pads` and whose
   * new tokens end in `chunkPads` padding tokens (masked out like the cache padding).
   */
  private async runDecoder(
    tokens: number[][],
    positions: number[][],
    pads: number[],
    cache: KvBlock,
    runOptions: ort.InferenceSession.RunOptions = {},
    chunkPads: number[] = [],
  ): Promise<ort.InferenceSession.OnnxValueMapType> {
    const io = this.io;
    const batch = tokens.length;
    const width = tokens[0]!.length;
    const clampedIds = tokens.flat().map((id) => Math.min(Math.max(id, 0), io.vocabSize - 1));
    const feeds: Record<string, ort.Tensor> = { [io.inputIds]: intTensor(io.idType, clampedIds, [batch, width]) };
    if (io.attentionMask) {
      const total = cache.time + width;
      const mask = new Array<number>(batch * total).fill(1);
      pads.forEach((pad, row) => mask.fill(0, row * total, row * total + pad));
      chunkPads.forEach((pad, row) => mask.fill(0, (row + 1) * total - pad, (row + 1) * total));
      feeds[io.attentionMask] = intTensor(io.maskType, mask, [batch, total]);
    }
    if (io.positionIds) feeds[io.positionIds] = intTensor(io.positionType, positions.flat(), [batch, width]);
    if (io.useCacheBranch) feeds[io.useCacheBranch] = new ort.Tensor('bool', Uint8Array.of(cache.time > 0 ? 1 : 0), [1]);
    const dims = blockDims(this.geometry, cache);
    io.slots.forEach((slot, i) => (feeds[slot.past] = new ort.Tensor(io.kvType, cache.data[i]!, dims)));
    return this.session.run(feeds, runOptions);
  }

  private presentBlock(outputs: ort.InferenceSession.OnnxValueMapType, batch: number, time: number): KvBlock {
    return { data: this.io.slots.map((slot) => outputs[slot.present]!.data as KvArray), batch, time };
  }

  /** Chooses the next token of a sequence and decides whether it goes on. */
  private accept(sequence: Sequence, logits: Float32Array): void {
    const token = sequence.sampler.next(logits);
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
    sequence.state = 'done';
    sequence.ownCache = undefined;
  }
}

function intTensor(type: IdElementType, values: number[], dims: number[]): ort.Tensor {
  if (type === 'int32') return new ort.Tensor('int32', Int32Array.from(values), dims);
  return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
}

function emptyResult(promptTokens: number): GenerationResult {
  return { text: '', tokenIds: [], finishReason: 'cancelled', promptTokens, completionTokens: 0 };
}

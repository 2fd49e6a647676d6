/**
 * The decoder side of the generation engine: one ONNX session, every sequence's KV cache, and
 * token choice. It runs in a worker thread (decoderWorker.ts), because onnxruntime-node 1.30's
 * `session.run` is synchronous once it starts (lib/backend.ts wraps the native call in a
 * setImmediate), so on the thread that also serves HTTP it would stall every stream for a
 * whole step. The scheduler (engine.ts) decides what runs; this module runs it.
 *
 * Where the cache lives, per provider (onnxruntime-node 1.30, read in its binding source):
 * - WebGPU: presents are bound as device outputs (`preferredOutputLocation: 'gpu-buffer'`),
 *   fed back as the next step's pasts, and reordered by the KV graphs of kvBatch.ts on the
 *   device; only the last-token logits come to the host. `resident` is true.
 * - CPU: the same code on host tensors; the binding copies each output into a JS buffer once.
 * - CUDA and DirectML: outputs always come back to the host, so every step copies the whole
 *   past cache host → device and the present cache device → host. The binding would need three
 *   changes to keep them on the device: in inference_session_wrap.cc RunSync, bind a
 *   'gpu-buffer' output to the session provider's memory info (it binds the WebGPU one,
 *   "WebGPU_Buf"); in tensor_helper.cc OrtValueToNapiValue, hand back any non-CPU OrtValue as a
 *   gpu-buffer tensor (it checks for the WebGPU allocator only); and in NapiValueToOrtValue,
 *   wrap a gpu-buffer input with the OrtValue's own memory info instead of WebGPU's. The bytes
 *   that would save are reported per run (`inputBytes`, `outputBytes`) and in bench:generation.
 */
import * as ort from 'onnxruntime-node';
import { createSession, providerConfig, type ActiveDevice, type DeviceRequest } from '../core/onnx/session.js';
import { externalDataOptions } from '../core/onnx/graphEdit.js';
import { describeDecoderIo, type DecoderIo, type IdElementType, type DecoderFolder } from './decoderFolder.js';
import { LAST_LOGITS, LOGIT_INDEX, prepareDecoder, type AttentionKind } from './decoderGraph.js';
import { disposeBlock, KvOps, type KvBlock, type KvLayout } from './kvBatch.js';
import { TokenSampler, type SamplingParams } from './sampling.js';

export interface RuntimeInit {
  folder: Pick<DecoderFolder, 'modelPath' | 'genaiConfig' | 'config'>;
  device: DeviceRequest;
  intraOpThreads?: number;
}

export interface RuntimeInfo {
  io: DecoderIo;
  device: ActiveDevice;
  attention: AttentionKind;
  layout: KvLayout;
  /** The KV cache stays on the device between steps (only logits reach the host). */
  resident: boolean;
  /** Several new tokens per row on top of a past: a prompt can be prefilled in chunks. */
  acceptsChunkedPrefill: boolean;
  /** Rows with a past can share a multi-token run (false for GroupQueryAttention). */
  batchedPrefillWithPast: boolean;
}

/** What one session run moved and returned (diagnostics, tests and benchmarks). */
export interface RunReport {
  kind: 'prefill' | 'decode';
  rows: number;
  /** New tokens per row (padded). */
  width: number;
  /** Time steps of the past fed in. */
  pastTime: number;
  /** Dims of every output the run fetched. */
  fetched: Record<string, number[]>;
  /** Bytes of host tensors fed in (what a GPU provider copies host → device). */
  inputBytes: number;
  /** Bytes of outputs handed over as host tensors (device → host on a GPU; one copy into JS on the CPU). */
  outputBytes: number;
  runMs: number;
}

export interface PrefillRow {
  id: number;
  /** The chunk of prompt tokens to add to this sequence's cache. */
  tokens: number[];
  /** Choose the next token after this chunk (the prompt is complete). */
  sample: boolean;
}

interface SequenceState {
  sampler: TokenSampler;
  /** The cache while the sequence is not in the decode batch. */
  cache?: KvBlock;
  /** Tokens in the cache. */
  length: number;
}

export class DecoderRuntime {
  private readonly sequences = new Map<number, SequenceState>();
  private batch?: { ids: number[]; cache: KvBlock };
  readonly info: RuntimeInfo;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly kv: KvOps,
    io: DecoderIo,
    device: ActiveDevice,
    attention: AttentionKind,
    resident: boolean,
  ) {
    const groupQuery = attention === 'group-query';
    this.info = {
      io,
      device,
      attention,
      layout: groupQuery ? 'right' : 'left',
      resident,
      acceptsChunkedPrefill: true,
      batchedPrefillWithPast: !groupQuery,
    };
  }

  static async load(init: RuntimeInit): Promise<DecoderRuntime> {
    const { folder } = init;
    const logitsName = (names: string[]) => [folder.genaiConfig?.model.decoder.outputs?.logits, 'logits'].find((name) => name !== undefined && names.includes(name));
    const prepared = await prepareDecoder(folder.modelPath, (facts) => logitsName(facts.outputs.map((o) => o.name)));
    const presents = prepared.facts.outputs.map((o) => o.name).filter((name) => name.startsWith('present'));
    const { session, active } = await createSession({ path: folder.modelPath, bytes: prepared.bytes }, init.device, (provider) => ({
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      ...externalDataOptions(folder.modelPath),
      ...(init.intraOpThreads ? { intraOpNumThreads: init.intraOpThreads } : {}),
      ...(provider === 'webgpu' ? { preferredOutputLocation: Object.fromEntries(presents.map((name) => [name, 'gpu-buffer' as const])) } : {}),
    }));
    let kv: KvOps | undefined;
    try {
      if (!session.outputNames.includes(LAST_LOGITS)) throw new Error(`${folder.modelPath} has no logits output to gather the last token from`);
      const io = describeDecoderIo(session, folder);
      const resident = active.provider === 'webgpu';
      kv = await KvOps.create(
        { slots: io.slots.length, outer: io.kvOuter, heads: io.kvHeads, headDim: io.headDim, type: io.kvType },
        { executionProvider: providerConfig(active.provider, active.deviceId), resident, intraOpThreads: init.intraOpThreads },
      );
      const runtime = new DecoderRuntime(session, kv, io, active, prepared.attention, resident);
      if (prepared.attention === 'plain') runtime.info.acceptsChunkedPrefill = await runtime.acceptsTwoTokensOnAPast();
      return runtime;
    } catch (error) {
      await kv?.release();
      await session.release();
      throw error;
    }
  }

  /**
   * Some exports (e.g. onnxruntime-genai's Llama builder) only accept several new tokens when the
   * past is empty, so a prompt cannot be prefilled in chunks. One tiny run tells.
   */
  private async acceptsTwoTokensOnAPast(): Promise<boolean> {
    try {
      const past = this.kv.empty(1, 1);
      await this.session.run(this.feeds([[0, 0]], [[1, 2]], [1], [2], past, [1]), [LAST_LOGITS], { logSeverityLevel: 4 });
      return true;
    } catch {
      return false;
    }
  }

  admit(id: number, sampling: SamplingParams): void {
    this.sequences.set(id, { sampler: new TokenSampler(sampling), length: 0 });
  }

  release(ids: number[]): void {
    for (const id of ids) {
      const state = this.sequences.get(id);
      if (!state) continue;
      disposeBlock(state.cache);
      this.sequences.delete(id);
    }
    // The decode batch's cache would otherwise stay (on the device, with a GPU) until the next request.
    if (this.batch && this.batch.ids.every((id) => !this.sequences.has(id))) {
      disposeBlock(this.batch.cache);
      this.batch = undefined;
    }
  }

  /**
   * One run over several sequences' next prompt chunks. Chunks are RIGHT-padded to the longest,
   * so no real token ever sees a padding token (they come after it) and every padding query
   * still sees real tokens (no all-masked softmax row). Past caches are padded per the layout.
   * Afterwards each row's real entries, one contiguous span, become its own cache again.
   */
  async prefill(rows: PrefillRow[]): Promise<{ tokens: Array<number | undefined>; report: RunReport }> {
    const states = rows.map((row) => this.state(row.id));
    const width = Math.max(...rows.map((row) => row.tokens.length));
    const lengths = states.map((s) => s.length);
    const pastTime = Math.max(0, ...lengths);
    if (rows.length > 1 && pastTime > 0 && !this.info.batchedPrefillWithPast) throw new Error('this decoder prefills rows with a past one at a time');
    const previous = states.map((s) => s.cache);
    const temporaries: KvBlock[] = [];
    let past: KvBlock;
    if (rows.length === 1 || pastTime === 0) {
      past = previous[0] ?? this.kv.empty(rows.length, 0);
    } else {
      const parts = await Promise.all(
        states.map((s) => (s.cache ? this.kv.select(s.cache, [0], 0, s.length, ...this.padding(s.length, pastTime)) : this.kv.empty(1, pastTime))),
      );
      past = await this.kv.concat(parts);
      temporaries.push(...parts.filter((part) => !previous.includes(part) && part !== past));
    }
    if (!previous.includes(past)) temporaries.push(past);
    // Padding positions repeat the last real one: never attended to, and always inside the rotary table.
    const tokens = rows.map(({ tokens: chunk }) => [...chunk, ...new Array<number>(width - chunk.length).fill(chunk[chunk.length - 1]!)]);
    const positions = rows.map(({ tokens: chunk }, r) => Array.from({ length: width }, (_, i) => lengths[r]! + Math.min(i, chunk.length - 1)));
    const logitIndex = rows.map(({ tokens: chunk }, r) => r * width + chunk.length - 1);
    const started = performance.now();
    const feeds = this.feeds(tokens, positions, lengths, rows.map((r) => r.tokens.length), past, logitIndex);
    const outputs = await this.session.run(feeds, [LAST_LOGITS, ...this.info.io.slots.map((slot) => slot.present)]);
    const report = this.report('prefill', rows.length, width, past.time, feeds, outputs, performance.now() - started);
    const present: KvBlock = { tensors: this.info.io.slots.map((slot) => outputs[slot.present]!), batch: rows.length, time: past.time + width };

    const owned: KvBlock[] = [];
    for (const [r, state] of states.entries()) {
      const total = lengths[r]! + rows[r]!.tokens.length;
      const start = this.info.layout === 'left' ? pastTime - lengths[r]! : 0;
      const own = rows.length === 1 && total === present.time ? present : await this.kv.select(present, [r], start, start + total);
      owned.push(own);
      state.cache = own;
      state.length = total;
    }
    for (const block of [...previous, ...temporaries]) disposeBlock(block);
    if (!owned.includes(present)) disposeBlock(present);

    const logits = outputs[LAST_LOGITS]!;
    const vocab = logits.dims[1]!;
    const data = logits.data as Float32Array;
    const chosen = rows.map((row, r) => (row.sample ? states[r]!.sampler.next(data.subarray(r * vocab, (r + 1) * vocab)) : undefined));
    return { tokens: chosen, report };
  }

  /** One batched step over these sequences, each feeding one token; returns the next token of each. */
  async decode(rows: Array<{ id: number; token: number }>): Promise<{ tokens: number[]; report: RunReport }> {
    const batch = await this.batchFor(rows.map((row) => row.id));
    const states = batch.ids.map((id) => this.state(id));
    const tokenOf = new Map(rows.map((row) => [row.id, row.token]));
    const lengths = states.map((s) => s.length);
    const started = performance.now();
    const feeds = this.feeds(
      batch.ids.map((id) => [tokenOf.get(id)!]),
      lengths.map((length) => [length]),
      lengths,
      lengths.map(() => 1),
      batch.cache,
      batch.ids.map((_, row) => row),
    );
    const outputs = await this.session.run(feeds, [LAST_LOGITS, ...this.info.io.slots.map((slot) => slot.present)]);
    const report = this.report('decode', batch.ids.length, 1, batch.cache.time, feeds, outputs, performance.now() - started);
    const present: KvBlock = { tensors: this.info.io.slots.map((slot) => outputs[slot.present]!), batch: batch.ids.length, time: outputs[this.info.io.slots[0]!.present]!.dims.at(-2)! };
    disposeBlock(batch.cache);
    batch.cache = present;
    const logits = outputs[LAST_LOGITS]!;
    const vocab = logits.dims[1]!;
    const data = logits.data as Float32Array;
    const next = new Map<number, number>();
    states.forEach((state, row) => {
      state.length++;
      next.set(batch.ids[row]!, state.sampler.next(data.subarray(row * vocab, (row + 1) * vocab)));
    });
    return { tokens: rows.map((row) => next.get(row.id)!), report };
  }

  async dispose(): Promise<void> {
    this.release([...this.sequences.keys()]);
    disposeBlock(this.batch?.cache);
    this.batch = undefined;
    await this.kv.release();
    await this.session.release();
  }

  private state(id: number): SequenceState {
    const state = this.sequences.get(id);
    if (!state) throw new Error(`sequence ${id} is not admitted`);
    return state;
  }

  /** Time steps to add before/after a row of `length` to make it `time` long, per the layout. */
  private padding(length: number, time: number): [number, number] {
    return this.info.layout === 'left' ? [time - length, 0] : [0, time - length];
  }

  /**
   * The decode batch for these ids: kept rows stay in their order (cut to the longest kept
   * row), rows that finished prefill are added after them; regathered only when membership changed.
   */
  private async batchFor(ids: number[]): Promise<{ ids: number[]; cache: KvBlock }> {
    const current = this.batch;
    if (current && current.ids.length === ids.length && ids.every((id) => current.ids.includes(id))) return current;
    const wanted = new Set(ids);
    const kept = current ? current.ids.filter((id) => wanted.has(id)) : [];
    const fresh = ids.filter((id) => !kept.includes(id));
    const time = Math.max(...ids.map((id) => this.state(id).length));
    const parts: KvBlock[] = [];
    if (current && kept.length > 0) {
      const longest = Math.max(...kept.map((id) => this.state(id).length));
      const start = this.info.layout === 'left' ? current.cache.time - longest : 0;
      parts.push(await this.kv.select(current.cache, kept.map((id) => current.ids.indexOf(id)), start, start + longest, ...this.padding(longest, time)));
    }
    for (const id of fresh) {
      const state = this.state(id);
      if (!state.cache) throw new Error(`sequence ${id} has no cache to decode from`);
      parts.push(await this.kv.select(state.cache, [0], 0, state.length, ...this.padding(state.length, time)));
    }
    const cache = await this.kv.concat(parts);
    const sources = [current?.cache, ...fresh.map((id) => this.state(id).cache)];
    for (const part of parts) if (part !== cache && !sources.includes(part)) disposeBlock(part);
    for (const source of sources) disposeBlock(source, cache);
    for (const id of fresh) this.state(id).cache = undefined;
    this.batch = { ids: [...kept, ...fresh], cache };
    return this.batch;
  }

  /**
   * Feeds for equal-width token rows on top of `past`: `lengths` are the rows' cache lengths and
   * `real` the number of their new tokens that are not padding.
   */
  private feeds(tokens: number[][], positions: number[][], lengths: number[], real: number[], past: KvBlock, logitIndex: number[]): Record<string, ort.Tensor> {
    const io = this.info.io;
    const batch = tokens.length;
    const width = tokens[0]!.length;
    const clampedIds = tokens.flat().map((id) => Math.min(Math.max(id, 0), io.vocabSize - 1));
    const feeds: Record<string, ort.Tensor> = { [io.inputIds]: intTensor(io.idType, clampedIds, [batch, width]) };
    if (io.attentionMask) {
      const total = past.time + width;
      const mask = new Array<number>(batch * total).fill(0);
      for (let row = 0; row < batch; row++) {
        // left: [padding | past | new | chunk padding]; right: [past | new | padding].
        const start = this.info.layout === 'left' ? past.time - lengths[row]! : 0;
        const end = (this.info.layout === 'left' ? past.time : lengths[row]!) + real[row]!;
        mask.fill(1, row * total + start, row * total + end);
      }
      feeds[io.attentionMask] = intTensor(io.maskType, mask, [batch, total]);
    }
    if (io.positionIds) feeds[io.positionIds] = intTensor(io.positionType, positions.flat(), [batch, width]);
    if (io.useCacheBranch) feeds[io.useCacheBranch] = new ort.Tensor('bool', Uint8Array.of(past.time > 0 ? 1 : 0), [1]);
    io.slots.forEach((slot, i) => (feeds[slot.past] = past.tensors[i]!));
    feeds[LOGIT_INDEX] = new ort.Tensor('int64', BigInt64Array.from(logitIndex, (v) => BigInt(v)), [logitIndex.length]);
    return feeds;
  }

  private report(kind: RunReport['kind'], rows: number, width: number, pastTime: number, feeds: Record<string, ort.Tensor>, outputs: ort.InferenceSession.OnnxValueMapType, runMs: number): RunReport {
    const hostBytes = (tensors: Iterable<ort.Tensor>) => {
      let bytes = 0;
      for (const tensor of tensors) if (tensor.location === 'cpu') bytes += (tensor.data as ArrayBufferView).byteLength;
      return bytes;
    };
    return {
      kind,
      rows,
      width,
      pastTime,
      fetched: Object.fromEntries(Object.entries(outputs).map(([name, tensor]) => [name, [...tensor.dims]])),
      inputBytes: hostBytes(Object.values(feeds)),
      outputBytes: hostBytes(Object.values(outputs) as ort.Tensor[]),
      runMs,
    };
  }

}

function intTensor(type: IdElementType, values: number[], dims: number[]): ort.Tensor {
  if (type === 'int32') return new ort.Tensor('int32', Int32Array.from(values), dims);
  return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
}

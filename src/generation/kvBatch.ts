/**
 * KV cache blocks as the decoder consumes them, one tensor per past/present slot, laid out
 * [outer, batch, heads, time, headDim] (outer = 1 for separate key/value tensors, 2 for combined
 * ones), and the few operations the scheduler needs on them: take some rows, cut or pad the time
 * axis, stack blocks along the batch axis.
 *
 * Those operations run as tiny ONNX graphs (Gather → Slice → Pad, and Concat) on the decoder's
 * own execution provider, so a cache that lives on the GPU (WebGPU `gpu-buffer` tensors) is
 * reordered there and never crosses to the host. On the CPU provider the same graphs work on
 * host tensors, which is how this code is tested on a machine without a GPU.
 *
 * Two layouts, because attention kernels disagree on where a shorter row's entries sit:
 * - `left`: rows are LEFT-padded to the longest; row b's entries are the last length_b time
 *   steps and the attention mask hides the rest. Plain attention exports (Concat of past and
 *   new keys) append every row's new entry at the same time index, so one step's presents are,
 *   unchanged, the next step's pasts.
 * - `right`: every row's entries start at time 0 and rows are RIGHT-padded. This is what
 *   com.microsoft.GroupQueryAttention (onnxruntime-genai's GPU exports) assumes: it reads
 *   seqlens_k = (mask sum − 1) per row and writes row b's new entry at index seqlens_k[b], so a
 *   left-padded row would attend to its padding and write in the wrong place.
 */
import * as ort from 'onnxruntime-node';
import { OnnxGraphBuilder, TensorType } from '../core/onnx/onnxGraphBuilder.js';
import type { KvElementType } from './decoderFolder.js';

export type KvLayout = 'left' | 'right';

export interface KvGeometry {
  slots: number;
  outer: number;
  heads: number;
  headDim: number;
  type: KvElementType;
}

export interface KvBlock {
  tensors: ort.Tensor[];
  batch: number;
  time: number;
}

/** Bytes of one token's entries in one row, over all slots. */
export function bytesPerToken(geometry: KvGeometry): number {
  return geometry.slots * geometry.outer * geometry.heads * geometry.headDim * (geometry.type === 'float16' ? 2 : 4);
}

export function blockDims(geometry: KvGeometry, batch: number, time: number): number[] {
  return [...(geometry.outer > 1 ? [geometry.outer] : []), batch, geometry.heads, time, geometry.headDim];
}

export interface KvOpsOptions {
  executionProvider: string | { name: string; deviceId: number };
  /** Keep results on the device (WebGPU `gpu-buffer`); otherwise they come back as host tensors. */
  resident: boolean;
  intraOpThreads?: number;
}

export class KvOps {
  private readonly concatSessions = new Map<number, Promise<ort.InferenceSession>>();
  private readonly rank: number;
  private readonly batchAxis: number;
  private readonly timeAxis: number;

  private constructor(
    readonly geometry: KvGeometry,
    private readonly selectSession: ort.InferenceSession,
    private readonly options: KvOpsOptions,
  ) {
    this.rank = geometry.outer > 1 ? 5 : 4;
    this.batchAxis = geometry.outer > 1 ? 1 : 0;
    this.timeAxis = this.rank - 2;
  }

  static async create(geometry: KvGeometry, options: KvOpsOptions): Promise<KvOps> {
    const rank = geometry.outer > 1 ? 5 : 4;
    const g = new OnnxGraphBuilder();
    const type = elementType(geometry.type);
    const symbolic = Array.from({ length: rank }, (_, i) => `d${i}`);
    const rows = g.input('rows', TensorType.INT64, ['rows']);
    const starts = g.input('starts', TensorType.INT64, [1]);
    const ends = g.input('ends', TensorType.INT64, [1]);
    const pads = g.input('pads', TensorType.INT64, [2 * rank]);
    const axes = g.int64s([rank - 2]);
    for (let slot = 0; slot < geometry.slots; slot++) {
      const x = g.input(`x${slot}`, type, symbolic);
      const gathered = g.op('Gather', [x, rows], { axis: geometry.outer > 1 ? 1 : 0 });
      const sliced = g.op('Slice', [gathered, starts, ends, axes]);
      g.op('Pad', [sliced, pads], {}, `y${slot}`);
      g.output(`y${slot}`, type, symbolic);
    }
    const session = await ort.InferenceSession.create(g.encode('docent KV select'), sessionOptions(geometry, options, 'y'));
    return new KvOps(geometry, session, options);
  }

  /** A zero block built on the host (a feed onnxruntime copies to the device when it needs to). */
  empty(batch: number, time: number): KvBlock {
    const dims = blockDims(this.geometry, batch, time);
    const size = dims.reduce((a, b) => a * b, 1);
    const tensors = Array.from({ length: this.geometry.slots }, () =>
      this.geometry.type === 'float16' ? new ort.Tensor('float16', new Uint16Array(size), dims) : new ort.Tensor('float32', new Float32Array(size), dims),
    );
    return { tensors, batch, time };
  }

  /**
   * Rows `rows` of `block`, time steps [start, end), then `before`/`after` zero steps added.
   * Returns `block` itself when that is all of it unchanged.
   */
  async select(block: KvBlock, rows: number[], start: number, end: number, before = 0, after = 0): Promise<KvBlock> {
    const whole = rows.length === block.batch && rows.every((row, i) => row === i) && start === 0 && end === block.time && before === 0 && after === 0;
    if (whole) return block;
    const padValues = new Array<number>(2 * this.rank).fill(0);
    padValues[this.timeAxis] = before;
    padValues[this.rank + this.timeAxis] = after;
    const feeds: Record<string, ort.Tensor> = {
      rows: int64(rows),
      starts: int64([start]),
      ends: int64([end]),
      pads: int64(padValues),
    };
    block.tensors.forEach((tensor, slot) => (feeds[`x${slot}`] = tensor));
    const outputs = await this.selectSession.run(feeds);
    return { tensors: block.tensors.map((_, slot) => outputs[`y${slot}`]!), batch: rows.length, time: end - start + before + after };
  }

  /** Blocks of equal time length stacked along the batch axis, in order. */
  async concat(blocks: KvBlock[]): Promise<KvBlock> {
    if (blocks.length === 1) return blocks[0]!;
    const time = blocks[0]!.time;
    if (blocks.some((block) => block.time !== time)) throw new Error('KV blocks of different lengths cannot be stacked');
    const session = await this.concatSession(blocks.length);
    const feeds: Record<string, ort.Tensor> = {};
    blocks.forEach((block, b) => block.tensors.forEach((tensor, slot) => (feeds[`x${b}_${slot}`] = tensor)));
    const outputs = await session.run(feeds);
    return { tensors: blocks[0]!.tensors.map((_, slot) => outputs[`y${slot}`]!), batch: blocks.reduce((sum, block) => sum + block.batch, 0), time };
  }

  async release(): Promise<void> {
    await this.selectSession.release();
    for (const session of this.concatSessions.values()) await (await session).release();
  }

  private concatSession(count: number): Promise<ort.InferenceSession> {
    let session = this.concatSessions.get(count);
    if (!session) {
      const g = new OnnxGraphBuilder();
      const type = elementType(this.geometry.type);
      const symbolic = Array.from({ length: this.rank }, (_, i) => `d${i}`);
      for (let slot = 0; slot < this.geometry.slots; slot++) {
        const parts = Array.from({ length: count }, (_, b) => g.input(`x${b}_${slot}`, type, symbolic.map((d) => `${d}_${b}`)));
        g.op('Concat', parts, { axis: this.batchAxis }, `y${slot}`);
        g.output(`y${slot}`, type, symbolic);
      }
      session = ort.InferenceSession.create(g.encode(`docent KV concat ×${count}`), sessionOptions(this.geometry, this.options, 'y'));
      this.concatSessions.set(count, session);
    }
    return session;
  }
}

/** Frees what a block holds on the device (a no-op for host tensors, whose memory the GC reclaims). */
export function disposeBlock(block: KvBlock | undefined, keep?: KvBlock): void {
  if (!block || block === keep) return;
  for (const tensor of block.tensors) if (!keep?.tensors.includes(tensor)) tensor.dispose();
}

function sessionOptions(geometry: KvGeometry, options: KvOpsOptions, outputPrefix: string): ort.InferenceSession.SessionOptions {
  const preferred = Object.fromEntries(Array.from({ length: geometry.slots }, (_, slot) => [`${outputPrefix}${slot}`, 'gpu-buffer' as const]));
  return {
    executionProviders: [options.executionProvider],
    graphOptimizationLevel: 'all',
    ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
    ...(options.resident ? { preferredOutputLocation: preferred } : {}),
  };
}

function elementType(type: KvElementType): number {
  return type === 'float16' ? TensorType.FLOAT16 : TensorType.FLOAT;
}

function int64(values: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values, (value) => BigInt(value)), [values.length]);
}

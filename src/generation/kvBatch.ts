/**
 * KV cache blocks as the decoder consumes them: one typed array per past/present slot, laid
 * out [outer, batch, heads, time, headDim] (outer = 1 for separate key/value tensors, 2 for
 * combined ones). Rows of different lengths share a block LEFT-padded to the longest: row b's
 * real entries occupy the last `length_b` time steps and the attention mask hides the rest.
 * Left padding lets the decoder append every row's new entry at the same time index, so the
 * `present` outputs of one step are, unchanged, the `past` inputs of the next.
 */
import type { KvElementType } from './decoderFolder.js';

export type KvArray = Float32Array | Uint16Array;

export interface KvGeometry {
  slots: number;
  outer: number;
  heads: number;
  headDim: number;
  type: KvElementType;
}

export interface KvBlock {
  data: KvArray[];
  batch: number;
  time: number;
}

/** Where one row's cache lives: `length` entries starting at time index `start` of row `row`. */
export interface KvRowSource {
  block: KvBlock;
  row: number;
  start: number;
  length: number;
}

export function allocate(geometry: KvGeometry, batch: number, time: number): KvBlock {
  const size = geometry.outer * batch * geometry.heads * time * geometry.headDim;
  const data = Array.from({ length: geometry.slots }, () => (geometry.type === 'float16' ? new Uint16Array(size) : new Float32Array(size)));
  return { data, batch, time };
}

export function blockDims(geometry: KvGeometry, block: KvBlock): number[] {
  return [...(geometry.outer > 1 ? [geometry.outer] : []), block.batch, geometry.heads, block.time, geometry.headDim];
}

/**
 * Copies each row's real entries into a new block, left-padded to the longest row. Padding is
 * zeros (also +0 in fp16). Cost: one pass over the rows' caches, paid only when the batch
 * composition changes, never on a plain decode step.
 */
export function gather(geometry: KvGeometry, rows: KvRowSource[]): KvBlock {
  const time = Math.max(0, ...rows.map((r) => r.length));
  const target = allocate(geometry, rows.length, time);
  const { outer, heads, headDim } = geometry;
  for (let slot = 0; slot < geometry.slots; slot++) {
    const destination = target.data[slot]!;
    rows.forEach((source, row) => {
      const from = source.block.data[slot]!;
      const span = source.length * headDim;
      for (let o = 0; o < outer; o++) {
        for (let h = 0; h < heads; h++) {
          const sourceOffset = ((o * source.block.batch + source.row) * heads + h) * source.block.time * headDim + source.start * headDim;
          const targetOffset = ((o * rows.length + row) * heads + h) * time * headDim + (time - source.length) * headDim;
          destination.set(from.subarray(sourceOffset, sourceOffset + span), targetOffset);
        }
      }
    });
  }
  return target;
}

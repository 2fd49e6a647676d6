/**
 * The rows of an exact vector index and the kernel that scores a query against all of them: a
 * WebAssembly SIMD loop over the rows, in the module's own memory so a search copies nothing but
 * the query. It keeps the sums of the JavaScript loop it replaced, so every score is the same
 * double: per row four running sums (dimensions i ≡ 0, 1, 2, 3 mod 4, as two f64x2 lanes pairs),
 * each float product exact in a double, the dimensions past the last multiple of four added to
 * the first sum in order, and the four summed left to right. A query over 10.6k × 256-d rows
 * took ×0.2–0.3 of the JavaScript loop's time (BENCHMARKS.md, latency5).
 *
 * Memory: [query as f64 × dimensions][rows as f32 × capacity × dimensions][scores as f64 × capacity];
 * growing keeps the rows where they are and moves only the scores, which each search rewrites.
 */

/** The kernel module, compiled once per process at the first index (~1 KB, well under a millisecond). */
let compiled: WebAssembly.Module | undefined;

const PAGE_BYTES = 65_536;

type ScoreFunction = (query: number, rows: number, count: number, dimensions: number, scores: number) => void;

export class VectorRows {
  private readonly memory: WebAssembly.Memory;
  private readonly scoreRows: ScoreFunction;
  private readonly rowsOffset: number;
  private view: Float32Array;
  private capacityRows: number;

  constructor(
    readonly dimensions: number,
    capacity: number,
  ) {
    compiled ??= new WebAssembly.Module(kernelBytes());
    this.rowsOffset = align16(dimensions * 8);
    this.capacityRows = capacity;
    this.memory = new WebAssembly.Memory({ initial: pagesFor(this.bytesFor(capacity)) });
    this.scoreRows = (new WebAssembly.Instance(compiled, { env: { memory: this.memory } }).exports as { score: ScoreFunction }).score;
    this.view = this.rowsView();
  }

  get capacity(): number {
    return this.capacityRows;
  }

  /** Rows [0, capacity) back to back; a view of the module's memory, replaced when it grows (do not keep it). */
  get rows(): Float32Array {
    if (this.view.buffer !== this.memory.buffer) this.view = this.rowsView();
    return this.view;
  }

  /** Room for `capacity` rows, the first ones kept. */
  grow(capacity: number): void {
    const pages = pagesFor(this.bytesFor(capacity)) - this.memory.buffer.byteLength / PAGE_BYTES;
    if (pages > 0) this.memory.grow(pages);
    this.capacityRows = capacity;
    this.view = this.rowsView();
  }

  /** The dot products of `query` (f32 values) with rows [0, count): a view valid until the next score or grow. */
  score(query: Float32Array, count: number): Float64Array {
    const { dimensions } = this;
    new Float64Array(this.memory.buffer, 0, dimensions).set(query);
    const scoresOffset = this.scoresOffset();
    this.scoreRows(0, this.rowsOffset, count, dimensions, scoresOffset);
    return new Float64Array(this.memory.buffer, scoresOffset, count);
  }

  private rowsView(): Float32Array {
    return new Float32Array(this.memory.buffer, this.rowsOffset, this.capacityRows * this.dimensions);
  }

  private scoresOffset(): number {
    return align16(this.rowsOffset + this.capacityRows * this.dimensions * 4);
  }

  private bytesFor(capacity: number): number {
    return align16(this.rowsOffset + capacity * this.dimensions * 4) + capacity * 8;
  }
}

function align16(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

function pagesFor(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / PAGE_BYTES));
}

/**
 * The module: memory imported as env.memory, one export `score(query, rows, count, dimensions,
 * scores)` (byte offsets). In the text format the loop is:
 *
 *   rowBytes = dimensions * 4; simdBytes = (dimensions & ~3) * 4; end = rows + count * rowBytes
 *   for (row = rows; row < end; row += rowBytes, scores += 8):
 *     low = high = f64x2(0, 0); q = query
 *     for (i = 0; i < simdBytes; i += 16, q += 32):
 *       v = v128.load(row + i)
 *       low  += f64x2.promote_low_f32x4(v) * v128.load(q)            ;; dimensions i, i+1
 *       high += f64x2.promote_low_f32x4(v[2, 3]) * v128.load(q + 16)  ;; dimensions i+2, i+3
 *     a0 = low[0]
 *     for (; i < rowBytes; i += 4, q += 8): a0 += f64(f32.load(row + i)) * f64.load(q)
 *     f64.store(scores, ((a0 + low[1]) + high[0]) + high[1])
 */
function kernelBytes(): Uint8Array<ArrayBuffer> {
  const [query, rows, count, dimensions, scores] = [0, 1, 2, 3, 4];
  const [rowBytes, simdBytes, end, i, q] = [5, 6, 7, 8, 9];
  const [a0] = [10];
  const [low, high, v] = [11, 12, 13];
  const body = [
    ...get(dimensions), ...i32Const(2), I32_SHL, ...set(rowBytes),
    ...get(dimensions), ...i32Const(-4), I32_AND, ...i32Const(2), I32_SHL, ...set(simdBytes),
    ...get(rows), ...get(count), ...get(rowBytes), I32_MUL, I32_ADD, ...set(end),
    BLOCK, VOID, LOOP, VOID,
    ...get(rows), ...get(end), I32_GE_U, BR_IF, 1,
    ...F64X2_ZERO, ...set(low), ...F64X2_ZERO, ...set(high), ...i32Const(0), ...set(i), ...get(query), ...set(q),
    BLOCK, VOID, LOOP, VOID,
    ...get(i), ...get(simdBytes), I32_GE_U, BR_IF, 1,
    ...get(rows), ...get(i), I32_ADD, ...V128_LOAD(2), ...set(v),
    ...get(low), ...get(v), ...F64X2_PROMOTE_LOW, ...get(q), ...V128_LOAD(3, 0), ...F64X2_MUL, ...F64X2_ADD, ...set(low),
    ...get(high), ...get(v), ...get(v), ...I8X16_SHUFFLE_HIGH_HALF, ...F64X2_PROMOTE_LOW, ...get(q), ...V128_LOAD(3, 16), ...F64X2_MUL, ...F64X2_ADD, ...set(high),
    ...get(i), ...i32Const(16), I32_ADD, ...set(i), ...get(q), ...i32Const(32), I32_ADD, ...set(q),
    BR, 0, END, END,
    ...get(low), ...F64X2_LANE(0), ...set(a0),
    BLOCK, VOID, LOOP, VOID,
    ...get(i), ...get(rowBytes), I32_GE_U, BR_IF, 1,
    ...get(a0), ...get(rows), ...get(i), I32_ADD, F32_LOAD, 2, 0, F64_PROMOTE_F32, ...get(q), F64_LOAD, 3, 0, F64_MUL, F64_ADD, ...set(a0),
    ...get(i), ...i32Const(4), I32_ADD, ...set(i), ...get(q), ...i32Const(8), I32_ADD, ...set(q),
    BR, 0, END, END,
    ...get(scores),
    ...get(a0), ...get(low), ...F64X2_LANE(1), F64_ADD, ...get(high), ...F64X2_LANE(0), F64_ADD, ...get(high), ...F64X2_LANE(1), F64_ADD,
    F64_STORE, 3, 0,
    ...get(rows), ...get(rowBytes), I32_ADD, ...set(rows), ...get(scores), ...i32Const(8), I32_ADD, ...set(scores),
    BR, 0, END, END,
    END,
  ];
  const locals = vector([[5, I32], [1, F64], [3, V128]]);
  const code = [...locals, ...body];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector([[0x60, ...vector([[I32], [I32], [I32], [I32], [I32]]), 0]])), // type: (i32 × 5) → ()
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, 1]])), // import memory, min 1 page
    ...section(3, vector([[0]])), // one function of type 0
    ...section(7, vector([[...name('score'), 0x00, 0]])), // export it
    ...section(10, vector([[...unsigned(code.length), ...code]])),
  ]);
}

const I32 = 0x7f, F64 = 0x7c, V128 = 0x7b, VOID = 0x40;
const BLOCK = 0x02, LOOP = 0x03, END = 0x0b, BR = 0x0c, BR_IF = 0x0d;
const I32_GE_U = 0x4f, I32_ADD = 0x6a, I32_MUL = 0x6c, I32_AND = 0x71, I32_SHL = 0x74;
const F32_LOAD = 0x2a, F64_LOAD = 0x2b, F64_STORE = 0x39, F64_ADD = 0xa0, F64_MUL = 0xa2, F64_PROMOTE_F32 = 0xbb;
const simd = (opcode: number): number[] => [0xfd, ...unsigned(opcode)];
/** v128.load with alignment 2^alignLog2 and a constant offset. */
const V128_LOAD = (alignLog2: number, offset = 0): number[] => [...simd(0), alignLog2, ...unsigned(offset)];
const F64X2_ZERO = [...simd(12), ...new Array<number>(16).fill(0)];
/** Lanes 2, 3 of a f32x4 moved to lanes 0, 1 (shuffle of bytes 8–15, then 0–7). */
const I8X16_SHUFFLE_HIGH_HALF = [...simd(13), 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
const F64X2_LANE = (lane: number): number[] => [...simd(33), lane];
const F64X2_PROMOTE_LOW = simd(95);
const F64X2_ADD = simd(240);
const F64X2_MUL = simd(242);
const get = (local: number): number[] => [0x20, ...unsigned(local)];
const set = (local: number): number[] => [0x21, ...unsigned(local)];
const i32Const = (value: number): number[] => [0x41, ...signed(value)];

function unsigned(value: number): number[] {
  const bytes: number[] = [];
  do {
    const low = value & 0x7f;
    value >>>= 7;
    bytes.push(value ? low | 0x80 : low);
  } while (value);
  return bytes;
}

function signed(value: number): number[] {
  const bytes: number[] = [];
  for (;;) {
    const low = value & 0x7f;
    value >>= 7;
    if ((value === 0 && !(low & 0x40)) || (value === -1 && low & 0x40)) return [...bytes, low];
    bytes.push(low | 0x80);
  }
}

function vector(items: number[][]): number[] {
  return [...unsigned(items.length), ...items.flat()];
}

function section(id: number, bytes: number[]): number[] {
  return [id, ...unsigned(bytes.length), ...bytes];
}

function name(text: string): number[] {
  return vector([...Buffer.from(text)].map((byte) => [byte]));
}

/**
 * Builds the word-vector sentence encoder as an ONNX graph (build-time and test-time only):
 * int32 ids [batch, sequence] (from IdentifierWordTokenizer or WordPieceTokenizer) → Gather on an
 * int8 embedding table → weighted sum → L2 normalisation. Padding is id 0, whose row and weight
 * are zero, so no attention mask is needed (and int32 ids need no BigInt conversion per token).
 *
 * SIF (Arora et al. 2017) weighs a word by a/(a + p(w)) so frequent words count little. The
 * source lists words in frequency order, so p(w) is estimated from the rank with Zipf's law.
 * Rows are int8 with one scale per row; the scale is folded into the per-word weight, so the
 * graph needs a single weight lookup. The mean's denominator is left out: it cancels in the
 * normalisation.
 */
import { OnnxGraphBuilder, TensorType } from '../core/onnx/onnxGraphBuilder.js';

export const WORD_MODEL_OUTPUT = 'sentence_embedding';
/** A tiny fixed component added before normalising, so a text with no known word maps to e0. */
const EMPTY_TEXT_EPSILON = 1e-6;

/** Zipf estimate of a word's probability from its 1-based frequency rank among `vocabularySize` words. */
export function zipfProbability(rank: number, vocabularySize: number): number {
  const harmonic = Math.log(vocabularySize) + 0.5772156649;
  return 1 / (rank * harmonic);
}

export function sifWeight(rank: number, vocabularySize: number, a: number): number {
  return a / (a + zipfProbability(rank, vocabularySize));
}

export interface WordVectorTable {
  dimensions: number;
  /** Row-major [rows × dimensions]; row 0 is the padding/unknown row and must be zeros. */
  vectors: Float32Array;
  /** One weight per row (row 0: 0). */
  weights: Float32Array;
}

/** Quantises each row to int8 and returns the ONNX model bytes. */
export function buildWordVectorModel(table: WordVectorTable, docString = ''): Uint8Array {
  const { dimensions, vectors, weights } = table;
  const rows = weights.length;
  if (vectors.length !== rows * dimensions) throw new Error(`vector table has ${vectors.length} values, expected ${rows}×${dimensions}`);
  const quantised = new Int8Array(rows * dimensions);
  const rowWeights = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    let maxAbs = 0;
    for (let d = 0; d < dimensions; d++) maxAbs = Math.max(maxAbs, Math.abs(vectors[row * dimensions + d]!));
    if (maxAbs === 0) continue;
    const scale = maxAbs / 127;
    for (let d = 0; d < dimensions; d++) quantised[row * dimensions + d] = Math.round(vectors[row * dimensions + d]! / scale);
    rowWeights[row] = weights[row]! * scale;
  }

  const g = new OnnxGraphBuilder();
  const ids = g.input('input_ids', TensorType.INT32, ['batch', 'sequence']);
  const tableName = g.constant(TensorType.INT8, [rows, dimensions], quantised, 'word_vectors_int8');
  const weightName = g.floats([rows], rowWeights, 'word_weights');

  const wordVectors = g.op('Cast', [g.op('Gather', [tableName, ids])], { to: TensorType.FLOAT });
  const positionWeights = g.op('Gather', [weightName, ids]);
  const weighted = g.op('Mul', [wordVectors, g.op('Unsqueeze', [positionWeights, g.int64s([-1])])]);
  const summed = g.op('ReduceSum', [weighted, g.int64s([1])], { keepdims: 0 });
  const emptyTextDirection = new Float32Array(dimensions);
  emptyTextDirection[0] = EMPTY_TEXT_EPSILON;
  const guarded = g.op('Add', [summed, g.floats([dimensions], emptyTextDirection)]);
  const norm = g.op('ReduceL2', [guarded], { axes: [1], keepdims: 1 });
  g.op('Div', [guarded, norm], {}, WORD_MODEL_OUTPUT);
  g.output(WORD_MODEL_OUTPUT, TensorType.FLOAT, ['batch', dimensions]);
  return g.encode(docString);
}

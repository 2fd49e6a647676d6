/**
 * Builds the word-vector sentence encoder as an ONNX graph (build-time and test-time only). The
 * sentence vector is a weighted bag of rows, so the graph takes the batch as a bag, not as padded
 * [batch, sequence] ids (whose gather, cast and weighting made three [B, L, D] tensors and were
 * most of the model's time):
 *   token_ids    int32 [tokens]: each distinct id of the batch once;
 *   token_counts float [batch, tokens]: how often text b uses token_ids[t] (tokenBag.ts).
 * Gather the distinct int8 rows, cast, then one MatMul of (counts × per-row weight) [B, T] by the
 * rows [T, D] → L2 normalisation. Id 0 (padding/unknown) has a zero row and weight.
 *
 * SIF (Arora et al. 2017) weighs a word by a/(a + p(w)) so frequent words count little. The
 * source lists words in frequency order, so p(w) is estimated from the rank with Zipf's law.
 * Rows are int8 with one scale per row; the scale is folded into the per-word weight, so the
 * graph needs a single weight lookup. The mean's denominator is left out: it cancels in the
 * normalisation.
 */
import { BAG_COUNTS_INPUT, BAG_IDS_INPUT } from '../core/embedding/tokenBag.js';
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

  return encodeBagGraph(rows, dimensions, quantised, rowWeights, docString);
}

/** The graph over the quantised table: kept apart from quantisation so the export can change alone. */
function encodeBagGraph(rows: number, dimensions: number, quantised: Int8Array, rowWeights: Float32Array, docString: string): Uint8Array {
  const g = new OnnxGraphBuilder();
  const ids = g.input(BAG_IDS_INPUT, TensorType.INT32, ['tokens']);
  const counts = g.input(BAG_COUNTS_INPUT, TensorType.FLOAT, ['batch', 'tokens']);
  const tableName = g.constant(TensorType.INT8, [rows, dimensions], quantised, 'word_vectors_int8');
  const weightName = g.floats([rows], rowWeights, 'word_weights');

  const tokenRows = g.op('Cast', [g.op('Gather', [tableName, ids])], { to: TensorType.FLOAT });
  const weightedCounts = g.op('Mul', [counts, g.op('Gather', [weightName, ids])]);
  const summed = g.op('MatMul', [weightedCounts, tokenRows]);
  const emptyTextDirection = new Float32Array(dimensions);
  emptyTextDirection[0] = EMPTY_TEXT_EPSILON;
  const guarded = g.op('Add', [summed, g.floats([dimensions], emptyTextDirection)]);
  const norm = g.op('ReduceL2', [guarded], { axes: [1], keepdims: 1 });
  g.op('Div', [guarded, norm], {}, WORD_MODEL_OUTPUT);
  g.output(WORD_MODEL_OUTPUT, TensorType.FLOAT, ['batch', dimensions]);
  return g.encode(docString);
}

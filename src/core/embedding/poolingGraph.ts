/**
 * Sentence-transformers exports return token vectors, last_hidden_state [B, S, D]; pooling and
 * normalisation used to happen in JS after the whole tensor was copied out of the session (on a
 * GPU: over PCIe). This appends them to the graph at load time, so the session returns the
 * normalised [B, D] sentence vectors, always as float32 (fp16 exports included):
 *   mean: the mask-weighted sum of the token vectors as one batched MatMul (mask [B,1,S] ×
 *         hidden [B,S,D]); dividing by the token count is left out, normalising cancels it;
 *   cls:  the first token's vector;
 *   then x / sqrt(max(Σx², 1e-24)).
 * Only ops whose signature has not changed since opset 13 (Cast, Reshape, MatMul, Gather, Mul,
 * Max, Sqrt, Div), so the fragment fits any export whatever its opset.
 */
import { OnnxGraphBuilder, TensorType } from '../onnx/onnxGraphBuilder.js';
import { withFragment, type GraphFacts } from '../onnx/graphEdit.js';

export const POOLED_OUTPUT = 'docent_sentence_embedding';

export interface PoolingTarget {
  /** The token-vector output, [B, S, D]. */
  hidden: string;
  /** The attention mask input, [B, S]. */
  mask: string;
  pooling: 'mean' | 'cls';
  dimensions: number;
}

/** The token-vector output to pool, when the export has one (3-D float output). */
export function tokenVectorOutput(facts: GraphFacts): string | undefined {
  const candidates = facts.outputs.filter((output) => output.dims.length === 3 && (output.elemType === TensorType.FLOAT || output.elemType === TensorType.FLOAT16));
  return (candidates.find((output) => output.name === 'last_hidden_state' || output.name === 'token_embeddings') ?? candidates[0])?.name;
}

export function withPooling(model: Uint8Array, facts: GraphFacts, target: PoolingTarget): Uint8Array {
  const hiddenInfo = facts.outputs.find((output) => output.name === target.hidden);
  if (!hiddenInfo) throw new Error(`the model has no output ${target.hidden}`);
  const g = new OnnxGraphBuilder({ prefix: 'docent_pool_' });
  const hidden = hiddenInfo.elemType === TensorType.FLOAT ? target.hidden : g.op('Cast', [target.hidden], { to: TensorType.FLOAT });
  let pooled: string;
  if (target.pooling === 'cls') {
    pooled = g.op('Gather', [hidden, g.int64s([0], [])], { axis: 1 });
  } else {
    const mask = g.op('Reshape', [g.op('Cast', [target.mask], { to: TensorType.FLOAT }), g.int64s([0, 1, -1])]);
    pooled = g.op('Reshape', [g.op('MatMul', [mask, hidden]), g.int64s([0, -1])]);
  }
  const squares = g.op('Mul', [pooled, pooled]);
  const sumOfSquares = g.op('MatMul', [squares, g.floats([target.dimensions, 1], new Float32Array(target.dimensions).fill(1))]);
  const norm = g.op('Sqrt', [g.op('Max', [sumOfSquares, g.floats([], [1e-24])])]);
  g.op('Div', [pooled, norm], {}, POOLED_OUTPUT);
  g.output(POOLED_OUTPUT, TensorType.FLOAT, ['batch', target.dimensions]);
  return withFragment(model, g.encodeFragment());
}

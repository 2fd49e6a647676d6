/**
 * What the engine changes in a decoder export when it loads it, and what it needs to know about
 * its attention.
 *
 * Last-token logits: exports return logits for every position ([B, S, V]; 78 MB for a
 * 128-token chunk at Qwen2.5's 151,936-token vocabulary) although a prefill uses one row per
 * sequence. A small fragment appended to the graph gathers the wanted rows on the device, so
 * the session hands over [R, V] only, as float32 whatever the export's type (converting fp16
 * on the host cost more than choosing the token: bench:generation).
 *
 * GroupQueryAttention: onnxruntime-genai's GPU exports use com.microsoft.GroupQueryAttention,
 * which takes per-row lengths (seqlens_k, from the attention mask) and assumes each row's
 * cache starts at time 0 (kvBatch.ts `right` layout). It also refuses several new tokens per
 * row with a past unless the batch is 1 ("batch_size must be 1 when sequence_length > 1 and
 * past context is given", onnxruntime 1.30's CPU kernel), so such chunks are prefilled alone.
 */
import { readFile } from 'node:fs/promises';
import { OnnxGraphBuilder, TensorType } from '../core/onnx/onnxGraphBuilder.js';
import { readGraphFacts, withFragment, type GraphFacts } from '../core/onnx/graphEdit.js';

/** Input added to the decoder: flat indices (row × sequence + position) of the logits rows to return. */
export const LOGIT_INDEX = 'docent_logit_index';
/** Output added to the decoder: the gathered logits rows, [R, vocab]. */
export const LAST_LOGITS = 'docent_last_logits';

export type AttentionKind = 'group-query' | 'plain';

export interface PreparedDecoder {
  bytes: Uint8Array;
  facts: GraphFacts;
  attention: AttentionKind;
}

export async function prepareDecoder(modelPath: string, logitsName: (facts: GraphFacts) => string | undefined): Promise<PreparedDecoder> {
  const original = await readFile(modelPath);
  const facts = readGraphFacts(original);
  const logits = logitsName(facts);
  const output = facts.outputs.find((info) => info.name === logits);
  const attention: AttentionKind = facts.opTypes.has('com.microsoft:GroupQueryAttention') ? 'group-query' : 'plain';
  if (!output) return { bytes: original, facts, attention };

  // Opset-stable ops only (Shape, Gather, Concat, Reshape): the export's opset may be old.
  const g = new OnnxGraphBuilder({ prefix: 'docent_logits_' });
  const shape = g.op('Shape', [output.name]);
  const vocab = g.op('Gather', [shape, g.int64s([2])], { axis: 0 });
  const flatShape = g.op('Concat', [g.int64s([-1]), vocab], { axis: 0 });
  const flat = g.op('Reshape', [output.name, flatShape]);
  g.input(LOGIT_INDEX, TensorType.INT64, ['logit_rows']);
  if (output.elemType === TensorType.FLOAT) g.op('Gather', [flat, LOGIT_INDEX], { axis: 0 }, LAST_LOGITS);
  else g.op('Cast', [g.op('Gather', [flat, LOGIT_INDEX], { axis: 0 })], { to: TensorType.FLOAT }, LAST_LOGITS);
  g.output(LAST_LOGITS, TensorType.FLOAT, ['logit_rows', output.dims[2] ?? 'vocab']);
  return { bytes: withFragment(original, g.encodeFragment()), facts, attention };
}

/**
 * Builds small Llama-shaped decoder-only ONNX models (token embeddings, RMSNorm, rotary
 * attention with a KV cache, SwiGLU MLP, `logits`) with onnx-proto, plus a byte-level BPE
 * `tokenizer.json` that @huggingface/tokenizers loads. Weights are deterministic random numbers
 * from a seed, so every test and benchmark run sees the same model.
 *
 * Two I/O layouts, as real exporters write them:
 * - `optimum`: int64 `input_ids`/`attention_mask`/`position_ids`, `past_key_values.N.key|value`
 *   [B, H, T, D] in, `logits` + `present.N.key|value` out.
 * - `genai`: int32 inputs, combined `past_N` [2, B, H, T, D] in, `present_N` out, and a
 *   `genai_config.json` that names them (the onnxruntime-genai GPT-2 export style).
 * - `genai-gqa`: what onnxruntime-genai's model builder writes for GPUs: attention is one
 *   com.microsoft.GroupQueryAttention node per layer (fewer KV heads than query heads, rotary
 *   inside the op from cos/sin caches), seqlens_k = sum(attention_mask) − 1 and
 *   total_sequence_length = mask width computed in the graph, no position_ids input,
 *   `past_key_values.N.key|value` [B, kvHeads, T, D] named in a genai_config.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { seededRandom } from '../../src/core/seededRandom.js';

export interface DecoderSpec {
  layers: number;
  hidden: number;
  heads: number;
  /** MLP width; defaults to 2 × hidden. */
  intermediate?: number;
  /** Vocabulary size; at least 259 (3 special tokens + 256 bytes). Extra ids are byte-pair merges. */
  vocab: number;
  seed: number;
  /** Element type of the KV cache and the logits; the arithmetic inside is always fp32. */
  dtype?: 'float32' | 'float16';
  layout?: 'optimum' | 'genai' | 'genai-gqa';
  /** Key/value heads (GroupQueryAttention layout only); defaults to heads / 2. */
  kvHeads?: number;
  /** Rows of the rotary tables, i.e. the context length. */
  maxPositions?: number;
}

export const SPECIAL_TOKENS = ['<unk>', '<s>', '</s>'] as const;
export const BOS_ID = 1;
export const EOS_ID = 2;

const TYPE = onnx.TensorProto.DataType;
const ATTR = onnx.AttributeProto.AttributeType;

type Attribute = number | number[] | onnx.ITensorProto;

/** Minimal graph builder: every node gets fresh output names. */
class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private counter = 0;

  op(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, outputCount = 1, outputNames?: string[], domain?: string): string[] {
    const outputs = outputNames ?? Array.from({ length: outputCount }, () => `${opType.toLowerCase()}_${this.counter++}`);
    this.nodes.push({
      opType,
      domain,
      name: `${opType}_${this.counter++}`,
      input: inputs,
      output: outputs,
      attribute: Object.entries(attributes).map(([name, value]) => attributeProto(name, value)),
    });
    return outputs;
  }

  one(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, outputName?: string): string {
    return this.op(opType, inputs, attributes, 1, outputName ? [outputName] : undefined)[0]!;
  }

  floats(name: string, dims: number[], values: Float32Array): string {
    this.initializers.push({ name, dims, dataType: TYPE.FLOAT, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
    return name;
  }

  ints(name: string, values: number[], dims: number[] = [values.length]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims, dataType: TYPE.INT64, rawData: new Uint8Array(data.buffer) });
    return name;
  }
}

function attributeProto(name: string, value: Attribute): onnx.IAttributeProto {
  if (typeof value === 'number') return Number.isInteger(value) ? { name, type: ATTR.INT, i: value } : { name, type: ATTR.FLOAT, f: value };
  if (Array.isArray(value)) return { name, type: ATTR.INTS, ints: value };
  return { name, type: ATTR.TENSOR, t: value };
}

function uniform(random: () => number, count: number, scale: number): Float32Array {
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = (random() * 2 - 1) * scale;
  return values;
}

function valueInfo(name: string, elemType: number, dims: Array<number | string>): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** Encodes the decoder described by `spec` as an ONNX ModelProto (opset 17). */
export function buildDecoderModel(spec: DecoderSpec): Uint8Array {
  const { layers, hidden, heads, vocab, seed } = spec;
  const intermediate = spec.intermediate ?? hidden * 2;
  const headDim = hidden / heads;
  const maxPositions = spec.maxPositions ?? 1024;
  const layout = spec.layout ?? 'optimum';
  const kvType = spec.dtype === 'float16' ? TYPE.FLOAT16 : TYPE.FLOAT;
  const idType = layout === 'genai' ? TYPE.INT32 : TYPE.INT64;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) throw new Error('hidden / heads must be an even integer');
  if (vocab < 259) throw new Error('vocab must be at least 259');
  if (layout === 'genai-gqa') return buildGroupQueryDecoder(spec);

  const random = seededRandom(seed);
  const g = new GraphBuilder();
  const inputs: onnx.IValueInfoProto[] = [
    valueInfo('input_ids', idType, ['batch_size', 'sequence_length']),
    valueInfo('attention_mask', idType, ['batch_size', 'total_sequence_length']),
    valueInfo('position_ids', idType, ['batch_size', 'sequence_length']),
  ];
  const outputs: onnx.IValueInfoProto[] = [valueInfo('logits', kvType, ['batch_size', 'sequence_length', vocab])];

  // Constants shared by all layers.
  const axis0 = g.ints('axis0', [0]);
  const axis1 = g.ints('axis1', [1]);
  const axes12 = g.ints('axes12', [1, 2]);
  const scalar1 = g.ints('scalar1', [1], []);
  const halfSplit = g.ints('half_split', [headDim / 2, headDim / 2]);
  const headShape = g.ints('head_shape', [0, 0, heads, headDim]);
  const mergedShape = g.ints('merged_shape', [0, 0, hidden]);
  const epsilon = g.floats('rms_eps', [], Float32Array.of(1e-5));
  const one = g.floats('one', [], Float32Array.of(1));
  const maskScale = g.floats('mask_scale', [], Float32Array.of(1e9));
  const attnScale = g.floats('attn_scale', [], Float32Array.of(1 / Math.sqrt(headDim)));

  // Causal + padding mask as an additive bias [B, 1, S, T]: 0 where visible, -1e9 elsewhere.
  const sequenceLength = g.one('Gather', [g.one('Shape', ['input_ids']), scalar1], { axis: 0 });
  const totalLength = g.one('Gather', [g.one('Shape', ['attention_mask']), scalar1], { axis: 0 });
  const pastLength = g.one('Sub', [totalLength, sequenceLength]);
  const squareShape = g.one('Concat', [g.one('Unsqueeze', [sequenceLength, axis0]), g.one('Unsqueeze', [totalLength, axis0])], { axis: 0 });
  const ones = g.one('ConstantOfShape', [squareShape], { value: { dims: [1], dataType: TYPE.FLOAT, floatData: [1] } });
  const causal = g.one('Trilu', [ones, pastLength], { upper: 0 });
  const padding = g.one('Unsqueeze', [g.one('Cast', ['attention_mask'], { to: TYPE.FLOAT }), axes12]);
  const visible = g.one('Mul', [causal, padding]);
  const maskBias = g.one('Mul', [g.one('Sub', [visible, one]), maskScale]);

  // Rotary tables indexed by position_ids, HF layout: cos = [cos(f), cos(f)] over the head dim.
  const { cos: cosTable, sin: sinTable } = rotaryTables(maxPositions, headDim);
  const rotary = (table: string): string => {
    const half = g.one('Unsqueeze', [g.one('Gather', [table, 'position_ids'], { axis: 0 }), axis1]);
    return g.one('Concat', [half, half], { axis: -1 });
  };
  const cos = rotary(g.floats('rope_cos', [maxPositions, headDim / 2], cosTable));
  const sin = rotary(g.floats('rope_sin', [maxPositions, headDim / 2], sinTable));
  const applyRotary = (x: string): string => {
    const [x1, x2] = g.op('Split', [x, halfSplit], { axis: -1 }, 2) as [string, string];
    const rotated = g.one('Concat', [g.one('Neg', [x2]), x1], { axis: -1 });
    return g.one('Add', [g.one('Mul', [x, cos]), g.one('Mul', [rotated, sin])]);
  };

  const rmsNorm = (x: string, name: string): string => {
    const weight = g.floats(name, [hidden], Float32Array.from({ length: hidden }, () => 1 + (random() - 0.5) * 0.2));
    const meanSquare = g.one('ReduceMean', [g.one('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    const scaled = g.one('Div', [x, g.one('Sqrt', [g.one('Add', [meanSquare, epsilon])])]);
    return g.one('Mul', [scaled, weight]);
  };
  const linear = (x: string, name: string, inSize: number, outSize: number): string =>
    g.one('MatMul', [x, g.floats(name, [inSize, outSize], uniform(random, inSize * outSize, Math.sqrt(3 / inSize)))]);
  const toHeads = (x: string): string => g.one('Transpose', [g.one('Reshape', [x, headShape])], { perm: [0, 2, 1, 3] });
  const fromKv = (x: string): string => (kvType === TYPE.FLOAT ? x : g.one('Cast', [x], { to: TYPE.FLOAT }));
  const toKv = (x: string, name: string): string => g.one('Cast', [x], { to: kvType }, name);
  // An fp32 cache is the Concat's own output, as real exports write it: a same-type Cast would
  // copy the whole cache once more on every step.
  const concatPresent = (parts: string[], axis: number, name: string): string => {
    if (kvType === TYPE.FLOAT) return g.one('Concat', parts, { axis }, name);
    const all = g.one('Concat', parts, { axis });
    toKv(all, name);
    return all;
  };

  const embedding = g.floats('embed_tokens', [vocab, hidden], uniform(random, vocab * hidden, 1));
  let hiddenState = g.one('Gather', [embedding, 'input_ids'], { axis: 0 });

  for (let layer = 0; layer < layers; layer++) {
    const normed = rmsNorm(hiddenState, `layers.${layer}.input_norm`);
    const q = applyRotary(toHeads(linear(normed, `layers.${layer}.q_proj`, hidden, hidden)));
    const k = applyRotary(toHeads(linear(normed, `layers.${layer}.k_proj`, hidden, hidden)));
    const v = toHeads(linear(normed, `layers.${layer}.v_proj`, hidden, hidden));

    let pastKey: string;
    let pastValue: string;
    let allKey: string;
    let allValue: string;
    if (layout === 'optimum') {
      pastKey = `past_key_values.${layer}.key`;
      pastValue = `past_key_values.${layer}.value`;
      inputs.push(valueInfo(pastKey, kvType, ['batch_size', heads, 'past_sequence_length', headDim]));
      inputs.push(valueInfo(pastValue, kvType, ['batch_size', heads, 'past_sequence_length', headDim]));
      outputs.push(valueInfo(`present.${layer}.key`, kvType, ['batch_size', heads, 'total_sequence_length', headDim]));
      outputs.push(valueInfo(`present.${layer}.value`, kvType, ['batch_size', heads, 'total_sequence_length', headDim]));
      allKey = concatPresent([fromKv(pastKey), k], 2, `present.${layer}.key`);
      allValue = concatPresent([fromKv(pastValue), v], 2, `present.${layer}.value`);
    } else {
      const past = `past_${layer}`;
      inputs.push(valueInfo(past, kvType, [2, 'batch_size', heads, 'past_seq_len', headDim]));
      outputs.push(valueInfo(`present_${layer}`, kvType, [2, 'batch_size', heads, 'total_seq_len', headDim]));
      const [keyPart, valuePart] = g.op('Split', [fromKv(past), g.ints(`kv_split_${layer}`, [1, 1])], { axis: 0 }, 2) as [string, string];
      allKey = g.one('Concat', [g.one('Squeeze', [keyPart, axis0]), k], { axis: 2 });
      allValue = g.one('Concat', [g.one('Squeeze', [valuePart, axis0]), v], { axis: 2 });
      concatPresent([g.one('Unsqueeze', [allKey, axis0]), g.one('Unsqueeze', [allValue, axis0])], 0, `present_${layer}`);
    }

    const scores = g.one('Add', [g.one('Mul', [g.one('MatMul', [q, g.one('Transpose', [allKey], { perm: [0, 1, 3, 2] })]), attnScale]), maskBias]);
    const attended = g.one('MatMul', [g.one('Softmax', [scores], { axis: -1 }), allValue]);
    const merged = g.one('Reshape', [g.one('Transpose', [attended], { perm: [0, 2, 1, 3] }), mergedShape]);
    hiddenState = g.one('Add', [hiddenState, linear(merged, `layers.${layer}.o_proj`, hidden, hidden)]);

    const mlpIn = rmsNorm(hiddenState, `layers.${layer}.post_norm`);
    const gate = linear(mlpIn, `layers.${layer}.gate_proj`, hidden, intermediate);
    const up = linear(mlpIn, `layers.${layer}.up_proj`, hidden, intermediate);
    const activated = g.one('Mul', [g.one('Mul', [gate, g.one('Sigmoid', [gate])]), up]);
    hiddenState = g.one('Add', [hiddenState, linear(activated, `layers.${layer}.down_proj`, intermediate, hidden)]);
  }

  // Logits scaled up so that greedy choices are clear-cut rather than near ties.
  const logits = g.one('Mul', [linear(rmsNorm(hiddenState, 'final_norm'), 'lm_head', hidden, vocab), g.floats('logit_scale', [], Float32Array.of(4))]);
  if (kvType === TYPE.FLOAT) g.one('Identity', [logits], {}, 'logits');
  else toKv(logits, 'logits');

  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'docent-test-decoder',
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'decoder', node: g.nodes, initializer: g.initializers, input: inputs, output: outputs },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** Sin/cos tables [maxPositions, headDim / 2] of the HF rotary layout (halves, not interleaved). */
function rotaryTables(maxPositions: number, headDim: number): { cos: Float32Array; sin: Float32Array } {
  const cos = new Float32Array(maxPositions * (headDim / 2));
  const sin = new Float32Array(maxPositions * (headDim / 2));
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < headDim / 2; i++) {
      const angle = p / Math.pow(10000, (2 * i) / headDim);
      cos[p * (headDim / 2) + i] = Math.cos(angle);
      sin[p * (headDim / 2) + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/** The `genai-gqa` layout: see the file comment. Arithmetic in fp32, cache and logits in `dtype`. */
function buildGroupQueryDecoder(spec: DecoderSpec): Uint8Array {
  const { layers, hidden, heads, vocab, seed } = spec;
  const intermediate = spec.intermediate ?? hidden * 2;
  const headDim = hidden / heads;
  const kvHeads = spec.kvHeads ?? Math.max(1, heads / 2);
  const maxPositions = spec.maxPositions ?? 1024;
  const kvType = spec.dtype === 'float16' ? TYPE.FLOAT16 : TYPE.FLOAT;
  if (headDim % 16 !== 0) throw new Error('GroupQueryAttention (CPU) needs a head size that is a multiple of 16');
  const random = seededRandom(seed);
  const g = new GraphBuilder();
  const inputs: onnx.IValueInfoProto[] = [
    valueInfo('input_ids', TYPE.INT64, ['batch_size', 'sequence_length']),
    valueInfo('attention_mask', TYPE.INT64, ['batch_size', 'total_sequence_length']),
  ];
  const outputs: onnx.IValueInfoProto[] = [valueInfo('logits', kvType, ['batch_size', 'sequence_length', vocab])];
  const epsilon = g.floats('rms_eps', [], Float32Array.of(1e-5));
  const toCache = (x: string): string => (kvType === TYPE.FLOAT ? x : g.one('Cast', [x], { to: kvType }));
  const fromCache = (x: string): string => (kvType === TYPE.FLOAT ? x : g.one('Cast', [x], { to: TYPE.FLOAT }));

  // As the genai builder's attn_mask_reformat subgraph: per-row lengths from the mask.
  const maskSum = g.one('ReduceSum', ['attention_mask', g.ints('mask_axes', [1])], { keepdims: 0 });
  const seqlensK = g.one('Cast', [g.one('Sub', [maskSum, g.ints('one_i64', [1], [])])], { to: TYPE.INT32 });
  const totalLength = g.one('Cast', [g.one('Gather', [g.one('Shape', ['attention_mask']), g.ints('index1', [1], [])], { axis: 0 })], { to: TYPE.INT32 });
  const tables = rotaryTables(maxPositions, headDim);
  const cosCache = toCache(g.floats('cos_cache', [maxPositions, headDim / 2], tables.cos));
  const sinCache = toCache(g.floats('sin_cache', [maxPositions, headDim / 2], tables.sin));

  const rmsNorm = (x: string, name: string): string => {
    const weight = g.floats(name, [hidden], Float32Array.from({ length: hidden }, () => 1 + (random() - 0.5) * 0.2));
    const meanSquare = g.one('ReduceMean', [g.one('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    return g.one('Mul', [g.one('Div', [x, g.one('Sqrt', [g.one('Add', [meanSquare, epsilon])])]), weight]);
  };
  const linear = (x: string, name: string, inSize: number, outSize: number): string =>
    g.one('MatMul', [x, g.floats(name, [inSize, outSize], uniform(random, inSize * outSize, Math.sqrt(3 / inSize)))]);

  let hiddenState = g.one('Gather', [g.floats('embed_tokens', [vocab, hidden], uniform(random, vocab * hidden, 1)), 'input_ids'], { axis: 0 });
  for (let layer = 0; layer < layers; layer++) {
    const normed = rmsNorm(hiddenState, `layers.${layer}.input_norm`);
    const q = toCache(linear(normed, `layers.${layer}.q_proj`, hidden, hidden));
    const k = toCache(linear(normed, `layers.${layer}.k_proj`, hidden, kvHeads * headDim));
    const v = toCache(linear(normed, `layers.${layer}.v_proj`, hidden, kvHeads * headDim));
    const pastKey = `past_key_values.${layer}.key`;
    const pastValue = `past_key_values.${layer}.value`;
    inputs.push(valueInfo(pastKey, kvType, ['batch_size', kvHeads, 'past_sequence_length', headDim]));
    inputs.push(valueInfo(pastValue, kvType, ['batch_size', kvHeads, 'past_sequence_length', headDim]));
    outputs.push(valueInfo(`present.${layer}.key`, kvType, ['batch_size', kvHeads, 'total_sequence_length', headDim]));
    outputs.push(valueInfo(`present.${layer}.value`, kvType, ['batch_size', kvHeads, 'total_sequence_length', headDim]));
    const [attended] = g.op(
      'GroupQueryAttention',
      [q, k, v, pastKey, pastValue, seqlensK, totalLength, cosCache, sinCache],
      { num_heads: heads, kv_num_heads: kvHeads, do_rotary: 1 },
      3,
      [`gqa_${layer}`, `present.${layer}.key`, `present.${layer}.value`],
      'com.microsoft',
    ) as [string];
    hiddenState = g.one('Add', [hiddenState, linear(fromCache(attended), `layers.${layer}.o_proj`, hidden, hidden)]);
    const mlpIn = rmsNorm(hiddenState, `layers.${layer}.post_norm`);
    const gate = linear(mlpIn, `layers.${layer}.gate_proj`, hidden, intermediate);
    const up = linear(mlpIn, `layers.${layer}.up_proj`, hidden, intermediate);
    hiddenState = g.one('Add', [hiddenState, linear(g.one('Mul', [g.one('Mul', [gate, g.one('Sigmoid', [gate])]), up]), `layers.${layer}.down_proj`, intermediate, hidden)]);
  }
  const logits = g.one('Mul', [linear(rmsNorm(hiddenState, 'final_norm'), 'lm_head', hidden, vocab), g.floats('logit_scale', [], Float32Array.of(4))]);
  if (kvType === TYPE.FLOAT) g.one('Identity', [logits], {}, 'logits');
  else g.one('Cast', [logits], { to: kvType }, 'logits');
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'docent-test-decoder',
    opsetImport: [
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: { name: 'decoder', node: g.nodes, initializer: g.initializers, input: inputs, output: outputs },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** GPT-2's byte ↔ printable-character table, which ByteLevel pre-tokenizers and decoders use. */
function byteCharacters(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(printable.includes(b) ? b : 256 + extra++);
  return table;
}

/**
 * A byte-level BPE tokenizer.json with `vocab` ids: the 3 special tokens, the 256 bytes, then
 * merges of common byte pairs (letters and space first) until the vocabulary is full.
 */
export function buildTokenizerJson(vocab: number): object {
  const bytes = byteCharacters();
  const vocabulary: Record<string, number> = {};
  SPECIAL_TOKENS.forEach((token, id) => (vocabulary[token] = id));
  bytes.forEach((char, b) => (vocabulary[char] = SPECIAL_TOKENS.length + b));
  const preferred = ' etaoinshrdlucmfwypvbgkjqxz'.split('').map((c) => bytes[c.charCodeAt(0)]!);
  const others = bytes.filter((c) => !preferred.includes(c));
  const alphabet = [...preferred, ...others];
  const merges: string[] = [];
  // Two-character merges never collide with the one-character entries, so ids simply count up
  // (counting Object.keys each time made a 16k vocabulary take half a minute).
  let size = SPECIAL_TOKENS.length + bytes.length;
  outer: for (const left of alphabet) {
    for (const right of alphabet) {
      if (size >= vocab) break outer;
      vocabulary[left + right] = size++;
      merges.push(`${left} ${right}`);
    }
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab: vocabulary, merges },
  };
}

export const TEST_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<s>' + message['role'] + ': ' + message['content'] + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<s>assistant: ' }}{% endif %}";

/**
 * Writes a model folder: model.onnx, tokenizer.json, tokenizer_config.json (with a chat template
 * unless `chatTemplate` is false) and, for the genai layout, genai_config.json.
 */
export async function writeDecoderFolder(dir: string, spec: DecoderSpec, options: { chatTemplate?: boolean } = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  const layout = spec.layout ?? 'optimum';
  const fileName = layout === 'optimum' ? 'model.onnx' : 'decoder.onnx';
  await writeFile(join(dir, fileName), buildDecoderModel(spec));
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(buildTokenizerJson(spec.vocab)));
  const tokenizerConfig: Record<string, unknown> = { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', model_max_length: spec.maxPositions ?? 1024 };
  if (options.chatTemplate !== false) tokenizerConfig.chat_template = TEST_CHAT_TEMPLATE;
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
  if (layout !== 'optimum') {
    const kvNames =
      layout === 'genai'
        ? { inputs: { past_names: 'past_%d' }, outputs: { present_names: 'present_%d' } }
        : {
            inputs: { past_key_names: 'past_key_values.%d.key', past_value_names: 'past_key_values.%d.value' },
            outputs: { present_key_names: 'present.%d.key', present_value_names: 'present.%d.value' },
          };
    const genaiConfig = {
      model: {
        type: 'llama',
        bos_token_id: BOS_ID,
        eos_token_id: EOS_ID,
        pad_token_id: 0,
        vocab_size: spec.vocab,
        context_length: spec.maxPositions ?? 1024,
        decoder: {
          filename: fileName,
          head_size: spec.hidden / spec.heads,
          hidden_size: spec.hidden,
          num_attention_heads: spec.heads,
          num_key_value_heads: layout === 'genai' ? spec.heads : (spec.kvHeads ?? spec.heads / 2),
          num_hidden_layers: spec.layers,
          inputs: { input_ids: 'input_ids', attention_mask: 'attention_mask', ...(layout === 'genai' ? { position_ids: 'position_ids' } : {}), ...kvNames.inputs },
          outputs: { logits: 'logits', ...kvNames.outputs },
        },
      },
    };
    await writeFile(join(dir, 'genai_config.json'), JSON.stringify(genaiConfig, null, 2));
  }
}

/**
 * Builds a small BERT-shaped sentence-transformers folder for tests and benchmarks: a WordPiece
 * tokenizer.json, config.json, 1_Pooling/config.json and onnx/model.onnx taking input_ids,
 * attention_mask and token_type_ids and returning last_hidden_state. Weights are seeded
 * pseudo-random; the layers (embeddings + LayerNorm, masked single-head self-attention,
 * feed-forward) make every output depend on the mask, the positions and the token types.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { floatToHalf } from '../../src/core/onnx/float16.js';
import { OnnxGraphBuilder, TensorType } from '../../src/core/onnx/onnxGraphBuilder.js';
import { seededRandom } from '../../src/core/seededRandom.js';

export interface BertModelOptions {
  hidden?: number;
  layers?: number;
  /** Position embeddings; also the tokenizer's model_max_length. */
  maxPositions?: number;
  pooling?: 'mean' | 'cls';
  /** Written to sentence_bert_config.json when set. */
  maxSeqLength?: number;
  seed?: number;
  /**
   * Which exports to write: onnx/model.onnx (fp32, the default), onnx/model_fp16.onnx (fp16
   * weights and fp16 output, as optimum's --fp16 and transformers.js name it), or both.
   */
  files?: 'fp32' | 'fp16' | 'both';
}

const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const WORDS = (
  'the of and to in is for on with as by that this it be are from or an at which can not if you your use used using ' +
  'set get file files index indexes table tables query queries server client data database key keys value values ' +
  'function functions return returns string number error errors option options default config configuration ' +
  'read write open close stream buffer event events module modules path name type types create delete update ' +
  'insert select where join order group limit transaction lock locks vacuum backup restore replication wal log ' +
  'http https request response header headers port host connection connections timeout retry async await promise ' +
  'callback thread worker process memory cache disk size time date json text array object class method call ' +
  'rotate signing api token tokens user users role roles permission grant install run build test deploy version'
).split(' ');
const LETTERS = 'abcdefghijklmnopqrstuvwxyz0123456789';
const PUNCTUATION = '.,;:!?()[]{}\'"-_/=+*<>@#$%&';

export function bertVocabulary(): string[] {
  return [...SPECIAL_TOKENS, ...WORDS, ...LETTERS, ...PUNCTUATION, ...[...LETTERS].map((c) => `##${c}`), '##s', '##ed', '##ing', '##er'];
}

/** Writes the folder and returns its path (`dir`). */
export function writeBertModelFolder(dir: string, options: BertModelOptions = {}): string {
  const hidden = options.hidden ?? 32;
  const maxPositions = options.maxPositions ?? 128;
  const vocabulary = bertVocabulary();
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  mkdirSync(join(dir, '1_Pooling'), { recursive: true });
  const files = options.files ?? 'fp32';
  if (files !== 'fp16') writeFileSync(join(dir, 'onnx', 'model.onnx'), buildBertModel(vocabulary.length, { ...options, hidden, maxPositions }, false));
  if (files !== 'fp32') writeFileSync(join(dir, 'onnx', 'model_fp16.onnx'), buildBertModel(vocabulary.length, { ...options, hidden, maxPositions }, true));
  writeJson(join(dir, 'tokenizer.json'), wordPieceTokenizer(vocabulary));
  writeJson(join(dir, 'tokenizer_config.json'), {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    model_max_length: maxPositions,
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    mask_token: '[MASK]',
  });
  writeJson(join(dir, 'config.json'), {
    _name_or_path: 'docent-test/tiny-bert',
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_size: hidden,
    num_hidden_layers: options.layers ?? 2,
    num_attention_heads: 1,
    max_position_embeddings: maxPositions,
    vocab_size: vocabulary.length,
    type_vocab_size: 2,
  });
  writeJson(join(dir, '1_Pooling', 'config.json'), {
    word_embedding_dimension: hidden,
    pooling_mode_cls_token: options.pooling === 'cls',
    pooling_mode_mean_tokens: options.pooling !== 'cls',
    pooling_mode_max_tokens: false,
    pooling_mode_mean_sqrt_len_tokens: false,
  });
  if (options.maxSeqLength !== undefined) writeJson(join(dir, 'sentence_bert_config.json'), { max_seq_length: options.maxSeqLength, do_lower_case: false });
  return dir;
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value, null, 2));
}

function wordPieceTokenizer(vocabulary: string[]): unknown {
  const vocab = Object.fromEntries(vocabulary.map((token, id) => [token, id]));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

/** Deterministic uniform(-scale, scale) values. */
function randomValues(count: number, scale: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = (random() * 2 - 1) * scale;
  return values;
}

/** The same weights either way; fp16 stores them (and the output) as half floats and computes in fp32. */
function buildBertModel(vocabularySize: number, options: BertModelOptions & { hidden: number; maxPositions: number }, fp16: boolean): Uint8Array {
  const { hidden, maxPositions } = options;
  let seed = options.seed ?? 1234;
  const g = new OnnxGraphBuilder();
  const weights = (dims: number[], scale: number) => {
    const values = randomValues(dims.reduce((a, b) => a * b, 1), scale, seed++);
    if (!fp16) return g.floats(dims, values);
    return g.op('Cast', [g.constant(TensorType.FLOAT16, dims, Uint16Array.from(values, floatToHalf))], { to: TensorType.FLOAT });
  };
  const ones = g.floats([hidden], new Float32Array(hidden).fill(1));
  const zeros = g.floats([hidden], new Float32Array(hidden));
  const layerNorm = (x: string) => g.op('LayerNormalization', [x, ones, zeros], { axis: -1, epsilon: { float: 1e-12 } });

  const ids = g.input('input_ids', TensorType.INT64, ['batch', 'sequence']);
  const mask = g.input('attention_mask', TensorType.INT64, ['batch', 'sequence']);
  const typeIds = g.input('token_type_ids', TensorType.INT64, ['batch', 'sequence']);

  const length = g.op('Gather', [g.op('Shape', [ids]), g.constant(TensorType.INT64, [], BigInt64Array.of(1n))], { axis: 0 });
  const positions = g.op('Range', [g.constant(TensorType.INT64, [], BigInt64Array.of(0n)), length, g.constant(TensorType.INT64, [], BigInt64Array.of(1n))]);
  const embedded = g.op('Add', [
    g.op('Add', [g.op('Gather', [weights([vocabularySize, hidden], 1), ids]), g.op('Gather', [weights([maxPositions, hidden], 0.5), positions])]),
    g.op('Gather', [weights([2, hidden], 0.5), typeIds]),
  ]);
  let x = layerNorm(embedded);

  // Padding positions get -10000 before the softmax, as in BERT.
  const maskBias = g.op('Unsqueeze', [
    g.op('Mul', [g.op('Sub', [g.floats([], [1]), g.op('Cast', [mask], { to: TensorType.FLOAT })]), g.floats([], [-10000])]),
    g.int64s([1]),
  ]);
  const scoreScale = g.floats([], [1 / Math.sqrt(hidden)]);
  for (let layer = 0; layer < (options.layers ?? 2); layer++) {
    const query = g.op('MatMul', [x, weights([hidden, hidden], 1 / Math.sqrt(hidden))]);
    const keyT = g.op('Transpose', [g.op('MatMul', [x, weights([hidden, hidden], 1 / Math.sqrt(hidden))])], { perm: [0, 2, 1] });
    const value = g.op('MatMul', [x, weights([hidden, hidden], 1 / Math.sqrt(hidden))]);
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [query, keyT]), scoreScale]), maskBias]);
    const context = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), value]);
    x = layerNorm(g.op('Add', [x, g.op('MatMul', [context, weights([hidden, hidden], 1 / Math.sqrt(hidden))])]));
    const inner = g.op('Relu', [g.op('MatMul', [x, weights([hidden, 4 * hidden], 1 / Math.sqrt(hidden))])]);
    x = layerNorm(g.op('Add', [x, g.op('MatMul', [inner, weights([4 * hidden, hidden], 1 / Math.sqrt(4 * hidden))])]));
  }
  g.op(fp16 ? 'Cast' : 'Identity', [x], fp16 ? { to: TensorType.FLOAT16 } : {}, 'last_hidden_state');
  g.output('last_hidden_state', fp16 ? TensorType.FLOAT16 : TensorType.FLOAT, ['batch', 'sequence', hidden]);
  return g.encode('docent test BERT-shaped encoder');
}

/**
 * Tokenises and runs the ONNX model: the work one embedding worker does. Pooling and
 * normalisation run inside the graph (poolingGraph.ts), so a session hands over [B, D] float32
 * sentence vectors only. It is thread-agnostic so tests can run it directly and compare with
 * the worker pool.
 *
 * Device: GPU providers are tried for transformer models only. The word-vector and static
 * models are a table lookup and a weighted sum: a GPU cannot speed that up (tokenising is most
 * of their time), so under `auto` they stay on the CPU; an explicit device is still honoured.
 */
import { createHash } from 'node:crypto';
import { readFileSync, promises as fsp } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { toFloat32 } from '../onnx/float16.js';
import { externalDataOptions, readGraphFacts } from '../onnx/graphEdit.js';
import { createSession, type ActiveDevice, type DeviceChoice, type PreparedModel } from '../onnx/session.js';
import { POOLED_OUTPUT, tokenVectorOutput, withPooling } from './poolingGraph.js';
import type { EmbeddingModelSpec, TransformerModelSpec, WordVectorModelSpec } from './modelSpec.js';
import { BAG_COUNTS_INPUT, BAG_IDS_INPUT, TokenBagBuilder } from './tokenBag.js';
import { WordPieceTokenizer } from './wordPieceTokenizer.js';
import { IdentifierWordTokenizer, PADDING_ID } from './wordTokenizer.js';

export interface RunnerOptions {
  device: DeviceChoice;
  /** Adapter index for CUDA and DirectML. */
  deviceId?: number;
  /** onnxruntime intra-op threads for this runner's session. */
  intraOpThreads?: number;
  /** Upper bound on padded tokens (texts × longest) per model call. */
  maxBatchTokens?: number;
}

export interface RunResult {
  vectors: Float32Array[];
  /** Real (unpadded) tokens processed. */
  tokens: number;
}

/** The fields of @huggingface/tokenizers' encode() result used here (its bundled types do not resolve under NodeNext). */
interface Encoding {
  ids: number[];
  token_type_ids: number[];
}

interface EncodedText {
  ids: number[];
  typeIds?: number[];
}

interface TextEncoder {
  encode(text: string): EncodedText;
  /** Word-vector models: ids are below this. */
  vocabularySize?: number;
}

const DEFAULT_MAX_BATCH_TOKENS = 16_384;

export class EmbeddingRunner {
  private constructor(
    private readonly spec: EmbeddingModelSpec,
    private readonly session: ort.InferenceSession,
    private readonly encoder: TextEncoder,
    readonly activeDevice: ActiveDevice,
    private readonly maxBatchTokens: number,
    private readonly output: string,
    /** Word-vector models take the batch as a bag of tokens (tokenBag.ts). */
    private readonly bag: TokenBagBuilder | undefined,
  ) {}

  static async create(spec: EmbeddingModelSpec, options: RunnerOptions): Promise<EmbeddingRunner> {
    if (spec.kind === 'word-vectors' && spec.checksums) await verifyChecksums(spec.checksums);
    const encoder = spec.kind === 'transformer' ? createTransformerEncoder(spec) : createWordEncoder(spec);
    const tableLookup = spec.kind !== 'transformer' && options.device === 'auto';
    const prepared = new Map<string, PreparedModel>();
    // Transformer exports get pooling appended; the other kinds already return sentence vectors.
    const prepare = async (provider: string): Promise<PreparedModel> => {
      if (spec.kind !== 'transformer') return { path: spec.modelPath };
      const path = modelFileFor(spec, provider);
      const cached = prepared.get(path);
      if (cached) return cached;
      const bytes = await fsp.readFile(path);
      const facts = readGraphFacts(bytes);
      const hidden = facts.inputs.some((input) => input.name === 'attention_mask') ? tokenVectorOutput(facts) : undefined;
      const model = hidden ? { path, bytes: withPooling(bytes, facts, { hidden, mask: 'attention_mask', pooling: spec.pooling, dimensions: spec.dimensions }) } : { path };
      prepared.set(path, model);
      return model;
    };
    const { session, active } = await createSession({ path: spec.modelPath, prepare }, tableLookup ? 'cpu' : { choice: options.device, deviceId: options.deviceId }, {
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
      ...externalDataOptions(spec.modelPath),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    if (tableLookup) active.fallbackReasons.push('GPU not tried: this model is a table lookup, which a GPU cannot speed up (device "auto" keeps it on the CPU)');
    const output = session.outputNames.includes(POOLED_OUTPUT) ? POOLED_OUTPUT : session.outputNames[0]!;
    let bag: TokenBagBuilder | undefined;
    if (spec.kind === 'word-vectors') {
      if (!session.inputNames.includes(BAG_IDS_INPUT) || !session.inputNames.includes(BAG_COUNTS_INPUT)) {
        await session.release();
        throw new Error(`${spec.modelPath} takes ${session.inputNames.join(', ')}, not the ${BAG_IDS_INPUT} and ${BAG_COUNTS_INPUT} of a word-vector model from this version; rebuild it (npm run build), or re-export a trained one with its weights (node --import tsx scripts/train-embedder/reexport.ts <folder>)`);
      }
      bag = new TokenBagBuilder(encoder.vocabularySize ?? 0);
    }
    return new EmbeddingRunner(spec, session, encoder, active, options.maxBatchTokens ?? DEFAULT_MAX_BATCH_TOKENS, output, bag);
  }

  /**
   * Embeds `texts` (in order), grouping them by token length so little padding is computed
   * (a bag of tokens has no padding: its groups are bounded by their real tokens).
   */
  async embed(texts: string[]): Promise<RunResult> {
    const encoded = texts.map((text) => this.encoder.encode(text));
    const order = encoded.map((_, index) => index).sort((a, b) => encoded[a]!.ids.length - encoded[b]!.ids.length);
    const vectors: Float32Array[] = new Array(texts.length);
    let tokens = 0;
    let start = 0;
    while (start < order.length) {
      // Sorted ascending, so the last member is the longest: grow while the group fits.
      let end = start + 1;
      let realTokens = encoded[order[start]!]!.ids.length;
      for (; end < order.length; end++) {
        const length = encoded[order[end]!]!.ids.length;
        if ((this.bag ? realTokens + length : (end + 1 - start) * Math.max(1, length)) > this.maxBatchTokens) break;
        realTokens += length;
      }
      const group = order.slice(start, end);
      const groupVectors = await this.runGroup(group.map((index) => encoded[index]!));
      group.forEach((index, position) => (vectors[index] = groupVectors[position]!));
      tokens += realTokens;
      start = end;
    }
    return { vectors, tokens };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }

  private async runGroup(group: EncodedText[]): Promise<Float32Array[]> {
    const batch = group.length;
    const feeds: Record<string, ort.Tensor> = {};
    if (this.bag) {
      const { ids, counts } = this.bag.build(group.map((text) => text.ids));
      feeds[BAG_IDS_INPUT] = new ort.Tensor('int32', ids, [ids.length]);
      feeds[BAG_COUNTS_INPUT] = new ort.Tensor('float32', counts, [batch, ids.length]);
    } else {
      const length = Math.max(1, ...group.map((text) => text.ids.length)); // a 0-length axis breaks some kernels
      const dims = [batch, length];
      const ids = new BigInt64Array(batch * length).fill(BigInt(PADDING_ID));
      const mask = new BigInt64Array(batch * length);
      const typeIds = new BigInt64Array(batch * length);
      group.forEach((text, row) => {
        text.ids.forEach((id, position) => {
          ids[row * length + position] = BigInt(id);
          mask[row * length + position] = 1n;
          typeIds[row * length + position] = BigInt(text.typeIds?.[position] ?? 0);
        });
      });
      for (const name of this.session.inputNames) {
        if (name === 'input_ids') feeds[name] = new ort.Tensor('int64', ids, dims);
        else if (name === 'attention_mask') feeds[name] = new ort.Tensor('int64', mask, dims);
        else if (name === 'token_type_ids') feeds[name] = new ort.Tensor('int64', typeIds, dims);
        else throw new Error(`model input "${name}" is not supported (expected input_ids, attention_mask, token_type_ids)`);
      }
    }
    const outputs = await this.session.run(feeds, [this.output]);
    const output = outputs[this.output]!;
    if (output.dims.length !== 2 || output.dims[1] !== this.spec.dimensions) {
      throw new Error(`model output ${this.output} has shape [${output.dims.join(', ')}], expected [${batch}, ${this.spec.dimensions}]`);
    }
    const data = toFloat32(output.data as Float32Array | Uint16Array);
    const vectors = group.map((_, row) => data.slice(row * this.spec.dimensions, (row + 1) * this.spec.dimensions));
    output.dispose();
    return vectors.map(normalise);
  }
}

/** GPUs run an fp16 export when the folder has one; the CPU runs fp32 when there is one. */
function modelFileFor(spec: TransformerModelSpec, provider: string): string {
  return provider !== 'cpu' && spec.fp16ModelPath ? spec.fp16ModelPath : spec.modelPath;
}

/** Unit length in place; a zero vector becomes e0 so cosine math stays finite. */
function normalise(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const value of vector) norm += value * value;
  if (norm === 0) {
    vector[0] = 1;
    return vector;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let d = 0; d < vector.length; d++) vector[d]! *= scale;
  return vector;
}

function createWordEncoder(spec: WordVectorModelSpec): TextEncoder {
  const vocabulary = readFileSync(spec.vocabularyPath, 'utf8').split('\n');
  const tokenizer = spec.tokenizer === 'wordpiece' ? new WordPieceTokenizer(vocabulary) : new IdentifierWordTokenizer(vocabulary);
  return { encode: (text) => ({ ids: tokenizer.encode(text, spec.maxLength) }), vocabularySize: vocabulary.length };
}

/** A model file that is not what its manifest says (truncated, replaced) fails loudly instead of embedding garbage. */
async function verifyChecksums(checksums: Record<string, string>): Promise<void> {
  for (const [path, expected] of Object.entries(checksums)) {
    const actual = createHash('sha256').update(await fsp.readFile(path)).digest('hex');
    if (actual !== expected) throw new Error(`${path} is damaged (sha256 ${actual.slice(0, 12)}…, expected ${expected.slice(0, 12)}…); reinstall Docent or rebuild the model`);
  }
}

/** Hugging Face tokenizer with truncation at the model's max length, special tokens kept. */
export function createTransformerEncoder(spec: Pick<TransformerModelSpec, 'tokenizerPath' | 'tokenizerConfigPath' | 'maxLength'>): TextEncoder {
  const tokenizer = new Tokenizer(
    JSON.parse(readFileSync(spec.tokenizerPath, 'utf8')),
    spec.tokenizerConfigPath ? JSON.parse(readFileSync(spec.tokenizerConfigPath, 'utf8')) : {},
  );
  // How many special tokens the post-processor puts before and after the text ([CLS] … [SEP]).
  const wrapped: number[] = tokenizer.encode('a', { add_special_tokens: true }).ids;
  const content: number[] = tokenizer.encode('a', { add_special_tokens: false }).ids;
  const prefix = wrapped.findIndex((_, index) => content.every((id, k) => wrapped[index + k] === id));
  const suffix = wrapped.length - prefix - content.length;
  const maxContent = spec.maxLength - prefix - suffix;
  if (maxContent <= 0) throw new Error(`max length ${spec.maxLength} leaves no room for text`);
  return {
    encode(text) {
      const encoding: Encoding = tokenizer.encode(text, { add_special_tokens: true, return_token_type_ids: true });
      if (encoding.ids.length <= spec.maxLength) return { ids: encoding.ids, typeIds: encoding.token_type_ids };
      const keep = (values: number[]) => [...values.slice(0, prefix + maxContent), ...values.slice(values.length - suffix)];
      return { ids: keep(encoding.ids), typeIds: keep(encoding.token_type_ids) };
    },
  };
}

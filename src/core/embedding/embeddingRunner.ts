/**
 * Tokenises, runs the ONNX model, pools and normalises: the work one embedding worker does.
 * It is thread-agnostic so tests can run it directly and compare with the worker pool.
 */
import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { createSession, type ActiveDevice, type DeviceChoice } from '../onnx/session.js';
import type { EmbeddingModelSpec, TransformerModelSpec } from './modelSpec.js';
import { IdentifierWordTokenizer, PADDING_ID } from './wordTokenizer.js';

export interface RunnerOptions {
  device: DeviceChoice;
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
}

const DEFAULT_MAX_BATCH_TOKENS = 16_384;

export class EmbeddingRunner {
  private constructor(
    private readonly spec: EmbeddingModelSpec,
    private readonly session: ort.InferenceSession,
    private readonly encoder: TextEncoder,
    readonly activeDevice: ActiveDevice,
    private readonly maxBatchTokens: number,
  ) {}

  static async create(spec: EmbeddingModelSpec, options: RunnerOptions): Promise<EmbeddingRunner> {
    const encoder = spec.kind === 'transformer' ? createTransformerEncoder(spec) : createWordEncoder(spec.vocabularyPath, spec.maxLength);
    const { session, active } = await createSession(spec.modelPath, options.device, {
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    return new EmbeddingRunner(spec, session, encoder, active, options.maxBatchTokens ?? DEFAULT_MAX_BATCH_TOKENS);
  }

  /** Embeds `texts` (in order), grouping them by token length so little padding is computed. */
  async embed(texts: string[]): Promise<RunResult> {
    const encoded = texts.map((text) => this.encoder.encode(text));
    const order = encoded.map((_, index) => index).sort((a, b) => encoded[a]!.ids.length - encoded[b]!.ids.length);
    const vectors: Float32Array[] = new Array(texts.length);
    let tokens = 0;
    let start = 0;
    while (start < order.length) {
      // Sorted ascending, so the last member is the longest: grow while the padded size fits.
      let end = start + 1;
      while (end < order.length && (end + 1 - start) * Math.max(1, encoded[order[end]!]!.ids.length) <= this.maxBatchTokens) end++;
      const group = order.slice(start, end);
      const groupVectors = await this.runGroup(group.map((index) => encoded[index]!));
      group.forEach((index, position) => {
        vectors[index] = groupVectors[position]!;
        tokens += encoded[index]!.ids.length;
      });
      start = end;
    }
    return { vectors, tokens };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }

  private async runGroup(group: EncodedText[]): Promise<Float32Array[]> {
    const batch = group.length;
    const length = Math.max(1, ...group.map((text) => text.ids.length)); // a 0-length axis breaks some kernels
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
    const feeds: Record<string, ort.Tensor> = {};
    const dims = [batch, length];
    for (const name of this.session.inputNames) {
      if (name === 'input_ids') feeds[name] = new ort.Tensor('int64', ids, dims);
      else if (name === 'attention_mask') feeds[name] = new ort.Tensor('int64', mask, dims);
      else if (name === 'token_type_ids') feeds[name] = new ort.Tensor('int64', typeIds, dims);
      else throw new Error(`model input "${name}" is not supported (expected input_ids, attention_mask, token_type_ids)`);
    }
    const outputs = await this.session.run(feeds);
    const output = outputs[this.outputName()]!;
    const data = output.data as Float32Array;
    const vectors =
      output.dims.length === 2
        ? group.map((_, row) => data.slice(row * this.spec.dimensions, (row + 1) * this.spec.dimensions))
        : this.pool(data, output.dims, mask);
    for (const tensor of Object.values(outputs)) tensor.dispose();
    return vectors.map(normalise);
  }

  private outputName(): string {
    const names = this.session.outputNames;
    if (this.spec.kind === 'word-vectors') return names[0]!;
    return ['last_hidden_state', 'token_embeddings'].find((name) => names.includes(name)) ?? names[0]!;
  }

  /** Mean over unmasked positions or the first ([CLS]) position of [batch, length, hidden]. */
  private pool(data: Float32Array, dims: readonly number[], mask: BigInt64Array): Float32Array[] {
    const [batch, length, hidden] = dims as [number, number, number];
    if (hidden !== this.spec.dimensions) throw new Error(`model returns ${hidden}-d token vectors, expected ${this.spec.dimensions}`);
    const pooling = (this.spec as TransformerModelSpec).pooling;
    const vectors: Float32Array[] = [];
    for (let row = 0; row < batch; row++) {
      const base = row * length * hidden;
      if (pooling === 'cls') {
        vectors.push(data.slice(base, base + hidden));
        continue;
      }
      const sum = new Float32Array(hidden);
      let count = 0;
      for (let position = 0; position < length; position++) {
        if (mask[row * length + position] === 0n) continue;
        count++;
        const offset = base + position * hidden;
        for (let d = 0; d < hidden; d++) sum[d]! += data[offset + d]!;
      }
      if (count > 0) for (let d = 0; d < hidden; d++) sum[d]! /= count;
      vectors.push(sum);
    }
    return vectors;
  }
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

function createWordEncoder(vocabularyPath: string, maxLength: number): TextEncoder {
  const tokenizer = new IdentifierWordTokenizer(readFileSync(vocabularyPath, 'utf8').split('\n'));
  return { encode: (text) => ({ ids: tokenizer.encode(text, maxLength) }) };
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

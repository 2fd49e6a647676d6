/**
 * Describes an embedding model folder in a plain, structured-clone-able object that the embedding
 * workers receive. Reading a folder only opens its small JSON files; tokenizer and weights are
 * loaded by the workers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface TransformerModelSpec {
  kind: 'transformer';
  id: string;
  dimensions: number;
  /** The fp32 export when there is one (what the CPU runs), else the fp16 one. */
  modelPath: string;
  /** An fp16 export (onnx/model_fp16.onnx, as optimum and transformers.js name it): what GPUs run. */
  fp16ModelPath?: string;
  tokenizerPath: string;
  tokenizerConfigPath?: string;
  /** Tokens per text including special tokens; longer texts are truncated. */
  maxLength: number;
  pooling: 'mean' | 'cls';
}

/** The word-vector model built by scripts/build-default-model.ts (see src/build/wordVectorModel.ts). */
export interface WordVectorModelSpec {
  kind: 'word-vectors';
  id: string;
  dimensions: number;
  modelPath: string;
  vocabularyPath: string;
  maxLength: number;
  tokenizer: WordVectorTokenizer;
  /** Expected sha256 per file path, checked when a worker loads the model. */
  checksums?: Record<string, string>;
}

/** How a word-vector model's texts become ids: whole words (GloVe-SIF) or WordPiece pieces. */
export type WordVectorTokenizer = 'identifier-words' | 'wordpiece';

export type EmbeddingModelSpec = TransformerModelSpec | WordVectorModelSpec;

/** manifest.json of a word-vector model folder. */
export interface WordVectorManifest {
  id: string;
  kind: 'word-vectors';
  dimensions: number;
  model: string;
  vocabulary: string;
  maxLength: number;
  /** Default identifier-words. */
  tokenizer?: WordVectorTokenizer;
  /** sha256 of the model and vocabulary files, by file name. */
  sha256?: Record<string, string>;
  source: string;
  licence: string;
  /** Fingerprint of the inputs the folder was built from; the build skips when it matches. */
  buildKey: string;
}

export const WORD_VECTOR_MANIFEST = 'manifest.json';

/**
 * Reads a model folder: either a word-vector folder (manifest.json) or a Hugging Face
 * sentence-transformers ONNX export (tokenizer.json, config.json, onnx/model.onnx or model.onnx,
 * optional 1_Pooling/config.json and sentence_bert_config.json).
 */
export function readEmbeddingModelFolder(dir: string, options: { id?: string } = {}): EmbeddingModelSpec {
  const manifestPath = join(dir, WORD_VECTOR_MANIFEST);
  if (existsSync(manifestPath)) {
    const manifest = readJson<WordVectorManifest>(manifestPath);
    return {
      kind: 'word-vectors',
      id: options.id ?? manifest.id,
      dimensions: manifest.dimensions,
      modelPath: join(dir, manifest.model),
      vocabularyPath: join(dir, manifest.vocabulary),
      maxLength: manifest.maxLength,
      tokenizer: manifest.tokenizer ?? 'identifier-words',
      ...(manifest.sha256 ? { checksums: Object.fromEntries(Object.entries(manifest.sha256).map(([file, hash]) => [join(dir, file), hash])) } : {}),
    };
  }
  return readTransformerFolder(dir, options.id);
}

function readTransformerFolder(dir: string, id: string | undefined): TransformerModelSpec {
  const fp32Path = [join(dir, 'onnx', 'model.onnx'), join(dir, 'model.onnx')].find((path) => existsSync(path));
  const fp16ModelPath = [join(dir, 'onnx', 'model_fp16.onnx'), join(dir, 'model_fp16.onnx')].find((path) => existsSync(path));
  const modelPath = fp32Path ?? fp16ModelPath;
  const tokenizerPath = join(dir, 'tokenizer.json');
  const configPath = join(dir, 'config.json');
  const missing = [
    modelPath ? undefined : 'onnx/model.onnx (or model.onnx, or an fp16 onnx/model_fp16.onnx)',
    existsSync(tokenizerPath) ? undefined : 'tokenizer.json',
    existsSync(configPath) ? undefined : 'config.json',
  ].filter((name) => name !== undefined);
  if (!modelPath || missing.length > 0) {
    throw new Error(`${dir} is not a sentence-transformers ONNX model folder: missing ${missing.join(', ')}`);
  }
  const config = readJson<{ hidden_size?: number; max_position_embeddings?: number; _name_or_path?: string }>(configPath);
  const tokenizerConfigPath = join(dir, 'tokenizer_config.json');
  const tokenizerConfig = existsSync(tokenizerConfigPath) ? readJson<{ model_max_length?: number }>(tokenizerConfigPath) : {};
  const sentenceConfigPath = join(dir, 'sentence_bert_config.json');
  const sentenceConfig = existsSync(sentenceConfigPath) ? readJson<{ max_seq_length?: number }>(sentenceConfigPath) : {};
  const poolingPath = join(dir, '1_Pooling', 'config.json');
  const poolingConfig = existsSync(poolingPath) ? readJson<PoolingConfig>(poolingPath) : undefined;

  const dimensions = poolingConfig?.word_embedding_dimension ?? config.hidden_size;
  if (!dimensions) throw new Error(`${configPath} has no hidden_size`);
  return {
    kind: 'transformer',
    id: id ?? `onnx:${config._name_or_path || basename(dir)}`,
    dimensions,
    modelPath,
    ...(fp16ModelPath && fp16ModelPath !== modelPath ? { fp16ModelPath } : {}),
    tokenizerPath,
    tokenizerConfigPath: existsSync(tokenizerConfigPath) ? tokenizerConfigPath : undefined,
    maxLength: maxSequenceLength(
      sentenceConfig.max_seq_length,
      readJson<{ truncation?: { max_length?: number } | null }>(tokenizerPath).truncation?.max_length,
      tokenizerConfig.model_max_length,
      config.max_position_embeddings,
    ),
    pooling: poolingMode(poolingConfig, poolingPath),
  };
}

interface PoolingConfig {
  word_embedding_dimension?: number;
  pooling_mode_cls_token?: boolean;
  pooling_mode_mean_tokens?: boolean;
  pooling_mode_max_tokens?: boolean;
  pooling_mode_mean_sqrt_len_tokens?: boolean;
  pooling_mode_weightedmean_tokens?: boolean;
  pooling_mode_lasttoken?: boolean;
}

function poolingMode(config: PoolingConfig | undefined, path: string): 'mean' | 'cls' {
  if (!config) return 'mean'; // sentence-transformers' default for exports without a pooling module
  const enabled = Object.entries(config)
    .filter(([key, value]) => key.startsWith('pooling_mode_') && value === true)
    .map(([key]) => key);
  if (enabled.length === 1 && enabled[0] === 'pooling_mode_cls_token') return 'cls';
  if (enabled.length === 1 && enabled[0] === 'pooling_mode_mean_tokens') return 'mean';
  throw new Error(`${path}: unsupported pooling ${enabled.join(' + ') || '(none)'}; supported: mean tokens or CLS token`);
}

/**
 * sentence-transformers' max_seq_length wins, then the tokenizer's own truncation, then
 * model_max_length (often a 1e30 placeholder); never beyond the position embeddings.
 */
function maxSequenceLength(
  sentenceMax: number | undefined,
  tokenizerTruncation: number | undefined,
  modelMax: number | undefined,
  positions: number | undefined,
): number {
  const limit = positions ?? 512;
  const preferred = sentenceMax ?? tokenizerTruncation ?? (modelMax !== undefined && modelMax < 1e6 ? modelMax : limit);
  return Math.min(preferred, limit);
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/**
 * Reads a decoder-only model folder as exporters write it and works out the ONNX graph's I/O:
 * Hugging Face optimum names (`past_key_values.N.key|value` → `present.N.key|value`) or the
 * names an onnxruntime-genai `genai_config.json` declares (e.g. combined `past_N` [2,B,H,T,D]).
 * Shapes and element types come from the session's own metadata, so int32/int64 ids and
 * fp16/fp32 caches need no configuration.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { errorMessage } from '../core/errorMessage.js';

export type KvElementType = 'float32' | 'float16';
export type IdElementType = 'int32' | 'int64';

/** One past/present tensor pair. Its shape is [...outer, batch, heads, time, headDim]. */
export interface KvSlot {
  past: string;
  present: string;
}

export interface DecoderIo {
  inputIds: string;
  attentionMask?: string;
  positionIds?: string;
  /** Merged optimum decoders switch between their no-cache and cache branches with this flag. */
  useCacheBranch?: string;
  idType: IdElementType;
  maskType: IdElementType;
  positionType: IdElementType;
  logits: string;
  logitsType: KvElementType;
  slots: KvSlot[];
  kvType: KvElementType;
  /** 1 for separate key/value tensors, 2 for combined [2, B, H, T, D] tensors. */
  kvOuter: number;
  kvHeads: number;
  headDim: number;
  /** Ids at or above this are clamped to vocabSize - 1 (some test exports have a cut vocabulary). */
  vocabSize: number;
}

export interface DecoderFolder {
  dir: string;
  /** The name clients pass as `model`: the folder's base name. */
  id: string;
  modelPath: string;
  genaiConfig?: GenaiConfig;
  config: Record<string, unknown>;
  tokenizerJson: object;
  tokenizerConfig: Record<string, unknown>;
  contextLength: number;
  /** Token ids declared as end-of-sequence by the configs (the tokenizer may add more). */
  eosTokenIds: number[];
}

export interface GenaiConfig {
  model: {
    eos_token_id?: number | number[];
    vocab_size?: number;
    context_length?: number;
    decoder: {
      filename: string;
      head_size?: number;
      num_key_value_heads?: number;
      inputs?: Record<string, string>;
      outputs?: Record<string, string>;
    };
  };
}

export class DecoderFolderError extends Error {
  override name = 'DecoderFolderError';
}

const MODEL_FILE_CANDIDATES = ['model.onnx', 'decoder_model_merged.onnx', 'decoder_with_past_model.onnx', join('onnx', 'model.onnx')];

export async function readDecoderFolder(dir: string): Promise<DecoderFolder> {
  const root = resolve(dir);
  if (!existsSync(root)) throw new DecoderFolderError(`model folder not found: ${root}`);
  const genaiConfig = await readJson<GenaiConfig>(join(root, 'genai_config.json'));
  const config = (await readJson<Record<string, unknown>>(join(root, 'config.json'))) ?? {};
  const generationConfig = (await readJson<Record<string, unknown>>(join(root, 'generation_config.json'))) ?? {};
  const tokenizerJson = await readJson<object>(join(root, 'tokenizer.json'));
  if (!tokenizerJson) throw new DecoderFolderError(`no tokenizer.json in ${root}`);
  const tokenizerConfig = (await readJson<Record<string, unknown>>(join(root, 'tokenizer_config.json'))) ?? {};

  const candidates = genaiConfig ? [genaiConfig.model.decoder.filename] : MODEL_FILE_CANDIDATES;
  const modelFile = candidates.find((name) => existsSync(join(root, name)));
  if (!modelFile) throw new DecoderFolderError(`no decoder model in ${root} (looked for ${candidates.join(', ')})`);

  const tokenizerLimit = numberOr(tokenizerConfig.model_max_length, Infinity);
  const contextLength =
    genaiConfig?.model.context_length ??
    numberOr(config.max_position_embeddings, undefined) ??
    numberOr(config.n_positions, undefined) ??
    (tokenizerLimit < 1e6 ? tokenizerLimit : 2048);

  const eosTokenIds = new Set<number>();
  for (const value of [genaiConfig?.model.eos_token_id, config.eos_token_id, generationConfig.eos_token_id]) {
    for (const id of [value].flat()) if (typeof id === 'number') eosTokenIds.add(id);
  }
  return { dir: root, id: basename(root), modelPath: join(root, modelFile), genaiConfig, config, tokenizerJson, tokenizerConfig, contextLength, eosTokenIds: [...eosTokenIds] };
}

/** Maps the session's inputs and outputs to the roles the engine needs; throws when it cannot. */
export function describeDecoderIo(session: Pick<ort.InferenceSession, 'inputMetadata' | 'outputMetadata'>, folder: Pick<DecoderFolder, 'modelPath' | 'genaiConfig' | 'config'>): DecoderIo {
  const inputs = new Map(session.inputMetadata.map((m) => [m.name, m]));
  const outputs = new Map(session.outputMetadata.map((m) => [m.name, m]));
  const genaiInputs = folder.genaiConfig?.model.decoder.inputs ?? {};
  const genaiOutputs = folder.genaiConfig?.model.decoder.outputs ?? {};
  const pick = (map: Map<string, unknown>, ...names: Array<string | undefined>) => names.find((n): n is string => n !== undefined && map.has(n));

  const inputIds = pick(inputs, genaiInputs.input_ids, 'input_ids');
  const logits = pick(outputs, genaiOutputs.logits, 'logits');
  if (!inputIds || !logits) throw new DecoderFolderError(`${folder.modelPath} has no input_ids input or logits output; is it a decoder-only causal LM?`);
  const attentionMask = pick(inputs, genaiInputs.attention_mask, 'attention_mask');
  const positionIds = pick(inputs, genaiInputs.position_ids, 'position_ids');
  const useCacheBranch = pick(inputs, 'use_cache_branch');

  const slots = kvSlots(
    [...inputs.keys()],
    [...outputs.keys()],
    genaiInputs,
    genaiOutputs,
  );
  if (slots.length === 0) throw new DecoderFolderError(`${folder.modelPath} has no KV cache inputs (past_key_values.N.key/value or past_N); export it with past key values`);
  const missing = slots.find((slot) => !outputs.has(slot.present));
  if (missing) throw new DecoderFolderError(`${folder.modelPath} has input ${missing.past} but no output ${missing.present}`);

  const pastMeta = tensorMeta(inputs.get(slots[0]!.past)!);
  const shape = pastMeta.shape;
  if (shape.length < 4) throw new DecoderFolderError(`unexpected KV cache shape [${shape.join(', ')}] for ${slots[0]!.past}`);
  const outerDims = shape.slice(0, shape.length - 4);
  const decoder = folder.genaiConfig?.model.decoder;
  const kvHeads = numericDim(shape[shape.length - 3]) ?? decoder?.num_key_value_heads ?? numberOr(folder.config.num_key_value_heads, undefined);
  const headDim = numericDim(shape[shape.length - 1]) ?? decoder?.head_size;
  if (!kvHeads || !headDim || outerDims.some((d) => numericDim(d) === undefined)) {
    throw new DecoderFolderError(`cannot tell KV heads/head size from shape [${shape.join(', ')}]; add genai_config.json or config.json`);
  }

  const logitsShape = tensorMeta(outputs.get(logits)!).shape;
  const vocabSize =
    numericDim(logitsShape[logitsShape.length - 1]) ?? folder.genaiConfig?.model.vocab_size ?? numberOr(folder.config.vocab_size, undefined) ?? Number.MAX_SAFE_INTEGER;

  return {
    inputIds,
    attentionMask,
    positionIds,
    useCacheBranch,
    idType: idType(inputs.get(inputIds)!),
    maskType: attentionMask ? idType(inputs.get(attentionMask)!) : 'int64',
    positionType: positionIds ? idType(inputs.get(positionIds)!) : 'int64',
    logits,
    logitsType: floatType(outputs.get(logits)!),
    slots,
    kvType: floatType(inputs.get(slots[0]!.past)!),
    kvOuter: outerDims.reduce<number>((product, d) => product * (d as number), 1),
    kvHeads,
    headDim,
    vocabSize,
  };
}

function kvSlots(inputNames: string[], outputNames: string[], genaiInputs: Record<string, string>, genaiOutputs: Record<string, string>): KvSlot[] {
  const fromTemplate = (pastTemplate?: string, presentTemplate?: string): KvSlot[] => {
    if (!pastTemplate || !presentTemplate) return [];
    const slots: KvSlot[] = [];
    for (let layer = 0; inputNames.includes(pastTemplate.replace('%d', String(layer))); layer++) {
      slots.push({ past: pastTemplate.replace('%d', String(layer)), present: presentTemplate.replace('%d', String(layer)) });
    }
    return slots;
  };
  const separateKey = fromTemplate(genaiInputs.past_key_names ?? 'past_key_values.%d.key', genaiOutputs.present_key_names ?? 'present.%d.key');
  const separateValue = fromTemplate(genaiInputs.past_value_names ?? 'past_key_values.%d.value', genaiOutputs.present_value_names ?? 'present.%d.value');
  if (separateKey.length > 0 && separateKey.length === separateValue.length) {
    return separateKey.flatMap((key, layer) => [key, separateValue[layer]!]);
  }
  const combined = fromTemplate(genaiInputs.past_names ?? 'past_%d', genaiOutputs.present_names ?? 'present_%d');
  if (combined.length > 0) return combined;
  // Unknown naming: pair every float input starting with "past" with the output named alike.
  return inputNames
    .filter((name) => name.startsWith('past'))
    .map((past) => ({ past, present: past.replace(/^past_key_values/, 'present').replace(/^past/, 'present') }))
    .filter((slot) => outputNames.includes(slot.present));
}

function tensorMeta(meta: ort.InferenceSession.ValueMetadata): ort.InferenceSession.TensorValueMetadata {
  if (!meta.isTensor) throw new DecoderFolderError(`${meta.name} is not a tensor`);
  return meta;
}

function idType(meta: ort.InferenceSession.ValueMetadata): IdElementType {
  const type = tensorMeta(meta).type;
  if (type === 'int32' || type === 'int64') return type;
  throw new DecoderFolderError(`${meta.name} has element type ${type}; expected int32 or int64`);
}

function floatType(meta: ort.InferenceSession.ValueMetadata): KvElementType {
  const type = tensorMeta(meta).type;
  if (type === 'float32' || type === 'float16') return type;
  throw new DecoderFolderError(`${meta.name} has element type ${type}; expected float32 or float16`);
}

function numericDim(dim: number | string | undefined): number | undefined {
  return typeof dim === 'number' && dim > 0 ? dim : undefined;
}

function numberOr<T>(value: unknown, fallback: T): number | T {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

async function readJson<T>(path: string): Promise<T | undefined> {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    throw new DecoderFolderError(`cannot parse ${path}: ${errorMessage(error)}`);
  }
}

/**
 * The one place a setting or flag naming an embedding model becomes an Embedder:
 * `default` (the default built-in model), `static` or `glove-sif` (a built-in model by name), `hashing` (a dependency-free stand-in), `none`
 * (keyword search only) or a model folder. A store records the `spec` it was built with, so a
 * later process makes the same embedder again.
 */
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { EMBEDDER_CHOICES, isBuiltInModel } from '../embedding/builtInModels.js';
import { createDefaultEmbedder } from '../embedding/defaultEmbedder.js';
import { HashingEmbedder } from '../embedding/hashingEmbedder.js';
import { readEmbeddingModelFolder } from '../embedding/modelSpec.js';
import { OnnxEmbedder } from '../embedding/onnxEmbedder.js';
import type { DeviceChoice } from '../onnx/session.js';
import type { Embedder } from '../types.js';

/** Where and how an ONNX embedder runs. */
export interface EmbedderRuntimeOptions {
  device?: DeviceChoice;
  /** GPU index for CUDA and DirectML. */
  deviceId?: number;
  /** Worker threads computing embeddings. */
  workers?: number;
}

export interface ResolvedEmbedder {
  embedder: Embedder | undefined;
  /** What to record in a store so the same embedder can be made again (a folder as an absolute path). */
  spec: string;
}

/** The choice names nothing that exists, or a folder that is not a model; the message says which. */
export class EmbedderChoiceError extends Error {
  override readonly name = 'EmbedderChoiceError';
}

export function resolveEmbedder(choice: string, runtime: EmbedderRuntimeOptions = {}): ResolvedEmbedder {
  if (choice === 'none') return { embedder: undefined, spec: choice };
  if (choice === 'hashing') return { embedder: new HashingEmbedder(), spec: choice };
  if (choice === 'default') return { embedder: createDefaultEmbedder(runtime), spec: choice };
  if (isBuiltInModel(choice)) return { embedder: createDefaultEmbedder({ ...runtime, model: choice }), spec: choice };
  const folder = path.resolve(choice);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new EmbedderChoiceError(`unknown embedder "${choice}" (choose ${EMBEDDER_CHOICES})`);
  try {
    return { embedder: new OnnxEmbedder(readEmbeddingModelFolder(folder), runtime), spec: folder };
  } catch (error) {
    throw new EmbedderChoiceError(`${choice}: ${(error as Error).message}`);
  }
}

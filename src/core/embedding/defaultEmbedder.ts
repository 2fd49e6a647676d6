/**
 * The built-in embedder: GloVe 6B 100-d with SIF weighting as an ONNX model, built by
 * scripts/build-default-model.ts into dist/models/glove-sif-100d/. Workers and the session
 * start on the first embed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readEmbeddingModelFolder, WORD_VECTOR_MANIFEST } from './modelSpec.js';
import { OnnxEmbedder, type OnnxEmbedderOptions } from './onnxEmbedder.js';

export const DEFAULT_MODEL_FOLDER = 'glove-sif-100d';

/** dist/models/glove-sif-100d beside the bundle, or under the repository's dist/ when run from source. */
export function defaultModelDir(): string {
  const candidates = [join(__dirname, 'models', DEFAULT_MODEL_FOLDER), join(__dirname, '..', '..', '..', 'dist', 'models', DEFAULT_MODEL_FOLDER)];
  const found = candidates.find((dir) => existsSync(join(dir, WORD_VECTOR_MANIFEST)));
  if (!found) {
    throw new Error(
      `the default embedding model is missing (looked in ${candidates.join(', ')}); build it with "npm run build" ` +
        '(node --import tsx scripts/build-default-model.ts)',
    );
  }
  return found;
}

export function createDefaultEmbedder(options: OnnxEmbedderOptions & { modelDir?: string } = {}): OnnxEmbedder {
  const { modelDir, ...embedderOptions } = options;
  return new OnnxEmbedder(readEmbeddingModelFolder(modelDir ?? defaultModelDir()), embedderOptions);
}

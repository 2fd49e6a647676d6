/**
 * The built-in embedders, each an ONNX model folder under dist/models/ (beside the bundle):
 *   - `static` (docent-static-256d): a 256-d static embedding model over a WordPiece vocabulary,
 *     trained for documentation search by scripts/train-embedder and committed under models/;
 *   - `glove-sif` (glove-sif-100d): GloVe 6B 100-d with SIF weighting, built by
 *     scripts/build-default-model.ts.
 * `default` names one of them (DEFAULT_BUILT_IN). Workers and the session start on the first embed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readEmbeddingModelFolder, WORD_VECTOR_MANIFEST } from './modelSpec.js';
import { OnnxEmbedder, type OnnxEmbedderOptions } from './onnxEmbedder.js';

export const BUILT_IN_MODELS = { static: 'docent-static-256d', 'glove-sif': 'glove-sif-100d' } as const;
export type BuiltInModel = keyof typeof BUILT_IN_MODELS;
export const DEFAULT_BUILT_IN: BuiltInModel = 'static';

export function isBuiltInModel(name: string): name is BuiltInModel {
  return Object.hasOwn(BUILT_IN_MODELS, name);
}

/** dist/models/<folder> beside the bundle, or under the repository's dist/ when run from source. */
export function builtInModelDir(name: BuiltInModel = DEFAULT_BUILT_IN): string {
  const folder = BUILT_IN_MODELS[name];
  const candidates = [join(__dirname, 'models', folder), join(__dirname, '..', '..', '..', 'dist', 'models', folder)];
  const found = candidates.find((dir) => existsSync(join(dir, WORD_VECTOR_MANIFEST)));
  if (!found) {
    throw new Error(
      `the built-in embedding model "${name}" is missing (looked in ${candidates.join(', ')}); build it with "npm run build" ` +
        '(node --import tsx scripts/build-default-model.ts)',
    );
  }
  return found;
}

export function createDefaultEmbedder(options: OnnxEmbedderOptions & { modelDir?: string; model?: BuiltInModel } = {}): OnnxEmbedder {
  const { modelDir, model, ...embedderOptions } = options;
  return new OnnxEmbedder(readEmbeddingModelFolder(modelDir ?? builtInModelDir(model)), embedderOptions);
}

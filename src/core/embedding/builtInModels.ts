/**
 * The built-in embedders' names and what `--embedder` accepts: a module of its own, so the CLI
 * documents them without loading the embedding code (ONNX sessions, worker threads) that a
 * keyword-only query never uses. defaultEmbedder.ts makes them.
 */
export const BUILT_IN_MODELS = { static: 'docent-static-256d', 'glove-sif': 'glove-sif-100d' } as const;
export type BuiltInModel = keyof typeof BUILT_IN_MODELS;
export const DEFAULT_BUILT_IN: BuiltInModel = 'static';

export function isBuiltInModel(name: string): name is BuiltInModel {
  return Object.hasOwn(BUILT_IN_MODELS, name);
}

export const EMBEDDER_CHOICES = `default|${Object.keys(BUILT_IN_MODELS).join('|')}|hashing|none|<model folder>`;

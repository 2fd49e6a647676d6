/**
 * Index-time adaptation study (issue 10, measured, not shipped): fine-tunes a static model for a
 * few seconds on one folder's own pairs (heading path → section, title → first section, inverse
 * cloze, with BM25-mined hard negatives: the same pairs as training, corpus.ts) and writes the
 * adapted model folder, which `bench/run.ts retrieval --sets SET --embedder DIR` then measures.
 * It reads only the documents, never questions.
 *   node --import tsx scripts/train-embedder/adapt.ts --model models/docent-static-256d \
 *     --docs .cache/postgres-docs --seconds 10 --out /tmp/adapted-postgres [--epochs N] [--learning-rate X]
 * Training stops after --epochs passes over the folder's pairs or --seconds, whichever comes first.
 */
import { WordPieceTokenizer } from '../../src/core/embedding/wordPieceTokenizer.js';
import { seededRandom } from '../../src/core/seededRandom.js';
import { pairsOfPackage, shuffle } from './corpus.js';
import { mineHardNegatives } from './hardNegatives.js';
import { readModelFolder, writeModelFolder } from './modelFiles.js';
import type { EncodedPair, TrainerConfig } from './trainer.js';

function flag(name: string, fallback?: string): string {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? process.argv[index + 1] : fallback;
  if (value === undefined) throw new Error(`adapt: ${name} is required`);
  return value;
}

function main(): void {
  const modelDir = flag('--model');
  const docs = flag('--docs');
  const seconds = Number(flag('--seconds', '10'));
  const config: TrainerConfig = {
    dimensions: 256,
    epochs: Number(flag('--epochs', '1')),
    batchSize: 64,
    learningRate: Number(flag('--learning-rate', '0.003')),
    weightLearningRate: 0.0005,
    temperature: 0.05,
  };
  const started = Date.now();
  const random = seededRandom(20261202);
  const { model, vocabulary } = readModelFolder(modelDir);
  const tokenizer = new WordPieceTokenizer(vocabulary);
  const encoded: EncodedPair[] = [];
  for (const pair of pairsOfPackage('workspace', docs, random)) {
    const query = Int32Array.from(tokenizer.encode(pair.query, 48));
    const passage = Int32Array.from(tokenizer.encode(pair.passage, 320));
    if (query.length && passage.length) encoded.push({ query, passage, group: 0 });
  }
  const negatives = mineHardNegatives(encoded, 5);
  const prepared = (Date.now() - started) / 1000;
  let steps = 0;
  let loss = 0;
  const trainStarted = Date.now();
  const deadline = trainStarted + seconds * 1000;
  for (let epoch = 0; epoch < config.epochs && Date.now() < deadline && encoded.length >= 8; epoch++) {
    const order = shuffle([...encoded.keys()], random);
    for (let start = 0; start < order.length && Date.now() < deadline; start += config.batchSize) {
      const batch = order.slice(start, start + config.batchSize).map((index) => {
        const candidates = negatives[index]!;
        const negative = candidates.length ? encoded[candidates[Math.floor(random() * candidates.length)]!]!.passage : undefined;
        return { ...encoded[index]!, negative };
      });
      if (batch.length < 8) continue;
      loss += model.trainBatch(batch, config);
      steps++;
    }
  }
  const out = flag('--out');
  const id = writeModelFolder(model, vocabulary, out, {
    source: `${modelDir} adapted for ${seconds} s on ${encoded.length} pairs of ${docs} (scripts/train-embedder/adapt.ts)`,
    buildKey: 'adapted',
    training: { config, docs, pairs: encoded.length, steps, secondsLimit: seconds, trainSeconds: (Date.now() - trainStarted) / 1000, prepareSeconds: prepared, meanLoss: loss / Math.max(1, steps) },
  });
  console.log(`adapt: ${encoded.length} pairs (prepared in ${prepared.toFixed(1)} s), ${steps} steps in ${((Date.now() - trainStarted) / 1000).toFixed(1)} s, mean loss ${(loss / Math.max(1, steps)).toFixed(3)} → ${id} in ${out}`);
}

main();

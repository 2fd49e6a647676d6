import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import { builtInModelDir, createDefaultEmbedder } from '../../../src/core/embedding/defaultEmbedder.js';
import { EmbeddingRunner } from '../../../src/core/embedding/embeddingRunner.js';
import type { WordVectorManifest } from '../../../src/core/embedding/modelSpec.js';
import { readEmbeddingModelFolder } from '../../../src/core/embedding/modelSpec.js';
import type { OnnxEmbedder } from '../../../src/core/embedding/onnxEmbedder.js';
import { buildWordVectorModel, sifWeight } from '../../../src/build/wordVectorModel.js';
import { OnnxGraphBuilder, TensorType } from '../../../src/core/onnx/onnxGraphBuilder.js';
import { WordPieceTokenizer } from '../../../src/core/embedding/wordPieceTokenizer.js';
import { IdentifierWordTokenizer } from '../../../src/core/embedding/wordTokenizer.js';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, value, d) => sum + value * b[d]!, 0);

test('identifier-aware tokenizer splits camelCase, snake_case, dotted names and compounds into known words', () => {
  const tokenizer = new IdentifierWordTokenizer(['[PAD]', 'the', 'read', 'file', 'sync', 'max', 'size', 'http', 'response', 'auto', 'vacuum', 'json', 'fs', '2']);
  assert.deepEqual(tokenizer.words('fs.readFileSync'), ['fs', 'read', 'file', 'sync']);
  assert.deepEqual(tokenizer.words('max_wal_size'), ['max', 'size']);
  assert.deepEqual(tokenizer.words('getHTTPResponse2'), ['http', 'response', '2']);
  assert.deepEqual(tokenizer.words('The autovacuum JSON'), ['the', 'auto', 'vacuum', 'json']);
  assert.deepEqual(tokenizer.encode('the the the', 2), [1, 1]);
});

test('the word-vector graph computes the SIF-weighted mean of int8 rows, normalised; unknown-only text gives e0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'docent-words-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dimensions = 4;
  const words = ['[PAD]', 'alpha', 'beta', 'gamma'];
  const vectors = Float32Array.from([0, 0, 0, 0, 1, 0, 0.5, 0, 0, 2, 0, -1, 0.3, 0.3, 0.3, 0.3]);
  const weights = Float32Array.from([0, sifWeight(1, 3, 0.1), sifWeight(2, 3, 0.1), sifWeight(3, 3, 0.1)]);
  writeFileSync(join(dir, 'model.onnx'), buildWordVectorModel({ dimensions, vectors, weights }));
  writeFileSync(join(dir, 'vocab.txt'), words.join('\n'));
  const manifest: WordVectorManifest = { id: 'tiny-words', kind: 'word-vectors', dimensions, model: 'model.onnx', vocabulary: 'vocab.txt', maxLength: 16, source: 'test', licence: 'test', buildKey: 'x' };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const runner = await EmbeddingRunner.create(readEmbeddingModelFolder(dir), { device: 'cpu' });
  t.after(() => runner.dispose());

  const { vectors: [mixed, unknown, alone] } = await runner.embed(['alpha beta beta', 'nothing known here', 'gamma']);
  const expected = new Float32Array(dimensions).map((_, d) => weights[1]! * vectors[4 + d]! + 2 * weights[2]! * vectors[8 + d]!);
  const norm = Math.hypot(...expected);
  for (let d = 0; d < dimensions; d++) assert.ok(Math.abs(mixed![d]! - expected[d]! / norm) < 0.01, `dimension ${d}`);
  assert.deepEqual(Array.from(unknown!), [1, 0, 0, 0]);
  assert.ok(Math.abs(dot(alone!, Float32Array.from([0.5, 0.5, 0.5, 0.5])) - 1) < 1e-3);
  assert.ok(sifWeight(1, 1000, 1e-3) < sifWeight(500, 1000, 1e-3), 'frequent words weigh less');
});

test('built-in GloVe-SIF model: loads lazily, stays on the CPU under auto, and ranks related texts above unrelated ones', async (t) => {
  let embedder: OnnxEmbedder;
  try {
    embedder = createDefaultEmbedder({ device: 'auto', workers: 1, model: 'glove-sif' });
  } catch (error) {
    return t.skip(`default model not built (${(error as Error).message.slice(0, 80)}…); run npm run build`);
  }
  t.after(() => embedder.dispose());
  assert.equal(embedder.dimensions, 100);
  assert.match(embedder.id, /^glove-6b-100d-sif-/);
  assert.equal(embedder.activeDevice, undefined, 'no worker before the first embed');
  const embed = (texts: string[]) => embedder.embed(texts);
  const [question, related, unrelated, identifiers, prose] = await embed([
    'How do I rotate the API signing keys?',
    'Rotating the signing key used by the API',
    'The autovacuum daemon reclaims dead tuples in tables',
    'fs.readFileSync(path) returns the contents of the file',
    'reading the contents of a file from a path',
  ]);
  // A table lookup stays on the CPU under auto, GPU or not, and says why.
  assert.equal(embedder.activeDevice!.provider, 'cpu');
  assert.match(embedder.activeDevice!.fallbackReasons.join(), /table lookup/);
  assert.ok(dot(question!, related!) > dot(question!, unrelated!) + 0.2);
  assert.ok(dot(identifiers!, prose!) > dot(identifiers!, unrelated!));
  assert.ok(existsSync(readEmbeddingModelFolder(join(__dirname, '..', '..', '..', 'dist', 'models', 'glove-sif-100d')).modelPath));
});

test('built-in static model (trained, committed under models/): checksums match, and it ranks a paraphrase above keyword overlap', async (t) => {
  let embedder: OnnxEmbedder;
  try {
    embedder = createDefaultEmbedder({ device: 'cpu', workers: 1, model: 'static' });
  } catch (error) {
    return t.skip(`static model not in dist (${(error as Error).message.slice(0, 80)}…); run npm run build`);
  }
  t.after(() => embedder.dispose());
  assert.equal(embedder.dimensions, 256);
  assert.match(embedder.id, /^docent-static-256d-/);
  const spec = embedder.spec;
  assert.ok(spec.kind === 'word-vectors' && spec.tokenizer === 'wordpiece' && Object.keys(spec.checksums ?? {}).length === 2, 'manifest names tokenizer and checksums');
  const [question, related, unrelated, identifiers, prose] = await embedder.embed([
    'How do I rotate the API signing keys?',
    'Rotating the signing key used by the API',
    'The autovacuum daemon reclaims dead tuples in tables',
    'fs.readFileSync(path) returns the contents of the file',
    'reading the contents of a file from a path',
  ]);
  assert.ok(dot(question!, related!) > dot(question!, unrelated!) + 0.2);
  assert.ok(dot(identifiers!, prose!) > dot(identifiers!, unrelated!));
});

test('static model: the bag-of-tokens graph gives the SIF-weighted sum of its int8 rows on real passages, in calls of many texts', async (t) => {
  let dir: string;
  try {
    dir = builtInModelDir('static');
  } catch (error) {
    return t.skip(`static model not in dist (${(error as Error).message.slice(0, 80)}…); run npm run build`);
  }
  const spec = readEmbeddingModelFolder(dir);
  assert.ok(spec.kind === 'word-vectors');
  const initializer = (name: string) => {
    const raw = onnx.ModelProto.decode(readFileSync(spec.modelPath)).graph!.initializer!.find((tensor) => tensor.name === name)!.rawData!;
    return Uint8Array.from(raw).buffer;
  };
  const rows = new Int8Array(initializer('word_vectors_int8'));
  const weights = new Float32Array(initializer('word_weights'));
  const examples = join(__dirname, '..', '..', '..', 'examples', 'docs');
  const passages = (readdirSync(examples, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.md'))
    .sort()
    .flatMap((file) => readFileSync(join(examples, file), 'utf8').split(/\n\s*\n/))
    .slice(0, 120);
  passages.push('', '!!! ---', passages[3]!);
  // A small token budget: many model calls, each a bag of several texts sharing ids.
  const runner = await EmbeddingRunner.create(spec, { device: 'cpu', maxBatchTokens: 400 });
  t.after(() => runner.dispose());
  const { vectors } = await runner.embed(passages);
  const tokenizer = new WordPieceTokenizer(readFileSync(spec.vocabularyPath, 'utf8').split('\n'));
  const D = spec.dimensions;
  passages.forEach((passage, index) => {
    const expected = new Float32Array(D);
    for (const id of tokenizer.encode(passage, spec.maxLength)) for (let d = 0; d < D; d++) expected[d]! += weights[id]! * rows[id * D + d]!;
    const norm = Math.hypot(...expected);
    if (norm === 0) return assert.deepEqual(Array.from(vectors[index]!.slice(0, 2)), [1, 0], `passage ${index} has no known token: e0`);
    assert.ok(dot(vectors[index]!, expected) / norm >= 0.9999, `passage ${index}: cosine ${dot(vectors[index]!, expected) / norm}`);
  });
});

test('a word-vector model of the older padded-ids graph fails to load with a message naming the re-export, not with wrong vectors', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'docent-old-graph-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const g = new OnnxGraphBuilder();
  g.input('input_ids', TensorType.INT32, ['batch', 'sequence']);
  g.op('ReduceSum', [g.op('Cast', ['input_ids'], { to: TensorType.FLOAT }), g.int64s([1])], { keepdims: 1 }, 'sentence_embedding');
  g.output('sentence_embedding', TensorType.FLOAT, ['batch', 1]);
  writeFileSync(join(dir, 'model.onnx'), g.encode());
  writeFileSync(join(dir, 'vocab.txt'), '[PAD]\nalpha\n');
  const manifest: WordVectorManifest = { id: 'old-graph', kind: 'word-vectors', dimensions: 1, model: 'model.onnx', vocabulary: 'vocab.txt', maxLength: 8, source: 'test', licence: 'test', buildKey: 'x' };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  await assert.rejects(EmbeddingRunner.create(readEmbeddingModelFolder(dir), { device: 'cpu' }), /takes input_ids, not the token_ids and token_counts .*reexport\.ts/);
});

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { buildWordVectorModel } from '../../../src/build/wordVectorModel.js';
import { EmbeddingRunner } from '../../../src/core/embedding/embeddingRunner.js';
import { readEmbeddingModelFolder, type WordVectorManifest } from '../../../src/core/embedding/modelSpec.js';
import { WordPieceTokenizer } from '../../../src/core/embedding/wordPieceTokenizer.js';

const VOCAB = ['[PAD]', '[UNK]', 'read', 'file', '##s', 'sync', 'max', 'wal', 'size', 'un', '##buffer', '##ed', 'cafe', 'output'];

test('WordPiece: longest vocabulary pieces with ## continuations, camelCase split first, accents and punctuation dropped', () => {
  const tokenizer = new WordPieceTokenizer(VOCAB);
  const pieces = (text: string) => tokenizer.encode(text, 100).map((id) => VOCAB[id]);
  assert.deepEqual(pieces('readFileSync'), ['read', 'file', 'sync']);
  assert.deepEqual(pieces('max_wal_size'), ['max', 'wal', 'size']);
  assert.deepEqual(pieces('Unbuffered output!'), ['un', '##buffer', '##ed', 'output']);
  assert.deepEqual(pieces('files café'), ['file', '##s', 'cafe']);
  assert.deepEqual(pieces('zzz'), ['[UNK]'], 'a word no pieces cover is one unknown token');
  assert.deepEqual(tokenizer.encode('read read read', 2), [2, 2]);
});

test('WordPiece: a run seen before gives the same ids as in a fresh tokenizer, across cache growth, long runs and truncation', () => {
  const vocabulary = ['[PAD]', '[UNK]', 'read', 'file', 'sync', 'max', '##s', ...Array.from({ length: 3000 }, (_, k) => `w${k}`), ...Array.from({ length: 100 }, (_, k) => `##${k}`)];
  const shared = new WordPieceTokenizer(vocabulary);
  // 6,000 distinct runs (the cache rehashes several times), mixed case, continuations, unknowns.
  const texts = Array.from({ length: 600 }, (_, t) =>
    Array.from({ length: 10 }, (_, k) => [`w${(t * 10 + k) % 3000}${k % 7}`, `readFileSync${t}`, `W${t}Files`, `zz${t}q${k}`][k % 4]).join(' ') + ` ${'w1'.repeat(40)} w${t % 3000} max`,
  );
  const first = texts.map((text) => shared.encode(text, 1000));
  texts.forEach((text, index) => {
    assert.deepEqual(first[index], new WordPieceTokenizer(vocabulary).encode(text, 1000), `text ${index} against a fresh tokenizer`);
    assert.deepEqual(shared.encode(text, 1000), first[index], `text ${index} again`);
    assert.deepEqual(shared.encode(text, 7), first[index]!.slice(0, 7), `text ${index} cut at 7 tokens`);
  });
  assert.deepEqual(shared.encode('readFileSync', 2).map((id) => vocabulary[id]), ['read', 'file'], 'a cached run is cut at maxLength too');
});

const MINILM_VOCAB = resolve(__dirname, '../../../../shared/models/minilm-tokenizer');

test('WordPiece agrees with the Hugging Face tokenizer on the MiniLM vocabulary for plain words', (t) => {
  if (!existsSync(MINILM_VOCAB)) return t.skip(`../shared/models/minilm-tokenizer not found (${MINILM_VOCAB})`);
  const vocabulary = readFileSync(join(MINILM_VOCAB, 'vocab.txt'), 'utf8').split('\n');
  const mine = new WordPieceTokenizer(vocabulary);
  const reference = new Tokenizer(JSON.parse(readFileSync(join(MINILM_VOCAB, 'tokenizer.json'), 'utf8')), {});
  // Letters and digits only (punctuation is dropped by design), lowercase (camelCase is split by design).
  for (const text of ['how do i configure autovacuum thresholds', 'my print output shows up late when i pipe the script', 'naïve café résumé 2024 utf8']) {
    assert.deepEqual(mine.encode(text, 512), reference.encode(text, { add_special_tokens: false }).ids, text);
  }
});

test('a word-vector model whose file does not match its manifest checksum fails to load with a clear message', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'docent-wordpiece-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dimensions = 2;
  const vectors = new Float32Array(VOCAB.length * dimensions).map((_, i) => (i < dimensions ? 0 : ((i * 7) % 5) - 2));
  const weights = new Float32Array(VOCAB.length).fill(1);
  weights[0] = 0;
  const model = buildWordVectorModel({ dimensions, vectors, weights });
  writeFileSync(join(dir, 'model.onnx'), model);
  writeFileSync(join(dir, 'vocab.txt'), VOCAB.join('\n'));
  const { createHash } = await import('node:crypto');
  const hash = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');
  const manifest: WordVectorManifest = {
    id: 'tiny-wordpiece', kind: 'word-vectors', tokenizer: 'wordpiece', dimensions, model: 'model.onnx', vocabulary: 'vocab.txt', maxLength: 16,
    sha256: { 'model.onnx': hash(model), 'vocab.txt': hash(VOCAB.join('\n')) }, source: 'test', licence: 'test', buildKey: 'x',
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const runner = await EmbeddingRunner.create(readEmbeddingModelFolder(dir), { device: 'cpu' });
  const { vectors: [same, alsoSame, other] } = await runner.embed(['readFileSync', 'read file sync', 'max wal size']);
  await runner.dispose();
  assert.deepEqual(Array.from(same!), Array.from(alsoSame!), 'an identifier and its words embed alike');
  assert.notDeepEqual(Array.from(same!), Array.from(other!));

  writeFileSync(join(dir, 'model.onnx'), model.subarray(0, model.length - 10));
  await assert.rejects(EmbeddingRunner.create(readEmbeddingModelFolder(dir), { device: 'cpu' }), /model\.onnx is damaged \(sha256 .*expected/);
});

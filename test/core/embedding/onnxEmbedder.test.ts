import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { DeviceUnavailableError, gpuProvidersFor } from '../../../src/core/onnx/session.js';
import { EmbeddingRunner, createTransformerEncoder } from '../../../src/core/embedding/embeddingRunner.js';
import { readEmbeddingModelFolder, type TransformerModelSpec } from '../../../src/core/embedding/modelSpec.js';
import { OnnxEmbedder } from '../../../src/core/embedding/onnxEmbedder.js';
import { writeBertModelFolder } from '../../support/bertModel.js';

const WORDS = 'the index server query table vacuum key rotate signing api file stream buffer timeout worker cache'.split(' ');

/** Deterministic texts of 1..60 words. */
function sampleTexts(count: number): string[] {
  return Array.from({ length: count }, (_, i) => Array.from({ length: 1 + ((i * 37) % 60) }, (_, k) => WORDS[(i * 7 + k * 3) % WORDS.length]).join(' '));
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  return a.reduce((max, value, d) => Math.max(max, Math.abs(value - b[d]!)), 0);
}

describe('OnnxEmbedder on a BERT-shaped sentence-transformers folder', () => {
  let dir: string;
  let spec: TransformerModelSpec;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'docent-bert-'));
    spec = readEmbeddingModelFolder(writeBertModelFolder(join(dir, 'mean'))) as TransformerModelSpec;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('reads the folder: dimensions, pooling and max length from its config files', () => {
    assert.equal(spec.kind, 'transformer');
    assert.equal(spec.dimensions, 32);
    assert.equal(spec.pooling, 'mean');
    assert.equal(spec.maxLength, 128);
    const limited = readEmbeddingModelFolder(writeBertModelFolder(join(dir, 'limited'), { maxSeqLength: 16, pooling: 'cls' })) as TransformerModelSpec;
    assert.equal(limited.maxLength, 16, 'sentence_bert_config.json max_seq_length wins');
    assert.equal(limited.pooling, 'cls');
    assert.throws(() => readEmbeddingModelFolder(join(dir, 'missing')), /not a sentence-transformers ONNX model folder: missing onnx\/model.onnx/);
  });

  test('auto runs on the CPU and records why each GPU provider was passed over', async (t) => {
    const gpus = gpuProvidersFor();
    const embedder = new OnnxEmbedder(spec, { device: 'auto', workers: 1 });
    t.after(() => embedder.dispose());
    const active = await embedder.ready();
    if (active.provider !== 'cpu') return t.skip(`a GPU provider (${active.provider}) loaded on this machine`);
    assert.equal(active.kind, 'cpu');
    assert.equal(active.fallbackReasons.length, gpus.length);
    // The reason names what is missing: here the CUDA provider libraries that `npm ci` does not download.
    if (gpus.includes('cuda')) assert.match(active.fallbackReasons[0]!, /^CUDA: .*(libonnxruntime_providers_\w+\.so|lib\w+\.so\.\d+|CUDA)/);
    assert.deepEqual(embedder.activeDevice, active);
  });

  test('an explicit cuda device that cannot load fails with DeviceUnavailableError naming what is missing', async (t) => {
    if (!gpuProvidersFor().includes('cuda')) return t.skip('CUDA is not a provider on this platform');
    const embedder = new OnnxEmbedder(spec, { device: 'cuda', workers: 1 });
    t.after(() => embedder.dispose());
    let failure: unknown;
    try {
      await embedder.embed(['hello']);
    } catch (error) {
      failure = error;
    }
    if (failure === undefined) return t.skip('the CUDA provider loaded: this machine has a GPU');
    assert.ok(failure instanceof DeviceUnavailableError, `expected DeviceUnavailableError, got ${String(failure)}`);
    assert.equal(failure.provider, 'cuda');
    assert.match(failure.message, /CUDA execution provider could not be loaded/);
    assert.match(failure.message, /CUDA 12 and cuDNN 9/);
    assert.match(failure.message, /lib\w+\.so/, 'the missing library is named');
    assert.match(failure.message, /npm run setup:cuda/);
  });

  test('worker-pool results are identical to a direct single-thread run, in input order', async (t) => {
    const texts = sampleTexts(60);
    const runner = await EmbeddingRunner.create(spec, { device: 'cpu' });
    t.after(() => runner.dispose());
    const embedder = new OnnxEmbedder(spec, { device: 'cpu', workers: 2, batchSize: 7 });
    t.after(() => embedder.dispose());
    const pooled = await embedder.embed(texts);
    // Direct run over the same length-sorted batches the pool forms.
    const order = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length);
    for (let start = 0; start < order.length; start += 7) {
      const indices = order.slice(start, start + 7);
      const { vectors } = await runner.embed(indices.map((i) => texts[i]!));
      indices.forEach((index, k) => assert.deepEqual(pooled[index], vectors[k], `text ${index}`));
    }
    const stats = embedder.stats();
    assert.equal(stats.texts, 60);
    assert.equal(stats.batches, Math.ceil(60 / 7));
    assert.ok(stats.tokens > 60 && stats.textsPerSecond > 0);
  });

  test('padding does not change a vector: alone or batched with long texts gives the same result', async (t) => {
    const runner = await EmbeddingRunner.create(spec, { device: 'cpu' });
    t.after(() => runner.dispose());
    const short = 'rotate the api signing key';
    const alone = (await runner.embed([short])).vectors[0]!;
    const batched = (await runner.embed([sampleTexts(3)[2]!, short, 'the '.repeat(100)])).vectors[1]!;
    assert.ok(maxDifference(alone, batched) < 1e-5);
    const norm = Math.hypot(...alone);
    assert.ok(Math.abs(norm - 1) < 1e-5);
  });

  test('mean pooling and CLS pooling match a plain onnxruntime run of the same model', async (t) => {
    const clsSpec = readEmbeddingModelFolder(writeBertModelFolder(join(dir, 'cls'), { pooling: 'cls' })) as TransformerModelSpec;
    const text = 'stream buffer timeout';
    const { ids, typeIds } = createTransformerEncoder(spec).encode(text);
    const session = await ort.InferenceSession.create(spec.modelPath);
    t.after(() => session.release());
    const dims = [1, ids.length];
    const output = await session.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), dims),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), dims),
      token_type_ids: new ort.Tensor('int64', BigInt64Array.from((typeIds ?? []).map(BigInt)), dims),
    });
    const hidden = output['last_hidden_state']!.data as Float32Array;
    const unit = (v: Float32Array) => v.map((x) => x / Math.hypot(...v));
    const mean = new Float32Array(32).map((_, d) => ids.reduce((sum, _id, p) => sum + hidden[p * 32 + d]!, 0) / ids.length);

    for (const [modelSpec, expected] of [
      [spec, unit(mean)],
      [clsSpec, unit(hidden.slice(0, 32))],
    ] as const) {
      const runner = await EmbeddingRunner.create(modelSpec, { device: 'cpu' });
      const [vector] = (await runner.embed([text])).vectors;
      await runner.dispose();
      assert.ok(maxDifference(vector!, expected) < 1e-5, `${modelSpec.pooling} pooling`);
    }
  });

  test("truncates at the model's max length and keeps [CLS] … [SEP]", () => {
    const limited = readEmbeddingModelFolder(join(dir, 'limited')) as TransformerModelSpec;
    const encoder = createTransformerEncoder(limited);
    const full = createTransformerEncoder(spec).encode('the index '.repeat(40)).ids;
    const truncated = encoder.encode('the index '.repeat(40)).ids;
    assert.equal(truncated.length, 16);
    assert.deepEqual(truncated.slice(0, 15), full.slice(0, 15));
    assert.equal(truncated[15], full.at(-1), 'ends with [SEP]');
    assert.deepEqual(encoder.encode('the index').ids, createTransformerEncoder(spec).encode('the index').ids);
  });

  test('cancellation: an aborted embed rejects with the reason, drops its queued batches and leaves the embedder usable', async (t) => {
    const embedder = new OnnxEmbedder(spec, { device: 'cpu', workers: 1, batchSize: 1, maxQueuedBatches: 2 });
    t.after(() => embedder.dispose());
    await assert.rejects(embedder.embed(['x'], AbortSignal.abort(new Error('before start'))), /before start/);

    const controller = new AbortController();
    const running = embedder.embed(sampleTexts(200), controller.signal);
    const reason = new Error('user cancelled');
    setImmediate(() => controller.abort(reason));
    await assert.rejects(running, (error) => error === reason);
    assert.equal(embedder.queuedBatches, 0);
    assert.ok(embedder.stats().texts < 200, 'not every batch ran');

    const [vector] = await embedder.embed(['still works']);
    assert.equal(vector!.length, 32);
  });

  test('back-pressure: queued batches never exceed maxQueuedBatches, and concurrent callers all get answers', async (t) => {
    const embedder = new OnnxEmbedder(spec, { device: 'cpu', workers: 1, batchSize: 2, maxQueuedBatches: 2 });
    t.after(() => embedder.dispose());
    await embedder.ready();
    let maxQueued = 0;
    let done = false;
    const sample = () => {
      maxQueued = Math.max(maxQueued, embedder.queuedBatches);
      if (!done) setImmediate(sample);
    };
    sample();
    const calls = [sampleTexts(30), sampleTexts(20), sampleTexts(25)].map((texts) => embedder.embed(texts));
    maxQueued = Math.max(maxQueued, embedder.queuedBatches);
    const results = await Promise.all(calls);
    done = true;
    assert.ok(maxQueued <= 2, `queued ${maxQueued}`);
    assert.deepEqual(results.map((vectors) => vectors.length), [30, 20, 25]);
    assert.deepEqual(results[1]![3], results[0]![3], 'same text, same vector');
  });

  test('dispose stops the workers; embedding afterwards fails clearly', async () => {
    const embedder = new OnnxEmbedder(spec, { device: 'cpu', workers: 2 });
    await embedder.embed(['a file']);
    await embedder.dispose();
    await assert.rejects(embedder.embed(['a file']), /disposed/);
  });
});

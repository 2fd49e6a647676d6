import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { EmbeddingRunner } from '../../../src/core/embedding/embeddingRunner.js';
import { readEmbeddingModelFolder, type TransformerModelSpec } from '../../../src/core/embedding/modelSpec.js';
import { OnnxEmbedder } from '../../../src/core/embedding/onnxEmbedder.js';
import { POOLED_OUTPUT, tokenVectorOutput, withPooling } from '../../../src/core/embedding/poolingGraph.js';
import { readGraphFacts } from '../../../src/core/onnx/graphEdit.js';
import { writeBertModelFolder } from '../../support/bertModel.js';

const TEXTS = ['rotate the api signing keys', 'the server returns an error', 'vacuum the table', 'json response header timeout retry', 'a'];

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

describe('pooling inside the graph', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'docent-pooling-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const pooling of ['mean', 'cls'] as const) {
    test(`${pooling}: the session returns normalised [B, D] float32 that match pooling the token vectors by hand`, async () => {
      const folder = writeBertModelFolder(join(dir, pooling), { pooling });
      const spec = readEmbeddingModelFolder(folder) as TransformerModelSpec;
      const bytes = readFileSync(spec.modelPath);
      const facts = readGraphFacts(bytes);
      assert.equal(tokenVectorOutput(facts), 'last_hidden_state');
      const original = await ort.InferenceSession.create(bytes);
      const pooled = await ort.InferenceSession.create(withPooling(bytes, facts, { hidden: 'last_hidden_state', mask: 'attention_mask', pooling, dimensions: spec.dimensions }));
      // Two rows of different lengths: the second is padded, and padding must not count.
      const ids = BigInt64Array.from([2, 10, 11, 12, 3, 2, 20, 3, 0, 0].map(BigInt));
      const mask = BigInt64Array.from([1, 1, 1, 1, 1, 1, 1, 1, 0, 0].map(BigInt));
      const feeds = { input_ids: new ort.Tensor('int64', ids, [2, 5]), attention_mask: new ort.Tensor('int64', mask, [2, 5]), token_type_ids: new ort.Tensor('int64', new BigInt64Array(10), [2, 5]) };
      const tokens = (await original.run(feeds)).last_hidden_state!;
      const result = (await pooled.run(feeds, [POOLED_OUTPUT]))[POOLED_OUTPUT]!;
      assert.deepEqual(result.dims, [2, spec.dimensions]);
      assert.equal(result.type, 'float32');
      const D = spec.dimensions;
      const hidden = tokens.data as Float32Array;
      for (let row = 0; row < 2; row++) {
        const expected = new Float32Array(D);
        const positions = pooling === 'cls' ? [0] : [0, 1, 2, 3, 4].filter((p) => mask[row * 5 + p] === 1n);
        for (const p of positions) for (let d = 0; d < D; d++) expected[d]! += hidden[(row * 5 + p) * D + d]!;
        const norm = Math.hypot(...expected);
        const actual = (result.data as Float32Array).subarray(row * D, (row + 1) * D);
        for (let d = 0; d < D; d++) assert.ok(Math.abs(actual[d]! - expected[d]! / norm) < 1e-5, `row ${row} dim ${d}`);
      }
      await original.release();
      await pooled.release();
    });
  }

  test('fp16 exports: model_fp16.onnx is found, its fp16 output is converted, and it agrees with the fp32 export', async (t) => {
    const fp32 = readEmbeddingModelFolder(writeBertModelFolder(join(dir, 'fp32'), { files: 'fp32' })) as TransformerModelSpec;
    const fp16 = readEmbeddingModelFolder(writeBertModelFolder(join(dir, 'fp16'), { files: 'fp16' })) as TransformerModelSpec;
    const both = readEmbeddingModelFolder(writeBertModelFolder(join(dir, 'both'), { files: 'both' })) as TransformerModelSpec;
    assert.match(fp16.modelPath, /model_fp16\.onnx$/, 'a folder with only an fp16 export runs it');
    assert.equal(both.modelPath, join(dir, 'both', 'onnx', 'model.onnx'), 'the CPU runs the fp32 export when there is one');
    assert.equal(both.fp16ModelPath, join(dir, 'both', 'onnx', 'model_fp16.onnx'), 'GPUs run the fp16 one');
    const facts = readGraphFacts(readFileSync(fp16.modelPath));
    assert.equal(facts.outputs.find((o) => o.name === 'last_hidden_state')?.elemType, 10, 'the generated export really returns float16');

    const half = new OnnxEmbedder(fp16, { device: 'cpu', workers: 1 });
    const full = await EmbeddingRunner.create(fp32, { device: 'cpu' });
    t.after(() => half.dispose());
    t.after(() => full.dispose());
    const halfVectors = await half.embed(TEXTS);
    const { vectors: fullVectors } = await full.embed(TEXTS);
    halfVectors.forEach((vector, i) => {
      assert.equal(vector.length, fp32.dimensions);
      assert.ok(Math.abs(Math.hypot(...vector) - 1) < 1e-5, 'unit length');
      // fp16 weights round at 3 significant digits; fp16 bits read as float32 would be noise.
      assert.ok(cosine(vector, fullVectors[i]!) > 0.999, `text ${i}: cosine ${cosine(vector, fullVectors[i]!)}`);
    });
  });
});

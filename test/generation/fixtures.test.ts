/** The decoders real exporters wrote (../shared/models); skipped with a reason when absent. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { GenerationEngine } from '../../src/generation/engine.js';
import { GREEDY } from '../../src/generation/sampling.js';

const SHARED_MODELS = join(__dirname, '..', '..', '..', 'shared', 'models');
const PROMPTS = ['hello world', 'How do I rotate the API signing keys?', 'the quick brown fox jumps over the lazy dog again and again'];

async function soloAndBatched(engine: GenerationEngine, promptIds: number[][], maxTokens: number) {
  const request = (ids: number[]) => ({ promptIds: ids, maxTokens, sampling: GREEDY, ignoreEos: true });
  const solo: number[][] = [];
  for (const ids of promptIds) solo.push((await engine.submit(request(ids))).tokenIds);
  const batched = (await Promise.all(promptIds.map((ids) => engine.submit(request(ids))))).map((r) => r.tokenIds);
  return { solo, batched };
}

describe('real exporter fixtures', () => {
  test('tiny-random-llama-fp16 (optimum names, fp16 cache): generates, batched == solo', async (t) => {
    const dir = join(SHARED_MODELS, 'tiny-random-llama-fp16');
    if (!existsSync(join(dir, 'model.onnx'))) return t.skip(`fixture not found at ${dir}`);
    const engine = await GenerationEngine.load(dir, { device: 'cpu', prefillChunk: 4, prefillBudget: 64 });
    try {
      assert.equal(engine.io.kvType, 'float16');
      assert.equal(engine.io.logitsType, 'float16');
      assert.equal(engine.io.idType, 'int64');
      assert.equal(engine.io.slots.length, 4);
      // This export builds its mask from input_ids and cannot take several tokens after a past.
      assert.equal(engine.prefillChunk, Number.MAX_SAFE_INTEGER);
      const chat = engine.codec.renderChat([{ role: 'user', content: 'How do I rotate keys?' }]);
      assert.equal(chat, '<s>[INST] How do I rotate keys? [/INST]');
      const prompts = [engine.codec.encode(chat, false), ...PROMPTS.map((p) => engine.codec.encode(p, true))];
      assert.equal(prompts[1]![0], 1, 'BOS from the tokenizer post-processor');
      const { solo, batched } = await soloAndBatched(engine, prompts, 12);
      for (const tokens of solo) assert.equal(tokens.length, 12);
      assert.deepEqual(batched, solo);
    } finally {
      await engine.dispose();
    }
  });

  test('tiny-random-gpt2-fp32 (genai_config, past_N [2,B,4,T,8], int32, vocab 1000): generates, batched == solo', async (t) => {
    const dir = join(SHARED_MODELS, 'tiny-random-gpt2-fp32');
    if (!existsSync(join(dir, 'past.onnx'))) return t.skip(`fixture not found at ${dir}`);
    const engine = await GenerationEngine.load(dir, { device: 'cpu', prefillChunk: 4, prefillBudget: 64 });
    try {
      assert.deepEqual([engine.io.kvOuter, engine.io.kvHeads, engine.io.headDim, engine.io.vocabSize], [2, 4, 8, 1000]);
      assert.equal(engine.io.idType, 'int32');
      assert.equal(engine.prefillChunk, 4);
      assert.ok(engine.codec.usesFallbackTemplate);
      const prompts = PROMPTS.map((p) => engine.codec.encode(p, true));
      assert.ok(prompts.flat().some((id) => id > 999), 'real GPT-2 ids beyond the cut vocabulary are clamped');
      const { solo, batched } = await soloAndBatched(engine, prompts, 12);
      for (const tokens of solo) {
        assert.equal(tokens.length, 12);
        assert.ok(tokens.every((id) => id < 1000));
      }
      assert.deepEqual(batched, solo);
    } finally {
      await engine.dispose();
    }
  });
});

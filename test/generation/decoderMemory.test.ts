/**
 * What the decoder holds once every request has finished: nothing per request. On the CPU a KV
 * cache is host tensors (ArrayBuffers of this thread with the inline decoder); on a GPU the same
 * blocks are device memory, so a block kept after its sequences left would hold it while idle.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { GenerationEngine } from '../../src/generation/engine.js';
import { modelDir } from './testModels.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function settledArrayBuffers(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().arrayBuffers;
}

test('after a batch of long requests finishes, no KV cache is left: array buffers return to where they were', { timeout: 120_000 }, async () => {
  // 2 layers × key and value × 256 wide × 4 bytes = 4 KiB per token: 8 rows of 600 tokens hold ~19 MiB.
  const dir = await modelDir('memory', { layers: 2, hidden: 256, heads: 4, vocab: 512, seed: 3, maxPositions: 1024 });
  const engine = await GenerationEngine.load(dir, { thread: 'inline', intraOpThreads: 1, prefillChunk: 600, prefillBudget: 8 * 600 });
  try {
    const before = await settledArrayBuffers();
    const prompt = (row: number) => Array.from({ length: 590 + row }, (_, i) => 3 + ((i * 7 + row) % 500));
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, row) => engine.submit({ promptIds: prompt(row), maxTokens: 4, ignoreEos: true, sampling: { temperature: 0, topP: 1, topK: 0 } })),
    );
    assert.deepEqual(results.map((result) => result.completionTokens), new Array(8).fill(4));
    const retained = (await settledArrayBuffers()) - before;
    assert.ok(retained < 2 * 2 ** 20, `${(retained / 2 ** 20).toFixed(1)} MiB of array buffers still held after every request finished`);
  } finally {
    await engine.dispose();
  }
});

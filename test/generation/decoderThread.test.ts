import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GenerationEngine } from '../../src/generation/engine.js';
import { GREEDY } from '../../src/generation/sampling.js';
import { modelDir } from './testModels.js';

/** Wide enough that a decode step takes milliseconds, so a blocked thread is unmistakable. */
const SLOW_DECODER = { layers: 2, hidden: 512, heads: 8, vocab: 4096, seed: 5, maxPositions: 256 };

/** Event-loop turns (setImmediate callbacks) the thread gets per generated token. */
async function turnsPerToken(engine: GenerationEngine): Promise<number> {
  let turns = 0;
  let spinning = true;
  const spin = () => {
    turns++;
    if (spinning) setImmediate(spin);
  };
  setImmediate(spin);
  const result = await engine.submit({ promptIds: engine.codec.encode('where is the on-call runbook', true), maxTokens: 24, sampling: GREEDY, ignoreEos: true });
  spinning = false;
  return turns / result.completionTokens;
}

test('the decoder runs off the calling thread: the event loop keeps turning while a step runs', async () => {
  const dir = await modelDir('slow-decoder', SLOW_DECODER);
  const inline = await GenerationEngine.load(dir, { device: 'cpu', thread: 'inline' });
  const worker = await GenerationEngine.load(dir, { device: 'cpu' });
  try {
    await inline.submit({ promptIds: [1, 5, 6], maxTokens: 2, sampling: GREEDY, ignoreEos: true }); // warm-up
    await worker.submit({ promptIds: [1, 5, 6], maxTokens: 2, sampling: GREEDY, ignoreEos: true });
    const blocked = await turnsPerToken(inline);
    const free = await turnsPerToken(worker);
    // In-thread, session.run holds the loop for the whole step: a few turns per token at most.
    assert.ok(free > 10 * blocked, `event-loop turns per token: worker ${free.toFixed(0)}, same thread ${blocked.toFixed(1)}`);
    const [a, b] = await Promise.all([inline.submit({ promptIds: [1, 7, 8, 9], maxTokens: 8, sampling: GREEDY, ignoreEos: true }), worker.submit({ promptIds: [1, 7, 8, 9], maxTokens: 8, sampling: GREEDY, ignoreEos: true })]);
    assert.deepEqual(a.tokenIds, b.tokenIds, 'same tokens on either thread');
  } finally {
    await inline.dispose();
    await worker.dispose();
  }
});

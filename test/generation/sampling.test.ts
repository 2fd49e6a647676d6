import assert from 'node:assert/strict';
import { test } from 'node:test';
import { halfToFloat, TokenSampler } from '../../src/generation/sampling.js';

test('sampling: seeds reproduce, top_k 1 is greedy, fp16 conversion', () => {
  const logits = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i) * 3);
  const draw = (seed: number) => {
    const sampler = new TokenSampler({ temperature: 1, topP: 0.9, topK: 20, seed });
    return Array.from({ length: 30 }, () => sampler.next(logits));
  };
  assert.deepEqual(draw(5), draw(5));
  assert.notDeepEqual(draw(5), draw(6));
  const best = logits.indexOf(Math.max(...logits));
  assert.equal(new TokenSampler({ temperature: 1, topP: 1, topK: 1, seed: 1 }).next(logits), best);
  // top_p this small keeps only the most likely token, whatever the (unseeded) draw.
  const nucleus = Array.from({ length: 20 }, () => new TokenSampler({ temperature: 1, topP: 0.01, topK: 0 }).next(logits));
  assert.deepEqual(new Set(nucleus), new Set([best]));
  assert.deepEqual([0x3c00, 0xc000, 0x0000, 0x7bff, 0x0001].map(halfToFloat), [1, -2, 0, 65504, 2 ** -24]);
});

test('plain temperature sampling follows the softmax distribution', () => {
  const logits = Float32Array.of(Math.log(0.6), Math.log(0.3), Math.log(0.1));
  const sampler = new TokenSampler({ temperature: 1, topP: 1, topK: 0, seed: 123 });
  const counts = [0, 0, 0];
  for (let i = 0; i < 20_000; i++) counts[sampler.next(logits)]!++;
  // Seeded, so this is exact for this seed; the bounds are ±3σ around the true frequencies.
  assert.ok(Math.abs(counts[0]! / 20_000 - 0.6) < 0.011, String(counts));
  assert.ok(Math.abs(counts[1]! / 20_000 - 0.3) < 0.01, String(counts));
  assert.ok(Math.abs(counts[2]! / 20_000 - 0.1) < 0.007, String(counts));
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { floatToHalf, halfToFloat, toFloat32 } from '../../src/core/onnx/float16.js';
import { seededRandom } from '../../src/core/seededRandom.js';
import { argmax, topKIds, TokenSampler, type SamplingParams } from '../../src/generation/sampling.js';

/** The definition the samplers must match: sort everything, keep top-k, then the top-p prefix. */
function referenceCandidates(logits: Float32Array, params: SamplingParams): { ids: number[]; probabilities: number[] } {
  const ids = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
  const kept = params.topK > 0 ? ids.slice(0, params.topK) : ids;
  const weights = kept.map((id) => Math.exp((logits[id]! - logits[kept[0]!]!) / params.temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let end = kept.length;
  let cumulative = 0;
  for (let i = 0; i < kept.length && params.topP < 1; i++) {
    cumulative += weights[i]! / total;
    if (cumulative >= params.topP) {
      end = i + 1;
      break;
    }
  }
  const keptTotal = weights.slice(0, end).reduce((a, b) => a + b, 0);
  return { ids: kept.slice(0, end), probabilities: weights.slice(0, end).map((w) => w / keptTotal) };
}

function randomLogits(count: number, seed: number, spread = 3): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: count }, () => {
    const u = random() || 1e-12;
    return spread * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  });
}

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
  for (const value of [1, -2, 0, 65504, 0.1, -3.14159, 2 ** -24, 1e-3]) assert.equal(halfToFloat(floatToHalf(value)), toFloat32(Uint16Array.of(floatToHalf(value)))[0]);
  assert.ok(Math.abs(halfToFloat(floatToHalf(0.1)) - 0.1) < 1e-4);
});

test('top-k by heap and top-p by buckets keep exactly what a full sort keeps, with the same weights', () => {
  for (const [seed, params] of [
    [1, { temperature: 0.7, topP: 0.95, topK: 0 }],
    [2, { temperature: 1, topP: 0.5, topK: 0 }],
    [3, { temperature: 0.3, topP: 0.9, topK: 0 }],
    [4, { temperature: 1, topP: 1, topK: 50 }],
    [5, { temperature: 0.8, topP: 0.9, topK: 40 }],
    [6, { temperature: 1.5, topP: 0.99, topK: 0 }],
  ] as const) {
    const logits = randomLogits(5000, seed);
    // Ties are broken by id, as greedy does: make some.
    for (let i = 0; i < 50; i++) logits[i * 7] = logits[3]!;
    const reference = referenceCandidates(logits, params);
    const candidates = new TokenSampler(params).candidates(logits);
    assert.deepEqual([...candidates.ids], reference.ids, `seed ${seed}`);
    const total = candidates.weights.reduce((a, b) => a + b, 0);
    candidates.weights.forEach((weight, i) => assert.ok(Math.abs(weight / total - reference.probabilities[i]!) < 1e-9));
  }
  const logits = randomLogits(1000, 9);
  assert.deepEqual([...topKIds(logits, 10)], referenceCandidates(logits, { temperature: 1, topP: 1, topK: 10 }).ids);
  assert.equal(argmax(Float32Array.of(1, 3, 3, 2)), 1);
});

test('plain temperature sampling (bucketed rejection sampling) follows the softmax distribution exactly', () => {
  // Tokens just below a 1/32-nat bucket edge, whose weight is 3% under their bucket's bound,
  // next to tokens right on an edge: a sampler that drew by the bounds would be off by ~0.008.
  const temperature = 0.9;
  const justBelow = 0.99 / 32;
  const logits = Float32Array.from([0, justBelow, 1 / 32 + 1e-6, 1 + justBelow, 2, 2.5 + justBelow], (nats) => -nats * temperature);
  const weights = [...logits].map((l) => Math.exp(l / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  const sampler = new TokenSampler({ temperature, topP: 1, topK: 0, seed: 123 });
  const draws = 200_000;
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < draws; i++) counts[sampler.next(logits)]!++;
  weights.forEach((weight, i) => {
    const p = weight / total;
    const sigma = Math.sqrt((p * (1 - p)) / draws);
    // 4σ: a sampler that used the bucket bounds as weights (up to 3% off) would fail here.
    assert.ok(Math.abs(counts[i]! / draws - p) < 4 * sigma, `token ${i}: ${counts[i]! / draws} vs ${p.toFixed(4)}`);
  });
});

test('plain temperature sampling stays exact for tokens far below the best (the rejection path) and on a flat row (the bucketed fallback)', () => {
  // One best token, three 1 nat below, and 3,000 tokens 9 nats below (outside the 8-nat window
  // weighed exactly): together the far ones hold 3000·e^-9 ≈ 0.37 of the best token's weight.
  const temperature = 0.8;
  const logits = new Float32Array(3004).fill(-9 * temperature);
  logits[1500] = 0;
  for (const id of [10, 2000, 3003]) logits[id] = -1 * temperature;
  const weights = [...logits].map((l) => Math.exp(l / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  const sampler = new TokenSampler({ temperature, topP: 1, topK: 0, seed: 7 });
  const draws = 100_000;
  const counts = new Map<number, number>();
  for (let i = 0; i < draws; i++) {
    const id = sampler.next(logits);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const within = (p: number, observed: number, what: string, n = draws) => {
    const sigma = Math.sqrt((p * (1 - p)) / n);
    assert.ok(Math.abs(observed / n - p) < 4 * sigma, `${what}: ${observed / n} vs ${p.toFixed(4)}`);
  };
  within(weights[1500]! / total, counts.get(1500) ?? 0, 'best');
  within(weights[10]! / total, counts.get(10) ?? 0, 'one nat below');
  const far = [...counts].filter(([id]) => ![1500, 10, 2000, 3003].includes(id)).reduce((sum, [, count]) => sum + count, 0);
  within((3000 * Math.exp(-9)) / total, far, 'the far tokens together');
  // The far draws spread over the far tokens (a uniform proposal), not one of them.
  assert.ok([...counts.keys()].length > 1000);

  // 20,000 equal logits overflow the kept ids: the bucketed draw takes over, uniformly.
  const flat = new Float32Array(20_000);
  const flatSampler = new TokenSampler({ temperature: 1, topP: 1, topK: 0, seed: 3 });
  let lowerHalf = 0;
  for (let i = 0; i < 20_000; i++) if (flatSampler.next(flat) < 10_000) lowerHalf++;
  within(0.5, lowerHalf, 'flat row, lower half', 20_000);
});

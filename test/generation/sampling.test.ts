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

/**
 * Rows where top-p's one-pass bound cannot settle the boundary or is not used, and where ties,
 * temperature and -Infinity matter. Each with what it exercises.
 */
function nucleusRows(): Array<[string, Float32Array, SamplingParams]> {
  const rows: Array<[string, Float32Array, SamplingParams]> = [];
  // Five leaders and 19,995 ids 5–6 nats below: more ids within 8 nats than the pass keeps, and a
  // nucleus of thousands of tail ids.
  const random = seededRandom(11);
  const flat = Float32Array.from({ length: 20_000 }, () => -5 - random());
  for (const id of [3, 700, 9000, 15000, 19999]) flat[id] = -random() * 0.5;
  rows.push(['flat tail, nucleus deep in it', flat, { temperature: 1, topP: 0.9, topK: 0 }]);
  // Two leaders and 1,000 ids 9–10 nats below (outside the exactly weighed window, together 4 %
  // of the mass): the nucleus reaches into the bounded tail.
  const deep = Float32Array.from({ length: 1002 }, () => (-9 - random()) * 0.7);
  deep[100] = 0;
  deep[600] = -0.2;
  rows.push(['nucleus beyond the exact window', deep, { temperature: 0.7, topP: 0.99, topK: 0 }]);
  // The boundary falls 2e-9 either side of the two leaders' share, inside even the refined
  // bound's width (2.2e-7 of the 300 equal tail ids' mass, 2.6 % of the row's): only the exact
  // path can tell, and ties at −9 go by id.
  const edge = new Float32Array(302).fill(-9);
  edge[5] = 0;
  edge[200] = -1;
  const weights = [...edge].map((l) => Math.exp(l));
  const share = (weights[5]! + weights[200]!) / weights.reduce((a, b) => a + b, 0);
  rows.push(['boundary just inside the leaders', edge, { temperature: 1, topP: share * (1 - 2e-9), topK: 0 }]);
  rows.push(['boundary just past the leaders, ties by id', edge, { temperature: 1, topP: share * (1 + 2e-9), topK: 0 }]);
  // 30 equal logits across the boundary: the lowest ids among them are kept.
  const ties = randomLogits(4000, 12, 1).map((l) => l - 12);
  ties[2500] = 2;
  for (let i = 0; i < 30; i++) ties[100 + i * 97] = 0;
  rows.push(['ties at the boundary', ties, { temperature: 1, topP: 0.6, topK: 0 }]);
  // Masked tokens, temperature above 1, a boundary among many small weights (the coarse bound leaves
  // it open, the refined one settles it).
  const masked = randomLogits(1500, 13, 2.5);
  for (let i = 0; i < masked.length; i += 3) masked[i] = -Infinity;
  for (let i = 0; i < 10; i++) masked[1 + i * 97] = 10 + i * 0.3;
  rows.push(['-Infinity logits, T 1.3', masked, { temperature: 1.3, topP: 0.97, topK: 0 }]);
  return rows;
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
  for (const [what, logits, params] of nucleusRows()) {
    const reference = referenceCandidates(logits, params);
    const candidates = new TokenSampler(params).candidates(logits);
    assert.deepEqual([...candidates.ids], reference.ids, what);
    const total = candidates.weights.reduce((a, b) => a + b, 0);
    candidates.weights.forEach((weight, i) => assert.ok(Math.abs(weight / total - reference.probabilities[i]!) < 1e-9, what));
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

test('top-p draws follow the sort-based nucleus distribution: deep flat tail, ties at the boundary, -Infinity logits', () => {
  const draws = 100_000;
  const within = (p: number, observed: number, what: string) => {
    const sigma = Math.sqrt((p * (1 - p)) / draws);
    assert.ok(Math.abs(observed / draws - p) < 4 * sigma, `${what}: ${observed / draws} vs ${p.toFixed(5)}`);
  };
  const rows = nucleusRows().filter(([what]) => what !== 'flat tail, nucleus deep in it'); // 100k exact passes over 20k ids: slow
  for (const [what, logits, params] of rows) {
    const reference = referenceCandidates(logits, params);
    const sampler = new TokenSampler({ ...params, seed: 21 });
    const counts = new Map<number, number>();
    for (let i = 0; i < draws; i++) {
      const id = sampler.next(logits);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const kept = new Set(reference.ids);
    assert.deepEqual([...counts.keys()].filter((id) => !kept.has(id)), [], `${what}: only nucleus ids are drawn`);
    // The five most likely ids one by one, and the rest of the nucleus (its lower part) as a group.
    const head = Math.min(5, reference.ids.length);
    for (let i = 0; i < head; i++) within(reference.probabilities[i]!, counts.get(reference.ids[i]!) ?? 0, `${what}, id ${reference.ids[i]}`);
    if (reference.ids.length > head) {
      const rest = reference.probabilities.slice(head).reduce((a, b) => a + b, 0);
      within(rest, reference.ids.slice(head).reduce((sum, id) => sum + (counts.get(id) ?? 0), 0), `${what}, the rest of the nucleus`);
    }
  }
});

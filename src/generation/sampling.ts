/**
 * Per-request token choice: greedy (temperature 0) or temperature / top-k / top-p sampling
 * from a per-request seeded generator, so a seed reproduces a completion whatever else shares
 * the batch.
 *
 * Nothing here sorts the vocabulary (151,936 ids for Qwen2.5: a full sort took 67 ms per row).
 * - top-k keeps the k best in a small heap during one pass, then sorts only those k.
 * - top-p without top-k buckets every token by how far its logit is below the best (a
 *   histogram of 1/32-nat buckets), walks the buckets from the top until they hold the
 *   nucleus, and sorts only the tokens of those buckets.
 * - plain temperature sampling draws a bucket by its upper-bound mass, a uniform token inside
 *   it, and accepts it with probability weight / bound (rejection sampling, exact), so only a
 *   handful of exponentials are computed instead of one per token.
 * Tokens more than 32 nats below the best (after temperature) are never drawn: each has
 * probability below e^-32 ≈ 1.3e-14, under 2e-9 for a whole 152k vocabulary.
 */
import { seededRandom } from '../core/seededRandom.js';

export interface SamplingParams {
  /** 0 means greedy. */
  temperature: number;
  /** 1 disables nucleus filtering. */
  topP: number;
  /** 0 disables top-k filtering. */
  topK: number;
  seed?: number;
}

export const GREEDY: SamplingParams = { temperature: 0, topP: 1, topK: 0 };

const BUCKETS_PER_NAT = 32;
const WINDOW_NATS = 32;
const BUCKETS = BUCKETS_PER_NAT * WINDOW_NATS;
/** Relative error of a bucket's mass estimate (all its members within 1/32 nat of its centre). */
const BUCKET_ERROR = Math.expm1(1 / (2 * BUCKETS_PER_NAT));
/** Weight (relative to the best token) at the top edge and at the centre of each bucket. */
const BUCKET_TOP = Float64Array.from({ length: BUCKETS }, (_, b) => Math.exp(-b / BUCKETS_PER_NAT));
const BUCKET_CENTRE = Float64Array.from({ length: BUCKETS }, (_, b) => Math.exp(-(b + 0.5) / BUCKETS_PER_NAT));

/** The tokens a draw may pick and their unnormalised weights, best first (what top-k/top-p keep). */
export interface Candidates {
  ids: Int32Array;
  weights: Float64Array;
}

export class TokenSampler {
  private readonly random: () => number;
  private readonly histogram = new Uint32Array(BUCKETS);
  private readonly masses = new Float64Array(BUCKETS);

  constructor(private readonly params: SamplingParams) {
    this.random = seededRandom(params.seed ?? Math.floor(Math.random() * 2 ** 32));
  }

  /** Picks a token id from one row of logits. */
  next(logits: Float32Array): number {
    const { temperature, topK, topP } = this.params;
    if (temperature <= 0 || topK === 1) return argmax(logits);
    if (topK <= 0 || topK >= logits.length) {
      if (topP >= 1) return this.fromFullDistribution(logits);
    }
    return this.draw(this.candidates(logits));
  }

  /** What top-k then top-p keep of `logits`, best first. */
  candidates(logits: Float32Array): Candidates {
    const { temperature, topK, topP } = this.params;
    const sorted = topK > 0 && topK < logits.length ? topKIds(logits, topK) : this.nucleusSuperset(logits);
    const maxLogit = logits[sorted[0]!]!;
    const inverseTemperature = 1 / temperature;
    const weights = new Float64Array(sorted.length);
    let total = 0;
    for (let i = 0; i < sorted.length; i++) total += weights[i] = Math.exp((logits[sorted[i]!]! - maxLogit) * inverseTemperature);
    if (topK <= 0 || topK >= logits.length) total += this.tailMass;
    let kept = sorted.length;
    if (topP < 1) {
      // Nucleus: the smallest prefix of the sorted candidates whose probability reaches top_p.
      let cumulative = 0;
      for (let i = 0; i < sorted.length; i++) {
        cumulative += weights[i]!;
        if (cumulative >= topP * total) {
          kept = i + 1;
          break;
        }
      }
    }
    return { ids: sorted.subarray(0, kept), weights: weights.subarray(0, kept) };
  }

  private draw({ ids, weights }: Candidates): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i]!;
    let target = this.random() * total;
    for (let i = 0; i < ids.length; i++) {
      target -= weights[i]!;
      if (target <= 0) return ids[i]!;
    }
    return ids[ids.length - 1]!;
  }

  /** Estimated mass (relative to the best token's weight 1) of the buckets nucleusSuperset left out. */
  private tailMass = 0;

  /**
   * The tokens of the top buckets that hold at least top_p of the mass (with a margin for the
   * estimate), sorted best first; `tailMass` estimates the rest.
   */
  private nucleusSuperset(logits: Float32Array): Int32Array {
    const maxLogit = logits[argmax(logits)]!;
    const scale = BUCKETS_PER_NAT / this.params.temperature;
    const counts = this.fillHistogram(logits, maxLogit, scale);
    const masses = this.masses;
    let total = 0;
    for (let b = 0; b < BUCKETS; b++) total += masses[b] = counts[b]! * BUCKET_CENTRE[b]!;
    const wanted = Math.min(total, this.params.topP * total * (1 + 2 * BUCKET_ERROR));
    let cumulative = 0;
    let last = 0;
    while (last < BUCKETS - 1 && cumulative + masses[last]! < wanted) cumulative += masses[last++]!;
    last = Math.min(BUCKETS - 1, last + 1); // one more bucket: the estimate may be off by BUCKET_ERROR
    this.tailMass = 0;
    for (let b = last + 1; b < BUCKETS; b++) this.tailMass += masses[b]!;
    let size = 0;
    for (let b = 0; b <= last; b++) size += counts[b]!;
    const ids = new Int32Array(size);
    let n = 0;
    const limit = last + 1;
    for (let i = 0; i < logits.length; i++) if ((maxLogit - logits[i]!) * scale < limit) ids[n++] = i;
    return sortByLogit(ids, logits);
  }

  /** Exact draw from softmax(logits / temperature) without an exponential per token. */
  private fromFullDistribution(logits: Float32Array): number {
    const maxLogit = logits[argmax(logits)]!;
    const scale = BUCKETS_PER_NAT / this.params.temperature;
    const counts = this.fillHistogram(logits, maxLogit, scale);
    // Every token of bucket b lies at least b/32 nats below the best: its weight is at most bound(b).
    const bounds = this.masses;
    let total = 0;
    for (let b = 0; b < BUCKETS; b++) total += bounds[b] = counts[b]! * BUCKET_TOP[b]!;
    for (;;) {
      let target = this.random() * total;
      let bucket = 0;
      while (bucket < BUCKETS - 1 && (counts[bucket] === 0 || (target -= bounds[bucket]!) > 0)) bucket++;
      let nth = Math.floor(this.random() * counts[bucket]!);
      for (let i = 0; i < logits.length; i++) {
        const distance = (maxLogit - logits[i]!) * scale;
        if (distance < bucket || distance >= bucket + 1 || nth-- > 0) continue;
        // Accept with weight / bound = e^-(distance - bucket)/32, at least e^-1/32 ≈ 0.97.
        if (this.random() < Math.exp(-(distance - bucket) / BUCKETS_PER_NAT)) return i;
        break;
      }
    }
  }

  /** Tokens per 1/32-nat bucket of distance below the best logit (after temperature). */
  private fillHistogram(logits: Float32Array, maxLogit: number, scale: number): Uint32Array {
    const counts = this.histogram;
    counts.fill(0);
    for (let i = 0; i < logits.length; i++) {
      const distance = (maxLogit - logits[i]!) * scale;
      if (distance < BUCKETS) counts[distance | 0]!++;
    }
    return counts;
  }
}

/** Lowest index wins ties, so greedy choices are reproducible. */
export function argmax(values: Float32Array): number {
  let best = 0;
  let bestValue = values[0]!;
  for (let i = 1; i < values.length; i++) {
    if (values[i]! > bestValue) {
      bestValue = values[i]!;
      best = i;
    }
  }
  return best;
}

/** The `k` best ids (lowest id first among equal logits), best first, in one pass with a heap. */
export function topKIds(logits: Float32Array, k: number): Int32Array {
  const heapIds = new Int32Array(k);
  const heapValues = new Float32Array(k);
  // Min-heap on (value, -id): the root is the worst of the kept ones.
  const worse = (a: number, b: number) => heapValues[a]! < heapValues[b]! || (heapValues[a] === heapValues[b] && heapIds[a]! > heapIds[b]!);
  const siftDown = (size: number) => {
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let smallest = at;
      if (left < size && worse(left, smallest)) smallest = left;
      if (right < size && worse(right, smallest)) smallest = right;
      if (smallest === at) return;
      [heapIds[at], heapIds[smallest]] = [heapIds[smallest]!, heapIds[at]!];
      [heapValues[at], heapValues[smallest]] = [heapValues[smallest]!, heapValues[at]!];
      at = smallest;
    }
  };
  let size = 0;
  for (let i = 0; i < logits.length; i++) {
    const value = logits[i]!;
    if (size < k) {
      let at = size++;
      heapIds[at] = i;
      heapValues[at] = value;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (!worse(at, parent)) break;
        [heapIds[at], heapIds[parent]] = [heapIds[parent]!, heapIds[at]!];
        [heapValues[at], heapValues[parent]] = [heapValues[parent]!, heapValues[at]!];
        at = parent;
      }
    } else if (value > heapValues[0]!) {
      // Later ids never beat an equal kept value (lower id wins ties), so only strictly greater enters.
      heapIds[0] = i;
      heapValues[0] = value;
      siftDown(size);
    }
  }
  return sortByLogit(heapIds.subarray(0, size), logits);
}

function sortByLogit(ids: Int32Array, logits: Float32Array): Int32Array {
  return ids.sort((a, b) => logits[b]! - logits[a]! || a - b);
}

/**
 * Per-request token choice: greedy (temperature 0) or temperature / top-k / top-p sampling
 * from a per-request seeded generator, so a seed reproduces a completion whatever else shares
 * the batch.
 *
 * Nothing here sorts the vocabulary (151,936 ids for Qwen2.5: a full sort took 67 ms per row).
 * - top-k keeps the k best in a small heap during one pass, then sorts only those k.
 * - top-p without top-k counts every token into 1/32-nat buckets (after temperature) in the
 *   same pass that finds the best logit, walks the buckets down from the best until they hold
 *   the nucleus, collects only those buckets' tokens in a second pass and sorts them.
 * - plain temperature sampling is one pass that keeps the ids within 8 nats of the running best;
 *   every other token weighs less than e^-8 of the best, so a draw picks from the kept ids by
 *   their exact weights or, with probability ∝ (others × e^-8), proposes a uniform other token
 *   and accepts it with probability weight / e^-8 (rejection sampling, exact). On a flat row
 *   (too many ids kept) or after many rejections it falls back to the bucketed draw: a bucket by
 *   its upper-bound mass, a uniform token inside it, accepted with probability weight / bound.
 * The pass that builds the histogram also keeps the ids within 4 nats of the running best in a
 * small buffer, so the nucleus and a draw from a top bucket need no second pass over the logits
 * (a second pass is the fallback when the buffer overflows on a flat distribution).
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
/** e^(−r/32): bucket r's weight relative to the best bucket's, before the offset of the best logit in its bucket. */
const BUCKET_TOP = Float64Array.from({ length: BUCKETS }, (_, b) => Math.exp(-b / BUCKETS_PER_NAT));
/** Absolute buckets kept around the first logit: ±256 nats after temperature. */
const SPAN = 16_384;
/** Buckets below the best whose ids the first pass keeps (4 nats: the nucleus of a peaked row), and how many ids it may keep. */
const NEAR_BUCKETS = 4 * BUCKETS_PER_NAT;
const NEAR_CAPACITY = 8_192;
/** Plain temperature sampling: ids within this many nats of the best are weighed exactly. */
const DRAW_WINDOW_NATS = 8;
/** Proposals of an other token rejected in a row before the bucketed draw takes over. */
const MAX_REJECTIONS = 1_000;

/** The tokens a draw may pick and their unnormalised weights, best first (what top-k/top-p keep). */
export interface Candidates {
  ids: Int32Array;
  weights: Float64Array;
}

export class TokenSampler {
  private readonly random: () => number;
  private readonly histogram = new Uint32Array(SPAN);
  private readonly masses = new Float64Array(BUCKETS);
  private readonly near = new Int32Array(NEAR_CAPACITY);
  private readonly nearCumulative = new Float64Array(NEAR_CAPACITY);
  /** How many ids of `near` the last histogram pass kept, or −1 when it overflowed. */
  private nearCount = 0;

  constructor(private readonly params: SamplingParams) {
    this.random = seededRandom(params.seed ?? Math.floor(Math.random() * 2 ** 32));
  }

  /** Picks a token id from one row of logits. */
  next(logits: Float32Array): number {
    const { temperature, topK, topP } = this.params;
    if (temperature <= 0 || topK === 1) return argmax(logits);
    if (topK <= 0 || topK >= logits.length) {
      if (topP >= 1) return this.fromNearBest(logits) ?? this.fromFullDistribution(logits);
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
   * estimate), sorted best first; `tailMass` estimates the rest. Two passes over the logits.
   */
  private nucleusSuperset(logits: Float32Array): Int32Array {
    const h = this.histogramOf(logits);
    const masses = this.masses;
    const centre = Math.exp(-(h.fraction - 0.5) / BUCKETS_PER_NAT);
    let total = 0;
    for (let r = 0; r < BUCKETS; r++) total += masses[r] = h.count(r) * BUCKET_TOP[r]! * centre;
    const wanted = Math.min(total, this.params.topP * total * (1 + 2 * BUCKET_ERROR));
    let cumulative = 0;
    let last = 0;
    while (last < BUCKETS - 1 && cumulative + masses[last]! < wanted) cumulative += masses[last++]!;
    last = Math.min(BUCKETS - 1, last + 1); // one more bucket: the estimate may be off by BUCKET_ERROR
    this.tailMass = 0;
    for (let r = last + 1; r < BUCKETS; r++) this.tailMass += masses[r]!;
    let size = 0;
    for (let r = 0; r <= last; r++) size += h.count(r);
    const ids = new Int32Array(size);
    if (this.nearCount >= 0 && last + 1 <= NEAR_BUCKETS) collectFrom(logits, h.scale, h.base, h.top - last, ids, this.near.subarray(0, this.nearCount));
    else collectFrom(logits, h.scale, h.base, h.top - last, ids);
    return sortByLogit(ids, logits);
  }

  /**
   * Exact draw from softmax(logits / temperature) after one pass (see the module comment), or
   * undefined when the row is too flat for the kept ids or the draw kept being rejected.
   */
  private fromNearBest(logits: Float32Array): number | undefined {
    const temperature = this.params.temperature;
    const near = this.near;
    const n = keepNearBest(logits, DRAW_WINDOW_NATS * temperature, near);
    if (n < 0) return undefined;
    // The id that set the final best is always kept (it lies within the window of itself).
    let best = -Infinity;
    for (let j = 0; j < n; j++) best = Math.max(best, logits[near[j]!]!);
    const inverseTemperature = 1 / temperature;
    const cumulative = this.nearCumulative;
    let kept = 0;
    for (let j = 0; j < n; j++) cumulative[j] = kept += Math.exp((logits[near[j]!]! - best) * inverseTemperature);
    const others = logits.length - n;
    const otherBound = Math.exp(-DRAW_WINDOW_NATS);
    const envelope = kept + others * otherBound;
    for (let attempt = 0; attempt < MAX_REJECTIONS; attempt++) {
      const target = this.random() * envelope;
      if (target < kept) return near[firstAtLeast(cumulative, n, target)]!;
      let i = Math.floor(this.random() * logits.length);
      while (isKept(near, n, i)) i = Math.floor(this.random() * logits.length);
      if (this.random() * otherBound < Math.exp((logits[i]! - best) * inverseTemperature)) return i;
    }
    return undefined;
  }

  /**
   * Exact draw from softmax(logits / temperature) without an exponential per token: a bucket by
   * its upper-bound mass, a uniform member of it, accepted with probability weight / bound.
   */
  private fromFullDistribution(logits: Float32Array): number {
    const h = this.histogramOf(logits);
    // Members of bucket r lie at least (r + fraction − 1) scaled nats below the best logit.
    const bounds = this.masses;
    const edge = Math.exp(-(h.fraction - 1) / BUCKETS_PER_NAT);
    let total = 0;
    for (let r = 0; r < BUCKETS; r++) total += bounds[r] = h.count(r) * (r === 0 ? 1 : BUCKET_TOP[r]! * edge);
    const inverseTemperature = 1 / this.params.temperature;
    for (;;) {
      let target = this.random() * total;
      let r = 0;
      while (r < BUCKETS - 1 && (bounds[r] === 0 || (target -= bounds[r]!) > 0)) r++;
      const bound = r === 0 ? 1 : BUCKET_TOP[r]! * edge;
      const nth = Math.floor(this.random() * h.count(r));
      const i =
        this.nearCount >= 0 && r + 1 <= NEAR_BUCKETS
          ? nthInBucket(logits, h.scale, h.base, h.top - r, nth, this.near.subarray(0, this.nearCount))
          : nthInBucket(logits, h.scale, h.base, h.top - r, nth);
      if (i < logits.length && this.random() * bound < Math.exp((logits[i]! - h.maxLogit) * inverseTemperature)) return i;
    }
  }

  /**
   * One pass: the best logit and a histogram of all logits in absolute 1/32-nat buckets (after
   * temperature) kept around the first logit, read back relative to the best one's bucket.
   * Buckets far below the first logit are dropped (256+ nats below the best: never drawn); a
   * logit far above it (never seen in practice) makes a second pass relative to the best.
   */
  private histogramOf(logits: Float32Array): { maxLogit: number; scale: number; base: number; top: number; fraction: number; count: (r: number) => number } {
    const counts = this.histogram;
    counts.fill(0);
    const scale = BUCKETS_PER_NAT / this.params.temperature;
    let base = Math.floor(logits[0]! * scale) - SPAN / 2;
    const maxLogit = countBuckets(logits, scale, base, counts, this.near);
    if (maxLogit * scale - base >= SPAN) {
      counts.fill(0);
      base = Math.floor(maxLogit * scale) - SPAN + 1;
      countBuckets(logits, scale, base, counts, this.near);
    }
    this.nearCount = nearKept;
    const top = Math.floor(maxLogit * scale - base);
    return { maxLogit, scale, base, top, fraction: maxLogit * scale - base - top, count: (r) => (top - r >= 0 ? counts[top - r]! : 0) };
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
  const swap = (a: number, b: number) => {
    const id = heapIds[a]!;
    heapIds[a] = heapIds[b]!;
    heapIds[b] = id;
    const value = heapValues[a]!;
    heapValues[a] = heapValues[b]!;
    heapValues[b] = value;
  };
  const siftDown = (size: number) => {
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let smallest = at;
      if (left < size && worse(left, smallest)) smallest = left;
      if (right < size && worse(right, smallest)) smallest = right;
      if (smallest === at) return;
      swap(at, smallest);
      at = smallest;
    }
  };
  const size = Math.min(k, logits.length);
  for (let i = 0; i < size; i++) {
    let at = i;
    heapIds[at] = i;
    heapValues[at] = logits[i]!;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!worse(at, parent)) break;
      swap(at, parent);
      at = parent;
    }
  }
  // Later ids never beat an equal kept value (lower id wins ties), so only strictly greater enters.
  for (let i = firstAbove(logits, size, heapValues[0]!); i < logits.length; i = firstAbove(logits, i + 1, heapValues[0]!)) {
    heapIds[0] = i;
    heapValues[0] = logits[i]!;
    siftDown(size);
  }
  return sortByLogit(heapIds.subarray(0, size), logits);
}

// The passes over the logits are small functions of their own: V8 compiles such tight loops
// far better than the same loop inside a method that also builds closures (measured: 2.4×).

/** How many ids the last countBuckets kept in `near` (−1: it overflowed), read right after the call. */
let nearKept = 0;

/**
 * Counts each value into bucket floor(value × scale − base) (those in [0, SPAN)) and keeps, in
 * index order, every id whose value lies within NEAR_BUCKETS of the running maximum (so also of
 * the final one); returns the maximum.
 */
function countBuckets(logits: Float32Array, scale: number, base: number, counts: Uint32Array, near: Int32Array): number {
  let max = -Infinity;
  let threshold = -Infinity;
  let n = 0;
  for (let i = 0; i < logits.length; i++) {
    const value = logits[i]!;
    const x = value * scale - base;
    if (x >= 0 && x < SPAN) counts[x | 0]!++;
    if (value > max) {
      max = value;
      threshold = x - NEAR_BUCKETS;
    }
    if (x >= threshold && n >= 0) {
      if (n === near.length) n = keepAbove(logits, scale, base, threshold, near, n);
      if (n >= 0) near[n++] = i;
    }
  }
  nearKept = n;
  return max;
}

/**
 * One pass: keeps, in index order, every id whose logit is within `window` of the running best
 * (so every id within `window` of the final best); returns how many, or −1 when a flat row keeps
 * more than `near` holds.
 */
function keepNearBest(logits: Float32Array, window: number, near: Int32Array): number {
  let max = -Infinity;
  let threshold = -Infinity;
  let n = 0;
  for (let i = 0; i < logits.length; i++) {
    const value = logits[i]!;
    if (value < threshold) continue;
    if (value > max) {
      max = value;
      threshold = value - window;
    }
    if (n === near.length) {
      n = keepAbove(logits, 1, 0, threshold, near, n);
      if (n < 0) return -1;
    }
    near[n++] = i;
  }
  return n;
}

/** The first index j < n with values[j] >= target (values ascending), or n. */
function firstAtLeast(values: Float64Array | Int32Array, n: number, target: number): number {
  let low = 0;
  let high = n;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (values[middle]! < target) low = middle + 1;
    else high = middle;
  }
  return low;
}

function isKept(near: Int32Array, n: number, id: number): boolean {
  const j = firstAtLeast(near, n, id);
  return j < n && near[j] === id;
}

/** Drops the kept ids that fell out of the window; −1 when that frees less than a quarter. */
function keepAbove(logits: Float32Array, scale: number, base: number, threshold: number, near: Int32Array, count: number): number {
  let n = 0;
  for (let j = 0; j < count; j++) {
    const id = near[j]!;
    if (logits[id]! * scale - base >= threshold) near[n++] = id;
  }
  return n > (near.length * 3) / 4 ? -1 : n;
}

/**
 * Fills `ids` with the indices whose bucket is `lowest` or above, with countBuckets' arithmetic,
 * from `among` (ids in index order known to hold them all) or from every index.
 */
function collectFrom(logits: Float32Array, scale: number, base: number, lowest: number, ids: Int32Array, among?: Int32Array): void {
  let n = 0;
  if (among) {
    for (let j = 0; j < among.length && n < ids.length; j++) if (logits[among[j]!]! * scale - base >= lowest) ids[n++] = among[j]!;
    return;
  }
  for (let i = 0; i < logits.length && n < ids.length; i++) if (logits[i]! * scale - base >= lowest) ids[n++] = i;
}

/** The index of the `nth` value (0-based, in index order) in bucket `bucket`, from `among` or every index; logits.length if none. */
function nthInBucket(logits: Float32Array, scale: number, base: number, bucket: number, nth: number, among?: Int32Array): number {
  if (among) {
    for (let j = 0; j < among.length; j++) {
      const x = logits[among[j]!]! * scale - base;
      if (x >= bucket && x < bucket + 1 && nth-- === 0) return among[j]!;
    }
    return logits.length;
  }
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i]! * scale - base;
    if (x >= bucket && x < bucket + 1 && nth-- === 0) return i;
  }
  return logits.length;
}

/** The first index from `from` whose value exceeds `threshold`. */
function firstAbove(values: Float32Array, from: number, threshold: number): number {
  for (let i = from; i < values.length; i++) if (values[i]! > threshold) return i;
  return values.length;
}

function sortByLogit(ids: Int32Array, logits: Float32Array): Int32Array {
  return ids.sort((a, b) => logits[b]! - logits[a]! || a - b);
}

/**
 * Per-request token choice: greedy (temperature 0) or temperature / top-k / top-p sampling
 * from a per-request seeded generator, so a seed reproduces a completion whatever else shares
 * the batch.
 *
 * Nothing here sorts the vocabulary (151,936 ids for Qwen2.5: a full sort took 67 ms per row).
 * - top-k keeps the k best in a small heap during one pass, then sorts only those k.
 * - top-p without top-k makes one pass that finds the best logit, keeps the ids within 8 nats of
 *   the running best (weighed exactly afterwards) and sums every other token's weight rounded up
 *   to a 2^(-1/64) step from a table (no exponential per token): that bounds the row's total mass
 *   within 1.1 % of the mass outside the kept ids. When the nucleus boundary among the sorted kept
 *   ids is the same for both ends of the bound, it is the exact boundary. Otherwise a pass that
 *   refines each weight within its step (bound within 2.2e-7) tries again, and then (or on a flat
 *   row that keeps too many ids) an exact path weighs every token and sorts only the boundary's
 *   1/32-nat bucket.
 * - plain temperature sampling is one pass that keeps the ids within 8 nats of the running best;
 *   every other token weighs less than e^-8 of the best, so a draw picks from the kept ids by
 *   their exact weights or, with probability ∝ (others × e^-8), proposes a uniform other token
 *   and accepts it with probability weight / e^-8 (rejection sampling, exact). On a flat row
 *   (too many ids kept) or after many rejections it falls back to the bucketed draw: a bucket by
 *   its upper-bound mass, a uniform token inside it, accepted with probability weight / bound.
 * The bucketed draw's histogram pass also keeps the ids within 4 nats of the running best in a
 * small buffer, so a draw from a top bucket needs no second pass over the logits (a second pass
 * is the fallback when the buffer overflows on a flat distribution). It never draws tokens more
 * than 32 nats below the best (after temperature): each has probability below e^-32 ≈ 1.3e-14,
 * under 2e-9 for a whole 152k vocabulary.
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
/** Top-p: ids within this many nats of the best are weighed exactly; the rest are bounded. */
const NUCLEUS_WINDOW_NATS = 8;
/** Top-p's weight table: steps of 2^(-1/64), from 128 bits above the reference logit to 64 below (then 0). */
const STEPS_PER_BIT = 64;
const STEP_ABOVE = STEPS_PER_BIT * 128;
const STEP_LIMIT = STEP_ABOVE + STEPS_PER_BIT * 64;
/** STEP_WEIGHT[n] = 2^((STEP_ABOVE − n)/64): the weight of a token at step n exactly (relative to the reference). */
const STEP_WEIGHT = Float64Array.from({ length: STEP_LIMIT + 1 }, (_, n) => (n < STEP_LIMIT ? 2 ** ((STEP_ABOVE - n) / STEPS_PER_BIT) : 0));
const NATS_PER_STEP = Math.LN2 / STEPS_PER_BIT;
/** How far below boundWeight the true weight may lie, as a fraction of it: a whole step, or the refined estimate's error. */
const STEP_ERROR = 1 - 2 ** (-1 / STEPS_PER_BIT);
/** Within a step, e^-x (x < ln2/64 ≈ 0.0108) by 1 − x + x²/2: never below it, above by at most x³/6 < 2.2e-7 of it. */
const REFINED_ERROR = 2.2e-7;

/**
 * An upper bound of the weight at (fractional) step t ≥ 0, 0 past the table: the step's weight,
 * or refined within the step (costs a third more per pass; used only when the coarse bound
 * leaves the nucleus boundary open).
 */
function boundWeight(t: number, refined: boolean): number {
  if (!(t < STEP_LIMIT)) return 0;
  const n = t | 0;
  if (!refined) return STEP_WEIGHT[n]!;
  const x = (t - n) * NATS_PER_STEP;
  return STEP_WEIGHT[n]! * (1 - x * (1 - 0.5 * x));
}
/** Relative slack on the bound for rounding in the sums (≪ 1e-9 for any vocabulary) and Math.exp. */
const BOUND_SLACK = 1e-9;

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
  /** The nucleus of the last row (ids and exact weights, the first `n`), sized to the vocabulary. */
  private nucleusIds = new Int32Array(0);
  private nucleusWeights = new Float64Array(0);
  /** The last row's best logit: the next row's reference for the weight table (rows of one stream are alike). */
  private reference = Number.NaN;
  private readonly passStats = new Float64Array(3);

  constructor(private readonly params: SamplingParams) {
    this.random = seededRandom(params.seed ?? Math.floor(Math.random() * 2 ** 32));
  }

  /** Picks a token id from one row of logits. */
  next(logits: Float32Array): number {
    const { temperature, topK, topP } = this.params;
    if (temperature <= 0 || topK === 1) return argmax(logits);
    if (topK <= 0 || topK >= logits.length) {
      if (topP >= 1) return this.fromNearBest(logits) ?? this.fromFullDistribution(logits);
      const n = this.nucleus(logits);
      return this.draw({ ids: this.nucleusIds.subarray(0, n), weights: this.nucleusWeights.subarray(0, n) });
    }
    return this.draw(this.candidates(logits));
  }

  /** What top-k then top-p keep of `logits`, best first. */
  candidates(logits: Float32Array): Candidates {
    const { temperature, topK, topP } = this.params;
    const inverseTemperature = 1 / temperature;
    if (topK <= 0 || topK >= logits.length) {
      const n = this.nucleus(logits);
      const sorted = sortByLogit(this.nucleusIds.slice(0, n), logits);
      const best = logits[sorted[0]!]!;
      return { ids: sorted, weights: Float64Array.from(sorted, (id) => Math.exp((logits[id]! - best) * inverseTemperature)) };
    }
    const sorted = topKIds(logits, topK);
    const maxLogit = logits[sorted[0]!]!;
    const weights = new Float64Array(sorted.length);
    let total = 0;
    for (let i = 0; i < sorted.length; i++) total += weights[i] = Math.exp((logits[sorted[i]!]! - maxLogit) * inverseTemperature);
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

  /**
   * Top-p without top-k: fills nucleusIds/nucleusWeights with the nucleus (exact weights relative
   * to the best token; best first on the one-pass path, by bucket on the exact path) and returns
   * its size.
   */
  private nucleus(logits: Float32Array): number {
    if (this.nucleusIds.length < logits.length) {
      this.nucleusIds = new Int32Array(logits.length);
      this.nucleusWeights = new Float64Array(logits.length);
    }
    if (this.params.topP >= 1) return this.exactNucleus(logits);
    let n = this.nucleusFromNearBest(logits, false);
    if (n === 0) n = this.nucleusFromNearBest(logits, true);
    return n > 0 ? n : this.exactNucleus(logits);
  }

  /**
   * The nucleus after one pass (see the module comment); 0 when the bound leaves its boundary
   * open, −1 when the nucleus reaches past the window, the row is too flat for the kept ids or
   * the best logit is not finite.
   */
  private nucleusFromNearBest(logits: Float32Array, refined: boolean): number {
    const { temperature, topP } = this.params;
    const inverseTemperature = 1 / temperature;
    const stepsPerLogit = STEPS_PER_BIT * Math.LOG2E * inverseTemperature;
    const window = NUCLEUS_WINDOW_NATS * temperature;
    const near = this.near;
    const stats = this.passStats;
    let reference = Number.isFinite(this.reference) ? this.reference : logits[0]!;
    if (!Number.isFinite(reference)) reference = 0;
    let offset = reference * stepsPerLogit + STEP_ABOVE;
    let n = boundedPass(logits, stepsPerLogit, offset, window, near, stats, refined);
    const best = stats[1]!;
    if (n < 0 || !Number.isFinite(best)) return -1;
    // The table reaches 128 bits above the reference and 64 below: far from it, weigh again from the best.
    if ((best - reference) * stepsPerLogit > STEP_ABOVE - STEPS_PER_BIT || (reference - best) * stepsPerLogit > 16 * STEPS_PER_BIT) {
      reference = best;
      offset = reference * stepsPerLogit + STEP_ABOVE;
      n = boundedPass(logits, stepsPerLogit, offset, window, near, stats, refined);
    }
    this.reference = best;
    let bounded = stats[0]!;
    // The kept ids: their steps come out of the bounded sum, their exact weights make `exact`.
    let exact = 0;
    let inWindow = 0;
    let kept = 0;
    const lowest = best - window;
    for (let j = 0; j < n; j++) {
      const id = near[j]!;
      const value = logits[id]!;
      const t = offset - value * stepsPerLogit;
      bounded -= boundWeight(t, refined);
      const weight = Math.exp((value - best) * inverseTemperature);
      exact += weight;
      // Every id within the window of the final best was kept (it was within it of the running best).
      if (value >= lowest) {
        near[kept++] = id;
        inWindow += weight;
      }
    }
    const toBest = Math.exp((reference - best) * inverseTemperature);
    const slack = BOUND_SLACK * stats[0]!;
    const restHigh = (Math.max(0, bounded) + slack + logits.length * 2 ** -64) * toBest * (1 + BOUND_SLACK);
    const restLow = Math.max(0, bounded - slack) * (1 - (refined ? REFINED_ERROR : STEP_ERROR)) * toBest * (1 - BOUND_SLACK);
    const low = topP * (exact + restLow);
    const high = topP * (exact + restHigh);
    // The nucleus reaches past the window whatever the rest weighs: no bound can help.
    if (inWindow < low) return -1;
    const sorted = sortByLogit(near.subarray(0, kept), logits);
    const ids = this.nucleusIds;
    const weights = this.nucleusWeights;
    let cumulative = 0;
    for (let i = 0; i < kept; i++) {
      const id = sorted[i]!;
      ids[i] = id;
      cumulative += weights[i] = Math.exp((logits[id]! - best) * inverseTemperature);
      if (cumulative >= low) return cumulative >= high ? i + 1 : 0;
    }
    return 0;
  }

  /**
   * The nucleus from every token's exact weight: 1/32-nat buckets by exact mass locate the
   * boundary, and only the boundary bucket's ids are sorted. With top_p 1, every id.
   */
  private exactNucleus(logits: Float32Array): number {
    const { temperature, topP } = this.params;
    const inverseTemperature = 1 / temperature;
    const ids = this.nucleusIds;
    const weights = this.nucleusWeights;
    const masses = this.masses;
    const best = maxOf(logits);
    const total = weighBuckets(logits, best, inverseTemperature, weights, masses);
    if (topP >= 1) {
      for (let i = 0; i < logits.length; i++) ids[i] = i;
      return logits.length;
    }
    const wanted = topP * total;
    let cumulative = 0;
    let boundary = 0;
    while (boundary < BUCKETS - 1 && cumulative + masses[boundary]! < wanted) cumulative += masses[boundary++]!;
    // Buckets above the boundary's go in whole, in index order; the boundary's ids wait at the end of `ids`.
    const scale = inverseTemperature * BUCKETS_PER_NAT;
    let n = 0;
    let waiting = logits.length;
    for (let i = 0; i < logits.length; i++) {
      const bucket = Math.min(BUCKETS - 1, (best - logits[i]!) * scale) | 0;
      if (bucket < boundary) {
        weights[n] = weights[i]!;
        ids[n++] = i;
      } else if (bucket === boundary) ids[--waiting] = i;
    }
    const boundaryIds = sortByLogit(ids.subarray(waiting), logits).slice();
    for (const id of boundaryIds) {
      ids[n] = id;
      cumulative += weights[n++] = Math.exp((logits[id]! - best) * inverseTemperature);
      if (cumulative >= wanted) break;
    }
    return n;
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
 * One pass for top-p: every value's weight relative to the reference, bounded by boundWeight at
 * step t = offset − value × stepsPerLogit (offset = reference × stepsPerLogit + STEP_ABOVE), summed
 * over the ids it does not keep, and in index order the ids within `window` of the running best
 * (so every id within it of the final best), which also count in the sum: the caller subtracts
 * their steps. stats: [sum, best]. Returns how many ids it kept, −1 when `near` overflows.
 * Two values per iteration with two sums: the loop is bound by the sums' add latency.
 */
function boundedPass(logits: Float32Array, stepsPerLogit: number, offset: number, window: number, near: Int32Array, stats: Float64Array, refined: boolean): number {
  let max = -Infinity;
  let threshold = -Infinity;
  let even = 0;
  let odd = 0;
  let n = 0;
  const end = logits.length & ~1;
  for (let i = 0; i < end; i += 2) {
    const a = logits[i]!;
    const b = logits[i + 1]!;
    const ta = offset - a * stepsPerLogit;
    const tb = offset - b * stepsPerLogit;
    even += boundWeight(ta, refined);
    odd += boundWeight(tb, refined);
    if (a >= threshold || b >= threshold) {
      if (a > max) threshold = (max = a) - window;
      if (a >= threshold) {
        if (n === near.length) return -1;
        near[n++] = i;
      }
      if (b > max) threshold = (max = b) - window;
      if (b >= threshold) {
        if (n === near.length) return -1;
        near[n++] = i + 1;
      }
    }
  }
  if (end < logits.length) {
    const a = logits[end]!;
    const ta = offset - a * stepsPerLogit;
    even += boundWeight(ta, refined);
    if (a > max) threshold = (max = a) - window;
    if (a >= threshold) {
      if (n === near.length) return -1;
      near[n++] = end;
    }
  }
  stats[0] = even + odd;
  stats[1] = max;
  return n;
}

function maxOf(values: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  return max;
}

/**
 * Each value's exact weight relative to `best` into `weights`, summed per 1/32-nat bucket below
 * it into `masses` (the last bucket takes everything lower); returns the total.
 */
function weighBuckets(logits: Float32Array, best: number, inverseTemperature: number, weights: Float64Array, masses: Float64Array): number {
  masses.fill(0);
  const scale = inverseTemperature * BUCKETS_PER_NAT;
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    const value = logits[i]!;
    const weight = Math.exp((value - best) * inverseTemperature);
    weights[i] = weight;
    masses[Math.min(BUCKETS - 1, (best - value) * scale) | 0]! += weight;
    total += weight;
  }
  return total;
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

/**
 * Per-request token choice: greedy (temperature 0) or temperature / top-k / top-p sampling
 * from a per-request seeded generator, so a seed reproduces a completion whatever else shares
 * the batch.
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


export class TokenSampler {
  private readonly random: () => number;

  constructor(private readonly params: SamplingParams) {
    this.random = seededRandom(params.seed ?? Math.floor(Math.random() * 2 ** 32));
  }

  /** Picks a token id from one row of logits. */
  next(logits: Float32Array): number {
    if (this.params.temperature <= 0 || this.params.topK === 1) return argmax(logits);
    if (this.params.topK === 0 && this.params.topP >= 1) return this.fromFullDistribution(logits);
    const candidates = topCandidates(logits, this.params.topK);
    const inverseTemperature = 1 / this.params.temperature;
    const maxLogit = logits[candidates[0]!]!;
    const weights = candidates.map((id) => Math.exp((logits[id]! - maxLogit) * inverseTemperature));
    const total = weights.reduce((sum, w) => sum + w, 0);

    // Nucleus: the smallest prefix of the sorted candidates whose probability reaches top_p.
    let kept = candidates.length;
    if (this.params.topP < 1) {
      let cumulative = 0;
      for (let i = 0; i < candidates.length; i++) {
        cumulative += weights[i]! / total;
        if (cumulative >= this.params.topP) {
          kept = i + 1;
          break;
        }
      }
    }
    let keptTotal = 0;
    for (let i = 0; i < kept; i++) keptTotal += weights[i]!;
    let target = this.random() * keptTotal;
    for (let i = 0; i < kept; i++) {
      target -= weights[i]!;
      if (target <= 0) return candidates[i]!;
    }
    return candidates[kept - 1]!;
  }

  /** Plain temperature sampling needs no sorting: one pass for the sum, one for the draw. */
  private fromFullDistribution(logits: Float32Array): number {
    const inverseTemperature = 1 / this.params.temperature;
    const maxLogit = logits[argmax(logits)]!;
    const weights = new Float64Array(logits.length);
    let total = 0;
    for (let i = 0; i < logits.length; i++) total += weights[i] = Math.exp((logits[i]! - maxLogit) * inverseTemperature);
    let target = this.random() * total;
    for (let i = 0; i < logits.length; i++) {
      target -= weights[i]!;
      if (target <= 0) return i;
    }
    return logits.length - 1;
  }
}

/** Lowest index wins ties, so greedy choices are reproducible. */
export function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Ids sorted by descending logit; only the best `topK` when topK > 0. */
function topCandidates(logits: Float32Array, topK: number): number[] {
  const ids = Array.from({ length: logits.length }, (_, i) => i);
  ids.sort((a, b) => logits[b]! - logits[a]! || a - b);
  return topK > 0 ? ids.slice(0, topK) : ids;
}

/** IEEE half → single precision (onnxruntime-node hands fp16 tensors over as Uint16Array). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Row `row` of a [rows, vocab] logits block as fp32. */
export function logitsRow(data: Float32Array | Uint16Array, row: number, vocab: number): Float32Array {
  const start = row * vocab;
  if (data instanceof Float32Array) return data.subarray(start, start + vocab);
  const out = new Float32Array(vocab);
  for (let i = 0; i < vocab; i++) out[i] = halfToFloat(data[start + i]!);
  return out;
}

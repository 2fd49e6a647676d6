/**
 * Host time per row of token choice at a Qwen2.5 vocabulary (151,936 ids), docent's samplers
 * next to the sort-based sampler they replaced (kept here, verbatim in behaviour, as the
 * baseline), and fp16 logits conversion with arithmetic vs with the lookup table. Methods take
 * turns every round so machine noise hits them alike; the median of the rounds is reported.
 * Times are CPU time of this process (process.cpuUsage), not wall time: on a shared machine the
 * wall clock also counts the time other processes held the core.
 *
 *   node --import tsx bench/generation.ts --only sampling
 */
import { halfToFloat, toFloat32, floatToHalf } from '../src/core/onnx/float16.js';
import { seededRandom } from '../src/core/seededRandom.js';
import { TokenSampler, type SamplingParams } from '../src/generation/sampling.js';

export const QWEN_VOCABULARY = 151_936;

/** The sampler before this change: a full sort for top-k/top-p, an exponential per token otherwise. */
function sortingSampler(params: SamplingParams): (logits: Float32Array) => number {
  const random = seededRandom(params.seed ?? 1);
  return (logits) => {
    if (params.topK === 0 && params.topP >= 1) {
      let maxLogit = -Infinity;
      for (const value of logits) if (value > maxLogit) maxLogit = value;
      const weights = new Float64Array(logits.length);
      let total = 0;
      for (let i = 0; i < logits.length; i++) total += weights[i] = Math.exp((logits[i]! - maxLogit) / params.temperature);
      let target = random() * total;
      for (let i = 0; i < logits.length; i++) if ((target -= weights[i]!) <= 0) return i;
      return logits.length - 1;
    }
    const ids = Array.from({ length: logits.length }, (_, i) => i);
    ids.sort((a, b) => logits[b]! - logits[a]! || a - b);
    const candidates = params.topK > 0 ? ids.slice(0, params.topK) : ids;
    const weights = candidates.map((id) => Math.exp((logits[id]! - logits[candidates[0]!]!) / params.temperature));
    const total = weights.reduce((sum, w) => sum + w, 0);
    let kept = candidates.length;
    let cumulative = 0;
    for (let i = 0; i < candidates.length && params.topP < 1; i++) {
      cumulative += weights[i]! / total;
      if (cumulative >= params.topP) {
        kept = i + 1;
        break;
      }
    }
    let target = random() * weights.slice(0, kept).reduce((sum, w) => sum + w, 0);
    for (let i = 0; i < kept; i++) if ((target -= weights[i]!) <= 0) return candidates[i]!;
    return candidates[kept - 1]!;
  };
}

/** Logits shaped like a language model's: a normal body (σ 2.5) and `leaders` clear leaders. */
function lmLikeLogits(seed: number, leaders = 20, vocabulary = QWEN_VOCABULARY): Float32Array {
  const random = seededRandom(seed);
  const logits = Float32Array.from({ length: vocabulary }, () => 2.5 * Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random()));
  for (let i = 0; i < leaders; i++) logits[Math.floor(random() * vocabulary)] = 12 + 4 * random();
  return logits;
}

export interface SamplingRow {
  method: string;
  params: string;
  sortingMs?: number;
  docentMs: number;
}

export async function runSamplingBench(
  log: (line: string) => void,
  rounds = 9,
  withBaseline = true,
): Promise<{ vocabulary: number; rows: SamplingRow[]; fp16: { arithmeticMs: number; tableMs: number } }> {
  const rowsLogits = [1, 2, 3].map((seed) => lmLikeLogits(seed));
  // No leaders: a nucleus of ~4,000 ids reaching past the ids top-p's one pass weighs exactly (its exact path).
  const flatRows = [1, 2, 3].map((seed) => lmLikeLogits(seed, 0));
  const cases: Array<{ method: string; params: SamplingParams; rows?: Float32Array[] }> = [
    { method: 'greedy', params: { temperature: 0, topP: 1, topK: 0 } },
    { method: 'temperature 0.7', params: { temperature: 0.7, topP: 1, topK: 0, seed: 1 } },
    { method: 'top-p 0.95', params: { temperature: 0.7, topP: 0.95, topK: 0, seed: 1 } },
    { method: 'top-k 50 + top-p 0.9', params: { temperature: 0.8, topP: 0.9, topK: 50, seed: 1 } },
    { method: 'top-p 0.95, no leader', params: { temperature: 0.7, topP: 0.95, topK: 0, seed: 1 }, rows: flatRows },
  ];
  const time = (run: (logits: Float32Array) => number, rows = rowsLogits): number => cpuMs(() => {
    for (const logits of rows) run(logits);
  }) / rows.length;
  const samples = cases.map(() => ({ sorting: [] as number[], docent: [] as number[] }));
  const samplers = cases.map(({ params }) => ({ docent: new TokenSampler(params), sorting: sortingSampler(params) }));
  for (let round = 0; round < rounds + 1; round++) {
    cases.forEach((_, i) => {
      const docent = time((logits) => samplers[i]!.docent.next(logits), cases[i]!.rows);
      const sorting = cases[i]!.method === 'greedy' || !withBaseline ? 0 : time(samplers[i]!.sorting, cases[i]!.rows);
      if (round === 0) return; // warm-up
      samples[i]!.docent.push(docent);
      samples[i]!.sorting.push(sorting);
    });
  }
  const rows: SamplingRow[] = cases.map(({ method, params }, i) => ({
    method,
    params: `T=${params.temperature} top_p=${params.topP} top_k=${params.topK}`,
    docentMs: median(samples[i]!.docent),
    ...(method === 'greedy' || !withBaseline ? {} : { sortingMs: median(samples[i]!.sorting) }),
  }));

  const halves = Uint16Array.from(rowsLogits[0]!, (value) => floatToHalf(value));
  const arithmetic: number[] = [];
  const table: number[] = [];
  for (let round = 0; round < rounds + 1; round++) {
    const a = cpuMs(() => {
      const out = new Float32Array(halves.length);
      for (let i = 0; i < halves.length; i++) out[i] = halfToFloat(halves[i]!);
    });
    const t = cpuMs(() => toFloat32(halves));
    if (round > 0) {
      arithmetic.push(a);
      table.push(t);
    }
  }
  const fp16 = { arithmeticMs: median(arithmetic), tableMs: median(table) };

  log(`\nToken choice per row at a ${QWEN_VOCABULARY.toLocaleString('en')}-token vocabulary, CPU ms (median of ${rounds} rounds × 3 rows; target ≤ 1 ms per row):`);
  log('method                | sort-based sampler (before) ms | docent ms | speed-up');
  log('--------------------- | ------------------------------ | --------- | --------');
  for (const row of rows) {
    log(
      [
        row.method.padEnd(21),
        (row.sortingMs === undefined ? '—' : row.sortingMs.toFixed(2)).padStart(30),
        row.docentMs.toFixed(2).padStart(9),
        (row.sortingMs === undefined ? '—' : `${(row.sortingMs / row.docentMs).toFixed(1)}×`).padStart(8),
      ].join(' | '),
    );
  }
  log(`fp16 logits → fp32 per row: ${fp16.arithmeticMs.toFixed(2)} ms with arithmetic per value (before), ${fp16.tableMs.toFixed(2)} ms with the 64 Ki-entry table`);
  return { vocabulary: QWEN_VOCABULARY, rows, fp16 };
}

/** CPU time (user + system) of this process spent in `work`, in ms. */
function cpuMs(work: () => void): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

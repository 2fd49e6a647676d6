/**
 * Contrastive trainer for the static embedding model (no torch: plain typed arrays, two cores).
 * A text's vector is the normalised sum over its tokens of weight(token) × row(token) — exactly
 * what the exported ONNX graph computes (src/build/wordVectorModel.ts), so training and
 * inference agree. Both the rows and the per-token weights are learnt, with symmetric InfoNCE
 * over in-batch negatives (a batch holds one package's pairs, so its negatives are the hard ones
 * from the same manual) and lazy Adam on the rows a batch touched.
 */

export interface TrainerConfig {
  dimensions: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  weightLearningRate: number;
  temperature: number;
}

export interface EncodedPair {
  query: Int32Array;
  passage: Int32Array;
  group: number;
  /** A passage of the same package that BM25 ranks high for the query but is not its own. */
  negative?: Int32Array;
}

export class StaticModel {
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly weightM: Float32Array;
  readonly weightV: Float32Array;
  private step = 0;

  constructor(
    readonly rows: number,
    readonly dimensions: number,
    readonly table: Float32Array,
    readonly weights: Float32Array,
  ) {
    this.m = new Float32Array(table.length);
    this.v = new Float32Array(table.length);
    this.weightM = new Float32Array(rows);
    this.weightV = new Float32Array(rows);
  }

  clone(): StaticModel {
    return new StaticModel(this.rows, this.dimensions, this.table.slice(), this.weights.slice());
  }

  /**
   * `share` of this model's weighted rows plus the rest of `other`'s (weight-space ensembling
   * with the initial model, as in WiSE-FT): keeps part of GloVe's general-purpose geometry that
   * training on Debian manuals drifts away from. Weights fold into the rows, so they become 1.
   */
  interpolated(other: StaticModel, share: number): StaticModel {
    const { rows, dimensions: d } = this;
    const table = new Float32Array(rows * d);
    const weights = new Float32Array(rows);
    for (let id = 0; id < rows; id++) {
      const mine = share * this.weights[id]!;
      const theirs = (1 - share) * other.weights[id]!;
      if (mine === 0 && theirs === 0) continue;
      weights[id] = 1;
      for (let k = 0; k < d; k++) table[id * d + k] = mine * this.table[id * d + k]! + theirs * other.table[id * d + k]!;
    }
    return new StaticModel(rows, d, table, weights);
  }

  /** Unnormalised sum and its unit vector. */
  encode(ids: Int32Array, out: Float32Array): number {
    const { dimensions: d, table, weights } = this;
    out.fill(0);
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      const w = weights[id]!;
      if (w === 0) continue;
      const base = id * d;
      for (let j = 0; j < d; j++) out[j]! += w * table[base + j]!;
    }
    let norm = 0;
    for (let j = 0; j < d; j++) norm += out[j]! * out[j]!;
    norm = Math.sqrt(norm) || 1e-9;
    for (let j = 0; j < d; j++) out[j]! /= norm;
    return norm;
  }

  /**
   * One InfoNCE step over a batch; returns the loss. A pair's `negative` (a BM25-mined passage
   * from the same package) joins the batch's passages: every query is scored against all of
   * them (query→passage), each positive passage only against the batch's queries (passage→query).
   */
  trainBatch(batch: EncodedPair[], config: TrainerConfig): number {
    const { dimensions: d } = this;
    const n = batch.length;
    const passageIds = [...batch.map((pair) => pair.passage), ...batch.flatMap((pair) => (pair.negative ? [pair.negative] : []))];
    const m = passageIds.length;
    const queries = new Float32Array(n * d);
    const passages = new Float32Array(m * d);
    const queryNorms = new Float32Array(n);
    const passageNorms = new Float32Array(m);
    const scratch = new Float32Array(d);
    batch.forEach((pair, i) => {
      queryNorms[i] = this.encode(pair.query, scratch);
      queries.set(scratch, i * d);
    });
    passageIds.forEach((ids, t) => {
      passageNorms[t] = this.encode(ids, scratch);
      passages.set(scratch, t * d);
    });
    const inverseT = 1 / config.temperature;
    const scores = new Float32Array(n * m);
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < m; t++) {
        let dot = 0;
        for (let k = 0; k < d; k++) dot += queries[i * d + k]! * passages[t * d + k]!;
        scores[i * m + t] = dot * inverseT;
      }
    }
    // dLoss/dScore of the symmetric loss: (row softmax − I + column softmax − I) / 2n.
    const gradient = new Float32Array(n * m);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let t = 0; t < m; t++) max = Math.max(max, scores[i * m + t]!);
      let sum = 0;
      for (let t = 0; t < m; t++) sum += Math.exp(scores[i * m + t]! - max);
      loss += -(scores[i * m + i]! - max - Math.log(sum)) / (2 * n);
      for (let t = 0; t < m; t++) gradient[i * m + t]! += (Math.exp(scores[i * m + t]! - max) / sum - (i === t ? 1 : 0)) / (2 * n);
    }
    for (let j = 0; j < n; j++) {
      let max = -Infinity;
      for (let i = 0; i < n; i++) max = Math.max(max, scores[i * m + j]!);
      let sum = 0;
      for (let i = 0; i < n; i++) sum += Math.exp(scores[i * m + j]! - max);
      loss += -(scores[j * m + j]! - max - Math.log(sum)) / (2 * n);
      for (let i = 0; i < n; i++) gradient[i * m + j]! += (Math.exp(scores[i * m + j]! - max) / sum - (i === j ? 1 : 0)) / (2 * n);
    }
    const rowGradients = new Map<number, Float32Array>();
    const weightGradients = new Map<number, number>();
    const unitGradient = new Float32Array(d);
    /** Gradient of one text's unit vector (`count` terms g(t) × other[t]) back to its rows and weights. */
    const backward = (ids: Int32Array, unit: Float32Array, offset: number, norm: number, other: Float32Array, count: number, g: (t: number) => number) => {
      unitGradient.fill(0);
      for (let t = 0; t < count; t++) {
        const scale = g(t) * inverseT;
        if (scale === 0) continue;
        for (let k = 0; k < d; k++) unitGradient[k]! += scale * other[t * d + k]!;
      }
      // Through the normalisation: (g − u (u·g)) / |sum|.
      let along = 0;
      for (let k = 0; k < d; k++) along += unit[offset + k]! * unitGradient[k]!;
      for (let k = 0; k < d; k++) unitGradient[k] = (unitGradient[k]! - unit[offset + k]! * along) / norm;
      for (let position = 0; position < ids.length; position++) {
        const id = ids[position]!;
        const w = this.weights[id]!;
        let row = rowGradients.get(id);
        if (!row) rowGradients.set(id, (row = new Float32Array(d)));
        let dotRow = 0;
        const base = id * d;
        for (let k = 0; k < d; k++) {
          row[k]! += w * unitGradient[k]!;
          dotRow += this.table[base + k]! * unitGradient[k]!;
        }
        weightGradients.set(id, (weightGradients.get(id) ?? 0) + dotRow);
      }
    };
    for (let i = 0; i < n; i++) backward(batch[i]!.query, queries, i * d, queryNorms[i]!, passages, m, (t) => gradient[i * m + t]!);
    for (let t = 0; t < m; t++) backward(passageIds[t]!, passages, t * d, passageNorms[t]!, queries, n, (i) => gradient[i * m + t]!);
    this.step++;
    this.adam(rowGradients, weightGradients, config);
    return loss;
  }

  private adam(rows: Map<number, Float32Array>, weights: Map<number, number>, config: TrainerConfig): void {
    const beta1 = 0.9;
    const beta2 = 0.999;
    const epsilon = 1e-8;
    const { dimensions: d, step } = this;
    const correction1 = 1 - beta1 ** step;
    const correction2 = 1 - beta2 ** step;
    for (const [id, gradient] of rows) {
      // Lazy Adam: moments of rows a batch did not touch are not decayed in between.
      const base = id * d;
      for (let k = 0; k < d; k++) {
        const g = gradient[k]!;
        const m = (this.m[base + k] = beta1 * this.m[base + k]! + (1 - beta1) * g);
        const v = (this.v[base + k] = beta2 * this.v[base + k]! + (1 - beta2) * g * g);
        this.table[base + k]! -= (config.learningRate * (m / correction1)) / (Math.sqrt(v / correction2) + epsilon);
      }
    }
    for (const [id, g] of weights) {
      if (id === 0) continue;
      const m = (this.weightM[id] = beta1 * this.weightM[id]! + (1 - beta1) * g);
      const v = (this.weightV[id] = beta2 * this.weightV[id]! + (1 - beta2) * g * g);
      this.weights[id] = Math.max(0, this.weights[id]! - (config.weightLearningRate * (m / correction1)) / (Math.sqrt(v / correction2) + epsilon));
    }
  }
}

/** Share of queries whose own passage is the nearest among all `pairs`' passages (recall@1) and MRR. */
export function validate(model: StaticModel, pairs: EncodedPair[]): { recallAt1: number; mrr: number } {
  const d = model.dimensions;
  const passages = new Float32Array(pairs.length * d);
  const scratch = new Float32Array(d);
  pairs.forEach((pair, i) => {
    model.encode(pair.passage, scratch);
    passages.set(scratch, i * d);
  });
  let hits = 0;
  let reciprocal = 0;
  pairs.forEach((pair, i) => {
    model.encode(pair.query, scratch);
    const scoreOf = (j: number) => {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += scratch[k]! * passages[j * d + k]!;
      return dot;
    };
    const own = scoreOf(i);
    let rank = 1;
    for (let j = 0; j < pairs.length; j++) if (j !== i && scoreOf(j) > own) rank++;
    if (rank === 1) hits++;
    reciprocal += rank <= 10 ? 1 / rank : 0;
  });
  return { recallAt1: hits / pairs.length, mrr: reciprocal / pairs.length };
}

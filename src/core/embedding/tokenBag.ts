/**
 * The feed of the word-vector graph (src/build/wordVectorModel.ts): a batch as a bag of tokens,
 * each distinct id once and a [texts × distinct ids] count matrix, so the model gathers each
 * row once and sums with one MatMul, with no padding.
 */
export const BAG_IDS_INPUT = 'token_ids';
export const BAG_COUNTS_INPUT = 'token_counts';

export interface TokenBag {
  /** Each distinct id of the batch once, in first-use order (never empty: a 0-length axis breaks some kernels). */
  ids: Int32Array;
  /** Row-major [texts × ids.length]: how often each text uses each id. */
  counts: Float32Array;
}

export class TokenBagBuilder {
  /** An id's column in the bag being built, -1 when it has none; reset after each bag. */
  private readonly column: Int32Array;

  /** Ids are below `vocabularySize`. */
  constructor(vocabularySize: number) {
    this.column = new Int32Array(Math.max(1, vocabularySize)).fill(-1);
  }

  build(texts: readonly (readonly number[])[]): TokenBag {
    const column = this.column;
    const distinct: number[] = [];
    for (const text of texts) {
      for (const id of text) {
        if (column[id]! < 0) {
          column[id] = distinct.length;
          distinct.push(id);
        }
      }
    }
    if (distinct.length === 0) distinct.push(0); // no token anywhere: one all-zero column
    const width = distinct.length;
    const counts = new Float32Array(texts.length * width);
    texts.forEach((text, row) => {
      const offset = row * width;
      for (const id of text) counts[offset + column[id]!]!++;
    });
    for (const id of distinct) column[id] = -1;
    return { ids: Int32Array.from(distinct), counts };
  }
}

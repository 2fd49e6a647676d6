/**
 * BM25-mined hard negatives: for each training pair, the passages of the same package that Okapi
 * BM25 (k1 1.2, b 0.75, over WordPiece ids) ranks highest for its query, leaving out its own
 * passage and near-copies of it (the same section reached by another pair kind: a heading pair
 * and a cloze pair of one section share most tokens), which would be false negatives.
 */
import type { EncodedPair } from './trainer.js';

const K1 = 1.2;
const B = 0.75;
/** Tokens in more than this share of a package's passages add little and cost the most. */
const MAX_DOCUMENT_SHARE = 0.1;
/** Token-set overlap above which a candidate counts as the positive itself. */
const NEAR_COPY = 0.5;
/** Candidates ranked before near-copies are dropped. */
const SHORTLIST = 30;

/** For each pair, up to `count` indices (into `pairs`) of hard-negative passages, best first. */
export function mineHardNegatives(pairs: EncodedPair[], count: number): number[][] {
  const result: number[][] = pairs.map(() => []);
  const byGroup = new Map<number, number[]>();
  pairs.forEach((pair, index) => {
    let list = byGroup.get(pair.group);
    if (!list) byGroup.set(pair.group, (list = []));
    list.push(index);
  });
  for (const members of byGroup.values()) {
    const sets = members.map((index) => new Set(pairs[index]!.passage));
    const postings = new Map<number, { doc: number; tf: number }[]>();
    let totalLength = 0;
    members.forEach((index, doc) => {
      const passage = pairs[index]!.passage;
      totalLength += passage.length;
      const tf = new Map<number, number>();
      for (const id of passage) tf.set(id, (tf.get(id) ?? 0) + 1);
      for (const [id, f] of tf) {
        let list = postings.get(id);
        if (!list) postings.set(id, (list = []));
        list.push({ doc, tf: f });
      }
    });
    const n = members.length;
    const averageLength = totalLength / Math.max(1, n);
    const scores = new Float64Array(n);
    members.forEach((index, own) => {
      scores.fill(0);
      for (const id of new Set(pairs[index]!.query)) {
        const list = postings.get(id);
        if (!list || list.length > Math.max(2, MAX_DOCUMENT_SHARE * n)) continue;
        const idf = Math.log(1 + (n - list.length + 0.5) / (list.length + 0.5));
        for (const { doc, tf } of list) {
          const length = pairs[members[doc]!]!.passage.length;
          scores[doc]! += (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * length) / averageLength));
        }
      }
      // The best SHORTLIST by insertion: a full sort per query would cost more than the mining.
      const ranked: number[] = [];
      for (let doc = 0; doc < n; doc++) {
        const score = scores[doc]!;
        if (doc === own || score <= 0 || (ranked.length === SHORTLIST && score <= scores[ranked.at(-1)!]!)) continue;
        let at = ranked.length;
        while (at > 0 && scores[ranked[at - 1]!]! < score) at--;
        ranked.splice(at, 0, doc);
        if (ranked.length > SHORTLIST) ranked.pop();
      }
      const mine = sets[own]!;
      for (const doc of ranked) {
        if (result[index]!.length >= count) break;
        const other = sets[doc]!;
        let shared = 0;
        for (const id of other) if (mine.has(id)) shared++;
        if (shared / (mine.size + other.size - shared) > NEAR_COPY) continue;
        result[index]!.push(members[doc]!);
      }
    });
  }
  return result;
}

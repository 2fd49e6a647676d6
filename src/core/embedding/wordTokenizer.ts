/**
 * Identifier-aware word tokenizer for the word-vector model. Technical docs are full of
 * `readFileSync`, `max_wal_size`, `fs.promises.open` and `autovacuum`: a plain word split would
 * lose them, so each run of letters/digits is looked up whole, then split at camelCase and
 * digit boundaries, then (for long lowercase runs) into two known words.
 */

/** Id 0 is reserved for padding and unknown words (a zero row in the model). */
export const PADDING_ID = 0;
const MIN_COMPOUND_PART = 3;
const MIN_COMPOUND_LENGTH = 6;

export class IdentifierWordTokenizer {
  private readonly ids: Map<string, number>;

  /** `vocabulary[i]` is the word with id i; index 0 is the padding entry. */
  constructor(vocabulary: readonly string[]) {
    this.ids = new Map();
    for (let id = 1; id < vocabulary.length; id++) if (!this.ids.has(vocabulary[id]!)) this.ids.set(vocabulary[id]!, id);
  }

  /** The known words of `text`, in order. */
  words(text: string): string[] {
    const words: string[] = [];
    for (const [run] of text.matchAll(/[\p{L}\p{N}]+/gu)) this.addRun(run, words);
    return words;
  }

  /** Word ids, at most `maxLength` of them. */
  encode(text: string, maxLength: number): number[] {
    const ids: number[] = [];
    for (const word of this.words(text)) {
      if (ids.length >= maxLength) break;
      ids.push(this.ids.get(word)!);
    }
    return ids;
  }

  private addRun(run: string, words: string[]): void {
    const whole = run.toLowerCase();
    if (this.ids.has(whole)) {
      words.push(whole);
      return;
    }
    // getHTTPResponse2 → get, HTTP, Response, 2
    const pieces = run.match(/\p{Lu}+(?!\p{Ll})|\p{Lu}?\p{Ll}+|\p{N}+|[^\p{Lu}\p{Ll}\p{N}]+/gu) ?? [];
    for (const piece of pieces) {
      const lower = piece.toLowerCase();
      if (this.ids.has(lower)) words.push(lower);
      else this.addCompound(lower, words);
    }
  }

  /** autovacuum → auto + vacuum: the split whose rarer part is most frequent (lowest id). */
  private addCompound(word: string, words: string[]): void {
    if (word.length < MIN_COMPOUND_LENGTH) return;
    let best: [string, string] | undefined;
    let bestRank = Infinity;
    for (let cut = MIN_COMPOUND_PART; cut <= word.length - MIN_COMPOUND_PART; cut++) {
      const head = word.slice(0, cut);
      const tail = word.slice(cut);
      const headId = this.ids.get(head);
      const tailId = this.ids.get(tail);
      if (headId === undefined || tailId === undefined) continue;
      const rank = Math.max(headId, tailId);
      if (rank < bestRank) {
        bestRank = rank;
        best = [head, tail];
      }
    }
    if (best) words.push(...best);
  }
}

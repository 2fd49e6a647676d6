/**
 * WordPiece over a BERT vocabulary (vocab.txt, `##` continuations) for the static embedding
 * model: the model is a table lookup, so tokenising is most of its cost. Only letter/digit runs
 * become tokens (punctuation carries nothing a bag of tokens can use); identifiers are split at
 * camelCase boundaries first (`readFileSync` → read, file, sync), then lowercased, accents
 * stripped, and each word is cut greedily into the longest vocabulary pieces. Runs are cached.
 */
import { wordCharAt } from '../search/tokenize.js';
import { PADDING_ID } from './wordTokenizer.js';

const MAX_WORD_CHARS = 100;
const WORD_CACHE_LIMIT = 200_000;
const CAMEL_PIECE = /\p{Lu}+(?!\p{Ll})|\p{Lu}?\p{Ll}+|\p{N}+|[^\p{Lu}\p{Ll}\p{N}]+/gu;

export class WordPieceTokenizer {
  private readonly ids = new Map<string, number>();
  private readonly continuations = new Map<string, number>();
  private readonly unknownId: number;
  /** Letter/digit run → its ids (camel split and pieces): most runs of a text are words seen before. */
  private readonly cache = new Map<string, readonly number[]>();
  private readonly longestPiece: number;

  /** `vocabulary[i]` is the token with id i, as in a BERT vocab.txt. */
  constructor(vocabulary: readonly string[]) {
    let longest = 1;
    vocabulary.forEach((token, id) => {
      if (token.startsWith('##')) {
        if (!this.continuations.has(token.slice(2))) this.continuations.set(token.slice(2), id);
      } else if (!this.ids.has(token)) this.ids.set(token, id);
      longest = Math.max(longest, token.length);
    });
    this.longestPiece = longest;
    this.unknownId = this.ids.get('[UNK]') ?? PADDING_ID;
  }

  /** Token ids of `text`, at most `maxLength`. */
  encode(text: string, maxLength: number): number[] {
    const out: number[] = [];
    const length = text.length;
    let i = 0;
    // Runs of letters/digits (the regex [\p{L}\p{N}]+), scanned by hand: no match objects per word.
    while (i < length && out.length < maxLength) {
      let width = wordCharAt(text, i);
      if (width === 0) {
        i++;
        continue;
      }
      const start = i;
      do i += width;
      while (i < length && (width = wordCharAt(text, i)) > 0);
      for (const id of this.run(text.slice(start, i))) {
        if (out.length >= maxLength) break;
        out.push(id);
      }
    }
    return out;
  }

  /** The ids of one letter/digit run. */
  private run(run: string): readonly number[] {
    const cached = this.cache.get(run);
    if (cached) return cached;
    // All-lowercase or all-uppercase runs are one word; mixed case is split at its humps.
    const pieces = /\p{Ll}/u.test(run) && /\p{Lu}/u.test(run) ? (run.match(CAMEL_PIECE) ?? [run]) : [run];
    const ids = pieces.length === 1 ? this.word(pieces[0]!) : pieces.flatMap((piece) => this.word(piece));
    if (this.cache.size < WORD_CACHE_LIMIT) this.cache.set(run, ids);
    return ids;
  }

  /** The vocabulary pieces of one word (lowercased, accents stripped); [UNK] when it cannot be cut. */
  private word(raw: string): number[] {
    let word = raw.toLowerCase();
    // eslint-disable-next-line no-control-regex
    if (/[^\u0000-\u007f]/.test(word)) word = word.normalize('NFD').replace(/\p{M}/gu, '');
    const pieces: number[] = [];
    if (word.length > MAX_WORD_CHARS) pieces.push(this.unknownId);
    else {
      let start = 0;
      while (start < word.length) {
        let end = Math.min(word.length, start + this.longestPiece);
        let id: number | undefined;
        const table = start === 0 ? this.ids : this.continuations;
        for (; end > start; end--) {
          id = table.get(word.slice(start, end));
          if (id !== undefined) break;
        }
        if (id === undefined) {
          pieces.length = 0;
          pieces.push(this.unknownId);
          break;
        }
        pieces.push(id);
        start = end;
      }
    }
    return pieces;
  }
}

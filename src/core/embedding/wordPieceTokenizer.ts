/**
 * WordPiece over a BERT vocabulary (vocab.txt, `##` continuations) for the static embedding
 * model: the model is a table lookup, so tokenising is most of its cost. Only letter/digit runs
 * become tokens (punctuation carries nothing a bag of tokens can use); identifiers are split at
 * camelCase boundaries first (`readFileSync` → read, file, sync), then lowercased, accents
 * stripped, and each word is cut greedily into the longest vocabulary pieces. Runs are cached
 * (spanCache.ts): most runs of a text were seen before.
 */
import { CodeUnits, SPAN_HASH_SEED, SpanCache, spanHashStep } from '../search/spanCache.js';
import { ASCII_WORD, wordCharAt } from '../search/tokenize.js';
import { PADDING_ID } from './wordTokenizer.js';

const MAX_WORD_CHARS = 100;
const WORD_CACHE_LIMIT = 200_000;
/** Longer runs (hashes, base64, long numbers) rarely repeat: not worth a cache entry. */
const MAX_CACHED_RUN = 64;
const CAMEL_PIECE = /\p{Lu}+(?!\p{Ll})|\p{Lu}?\p{Ll}+|\p{N}+|[^\p{Lu}\p{Ll}\p{N}]+/gu;

export class WordPieceTokenizer {
  private readonly ids = new Map<string, number>();
  private readonly continuations = new Map<string, number>();
  private readonly unknownId: number;
  private readonly cache = new SpanCache<readonly number[]>(WORD_CACHE_LIMIT);
  private readonly codeUnits = new CodeUnits();
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
    const units = this.codeUnits.of(text);
    const cache = this.cache;
    let i = 0;
    // Runs of letters/digits (the regex [\p{L}\p{N}]+), scanned by hand: no match objects per word.
    while (i < length && out.length < maxLength) {
      const start = i;
      let hash = SPAN_HASH_SEED;
      while (i < length) {
        const c = units[i]!;
        const width = c < 128 ? ASCII_WORD[c]! : wordCharAt(units, length, i);
        if (width === 0) break;
        hash = spanHashStep(hash, c);
        if (width === 2) hash = spanHashStep(hash, units[i + 1]!);
        i += width;
      }
      if (i === start) {
        i++;
        continue;
      }
      let ids = cache.get(units, start, i, hash);
      if (ids === undefined) {
        ids = this.run(text.slice(start, i));
        if (i - start <= MAX_CACHED_RUN) cache.set(units, start, i, hash, ids);
      }
      for (let k = 0; k < ids.length && out.length < maxLength; k++) out.push(ids[k]!);
    }
    return out;
  }

  /** The ids of one letter/digit run. */
  private run(run: string): number[] {
    // All-lowercase or all-uppercase runs are one word; mixed case is split at its humps.
    const pieces = mixedCase(run) ? (run.match(CAMEL_PIECE) ?? [run]) : [run];
    return pieces.length === 1 ? this.word(pieces[0]!) : pieces.flatMap((piece) => this.word(piece));
  }

  /** The vocabulary pieces of one word (lowercased, accents stripped); [UNK] when it cannot be cut. */
  private word(raw: string): number[] {
    let word = raw.toLowerCase();
    // eslint-disable-next-line no-control-regex
    if (/[^\u0000-\u007f]/.test(word)) word = word.normalize('NFD').replace(/\p{M}/gu, '');
    const whole = this.ids.get(word); // most words are one piece
    if (whole !== undefined) return [whole];
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

/** Whether `run` has both a lowercase and an uppercase letter (\p{Ll} and \p{Lu}); ASCII runs without a regex. */
function mixedCase(run: string): boolean {
  let lower = false;
  let upper = false;
  for (let i = 0; i < run.length; i++) {
    const c = run.charCodeAt(i);
    if (c >= 128) return /\p{Ll}/u.test(run) && /\p{Lu}/u.test(run);
    lower ||= c >= 97 && c <= 122;
    upper ||= c >= 65 && c <= 90;
  }
  return lower && upper;
}

/**
 * WordPiece over a BERT vocabulary (vocab.txt, `##` continuations) for the static embedding
 * model: the model is a table lookup, so tokenising is most of its cost. Only letter/digit runs
 * become tokens (punctuation carries nothing a bag of tokens can use); identifiers are split at
 * camelCase boundaries first (`readFileSync` → read, file, sync), then lowercased, accents
 * stripped, and each word is cut greedily into the longest vocabulary pieces. Runs are cached
 * (RunCache below): most runs of a text were seen before.
 */
import { wordCharAt } from '../search/tokenize.js';
import { PADDING_ID } from './wordTokenizer.js';

const MAX_WORD_CHARS = 100;
const WORD_CACHE_LIMIT = 200_000;
/** Longer runs (hashes, base64, long numbers) rarely repeat: not worth a cache entry. */
const MAX_CACHED_RUN = 64;
const CAMEL_PIECE = /\p{Lu}+(?!\p{Ll})|\p{Lu}?\p{Ll}+|\p{N}+|[^\p{Lu}\p{Ll}\p{N}]+/gu;
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
/** 1 for an ASCII letter or digit, else 0: the common case of wordCharAt without a call. */
const ASCII_WORD = Uint8Array.from({ length: 128 }, (_, c) => ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? 1 : 0));

export class WordPieceTokenizer {
  private readonly ids = new Map<string, number>();
  private readonly continuations = new Map<string, number>();
  private readonly unknownId: number;
  private readonly cache = new RunCache(WORD_CACHE_LIMIT);
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
    const cache = this.cache;
    let i = 0;
    // Runs of letters/digits (the regex [\p{L}\p{N}]+), scanned by hand and hashed on the way,
    // so a run seen before costs neither a substring nor a string-keyed lookup.
    while (i < length && out.length < maxLength) {
      const start = i;
      let hash = FNV_OFFSET;
      while (i < length) {
        const c = text.charCodeAt(i);
        const width = c < 128 ? ASCII_WORD[c]! : wordCharAt(text, i);
        if (width === 0) break;
        hash = Math.imul(hash ^ c, FNV_PRIME);
        if (width === 2) hash = Math.imul(hash ^ text.charCodeAt(i + 1), FNV_PRIME);
        i += width;
      }
      if (i === start) {
        i++;
        continue;
      }
      let entry = cache.find(text, start, i, hash);
      if (entry < 0) {
        const ids = this.run(text.slice(start, i));
        if (i - start > MAX_CACHED_RUN || (entry = cache.add(text, start, i, hash, ids)) < 0) {
          for (let k = 0; k < ids.length && out.length < maxLength; k++) out.push(ids[k]!);
          continue;
        }
      }
      cache.appendIds(entry, out, maxLength);
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

/**
 * Run → ids, open addressing on the run's hash, everything in typed arrays: the run's characters
 * and ids sit in pools, so a lookup compares code units in place (a Map of strings would need a
 * substring per run and spends most of a text's time on cache misses), and no entry keeps a
 * reference to the text it came from.
 */
class RunCache {
  /** Per slot: [hash, entry + 1]; 0 marks an empty slot. */
  private table = new Int32Array(2 * 4096);
  /** Per entry: [charStart, charLength, idStart, idCount]. */
  private entries = new Int32Array(4 * 2048);
  private chars = new Uint16Array(16_384);
  private idPool = new Int32Array(8192);
  private size = 0;
  private charsUsed = 0;
  private idsUsed = 0;

  constructor(private readonly limit: number) {}

  /** The entry of text[start, end), or -1. */
  find(text: string, start: number, end: number, hash: number): number {
    const table = this.table;
    const mask = (table.length >> 1) - 1;
    const length = end - start;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const stored = table[2 * slot + 1]!;
      if (stored === 0) return -1;
      if (table[2 * slot] !== hash) continue;
      const entry = stored - 1;
      if (this.entries[4 * entry + 1] !== length) continue;
      const at = this.entries[4 * entry]!;
      let k = 0;
      while (k < length && this.chars[at + k] === text.charCodeAt(start + k)) k++;
      if (k === length) return entry;
    }
  }

  /** Stores text[start, end) → ids (absent from the cache) and returns its entry; -1 once the cache is full. */
  add(text: string, start: number, end: number, hash: number, ids: readonly number[]): number {
    if (this.size >= this.limit) return -1;
    if (2 * (this.size + 1) > this.table.length >> 1) this.rehash(this.table.length * 2);
    const entry = this.size++;
    const length = end - start;
    this.entries = grown(this.entries, 4 * this.size);
    this.chars = grown(this.chars, this.charsUsed + length);
    this.idPool = grown(this.idPool, this.idsUsed + ids.length);
    for (let k = 0; k < length; k++) this.chars[this.charsUsed + k] = text.charCodeAt(start + k);
    this.idPool.set(ids, this.idsUsed);
    this.entries.set([this.charsUsed, length, this.idsUsed, ids.length], 4 * entry);
    this.charsUsed += length;
    this.idsUsed += ids.length;
    this.place(hash, entry);
    return entry;
  }

  /** Appends the entry's ids to `out` while it is shorter than `maxLength`. */
  appendIds(entry: number, out: number[], maxLength: number): void {
    const from = this.entries[4 * entry + 2]!;
    const to = from + this.entries[4 * entry + 3]!;
    for (let k = from; k < to && out.length < maxLength; k++) out.push(this.idPool[k]!);
  }

  private place(hash: number, entry: number): void {
    const table = this.table;
    const mask = (table.length >> 1) - 1;
    let slot = hash & mask;
    while (table[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
    table[2 * slot] = hash;
    table[2 * slot + 1] = entry + 1;
  }

  private rehash(length: number): void {
    const old = this.table;
    this.table = new Int32Array(length);
    for (let slot = 0; slot < old.length; slot += 2) if (old[slot + 1] !== 0) this.place(old[slot]!, old[slot + 1]! - 1);
  }
}

/** `array`, or a copy at least twice as long when it is shorter than `needed`. */
function grown<T extends Int32Array | Uint16Array>(array: T, needed: number): T {
  if (needed <= array.length) return array;
  const copy = new (array.constructor as new (length: number) => T)(Math.max(needed, 2 * array.length));
  copy.set(array);
  return copy;
}

/**
 * What a search reads of a passage after fusion: its terms (keyword tokens of its title, headings
 * and text, as the keyword index makes them) as word 3-shingles for the near-duplicate check, the
 * distinct terms for confidence, and its own section heading's terms for ordering a file's
 * passages. Made once per passage and kept (bounded), as ids of one process-wide term table: a
 * search re-tokenized its k candidates' text every time, half of its time (BENCHMARKS.md).
 */
import type { Chunk } from '../types.js';
import { headingsBelowTitle } from '../chunkText.js';
import { sortedIndexOf } from '../idTable.js';
import { compoundTerms, detached, forEachCompound } from './tokenize.js';
import { CodeUnits, SpanCache } from './spanCache.js';
import { RecentMap } from '../recentMap.js';

export interface PassageSignature {
  /** Sorted distinct word 3-shingles (a, b, c) by (high, low): high a × 2^26 + b, low c (shinglesOf). */
  shingleHigh: Float64Array;
  shingleLow: Int32Array;
  /** Distinct term ids of the title, headings and text (in no particular order: a search looks up a few). */
  terms: Int32Array;
  /** Distinct term ids of its own (last) heading below the title, in the order they occur. */
  heading: Int32Array;
}

/** Term ids stay below 2^26 so two fit one double exactly (a table half that full starts over). */
const ID_LIMIT = 2 ** 26;
/** Passages whose signatures are kept: a few queries' candidates, a few MB. */
const SIGNATURES_KEPT = 8192;
/** Compounds whose term ids are kept (as the tokenizer's own compound cache bounds its entries). */
const COMPOUNDS_KEPT = 100_000;

/** One process-wide numbering of terms, the compounds' ids and the signatures made with it. */
class Signatures {
  private readonly ids = new Map<string, number>();
  private readonly compounds = new SpanCache<Int32Array>(COMPOUNDS_KEPT);
  private readonly kept = new RecentMap<Readonly<Chunk>, PassageSignature>(SIGNATURES_KEPT);
  /** The ids of the passage whose signature is being made (grown as passages need), and their count. */
  private words = new Int32Array(1024);
  private count = 0;
  /** Per term id, the last `stamp` that saw it (distinctIds). */
  private stamps = new Int32Array(1024);
  private stamp = 0;
  /** The text `visit` reads compounds of, and its code units. */
  private text = '';
  private readonly codeUnits = new CodeUnits();
  private units: Uint16Array = new Uint16Array(0);

  get full(): boolean {
    // A search adds far fewer terms than the margin: ids of one search never reach the limit.
    return this.ids.size >= ID_LIMIT / 2;
  }

  /** A term's id, or undefined when no passage seen holds it. */
  idOf(term: string): number | undefined {
    return this.ids.get(term);
  }

  of(chunk: Readonly<Chunk>): PassageSignature {
    let signature = this.kept.get(chunk);
    if (!signature) this.kept.set(chunk, (signature = this.make(chunk)));
    return signature;
  }

  private make(chunk: Readonly<Chunk>): PassageSignature {
    this.count = 0;
    this.append(chunk.title);
    for (const heading of chunk.headingPath) this.append(heading);
    this.append(chunk.text);
    const count = this.count;
    this.append(headingsBelowTitle(chunk).at(-1) ?? '');
    const words = this.words;
    const shingles = shinglesOf(words.subarray(0, count));
    return { shingleHigh: shingles.high, shingleLow: shingles.low, terms: this.distinctIds(words.subarray(0, count)), heading: this.distinctIds(words.subarray(count, this.count)) };
  }

  /** Appends the term ids of `text` to `words`. */
  private append(text: string): void {
    this.text = text;
    this.units = this.codeUnits.of(text);
    forEachCompound(this.units, text.length, this.visit);
  }

  private readonly visit = (start: number, end: number, hash: number): void => {
    const ids = this.compoundIds(this.text, this.units, start, end, hash);
    const count = this.count;
    if (count + ids.length > this.words.length) {
      const grown = new Int32Array(2 * (count + ids.length));
      grown.set(this.words.subarray(0, count));
      this.words = grown;
    }
    // A loop, not set(): most compounds are one term, and set() costs more than copying it.
    for (let i = 0; i < ids.length; i++) this.words[count + i] = ids[i]!;
    this.count = count + ids.length;
  };

  /** Each of `ids` once, in the order they first occur. */
  private distinctIds(ids: Int32Array): Int32Array {
    const stamp = ++this.stamp;
    if (this.stamps.length < this.ids.size) {
      const grown = new Int32Array(2 * this.ids.size);
      grown.set(this.stamps);
      this.stamps = grown;
    }
    const kept = new Int32Array(ids.length);
    let count = 0;
    for (const id of ids) {
      if (this.stamps[id] === stamp) continue;
      this.stamps[id] = stamp;
      kept[count++] = id;
    }
    return kept.slice(0, count);
  }

  private compoundIds(text: string, units: Uint16Array, start: number, end: number, hash: number): Int32Array {
    const cached = this.compounds.get(units, start, end, hash);
    if (cached !== undefined) return cached;
    // Not through the tokenizer's own cache: this one keeps the compound's ids, and a second
    // lookup, copy and entry per first-seen compound was a third of a first question's signatures.
    const tokens = compoundTerms(text.slice(start, end));
    const ids = new Int32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      let id = this.ids.get(token);
      // Kept as a key: a copy holding no reference to the passage it was cut from.
      if (id === undefined) this.ids.set(detached(token), (id = this.ids.size));
      ids[i] = id;
    }
    this.compounds.set(units, start, end, hash, ids);
    return ids;
  }
}

let signatures = new Signatures();

export type SearchSignatures = Pick<Signatures, 'idOf' | 'of'>;

/** The signatures one search reads: all made with one numbering of terms. */
export function searchSignatures(): SearchSignatures {
  if (signatures.full) signatures = new Signatures();
  return signatures;
}

/**
 * Sorted distinct word 3-shingles (a, b, c): `high` a × 2^26 + b and `low` c, ordered by (high, low).
 * Under three words: one shingle of the words, high negative.
 */
function shinglesOf(ids: Int32Array): { high: Float64Array; low: Int32Array } {
  if (ids.length < 3) {
    return { high: Float64Array.of(-1 - ((ids.length > 0 ? ids[0]! + 1 : 0) * ID_LIMIT + (ids.length > 1 ? ids[1]! + 1 : 0))), low: Int32Array.of(0) };
  }
  const count = ids.length - 2;
  const highs = new Float64Array(count);
  for (let i = 0; i < count; i++) highs[i] = ids[i]! * ID_LIMIT + ids[i + 1]!;
  // Two numeric sorts, no comparator: the distinct highs, then each shingle as (its high's rank, low),
  // exact in a double while a passage has under 2^27 shingles.
  const distinctHighs = distinct(highs.slice().sort());
  for (let i = 0; i < count; i++) highs[i] = sortedIndexOf(distinctHighs, highs[i]!) * ID_LIMIT + ids[i + 2]!;
  const keys = distinct(highs.sort());
  const high = new Float64Array(keys.length);
  const low = new Int32Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const rank = Math.floor(keys[i]! / ID_LIMIT);
    high[i] = distinctHighs[rank]!;
    low[i] = keys[i]! - rank * ID_LIMIT;
  }
  return { high, low };
}

/** The distinct values of sorted `values` (in place). */
function distinct<A extends Float64Array | Int32Array>(values: A): A {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (count === 0 || values[i] !== values[count - 1]) values[count++] = values[i]!;
  return values.subarray(0, count) as A;
}

/** Whether the Jaccard similarity of two passages' shingles is at least `threshold`. */
export function shinglesSimilar(a: PassageSignature, b: PassageSignature, threshold: number): boolean {
  const [small, large] = a.shingleHigh.length <= b.shingleHigh.length ? [a, b] : [b, a];
  const smallHigh = small.shingleHigh;
  const smallLow = small.shingleLow;
  const largeHigh = large.shingleHigh;
  const largeLow = large.shingleLow;
  // Jaccard ≥ t needs shared ≥ t(|a| + |b|) / (1 + t): stop once too many of `small` are missing.
  const needed = (threshold * (smallHigh.length + largeHigh.length)) / (1 + threshold);
  let missesLeft = smallHigh.length - needed;
  if (missesLeft < 0) return false;
  let j = 0;
  for (let i = 0; i < smallHigh.length; i++) {
    const high = smallHigh[i]!;
    const low = smallLow[i]!;
    while (j < largeHigh.length && (largeHigh[j]! < high || (largeHigh[j] === high && largeLow[j]! < low))) j++;
    if (j < largeHigh.length && largeHigh[j] === high && largeLow[j] === low) j++;
    else if (--missesLeft < 0) return false;
  }
  return true;
}

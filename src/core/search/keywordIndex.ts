/**
 * BM25F keyword index over chunks. Title and heading terms are folded into the chunk's term
 * frequencies with field weights BEFORE saturation (BM25F), which ranks documentation better
 * than scoring fields separately and summing (MiniSearch's approach): see BENCHMARKS.md.
 * Supports incremental add/remove. A store keeps each document's weighted terms
 * (`keywordDocument`), from which the postings are rebuilt on load: much faster than re-tokenising.
 */
import { keywordTokens } from './tokenize.js';

export interface KeywordFields {
  title: string;
  headings: string;
  body: string;
}

export interface KeywordIndexOptions {
  k1: number;
  b: number;
  titleWeight: number;
  headingWeight: number;
}

export const DEFAULT_KEYWORD_OPTIONS: KeywordIndexOptions = { k1: 1.2, b: 0.75, titleWeight: 2, headingWeight: 2 };

/**
 * What BM25's IDF reads from a collection, for one query's terms. Indexes searched together (the
 * folders of a multi-root workspace) sum theirs, so every index scores with the same IDF and the
 * scores compare (Elasticsearch's dfs_query_then_fetch).
 */
export interface KeywordStatistics {
  documents: number;
  documentFrequency: Map<string, number>;
}

export function sumStatistics(parts: KeywordStatistics[]): KeywordStatistics {
  const documentFrequency = new Map<string, number>();
  for (const part of parts) for (const [term, count] of part.documentFrequency) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + count);
  return { documents: parts.reduce((sum, part) => sum + part.documents, 0), documentFrequency };
}

/** One document's weighted term frequencies (BM25F fields folded in) and body length. */
export interface KeywordDocument {
  terms: string[];
  weights: number[];
  length: number;
}

export function keywordDocument(fields: KeywordFields, options: KeywordIndexOptions = DEFAULT_KEYWORD_OPTIONS): KeywordDocument {
  const weighted = new Map<string, number>();
  const bodyTokens = keywordTokens(fields.body);
  for (const term of bodyTokens) weighted.set(term, (weighted.get(term) ?? 0) + 1);
  // Each distinct title/heading term counts once per field: long heading paths must not swamp the body.
  for (const term of new Set(keywordTokens(fields.title))) weighted.set(term, (weighted.get(term) ?? 0) + options.titleWeight);
  for (const term of new Set(keywordTokens(fields.headings))) weighted.set(term, (weighted.get(term) ?? 0) + options.headingWeight);
  return { terms: [...weighted.keys()], weights: [...weighted.values()], length: Math.max(1, bodyTokens.length) };
}

/**
 * One term's postings: entries [start, start + used) of parallel typed arrays of document slots
 * and weighted term frequencies. A built index's terms share two arrays (one allocation for all
 * terms); a term that grows later moves to arrays of its own.
 */
interface Postings {
  slots: Int32Array;
  tfs: Float64Array;
  start: number;
  /** Entries used, dead slots included. */
  used: number;
  /** Where this term's room in the arrays ends. */
  end: number;
  /** Live documents holding the term: its document frequency. */
  live: number;
}

/**
 * Documents live in SLOTS (dense indexes into typed arrays); a removed document's slot is marked
 * dead and skipped until the index compacts. Scoring adds into one reusable accumulator per
 * slot and keeps the best `limit` in a bounded heap, so a query allocates almost nothing.
 * Scores are summed in the same order as a per-document map would (query terms in order), so
 * rankings do not depend on the layout.
 */
export class KeywordIndex {
  private readonly docs = new Map<number, KeywordDocument>();
  private readonly slotOf = new Map<number, number>();
  private readonly postings = new Map<string, Postings>();
  private idOfSlot = new Float64Array(1024);
  private lengthOfSlot = new Float64Array(1024);
  private alive = new Uint8Array(1024);
  private slots = 0;
  private totalLength = 0;
  private accumulator = new Float64Array(0);
  private seen = new Uint8Array(0);

  constructor(readonly options: KeywordIndexOptions = DEFAULT_KEYWORD_OPTIONS) {}

  get size(): number {
    return this.docs.size;
  }

  add(id: number, fields: KeywordFields): void {
    this.addDocument(id, keywordDocument(fields, this.options));
  }

  /** Adds a document made by `keywordDocument` (with this index's options), replacing one under `id`. */
  addDocument(id: number, entry: KeywordDocument): void {
    if (this.docs.has(id)) this.remove(id);
    this.docs.set(id, entry);
    this.totalLength += entry.length;
    if (this.slots === this.alive.length) this.growSlots();
    const slot = this.slots++;
    this.slotOf.set(id, slot);
    this.idOfSlot[slot] = id;
    this.lengthOfSlot[slot] = entry.length;
    this.alive[slot] = 1;
    for (let i = 0; i < entry.terms.length; i++) {
      const term = entry.terms[i]!;
      let list = this.postings.get(term);
      if (!list) this.postings.set(term, (list = { slots: new Int32Array(4), tfs: new Float64Array(4), start: 0, used: 0, end: 4, live: 0 }));
      if (list.start + list.used === list.end) {
        const capacity = Math.max(4, list.used * 2);
        const slots = new Int32Array(capacity);
        slots.set(list.slots.subarray(list.start, list.start + list.used));
        const tfs = new Float64Array(capacity);
        tfs.set(list.tfs.subarray(list.start, list.start + list.used));
        Object.assign(list, { slots, tfs, start: 0, end: capacity });
      }
      list.slots[list.start + list.used] = slot;
      list.tfs[list.start + list.used++] = entry.weights[i]!;
      list.live++;
    }
  }

  /** An index of `documents` at once: each term's postings allocated at their final size (the store's load path). */
  static build(options: KeywordIndexOptions, documents: ReadonlyMap<number, KeywordDocument>): KeywordIndex {
    const index = new KeywordIndex(options);
    const counts = new Map<string, number>();
    for (const entry of documents.values()) for (const term of entry.terms) counts.set(term, (counts.get(term) ?? 0) + 1);
    let total = 0;
    for (const count of counts.values()) total += count;
    const slots = new Int32Array(total);
    const tfs = new Float64Array(total);
    let start = 0;
    for (const [term, count] of counts) {
      index.postings.set(term, { slots, tfs, start, used: 0, end: start + count, live: 0 });
      start += count;
    }
    const capacity = Math.max(1024, documents.size);
    index.idOfSlot = new Float64Array(capacity);
    index.lengthOfSlot = new Float64Array(capacity);
    index.alive = new Uint8Array(capacity);
    for (const [id, entry] of documents) index.addDocument(id, entry);
    return index;
  }

  document(id: number): Readonly<KeywordDocument> | undefined {
    return this.docs.get(id);
  }

  ids(): IterableIterator<number> {
    return this.docs.keys();
  }

  remove(id: number): boolean {
    const entry = this.docs.get(id);
    if (!entry) return false;
    const slot = this.slotOf.get(id)!;
    this.alive[slot] = 0;
    for (const term of entry.terms) {
      const list = this.postings.get(term)!;
      if (--list.live === 0) this.postings.delete(term);
    }
    this.totalLength -= entry.length;
    this.docs.delete(id);
    this.slotOf.delete(id);
    // Dead slots cost scan time: rebuild once they are as many as the live ones.
    if (this.slots - this.docs.size > Math.max(1024, this.docs.size)) this.compact();
    return true;
  }

  /** This index's statistics for the query's terms. */
  statistics(query: string): KeywordStatistics {
    const documentFrequency = new Map<string, number>();
    for (const term of new Set(keywordTokens(query))) documentFrequency.set(term, this.postings.get(term)?.live ?? 0);
    return { documents: this.docs.size, documentFrequency };
  }

  /**
   * Scores every chunk sharing a term with the query; best first (ties by id), at most `limit`.
   * IDF comes from `collection` when given (statistics summed over indexes searched together),
   * else from this index.
   */
  search(query: string, limit: number, collection?: KeywordStatistics): { id: number; score: number }[] {
    const queryTerms = new Map<string, number>();
    for (const term of keywordTokens(query)) queryTerms.set(term, (queryTerms.get(term) ?? 0) + 1);
    if (this.docs.size === 0 || queryTerms.size === 0 || limit <= 0) return [];
    const count = collection?.documents ?? this.docs.size;
    const averageLength = this.totalLength / this.docs.size;
    const { k1, b } = this.options;
    if (this.accumulator.length < this.slots) {
      this.accumulator = new Float64Array(this.alive.length);
      this.seen = new Uint8Array(this.alive.length);
    }
    const { accumulator: scores, seen } = this;
    const { alive, lengthOfSlot } = this;
    const touched: number[] = [];
    for (const [term, queryCount] of queryTerms) {
      const list = this.postings.get(term);
      if (!list) continue;
      const frequency = collection?.documentFrequency.get(term) ?? list.live;
      const idf = Math.log(1 + (count - frequency + 0.5) / (frequency + 0.5));
      // A term repeated in the question ("index ... indexes") should not count double.
      const queryWeight = idf * (1 + Math.log(queryCount));
      const { slots, tfs, start } = list;
      const end = start + list.used;
      for (let i = start; i < end; i++) {
        const slot = slots[i]!;
        if (alive[slot] === 0) continue;
        const tf = tfs[i]!;
        const saturated = (tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * lengthOfSlot[slot]!) / averageLength));
        if (seen[slot] === 0) {
          seen[slot] = 1;
          touched.push(slot);
        }
        scores[slot] += queryWeight * saturated;
      }
    }
    const best = new BestSlots(Math.min(limit, touched.length), scores, this.idOfSlot);
    for (const slot of touched) best.offer(slot);
    const hits = best.sorted().map((slot) => ({ id: this.idOfSlot[slot]!, score: scores[slot]! }));
    for (const slot of touched) {
      scores[slot] = 0;
      seen[slot] = 0;
    }
    return hits;
  }

  private growSlots(): void {
    const capacity = this.alive.length * 2;
    const ids = new Float64Array(capacity);
    ids.set(this.idOfSlot);
    this.idOfSlot = ids;
    const lengths = new Float64Array(capacity);
    lengths.set(this.lengthOfSlot);
    this.lengthOfSlot = lengths;
    const alive = new Uint8Array(capacity);
    alive.set(this.alive);
    this.alive = alive;
  }

  private compact(): void {
    const docs = [...this.docs];
    this.docs.clear();
    this.slotOf.clear();
    this.postings.clear();
    this.slots = 0;
    this.totalLength = 0;
    this.alive.fill(0);
    for (const [id, entry] of docs) this.addDocument(id, entry);
  }
}

/** The best `capacity` slots by score (ties: lower id first), as a heap with the worst kept slot at the root. */
class BestSlots {
  private readonly heap: Int32Array;
  private count = 0;

  constructor(
    private readonly capacity: number,
    private readonly scores: Float64Array,
    private readonly ids: Float64Array,
  ) {
    this.heap = new Int32Array(capacity);
  }

  offer(slot: number): void {
    const { heap } = this;
    if (this.count < this.capacity) {
      let i = this.count++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!this.worse(slot, heap[parent]!)) break;
        heap[i] = heap[parent]!;
        i = parent;
      }
      heap[i] = slot;
      return;
    }
    if (this.capacity === 0 || !this.worse(heap[0]!, slot)) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.count) break;
      if (child + 1 < this.count && this.worse(heap[child + 1]!, heap[child]!)) child++;
      if (!this.worse(heap[child]!, slot)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = slot;
  }

  sorted(): number[] {
    return Array.from(this.heap.subarray(0, this.count)).sort((a, b) => (this.worse(a, b) ? 1 : this.worse(b, a) ? -1 : 0));
  }

  /** Whether slot `a` ranks below slot `b`. */
  private worse(a: number, b: number): boolean {
    const scoreA = this.scores[a]!;
    const scoreB = this.scores[b]!;
    return scoreA < scoreB || (scoreA === scoreB && this.ids[a]! > this.ids[b]!);
  }
}

/**
 * BM25F keyword index over chunks. Title and heading terms are folded into the chunk's term
 * frequencies with field weights BEFORE saturation (BM25F), which ranks documentation better
 * than scoring fields separately and summing (MiniSearch's approach): see BENCHMARKS.md.
 * A store keeps each segment's postings inverted and frozen (`FrozenPostings`: typed arrays
 * a reader uses as views of the file it read, with no per-document work); an index searches
 * those parts (`PostingsSource`: a reader fetches only the query terms' postings) plus
 * documents added in memory since (incremental add/remove).
 */
import { IdIndex, IdTable, sortedIndexOf } from '../idTable.js';
import { CodeUnits, NO_SPAN, SpanTable } from './spanCache.js';
import { compoundTerms, detached, forEachCompound, keywordTokens } from './tokenize.js';

export interface KeywordFields {
  title: string;
  /** The passage's own section heading (a page: all its headings). */
  headings: string;
  /** The headings of the sections around the passage's own. */
  parentHeadings?: string;
  body: string;
}

export interface KeywordIndexOptions {
  k1: number;
  b: number;
  titleWeight: number;
  headingWeight: number;
  /** Absent in stores written before it existed: they weigh enclosing headings like their own. */
  parentHeadingWeight?: number;
}

/**
 * Enclosing sections' headings weigh 1.5, the passage's own 2: a sub-step gets less from a heading
 * the question names than that heading's own section does (five-set study, BENCHMARKS.md).
 * b 0.5 (not the textbook 0.75): documentation passages and pages vary widely in length and a long
 * reference page is long because it covers more, so it is normalised less; chosen on the five dev
 * sets together with fusion's page-evidence weight (BENCHMARKS.md, keyword-side grid).
 */
export const DEFAULT_KEYWORD_OPTIONS: KeywordIndexOptions = { k1: 1.2, b: 0.5, titleWeight: 2, headingWeight: 2, parentHeadingWeight: 1.5 };

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

/**
 * Keyword documents as flat arrays, their terms as numbers into `dictionary`: document d's
 * entries are [ends[d - 1] ?? 0, ends[d]) of `terms` and `weights`. What a parse worker sends
 * (typed arrays move between threads as bytes) and what a segment's postings are frozen from.
 */
export interface KeywordDocuments {
  /** Term number → term (a TermDictionary's `terms`, or a copy another thread keeps of them). */
  dictionary: readonly string[];
  ends: Uint32Array;
  terms: Uint32Array;
  weights: Float64Array;
  /** Each document's length (BM25's: body tokens, at least 1). */
  lengths: Uint32Array;
}

/** A file's keyword documents: one per passage, and the whole file's (none when it has no passages). */
export interface FileKeywords {
  passages: KeywordDocuments;
  page: KeywordDocuments;
}

/** Document `d` of `documents` with its terms spelled out. */
export function documentAt(documents: KeywordDocuments, d: number): KeywordDocument {
  const start = d === 0 ? 0 : documents.ends[d - 1]!;
  const end = documents.ends[d]!;
  const terms: string[] = [];
  for (let i = start; i < end; i++) terms.push(documents.dictionary[documents.terms[i]!]!);
  return { terms, weights: Array.from(documents.weights.subarray(start, end)), length: documents.lengths[d]! };
}

/** Title, heading and parent-heading marks of a term in one document. */
const IN_TITLE = 1;
const IN_HEADINGS = 2;
const IN_PARENT_HEADINGS = 4;
const IN_BODY = 8;
/** Distinct compounds whose terms a dictionary remembers (most tokens are a few thousand common ones). */
const COMPOUND_CACHE_SIZE = 300_000;

/**
 * Numbers keyword terms as they are first met and makes files' keyword documents with them:
 * counting a passage's terms is then array arithmetic rather than map updates, and each
 * distinct compound is tokenized once. One per thread that makes documents; it only grows.
 */
export class TermDictionary {
  readonly terms: string[] = [];
  private readonly numbers = new Map<string, number>();
  /**
   * Compounds met, each with its term numbers: a term number (≥ 0), or -(offset + 1) of a list in
   * `lists` (its length, then its numbers: several terms, or none for a stop word). Looked up
   * straight from the text's characters (spanCache.ts), so a compound seen before costs no string
   * and no hashing by the engine, and one term (most compounds) no memory beyond its table slot.
   */
  private readonly compounds: SpanTable;
  private lists = new Uint32Array(4096);
  private listsUsed = 0;
  /** The code units of the text being scanned. */
  private readonly units = new CodeUnits();
  /** The term numbers of the text last scanned. */
  private scanned = new Uint32Array(1024);
  /** Per term number, for the document being made: body occurrences, and the page's. */
  private counts = new Float64Array(1024);
  private pageCounts = new Float64Array(1024);
  private marks = new Uint8Array(1024);
  private pageMarks = new Uint8Array(1024);
  /**
   * Terms listed once each while a file's documents are made (a passage's body terms, its marked
   * terms, the page's terms), at most one entry per term: typed arrays sized like `counts`, so
   * making documents allocates nothing per token.
   */
  private body = new Uint32Array(1024);
  private marked = new Uint32Array(1024);
  private pageTerms = new Uint32Array(1024);
  /**
   * Per marked field (title, headings, parent headings): the text last scanned for it and its
   * terms. A file's passages share its title and runs of them their headings, a seventh of the
   * tokens scanned; each such text is scanned once per run.
   */
  private readonly fieldTexts = ['', '', ''];
  private readonly fieldTerms = [new Uint32Array(64), new Uint32Array(64), new Uint32Array(64)];
  private readonly fieldLengths = [0, 0, 0];

  /** `compoundLimit`: compounds remembered; later ones are tokenized each time they are met. */
  constructor(
    private readonly options: KeywordIndexOptions = DEFAULT_KEYWORD_OPTIONS,
    compoundLimit = COMPOUND_CACHE_SIZE,
  ) {
    this.compounds = new SpanTable(compoundLimit);
  }

  /**
   * The passages' documents and the whole file's: BM25F folds each distinct title/heading term
   * in once per field, so long heading paths do not swamp the body; the file's document is its
   * passages' text, its title once and each of their heading terms once.
   */
  fileDocuments(passages: readonly KeywordFields[]): FileKeywords {
    // An empty list (a file with no passages) is an array of another elements kind, so another map:
    // kept out of documentsOf, whose optimized code it deoptimized ("wrong map") and made V8
    // compile again, ~80 ms each time, three times per parse worker.
    if (passages.length === 0) return { passages: new DocumentsBuilder(this.terms).finish(), page: new DocumentsBuilder(this.terms).finish() };
    return this.documentsOf(passages);
  }

  private documentsOf(passages: readonly KeywordFields[]): FileKeywords {
    const out = new DocumentsBuilder(this.terms);
    const page = new DocumentsBuilder(this.terms);
    let pageTerms = 0;
    let pageLength = 0;
    for (let p = 0; p < passages.length; p++) {
      const fields = passages[p]!;
      const length = this.scan(fields.body);
      let body = 0;
      for (let i = 0; i < length; i++) {
        const t = this.scanned[i]!;
        if (this.counts[t] === 0) this.body[body++] = t;
        this.counts[t]++;
      }
      let marked = this.mark(fields.title, 0, IN_TITLE, 0);
      marked = this.mark(fields.headings, 1, IN_HEADINGS, marked);
      marked = this.mark(fields.parentHeadings ?? '', 2, IN_PARENT_HEADINGS, marked);
      for (let i = 0; i < body; i++) {
        const t = this.body[i]!;
        out.add(t, this.weight(t));
        if (this.pageCounts[t] === 0 && this.pageMarks[t] === 0) this.pageTerms[pageTerms++] = t;
        this.pageCounts[t] += this.counts[t]!;
        this.counts[t] = 0;
        if (this.marks[t] === 0) this.marked[marked++] = t;
        this.marks[t] |= IN_BODY;
      }
      for (let i = 0; i < marked; i++) {
        const t = this.marked[i]!;
        const marks = this.marks[t]!;
        if ((marks & IN_BODY) === 0) out.add(t, this.weight(t));
        // The file's title is its first passage's (every passage has the file's); headings of all.
        const pageMark = (p === 0 ? marks & IN_TITLE : 0) | (marks & (IN_HEADINGS | IN_PARENT_HEADINGS) ? IN_HEADINGS : 0);
        if (pageMark !== 0 && this.pageCounts[t] === 0 && this.pageMarks[t] === 0) this.pageTerms[pageTerms++] = t;
        this.pageMarks[t] |= pageMark;
        this.marks[t] = 0;
      }
      out.end(Math.max(1, length));
      pageLength += length;
    }
    const { titleWeight, headingWeight } = this.options;
    for (let i = 0; i < pageTerms; i++) {
      const t = this.pageTerms[i]!;
      let weight = this.pageCounts[t]!;
      if (this.pageMarks[t]! & IN_TITLE) weight += titleWeight;
      if (this.pageMarks[t]! & IN_HEADINGS) weight += headingWeight;
      page.add(t, weight);
      this.pageCounts[t] = 0;
      this.pageMarks[t] = 0;
    }
    page.end(Math.max(1, pageLength));
    return { passages: out.finish(), page: page.finish() };
  }

  /**
   * Marks the terms of a passage's `text`, its marked field number `field`, with `flag`, listing
   * in `marked` from `count` on those it is the first mark of; returns the new count.
   */
  private mark(text: string, field: number, flag: number, count: number): number {
    if (text !== this.fieldTexts[field]) {
      const length = this.scan(text);
      if (this.fieldTerms[field]!.length < length) this.fieldTerms[field] = new Uint32Array(2 * length);
      this.fieldTerms[field]!.set(this.scanned.subarray(0, length));
      this.fieldTexts[field] = text;
      this.fieldLengths[field] = length;
    }
    const terms = this.fieldTerms[field]!;
    for (let i = 0, length = this.fieldLengths[field]!; i < length; i++) {
      const t = terms[i]!;
      if (this.marks[t] === 0) this.marked[count++] = t;
      this.marks[t] |= flag;
    }
    return count;
  }

  /** Term `t`'s weight in the passage being made: its body count plus each field weight it is marked with. */
  private weight(t: number): number {
    const marks = this.marks[t]!;
    let weight = this.counts[t]!;
    if (marks & IN_TITLE) weight += this.options.titleWeight;
    if (marks & IN_HEADINGS) weight += this.options.headingWeight;
    else if (marks & IN_PARENT_HEADINGS) weight += this.options.parentHeadingWeight ?? this.options.headingWeight;
    return weight;
  }

  /** Scans `text`: the number of each of its terms, in order, duplicates kept, are `scanned[0, count)`; returns the count. */
  private scan(text: string): number {
    let count = 0;
    const units = this.units.of(text);
    forEachCompound(units, text.length, (start, end, hash) => {
      let known = this.compounds.get(units, start, end, hash);
      if (known === NO_SPAN) known = this.firstSight(text, units, start, end, hash);
      if (known >= 0) {
        if (count === this.scanned.length) this.scanned = widened(this.scanned, (size) => new Uint32Array(size));
        this.scanned[count++] = known;
      } else {
        const lists = this.lists;
        for (let at = -known, last = at + lists[at - 1]!; at < last; at++) {
          if (count === this.scanned.length) this.scanned = widened(this.scanned, (size) => new Uint32Array(size));
          this.scanned[count++] = lists[at]!;
        }
      }
    });
    return count;
  }

  /**
   * The compounds entry of text[start, end), not met yet, made and stored (while the table has
   * room). Apart from scan's visitor because of its closure: V8 allocates a function's context
   * (for the closure's `this`) on every call, hit or miss, and the visitor runs once per token.
   */
  private firstSight(text: string, units: Uint16Array, start: number, end: number, hash: number): number {
    const numbers = compoundTerms(text.slice(start, end)).map((term) => this.numberOf(term));
    const kept = !this.compounds.full;
    let known = numbers[0]!;
    if (numbers.length !== 1) {
      // Past the table's limit the list is only read by the scan that asked: it is written after the last kept one, and overwritten next time.
      const needed = this.listsUsed + 1 + numbers.length;
      if (needed > this.lists.length) this.lists = widened(this.lists, (size) => new Uint32Array(Math.max(size, 2 * needed)));
      this.lists[this.listsUsed] = numbers.length;
      this.lists.set(numbers, this.listsUsed + 1);
      known = -(this.listsUsed + 1);
      if (kept) this.listsUsed = needed;
    }
    if (kept) this.compounds.set(units, start, end, hash, known);
    return known;
  }

  private numberOf(term: string): number {
    let t = this.numbers.get(term);
    if (t === undefined) {
      t = this.terms.length;
      const own = detached(term);
      this.numbers.set(own, t);
      this.terms.push(own);
      if (t === this.counts.length) this.grow();
    }
    return t;
  }

  private grow(): void {
    this.counts = widened(this.counts, (size) => new Float64Array(size));
    this.pageCounts = widened(this.pageCounts, (size) => new Float64Array(size));
    this.marks = widened(this.marks, (size) => new Uint8Array(size));
    this.pageMarks = widened(this.pageMarks, (size) => new Uint8Array(size));
    this.body = widened(this.body, (size) => new Uint32Array(size));
    this.marked = widened(this.marked, (size) => new Uint32Array(size));
    this.pageTerms = widened(this.pageTerms, (size) => new Uint32Array(size));
  }
}

/** `array` copied into one twice its size. */
function widened<T extends Float64Array | Uint8Array | Uint32Array>(array: T, make: (size: number) => T): T {
  const wider = make(array.length * 2);
  wider.set(array);
  return wider;
}

/** Appends documents' entries, then hands them over as typed arrays. */
class DocumentsBuilder {
  private ends = new Uint32Array(16);
  private terms = new Uint32Array(256);
  private weights = new Float64Array(256);
  private lengths = new Uint32Array(16);
  private entries = 0;
  private documents = 0;

  constructor(private readonly dictionary: readonly string[]) {}

  add(term: number, weight: number): void {
    if (this.entries === this.terms.length) {
      this.terms = widened(this.terms, (size) => new Uint32Array(size));
      this.weights = widened(this.weights, (size) => new Float64Array(size));
    }
    this.terms[this.entries] = term;
    this.weights[this.entries++] = weight;
  }

  end(length: number): void {
    if (this.documents === this.ends.length) {
      this.ends = widened(this.ends, (size) => new Uint32Array(size));
      this.lengths = widened(this.lengths, (size) => new Uint32Array(size));
    }
    this.ends[this.documents] = this.entries;
    this.lengths[this.documents++] = length;
  }

  finish(): KeywordDocuments {
    const { entries, documents } = this;
    return { dictionary: this.dictionary, ends: this.ends.slice(0, documents), terms: this.terms.slice(0, entries), weights: this.weights.slice(0, entries), lengths: this.lengths.slice(0, documents) };
  }
}

export function keywordDocument(fields: KeywordFields, options: KeywordIndexOptions = DEFAULT_KEYWORD_OPTIONS): KeywordDocument {
  return documentAt(new TermDictionary(options).fileDocuments([fields]).passages, 0);
}

/** Documents (made by keywordDocument) as flat arrays over a dictionary of their own. */
export function flatDocuments(documents: readonly KeywordDocument[]): KeywordDocuments {
  const numbers = new Map<string, number>();
  const dictionary: string[] = [];
  const builder = new DocumentsBuilder(dictionary);
  for (const document of documents) {
    document.terms.forEach((term, i) => {
      let t = numbers.get(term);
      if (t === undefined) numbers.set(term, (t = dictionary.push(term) - 1));
      builder.add(t, document.weights[i]!);
    });
    builder.end(document.length);
  }
  return builder.finish();
}

/**
 * The postings of a fixed set of documents, inverted, as flat typed arrays (a store segment's
 * on-disk layout). Terms are sorted by their UTF-8 bytes so a lookup is a binary search on the
 * bytes: nothing is decoded or hashed when a part is loaded.
 */
export interface FrozenPostings {
  /** Document id of each local document. */
  ids: Int32Array;
  /** Body length of each local document. */
  lengths: Uint32Array;
  /** Every term's UTF-8 bytes, concatenated in sorted order; term t ends at termEnds[t]. */
  termBytes: Uint8Array;
  termEnds: Uint32Array;
  /** Term t's postings are entries [postingEnds[t - 1] ?? 0, postingEnds[t]) of docs / tfs. */
  postingEnds: Uint32Array;
  /** Local document of each posting, ascending within a term. */
  docs: Uint32Array;
  /** Weighted term frequency of each posting: float32 when every weight is exact in it. */
  tfs: Float32Array | Float64Array;
}

/**
 * A frozen part as an index searches it: its documents at hand, its term dictionary and each
 * term's postings read when a query needs them (a store reader reads just those bytes of a
 * segment: a binary search touches a few blocks of a dictionary of megabytes).
 */
export interface PostingsSource extends Pick<FrozenPostings, 'ids' | 'lengths'> {
  /** The sum of `lengths`, when the part records it (segments written since it does). */
  lengthTotal?: number;
  /** Term `term`'s number (its UTF-8 bytes), or -1 when the part lacks it. */
  findTerm(term: Uint8Array): number;
  /** Documents holding term t. */
  postingCount(t: number): number;
  /** Term t's postings: local documents ascending, with their weighted term frequencies. */
  termPostings(t: number): Pick<FrozenPostings, 'docs' | 'tfs'>;
}

/** A part whose postings are all in memory, as a source. */
export function frozenSource(part: FrozenPostings): PostingsSource {
  const start = (t: number) => (t === 0 ? 0 : part.postingEnds[t - 1]!);
  return {
    ids: part.ids,
    lengths: part.lengths,
    findTerm: (term) => findTerm(part.termEnds.length, (t) => termOf(part, t), term),
    postingCount: (t) => part.postingEnds[t]! - start(t),
    termPostings: (t) => ({ docs: part.docs.subarray(start(t), part.postingEnds[t]!), tfs: part.tfs.subarray(start(t), part.postingEnds[t]!) }),
  };
}

const utf8 = new TextEncoder();

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

function termOf(part: Pick<FrozenPostings, 'termBytes' | 'termEnds'>, t: number): Uint8Array {
  return part.termBytes.subarray(t === 0 ? 0 : part.termEnds[t - 1]!, part.termEnds[t]!);
}

/**
 * A segment records every TERM_SAMPLE_EVERY-th term of each dictionary in its header (termSamples),
 * so a lookup narrows to one run of terms in memory and then reads the entries of that run: about
 * two blocks of the dictionary instead of one per halving.
 */
const TERM_SAMPLE_EVERY = 128;

/** Terms 0, TERM_SAMPLE_EVERY, 2 × TERM_SAMPLE_EVERY, … of a part, each its UTF-8 bytes in base64. */
export function termSamples(part: Pick<FrozenPostings, 'termBytes' | 'termEnds'>): string[] {
  const samples: string[] = [];
  for (let t = 0; t < part.termEnds.length; t += TERM_SAMPLE_EVERY) {
    const bytes = termOf(part, t);
    samples.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64'));
  }
  return samples;
}

/**
 * The number of `term` in a sorted dictionary of `count` terms (`termAt` gives each one's bytes),
 * or -1. `samples` (termSamples of the dictionary) are used when they fit it.
 */
export function findTerm(count: number, termAt: (t: number) => Uint8Array, term: Uint8Array, samples?: readonly string[]): number {
  let low = 0;
  let high = count - 1;
  if (samples && samples.length === Math.ceil(count / TERM_SAMPLE_EVERY)) {
    // The last sample at or below `term`: the term, if there, is in the run it starts.
    let below = -1;
    for (let first = 0, last = samples.length - 1; first <= last; ) {
      const middle = (first + last) >>> 1;
      const order = compareBytes(Buffer.from(samples[middle]!, 'base64'), term);
      if (order === 0) return middle * TERM_SAMPLE_EVERY;
      if (order < 0) {
        below = middle;
        first = middle + 1;
      } else last = middle - 1;
    }
    if (below < 0) return -1;
    low = below * TERM_SAMPLE_EVERY + 1;
    high = Math.min(count, (below + 1) * TERM_SAMPLE_EVERY) - 1;
  }
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const order = compareBytes(termAt(middle), term);
    if (order === 0) return middle;
    if (order < 0) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

/**
 * The sum of a part's document lengths (BM25's average length). A segment records it when written,
 * as summing them at open is a loop over every passage that a cold query runs before the JIT has
 * compiled it.
 */
export function lengthTotal(lengths: Uint32Array): number {
  let total = 0;
  // Indexed, not for-of: the same reason.
  for (let i = 0; i < lengths.length; i++) total += lengths[i]!;
  return total;
}

/** Whether every weight is exact in float32 (then the part stores float32 term frequencies). */
function exactInFloat32(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (Math.fround(values[i]!) !== values[i]!) return false;
  return true;
}

/** Documents to freeze: `parts` in order, document i of them with id `ids[i]`. */
export interface DocumentSet {
  ids: ArrayLike<number>;
  parts: readonly KeywordDocuments[];
}

/** The documents of `parts` in order (with their ids) as one frozen part (freezeDocumentSets). */
export function freezeDocuments(ids: ArrayLike<number>, parts: readonly KeywordDocuments[]): FrozenPostings {
  return freezeDocumentSets([{ ids, parts }])[0]!;
}

/**
 * Each set as one frozen part, its terms numbered and put in byte order once for all the sets
 * (a segment's passages and its pages hold the same terms). The terms the sets use of each
 * dictionary are encoded once and sorted by their bytes (sortByBytes); a term two dictionaries
 * share (two workers meet the same words) sorts next to itself and becomes one. No term is
 * hashed and no string compared: a Map of the terms and the engine's sort of them were most of
 * freezing. The postings are counted per term first and then written straight into the typed arrays.
 */
export function freezeDocumentSets(sets: readonly DocumentSet[]): FrozenPostings[] {
  const dictionaries = [...new Set(sets.flatMap(({ parts }) => parts.map((part) => part.dictionary)))];
  /** Per dictionary: 1 for each term number the sets use, then that term's rank + 1. */
  const ranks = new Map(dictionaries.map((dictionary) => [dictionary, new Uint32Array(dictionary.length)]));
  for (const { parts } of sets) {
    for (const part of parts) {
      const used = ranks.get(part.dictionary)!;
      const numbers = part.terms;
      for (let i = 0; i < numbers.length; i++) used[numbers[i]!] = 1;
    }
  }
  /** The terms used, each once per dictionary that has it: its dictionary and number there. */
  const owners: (readonly string[])[] = [];
  const numbers: number[] = [];
  const spelled: string[] = [];
  for (const dictionary of dictionaries) {
    const used = ranks.get(dictionary)!;
    for (let n = 0; n < used.length; n++) {
      if (used[n] === 0) continue;
      owners.push(dictionary);
      numbers.push(n);
      spelled.push(dictionary[n]!);
    }
  }
  const { bytes, ends } = encodedTerms(spelled);
  const byRank = sortByBytes(bytes, ends);
  /** Per rank: one of its entries (its bytes). */
  const entryOf: number[] = [];
  for (let k = 0; k < byRank.length; k++) {
    const i = byRank[k]!;
    if (k === 0 || !sameBytes(bytes, ends, i, byRank[k - 1]!)) entryOf.push(i);
    ranks.get(owners[i]!)![numbers[i]!] = entryOf.length;
  }
  const startOf = (i: number) => (i === 0 ? 0 : ends[i - 1]!);
  return sets.map(({ ids, parts }) => {
    let postings = 0;
    for (const part of parts) postings += part.terms.length;
    /** Each posting's term rank, in document order. */
    const rankOfPosting = new Uint32Array(postings);
    /** Per rank: its postings in the set, then where its next posting goes. */
    const cursor = new Uint32Array(entryOf.length);
    let p = 0;
    for (const part of parts) {
      const rankOf = ranks.get(part.dictionary)!;
      const terms = part.terms;
      for (let i = 0; i < terms.length; i++) cursor[(rankOfPosting[p++] = rankOf[terms[i]!]! - 1)]!++;
    }
    let distinct = 0;
    let termLength = 0;
    for (let r = 0; r < entryOf.length; r++) {
      if (cursor[r] === 0) continue;
      distinct++;
      termLength += ends[entryOf[r]!]! - startOf(entryOf[r]!);
    }
    const termEnds = new Uint32Array(distinct);
    const postingEnds = new Uint32Array(distinct);
    const termBytes = new Uint8Array(termLength);
    let t = 0;
    let bytesAt = 0;
    let at = 0;
    for (let r = 0; r < entryOf.length; r++) {
      const count = cursor[r]!;
      if (count === 0) continue;
      const i = entryOf[r]!;
      for (let k = startOf(i), end = ends[i]!; k < end; k++) termBytes[bytesAt++] = bytes[k]!;
      termEnds[t] = bytesAt;
      cursor[r] = at;
      postingEnds[t++] = at += count;
    }
    let documents = 0;
    for (const part of parts) documents += part.lengths.length;
    const docs = new Uint32Array(postings);
    const weights = new Float64Array(postings);
    const lengths = new Uint32Array(documents);
    p = 0;
    let document = 0;
    for (const part of parts) {
      const { ends: partEnds, weights: partWeights } = part;
      let entry = 0;
      for (let d = 0; d < partEnds.length; d++, document++) {
        lengths[document] = part.lengths[d]!;
        for (const end = partEnds[d]!; entry < end; entry++) {
          const slot = cursor[rankOfPosting[p++]!]!++;
          docs[slot] = document;
          weights[slot] = partWeights[entry]!;
        }
      }
    }
    const tfs = exactInFloat32(weights) ? new Float32Array(weights) : weights;
    return { ids: Int32Array.from(ids), lengths, termBytes, termEnds, postingEnds, docs, tfs };
  });
}

/** Whether strings i and j of `bytes` (ends as in sortByBytes) are the same bytes. */
function sameBytes(bytes: Uint8Array, ends: Uint32Array, i: number, j: number): boolean {
  const iStart = i === 0 ? 0 : ends[i - 1]!;
  const jStart = j === 0 ? 0 : ends[j - 1]!;
  const length = ends[i]! - iStart;
  if (ends[j]! - jStart !== length) return false;
  for (let k = 0; k < length; k++) if (bytes[iStart + k] !== bytes[jStart + k]) return false;
  return true;
}

/**
 * `terms` in UTF-8, one after another: term i is bytes[ends[i - 1] ?? 0, ends[i]). One encoding
 * of them joined, as a call per term cost more; terms hold no lone surrogate, but should one,
 * each is encoded alone.
 */
function encodedTerms(terms: readonly string[]): { bytes: Uint8Array; ends: Uint32Array } {
  const joined = terms.join('');
  const bytes = new Uint8Array(Buffer.byteLength(joined));
  utf8.encodeInto(joined, bytes);
  const ends = new Uint32Array(terms.length);
  const alone = () => {
    const each = terms.map((term) => utf8.encode(term));
    each.reduce((end, encoded, i) => (ends[i] = end + encoded.length), 0);
    return { bytes: Buffer.concat(each), ends };
  };
  let at = 0;
  for (let i = 0; i < terms.length; i++) {
    const term = terms[i]!;
    let length = term.length;
    // Units above ASCII take 2 or 3 bytes; a surrogate pair takes 4, a lone surrogate 3 (U+FFFD).
    for (let k = 0; k < term.length; k++) {
      const unit = term.charCodeAt(k);
      if (unit < 0x80) continue;
      const pair = unit >= 0xd800 && unit <= 0xdbff && (term.charCodeAt(k + 1) & 0xfc00) === 0xdc00;
      if (pair) k++;
      length += unit < 0x800 ? 1 : 2;
    }
    ends[i] = at += length;
  }
  // Lone surrogates that met across two terms were encoded as one character.
  return at === bytes.length ? { bytes, ends } : alone();
}

/** Below this many strings, a radix sort's range is sorted by insertion. */
const INSERTION_SORT_BELOW = 24;

/**
 * The indices of the byte strings bytes[ends[i - 1] ?? 0, ends[i]) in byte order (a prefix
 * first, equal strings side by side): an MSD radix sort, with no string compared by the engine. Byte order is the
 * order a segment's terms are kept in (code point order), which the engine's string sort is not
 * for units above the surrogates, and sorting natively was a fifth of the indexer's thread.
 */
export function sortByBytes(bytes: Uint8Array, ends: Uint32Array): Uint32Array {
  return new ByteStringSort(bytes, ends).sorted();
}

/**
 * sortByBytes' state and steps, as methods rather than closures made per call: optimized code
 * for a closure is tied to that closure, so every later sort deoptimized it ("wrong call
 * target", 650 deopts in one 137 MB index run) and ran in the interpreter until recompiled.
 */
class ByteStringSort {
  private readonly order: Uint32Array;
  private readonly scratch: Uint32Array;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly ends: Uint32Array,
  ) {
    this.order = new Uint32Array(ends.length);
    for (let i = 0; i < this.order.length; i++) this.order[i] = i;
    this.scratch = new Uint32Array(ends.length);
  }

  sorted(): Uint32Array {
    this.sortRange(0, this.order.length, 0);
    return this.order;
  }

  private startOf(i: number): number {
    return i === 0 ? 0 : this.ends[i - 1]!;
  }

  /** Byte `depth` of string i + 1, or 0 past its end. */
  private key(i: number, depth: number): number {
    const at = this.startOf(i) + depth;
    return at < this.ends[i]! ? this.bytes[at]! + 1 : 0;
  }

  private sortRange(low: number, high: number, depth: number): void {
    const order = this.order;
    if (high - low < INSERTION_SORT_BELOW) {
      for (let a = low + 1; a < high; a++) {
        const item = order[a]!;
        let b = a;
        while (b > low && this.compareFrom(order[b - 1]!, item, depth) > 0) {
          order[b] = order[b - 1]!;
          b--;
        }
        order[b] = item;
      }
      return;
    }
    const counts = new Uint32Array(258);
    for (let a = low; a < high; a++) counts[this.key(order[a]!, depth) + 1]!++;
    for (let k = 1; k < 258; k++) counts[k]! += counts[k - 1]!;
    for (let a = low; a < high; a++) {
      const item = order[a]!;
      this.scratch[low + counts[this.key(item, depth)]!++] = item;
    }
    order.set(this.scratch.subarray(low, high), low);
    // counts[k] is now where bucket k ends; bucket 0 (strings that ended) needs no more sorting.
    for (let k = 1, from = low + counts[0]!; k < 257; k++) {
      const to = low + counts[k]!;
      if (to - from > 1) this.sortRange(from, to, depth + 1);
      from = to;
    }
  }

  private compareFrom(x: number, y: number, depth: number): number {
    const { bytes, ends } = this;
    const xEnd = ends[x]!;
    const yEnd = ends[y]!;
    for (let i = this.startOf(x) + depth, j = this.startOf(y) + depth; ; i++, j++) {
      if (i === xEnd || j === yEnd) return xEnd - i - (yEnd - j);
      const difference = bytes[i]! - bytes[j]!;
      if (difference !== 0) return difference;
    }
  }
}

/** Byte order of term `a` of part `x` and term `b` of part `y`, read in place. */
function compareTerms(x: FrozenPostings, a: number, y: FrozenPostings, b: number): number {
  let i = a === 0 ? 0 : x.termEnds[a - 1]!;
  let j = b === 0 ? 0 : y.termEnds[b - 1]!;
  const iEnd = x.termEnds[a]!;
  const jEnd = y.termEnds[b]!;
  for (; i < iEnd && j < jEnd; i++, j++) {
    const difference = x.termBytes[i]! - y.termBytes[j]!;
    if (difference !== 0) return difference;
  }
  return iEnd - i - (jEnd - j);
}

/**
 * `parts` (oldest first) without the documents `keep` rejects, as one part: one pass over the
 * parts' sorted terms at once, written into arrays sized for all of them (a merge drops only
 * postings), then trimmed. Merging every part at once rewrites each posting once, where merging
 * pairs in a chain would copy the older ones again at each step.
 */
export function mergeFrozen(all: readonly FrozenPostings[], keep: (id: number) => boolean): FrozenPostings {
  // A part none of whose documents is kept adds no posting: the segment of a file that the next
  // update replaces again (every edit of one file after the first merges the two).
  const parts = all.filter((part) => part.ids.some((id) => keep(id)));
  // A lone part that keeps every document is its own merge (a checkpoint's new segment, merged with nothing or only with such parts).
  if (parts.length === 1 && parts[0]!.ids.every((id) => keep(id))) return parts[0]!;
  let documents = 0;
  let postings = 0;
  let termBytesLength = 0;
  let termCount = 0;
  for (const part of parts) {
    documents += part.ids.length;
    postings += part.docs.length;
    termBytesLength += part.termBytes.length;
    termCount += part.termEnds.length;
  }
  const ids = new Int32Array(documents);
  const lengths = new Uint32Array(documents);
  /** Each part's local document → merged local document, or -1 when dropped. */
  const remaps = parts.map((part) => {
    const remap = new Int32Array(part.ids.length);
    part.ids.forEach((id, local) => (remap[local] = keep(id) ? documents : -1));
    return remap;
  });
  let kept = 0;
  parts.forEach((part, p) => {
    const remap = remaps[p]!;
    for (let local = 0; local < remap.length; local++) {
      if (remap[local]! < 0) continue;
      remap[local] = kept;
      ids[kept] = part.ids[local]!;
      lengths[kept++] = part.lengths[local]!;
    }
  });
  const termBytes = new Uint8Array(termBytesLength);
  const termEnds = new Uint32Array(termCount);
  const postingEnds = new Uint32Array(termCount);
  const docs = new Uint32Array(postings);
  const tfs = parts.some((part) => part.tfs instanceof Float64Array) ? new Float64Array(postings) : new Float32Array(postings);
  /** The next term of each part. */
  const cursors = new Uint32Array(parts.length);
  /** The parts whose next term is the smallest. */
  const smallest: number[] = [];
  let terms = 0;
  let byteAt = 0;
  let postingAt = 0;
  for (;;) {
    smallest.length = 0;
    for (let p = 0; p < parts.length; p++) {
      if (cursors[p]! === parts[p]!.termEnds.length) continue;
      const order = smallest.length === 0 ? -1 : compareTerms(parts[p]!, cursors[p]!, parts[smallest[0]!]!, cursors[smallest[0]!]!);
      if (order < 0) smallest.length = 0;
      if (order <= 0) smallest.push(p);
    }
    if (smallest.length === 0) break;
    const from = postingAt;
    const bytes = termOf(parts[smallest[0]!]!, cursors[smallest[0]!]!);
    // Ascending parts in order of age: their merged documents ascend too.
    for (const p of smallest) {
      const part = parts[p]!;
      const remap = remaps[p]!;
      const t = cursors[p]!++;
      for (let i = t === 0 ? 0 : part.postingEnds[t - 1]!, end = part.postingEnds[t]!; i < end; i++) {
        const local = remap[part.docs[i]!]!;
        if (local < 0) continue;
        docs[postingAt] = local;
        tfs[postingAt++] = part.tfs[i]!;
      }
    }
    if (postingAt === from) continue;
    termBytes.set(bytes, byteAt);
    termEnds[terms] = byteAt += bytes.length;
    postingEnds[terms++] = postingAt;
  }
  return {
    ids: ids.subarray(0, kept),
    lengths: lengths.subarray(0, kept),
    termBytes: termBytes.subarray(0, byteAt),
    termEnds: termEnds.subarray(0, terms),
    postingEnds: postingEnds.subarray(0, terms),
    docs: docs.subarray(0, postingAt),
    tfs: tfs.subarray(0, postingAt),
  };
}

/** A frozen part inside an index: its documents hold slots [base, base + ids.length). */
interface Part {
  postings: PostingsSource;
  base: number;
  /** Each document's local number, by id. */
  local: IdIndex;
  /** Local numbers of the part's documents removed so far. */
  removed: number[];
  /** Dead postings (removed documents') of the terms counted since the last removal. */
  dead: Map<number, number>;
}

/** Where a term is: each part's term number, the in-memory list, and its live document frequency. */
interface Lookup {
  ranges: [Part, number][];
  list: Postings | undefined;
  frequency: number;
}

/**
 * One term's postings among the documents added in memory: entries [start, start + used) of
 * parallel typed arrays of document slots and weighted term frequencies.
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
 * Documents live in SLOTS (dense indexes into typed arrays): the frozen parts' first, then those
 * added in memory; a removed document's slot is marked dead and skipped (in-memory slots are
 * reclaimed when the index compacts). Scoring adds into one reusable accumulator per slot and
 * keeps the best `limit` in a bounded heap, so a query allocates almost nothing. Scores are
 * summed in the same order as a per-document map would (query terms in order), so rankings do
 * not depend on the layout.
 */
export class KeywordIndex {
  private readonly parts: Part[] = [];
  /** Slots [0, partSlots) belong to the parts. */
  private partSlots = 0;
  private partLive = 0;
  /** The in-memory documents (the parts' are not kept as objects). */
  private readonly docs = new Map<number, KeywordDocument>();
  /** The in-memory documents' slots (the parts' are found through each part's `local`). */
  private readonly slotTable = new IdTable();
  private readonly postings = new Map<string, Postings>();
  /** Terms looked up since the index last changed: a query looks each of its terms up three times (statistics twice, then the search). */
  private readonly found = new Map<string, Lookup>();
  private idOfSlot = new Float64Array(1024);
  private lengthOfSlot = new Float64Array(1024);
  private alive = new Uint8Array(1024);
  private slots = 0;
  private totalLength = 0;
  private accumulator = new Float64Array(0);
  private seen = new Uint8Array(0);

  constructor(readonly options: KeywordIndexOptions = DEFAULT_KEYWORD_OPTIONS) {}

  /** An index of frozen parts (a store's segments, oldest first); ids must not repeat across them. */
  static ofParts(options: KeywordIndexOptions, frozen: readonly PostingsSource[]): KeywordIndex {
    const index = new KeywordIndex(options);
    const total = frozen.reduce((sum, part) => sum + part.ids.length, 0);
    const capacity = Math.max(1024, total);
    index.idOfSlot = new Float64Array(capacity);
    index.lengthOfSlot = new Float64Array(capacity);
    index.alive = new Uint8Array(capacity);
    for (const postings of frozen) {
      const base = index.slots;
      index.parts.push({ postings, base, local: new IdIndex(postings.ids), removed: [], dead: new Map() });
      index.idOfSlot.set(postings.ids, base);
      index.lengthOfSlot.set(postings.lengths, base);
      index.alive.fill(1, base, base + postings.ids.length);
      index.totalLength += postings.lengthTotal ?? lengthTotal(postings.lengths);
      index.slots += postings.ids.length;
    }
    index.partSlots = index.partLive = index.slots;
    return index;
  }

  get size(): number {
    return this.partLive + this.docs.size;
  }

  add(id: number, fields: KeywordFields): void {
    this.addDocument(id, keywordDocument(fields, this.options));
  }

  /** Adds a document made by `keywordDocument` (with this index's options), replacing one under `id`. */
  addDocument(id: number, entry: KeywordDocument): void {
    if (this.slotOf(id) !== undefined) this.remove(id);
    this.found.clear();
    this.docs.set(id, entry);
    this.totalLength += entry.length;
    if (this.slots === this.alive.length) this.growSlots();
    const slot = this.slots++;
    this.slotTable.set(id, slot);
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

  remove(id: number): boolean {
    const slot = this.slotOf(id);
    if (slot === undefined) return false;
    this.found.clear();
    this.alive[slot] = 0;
    this.slotTable.delete(id);
    this.totalLength -= this.lengthOfSlot[slot]!;
    if (slot < this.partSlots) {
      // A frozen part keeps no per-document terms: its dead counts are recounted per term when next asked for.
      this.partLive--;
      const part = this.parts.find((candidate) => slot < candidate.base + candidate.postings.ids.length)!;
      part.removed.push(slot - part.base);
      part.dead.clear();
      return true;
    }
    const entry = this.docs.get(id)!;
    for (const term of entry.terms) {
      const list = this.postings.get(term)!;
      if (--list.live === 0) this.postings.delete(term);
    }
    this.docs.delete(id);
    // Dead slots cost scan time: rebuild once they are as many as the live ones.
    if (this.slots - this.partSlots - this.docs.size > Math.max(1024, this.docs.size)) this.compact();
    return true;
  }

  /** The slot of live document `id`. */
  private slotOf(id: number): number | undefined {
    const slot = this.slotTable.get(id);
    if (slot !== undefined) return slot;
    // Ids do not repeat across parts: the first part holding `id` decides.
    for (const { local, base } of this.parts) {
      const i = local.indexOf(id);
      if (i >= 0) return this.alive[base + i] === 1 ? base + i : undefined;
    }
    return undefined;
  }

  /** This index's statistics for the query's terms. */
  statistics(query: string): KeywordStatistics {
    const documentFrequency = new Map<string, number>();
    for (const term of new Set(keywordTokens(query))) documentFrequency.set(term, this.lookup(term).frequency);
    return { documents: this.size, documentFrequency };
  }

  /**
   * Scores every chunk sharing a term with the query; best first (ties by id), at most `limit`.
   * IDF comes from `collection` when given (statistics summed over indexes searched together),
   * else from this index.
   */
  search(query: string, limit: number, collection?: KeywordStatistics): { id: number; score: number }[] {
    const queryTerms = new Map<string, number>();
    for (const term of keywordTokens(query)) queryTerms.set(term, (queryTerms.get(term) ?? 0) + 1);
    const size = this.size;
    if (size === 0 || queryTerms.size === 0 || limit <= 0) return [];
    const count = collection?.documents ?? size;
    const averageLength = this.totalLength / size;
    const { k1, b } = this.options;
    if (this.accumulator.length < this.slots) {
      this.accumulator = new Float64Array(this.alive.length);
      this.seen = new Uint8Array(this.alive.length);
    }
    const { accumulator: scores, seen } = this;
    const { alive, lengthOfSlot } = this;
    const touched: number[] = [];
    const add = (slot: number, tf: number, queryWeight: number): void => {
      if (alive[slot] === 0) return;
      const saturated = (tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * lengthOfSlot[slot]!) / averageLength));
      if (seen[slot] === 0) {
        seen[slot] = 1;
        touched.push(slot);
      }
      scores[slot] += queryWeight * saturated;
    };
    for (const [term, queryCount] of queryTerms) {
      const found = this.lookup(term);
      if (found.frequency === 0) continue;
      const frequency = collection?.documentFrequency.get(term) ?? found.frequency;
      const idf = Math.log(1 + (count - frequency + 0.5) / (frequency + 0.5));
      // A term repeated in the question ("index ... indexes") should not count double.
      const queryWeight = idf * (1 + Math.log(queryCount));
      for (const [part, t] of found.ranges) {
        const { docs, tfs } = part.postings.termPostings(t);
        const { base } = part;
        for (let i = 0, end = docs.length; i < end; i++) {
          add(base + docs[i]!, tfs[i]!, queryWeight);
        }
      }
      const list = found.list;
      if (list) {
        const { slots, tfs, start } = list;
        for (let i = start, end = start + list.used; i < end; i++) {
          add(slots[i]!, tfs[i]!, queryWeight);
        }
      }
    }
    const hits = bestSlots(touched, limit, scores, this.idOfSlot).map((slot) => ({ id: this.idOfSlot[slot]!, score: scores[slot]! }));
    for (const slot of touched) {
      scores[slot] = 0;
      seen[slot] = 0;
    }
    return hits;
  }

  /** Where `term` is (each part's term number and the in-memory list) and its live document frequency. */
  private lookup(term: string): Lookup {
    const known = this.found.get(term);
    if (known) return known;
    const list = this.postings.get(term);
    let frequency = list?.live ?? 0;
    const ranges: [Part, number][] = [];
    if (this.parts.length > 0) {
      const bytes = utf8.encode(term);
      for (const part of this.parts) {
        const t = part.postings.findTerm(bytes);
        if (t < 0) continue;
        ranges.push([part, t]);
        frequency += part.postings.postingCount(t) - this.deadCount(part, t);
      }
    }
    const found = { ranges, list, frequency };
    // Bounded: a long-lived index (the extension's) answers many distinct questions.
    if (this.found.size >= 1024) this.found.clear();
    this.found.set(term, found);
    return found;
  }

  /** Removed documents among term t's postings in `part` (none while the part has all its documents). */
  private deadCount(part: Part, t: number): number {
    if (part.removed.length === 0) return 0;
    let dead = part.dead.get(t);
    if (dead === undefined) {
      dead = 0;
      const { docs } = part.postings.termPostings(t);
      // A few removals (a re-indexed file's tombstones): each is looked up in the ascending postings, not every posting checked.
      if (part.removed.length * 32 < docs.length) {
        for (const local of part.removed) if (sortedIndexOf(docs, local) >= 0) dead++;
      } else {
        for (let i = 0; i < docs.length; i++) if (this.alive[part.base + docs[i]!] === 0) dead++;
      }
      part.dead.set(t, dead);
    }
    return dead;
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

  /** Rebuilds the in-memory documents' slots and postings; the parts' slots stay. */
  private compact(): void {
    const docs = [...this.docs];
    for (const [id, entry] of docs) {
      this.slotTable.delete(id);
      this.totalLength -= entry.length;
    }
    this.docs.clear();
    this.postings.clear();
    this.alive.fill(0, this.partSlots, this.slots);
    this.slots = this.partSlots;
    for (const [id, entry] of docs) this.addDocument(id, entry);
  }
}
/**
 * The value that would be at index `k` of `values` sorted ascending (0 ≤ k < length), found by
 * quickselect; `values` is reordered. A query's common term touches tens of thousands of
 * passages, and sorting all their scores to find the top hits' threshold was the largest part
 * of a warm query (bestSlots, 2 of 5 ms on the bench:scale corpus).
 */
export function selectKth(values: Float64Array, k: number): number {
  let low = 0;
  let high = values.length - 1;
  while (high > low) {
    // Median of three as the pivot: sorted or constant runs do not make it quadratic.
    const middle = (low + high) >>> 1;
    const a = values[low]!;
    const b = values[middle]!;
    const c = values[high]!;
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    // Three-way partition: [low, lt) < pivot, [lt, gt] = pivot, (gt, high] > pivot.
    let lt = low;
    let gt = high;
    let i = low;
    while (i <= gt) {
      const value = values[i]!;
      if (value < pivot) {
        values[i++] = values[lt]!;
        values[lt++] = value;
      } else if (value > pivot) {
        values[i] = values[gt]!;
        values[gt--] = value;
      } else {
        i++;
      }
    }
    if (k < lt) high = lt - 1;
    else if (k > gt) low = gt + 1;
    else return pivot;
  }
  return values[k]!;
}

/**
 * The best `limit` of `slots` by score (ties: lower id first), best first. The limit-th best score
 * comes from selectKth over a copy of the scores; only the slots at or above it are sorted with a
 * comparator. A heap offered every slot cost a cold query a method call or more per match.
 */
function bestSlots(slots: readonly number[], limit: number, scores: Float64Array, ids: Float64Array): number[] {
  let kept = slots;
  if (slots.length > limit) {
    if (limit <= 0) return [];
    const values = new Float64Array(slots.length);
    for (let i = 0; i < slots.length; i++) values[i] = scores[slots[i]!]!;
    const threshold = selectKth(values, slots.length - limit);
    const above: number[] = [];
    const at: number[] = [];
    for (let i = 0; i < slots.length; i++) {
      const score = scores[slots[i]!]!;
      if (score > threshold) above.push(slots[i]!);
      else if (score === threshold) at.push(slots[i]!);
    }
    // Of the slots tied at the threshold, the lowest ids fill the places left.
    at.sort((a, b) => ids[a]! - ids[b]!);
    kept = above.concat(at.slice(0, limit - above.length));
  }
  // One subtraction each: a query sorts a thousand hits, twice.
  return [...kept].sort((a, b) => scores[b]! - scores[a]! || ids[a]! - ids[b]!);
}

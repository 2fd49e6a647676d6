/**
 * BM25F keyword index over chunks. Title and heading terms are folded into the chunk's term
 * frequencies with field weights BEFORE saturation (BM25F), which ranks documentation better
 * than scoring fields separately and summing (MiniSearch's approach): see BENCHMARKS.md.
 * Supports incremental add/remove and a compact serialised form (per-chunk term lists; the
 * postings are rebuilt on load, which is much faster than re-tokenising).
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

interface DocEntry {
  terms: string[];
  weights: number[];
  length: number;
}

export interface SerializedKeywordIndex {
  version: 1;
  options: KeywordIndexOptions;
  /** [id, length, terms, weights] per chunk. */
  docs: [number, number, string[], number[]][];
}

export class KeywordIndex {
  private readonly docs = new Map<number, DocEntry>();
  private readonly postings = new Map<string, Map<number, number>>();
  private totalLength = 0;

  constructor(readonly options: KeywordIndexOptions = DEFAULT_KEYWORD_OPTIONS) {}

  get size(): number {
    return this.docs.size;
  }

  add(id: number, fields: KeywordFields): void {
    if (this.docs.has(id)) this.remove(id);
    const weighted = new Map<string, number>();
    const bodyTokens = keywordTokens(fields.body);
    for (const term of bodyTokens) weighted.set(term, (weighted.get(term) ?? 0) + 1);
    // Each distinct title/heading term counts once per field: long heading paths must not swamp the body.
    for (const term of new Set(keywordTokens(fields.title))) weighted.set(term, (weighted.get(term) ?? 0) + this.options.titleWeight);
    for (const term of new Set(keywordTokens(fields.headings))) weighted.set(term, (weighted.get(term) ?? 0) + this.options.headingWeight);
    this.insert(id, { terms: [...weighted.keys()], weights: [...weighted.values()], length: Math.max(1, bodyTokens.length) });
  }

  remove(id: number): boolean {
    const entry = this.docs.get(id);
    if (!entry) return false;
    for (const term of entry.terms) {
      const list = this.postings.get(term);
      list?.delete(id);
      if (list?.size === 0) this.postings.delete(term);
    }
    this.totalLength -= entry.length;
    this.docs.delete(id);
    return true;
  }

  /** This index's statistics for the query's terms. */
  statistics(query: string): KeywordStatistics {
    const documentFrequency = new Map<string, number>();
    for (const term of new Set(keywordTokens(query))) documentFrequency.set(term, this.postings.get(term)?.size ?? 0);
    return { documents: this.docs.size, documentFrequency };
  }

  /**
   * Scores every chunk sharing a term with the query; best first, at most `limit`. IDF comes from
   * `collection` when given (statistics summed over indexes searched together), else from this index.
   */
  search(query: string, limit: number, collection?: KeywordStatistics): { id: number; score: number }[] {
    const queryTerms = new Map<string, number>();
    for (const term of keywordTokens(query)) queryTerms.set(term, (queryTerms.get(term) ?? 0) + 1);
    if (this.docs.size === 0 || queryTerms.size === 0) return [];
    const count = collection?.documents ?? this.docs.size;
    const averageLength = this.totalLength / this.docs.size;
    const { k1, b } = this.options;
    const scores = new Map<number, number>();
    for (const [term, queryCount] of queryTerms) {
      const list = this.postings.get(term);
      if (!list) continue;
      const frequency = collection?.documentFrequency.get(term) ?? list.size;
      const idf = Math.log(1 + (count - frequency + 0.5) / (frequency + 0.5));
      // A term repeated in the question ("index ... indexes") should not count double.
      const queryWeight = idf * (1 + Math.log(queryCount));
      for (const [id, tf] of list) {
        const length = this.docs.get(id)!.length;
        const saturated = (tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * length) / averageLength));
        scores.set(id, (scores.get(id) ?? 0) + queryWeight * saturated);
      }
    }
    return topScores(scores, limit);
  }

  serialize(): SerializedKeywordIndex {
    const docs: SerializedKeywordIndex['docs'] = [];
    for (const [id, entry] of this.docs) docs.push([id, entry.length, entry.terms, entry.weights]);
    return { version: 1, options: this.options, docs };
  }

  static deserialize(data: SerializedKeywordIndex): KeywordIndex {
    if (data?.version !== 1 || !Array.isArray(data.docs)) throw new Error('keyword index: unsupported or corrupt data');
    const index = new KeywordIndex(data.options);
    for (const [id, length, terms, weights] of data.docs) index.insert(id, { terms, weights, length });
    return index;
  }

  private insert(id: number, entry: DocEntry): void {
    this.docs.set(id, entry);
    this.totalLength += entry.length;
    for (let i = 0; i < entry.terms.length; i++) {
      const term = entry.terms[i]!;
      let list = this.postings.get(term);
      if (!list) this.postings.set(term, (list = new Map()));
      list.set(id, entry.weights[i]!);
    }
  }
}

export function topScores(scores: Map<number, number>, limit: number): { id: number; score: number }[] {
  const all = [...scores].map(([id, score]) => ({ id, score }));
  all.sort((x, y) => y.score - x.score || x.id - y.id);
  return all.slice(0, limit);
}

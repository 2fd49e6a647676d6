/**
 * Confidence that a passage is about the question, in [0, 1]: the share of the question's
 * distinctive words (weighted by how rare each is across the pages) that the passage, its
 * title or its headings contain, times an evidence factor: (matched words / min(question
 * words, 3))². A word no page contains weighs the most, so a question about something the docs
 * never mention ("How do I bake sourdough bread?", "zzzzzz") scores near 0 whatever passages
 * fusion still ranks; the evidence factor stops one shared word ("What is the capital of
 * Mongolia?" → "capital") from passing for an answer, since real answers share several words
 * with their question. A question with no distinctive words scores 0.
 */
import type { KeywordStatistics } from './keywordIndex.js';
import { keywordTokens } from './tokenize.js';

/** Below this best-hit confidence an answer says nothing in the docs answers the question (bench:confidence). */
export const CONFIDENCE_FLOOR = 0.13;

export interface QueryTerms {
  terms: { term: string; weight: number }[];
  total: number;
}

/** Matched words a passage needs (fewer when the question has fewer) before its coverage counts in full. */
const EVIDENCE_WORDS = 3;

/** The question's distinct terms with their IDF over pages (`statistics` from the searched indexes). */
export function queryTerms(query: string, statistics: KeywordStatistics): QueryTerms {
  const n = statistics.documents;
  const terms = [...new Set(keywordTokens(query))].map((term) => {
    const df = statistics.documentFrequency.get(term) ?? 0;
    return { term, weight: Math.log(1 + (n - df + 0.5) / (df + 0.5)) };
  });
  return { terms, total: terms.reduce((sum, t) => sum + t.weight, 0) };
}

/** `terms`: the question's terms the passage's title, headings or text hold (passageSignature.ts). */
export function passageConfidence(query: QueryTerms, terms: ReadonlySet<string>): number {
  if (query.total <= 0) return 0;
  let covered = 0;
  let matched = 0;
  for (const { term, weight } of query.terms) {
    if (!terms.has(term)) continue;
    covered += weight;
    matched++;
  }
  const evidence = Math.min(1, matched / Math.min(query.terms.length, EVIDENCE_WORDS));
  return (covered / query.total) * evidence * evidence;
}

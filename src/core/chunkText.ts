/**
 * What text of a chunk each index reads, in one place: the keyword index sees the title, the
 * heading path and the body as separate BM25F fields (per passage and per whole page), the
 * embedder sees them joined into one text. Search reads the same text to spot near duplicates.
 */
import type { FieldTerms, KeywordFields } from './search/keywordIndex.js';
import type { Chunk } from './types.js';

/** The heading path without a leading copy of the title (most documents open with an H1 = title). */
export function headingsBelowTitle(chunk: { title: string; headingPath: string[] }): string[] {
  return chunk.headingPath[0] === chunk.title ? chunk.headingPath.slice(1) : chunk.headingPath;
}

/** A passage as one keyword document. */
export function keywordFieldsOf(chunk: Chunk): KeywordFields {
  const headings = headingsBelowTitle(chunk);
  return { title: chunk.title, headings: headings.at(-1) ?? '', parentHeadings: headings.slice(0, -1).join(' '), body: chunk.text };
}

/**
 * A whole file as one keyword document: the title once, each heading term once, all passage
 * text; made from its passages' terms (no term spans the line break between two passages, so
 * this is what tokenizing their joined text gives).
 */
export function pageFieldTerms(passages: readonly FieldTerms[]): FieldTerms {
  const body = new Map<string, number>();
  const headings = new Set<string>();
  let length = 0;
  for (const passage of passages) {
    for (const [term, count] of passage.body) body.set(term, (body.get(term) ?? 0) + count);
    for (const term of passage.headings) headings.add(term);
    for (const term of passage.parentHeadings) headings.add(term);
    length += passage.length;
  }
  return { body, length, title: passages[0]!.title, headings, parentHeadings: new Set() };
}

/** What the embedder sees: the document title and heading path give a passage its context. */
export function embeddingTextOf(chunk: Chunk): string {
  return [chunk.title, ...headingsBelowTitle(chunk), chunk.text].join('\n');
}

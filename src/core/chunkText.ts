/**
 * What text of a chunk each index reads, in one place: the keyword index sees the title, the
 * heading path and the body as separate BM25F fields (per passage and per whole page), the
 * embedder sees them joined into one text. Search reads the same text to spot near duplicates.
 */
import type { KeywordFields } from './search/keywordIndex.js';
import type { Chunk } from './types.js';

/** The heading path without a leading copy of the title (most documents open with an H1 = title). */
export function headingsBelowTitle(chunk: { title: string; headingPath: string[] }): string[] {
  // Length first: reading [0] of an empty path deoptimizes the compiled code this is inlined into.
  return chunk.headingPath.length > 0 && chunk.headingPath[0] === chunk.title ? chunk.headingPath.slice(1) : chunk.headingPath;
}

/** A passage as one keyword document. */
export function keywordFieldsOf(chunk: Chunk): KeywordFields {
  const headings = headingsBelowTitle(chunk);
  return { title: chunk.title, headings: headings.at(-1) ?? '', parentHeadings: headings.slice(0, -1).join(' '), body: chunk.text };
}

/** What the embedder sees: the document title and heading path give a passage its context. */
export function embeddingTextOf(chunk: Chunk): string {
  return [chunk.title, ...headingsBelowTitle(chunk), chunk.text].join('\n');
}

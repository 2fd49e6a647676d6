/**
 * What text of a chunk each index reads, in one place: the keyword index sees the title, the
 * heading path and the body as separate BM25F fields (per passage and per whole page), the
 * embedder sees them joined into one text. Search reads the same text to spot near duplicates.
 */
import type { KeywordFields } from './search/keywordIndex.js';
import type { Chunk } from './types.js';

/** The heading path without a leading copy of the title (most documents open with an H1 = title). */
function headingsBelowTitle(chunk: { title: string; headingPath: string[] }): string[] {
  return chunk.headingPath[0] === chunk.title ? chunk.headingPath.slice(1) : chunk.headingPath;
}

/** A passage as one keyword document. */
export function keywordFieldsOf(chunk: Chunk): KeywordFields {
  const headings = headingsBelowTitle(chunk);
  return { title: chunk.title, headings: headings.join(' '), body: chunk.text };
}

/** A whole file as one keyword document: title once, each heading once, all passage text. */
export function pageKeywordFieldsOf(chunks: Chunk[]): KeywordFields {
  const headings = new Set<string>();
  for (const chunk of chunks) for (const heading of keywordFieldsOf(chunk).headings.split(' ')) headings.add(heading);
  return { title: chunks[0]!.title, headings: [...headings].join(' '), body: chunks.map((chunk) => chunk.text).join('\n') };
}

/** What the embedder sees: the document title and heading path give a passage its context. */
export function embeddingTextOf(chunk: Chunk): string {
  return [chunk.title, ...headingsBelowTitle(chunk), chunk.text].join('\n');
}

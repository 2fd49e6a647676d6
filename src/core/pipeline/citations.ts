/** Maps `[n]` markers in generated text to sources, and writes extractive answers. */
import { sourceLabel } from './prompt.js';
import type { Citation } from './types.js';

/** Sources cited by `[n]`, `[n, m]` or `[n][m]`, in order of first mention; numbers without a source are dropped. */
export function citedSources(text: string, sources: readonly Citation[]): Citation[] {
  const byNumber = new Map(sources.map((source) => [source.n, source]));
  const cited = new Map<number, Citation>();
  for (const group of text.matchAll(/\[(\d+(?:\s*,\s*\d+)*)\]/g)) {
    for (const number of group[1]!.split(',')) {
      const source = byNumber.get(Number(number.trim()));
      if (source && !cited.has(source.n)) cited.set(source.n, source);
    }
  }
  return [...cited.values()];
}

const EXCERPT_CHARS = 400;

/** The passages themselves, numbered as cited; used by retrieval-only mode and every degraded answer. */
export function extractiveBody(sources: readonly Citation[]): string {
  return sources
    .map((source) => {
      const text = source.text.replace(/\s+/g, ' ').trim();
      const excerpt = text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text;
      return `${sourceLabel(source)}\n${excerpt}`;
    })
    .join('\n\n');
}

export const NOTHING_FOUND_ANSWER = 'Nothing in your docs answers this.';

/** Maps `[n]` markers in generated text to sources, and writes extractive answers. */
import { keywordTokens } from '../search/tokenize.js';
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

/** Characters of passage shown around the sentences that answer (whole lines; one long line is cut at a word). */
const CONTEXT_CHARS = 700;
/** At most this many answering sentences quoted first. */
const KEY_SENTENCES = 2;

/**
 * The passages to show when no model writes the answer: `count` of them, one per page first
 * (among passages that pass the confidence floor), so three slices of one page do not crowd out
 * other pages; further slices of a page come only once every page that passes the floor has
 * one, so one page fills the answer only when it alone clearly answers. Shown in retrieval order.
 */
export function chooseExtractivePassages<T extends Citation>(sources: readonly T[], confidences: readonly number[], count: number, floor: number): T[] {
  const chosen: T[] = [];
  const pages = new Set<string>();
  sources.forEach((source, i) => {
    if (chosen.length < count && confidences[i]! >= floor && !pages.has(source.path)) {
      chosen.push(source);
      pages.add(source.path);
    }
  });
  sources.forEach((source, i) => {
    if (chosen.length < count && confidences[i]! >= floor && !chosen.includes(source)) chosen.push(source);
  });
  return chosen.sort((a, b) => a.n - b.n);
}

/**
 * The passages themselves, numbered as cited; used by retrieval-only mode and every degraded
 * answer. Each shows first the sentences that share the most words with `query`, then the
 * passage around them as markdown: its own lines (not flattened), code (indented lines and the
 * line that opens them) fenced, table rows as a table, cut only at line or word boundaries.
 */
export function extractiveBody(query: string, sources: readonly Citation[]): string {
  const terms = new Set(keywordTokens(query));
  // The label is a paragraph of its own: the excerpt's first prose line would otherwise run on after it.
  return sources.map((source) => `${sourceLabel(source)}\n\n${focusedExcerpt(source.text, terms)}`).join('\n\n');
}

function focusedExcerpt(text: string, terms: ReadonlySet<string>): string {
  const lines = text.split('\n');
  const sentences = lines.flatMap((line, index) => splitSentences(line).map((sentence) => ({ sentence, index, score: overlap(sentence, terms) })));
  const best = sentences.reduce((top, s) => (s.score > top.score ? s : top), { sentence: '', index: 0, score: 0 });
  const window = linesAround(lines, best.index, CONTEXT_CHARS);
  const body = asMarkdown(window.lines);
  const key = sentences
    .filter((s) => s.score > 0 && s.score >= best.score - 1)
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, KEY_SENTENCES)
    .sort((a, b) => a.index - b.index);
  // The quote is left out when the passage shown starts with it anyway.
  if (key.length === 0 || (window.first === best.index && key.every((s) => s.index === best.index) && lines[best.index]!.startsWith(key[0]!.sentence))) return body;
  return `${key.map((s) => `> ${cutAtWord(s.sentence, CONTEXT_CHARS / 2)}`).join('\n>\n')}\n\n${body}`;
}

/** Distinct query terms in `sentence`. */
function overlap(sentence: string, terms: ReadonlySet<string>): number {
  return new Set(keywordTokens(sentence).filter((term) => terms.has(term))).size;
}

function splitSentences(line: string): string[] {
  return line.trim() === '' ? [] : line.trim().split(/(?<=[.!?])\s+(?=[A-Z0-9`"'(\[])/u);
}

/** Whole lines around line `center` within `budget` characters (the center line itself cut at a word when longer). */
function linesAround(lines: readonly string[], center: number, budget: number): { first: number; lines: string[] } {
  let first = center;
  let last = center;
  let used = lines[center]!.length;
  for (let grew = true; grew; ) {
    grew = false;
    if (last + 1 < lines.length && used + lines[last + 1]!.length + 1 <= budget) used += lines[++last]!.length + 1, (grew = true);
    if (first > 0 && used + lines[first - 1]!.length + 1 <= budget) used += lines[--first]!.length + 1, (grew = true);
  }
  const window = lines.slice(first, last + 1);
  window[center - first] = cutAtWord(window[center - first]!, budget);
  // An ellipsis line says the passage goes on; it never touches a code line's indentation.
  return { first, lines: [...(first > 0 ? ['…', ''] : []), ...window, ...(last < lines.length - 1 ? ['', '…'] : [])] };
}

function cutAtWord(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.lastIndexOf(' ', max);
  return `${text.slice(0, cut > max / 2 ? cut : max).trimEnd()}…`;
}

const INDENTED = /^(?: {2,}|\t)\S/;
const TABLE_ROW = /^\|.*\|$/;

/** "for line in f:", "fn main() {": a line that opens the indented code under it (prose like "For example:" does not). */
function opensCode(line: string): boolean {
  const t = line.trim();
  return /[:{]$/.test(t) && (/^[a-z_]/.test(t) || /[()=[\]]/.test(t.slice(0, -1)));
}

/** Lines as markdown: indented runs (with the line that opens them) fenced, `| a | b |` runs as a table, other lines kept apart by hard breaks. */
function asMarkdown(lines: readonly string[]): string {
  const blocks: { prose: boolean; text: string }[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (INDENTED.test(line) || (opensCode(line) && INDENTED.test(lines[i + 1] ?? ''))) {
      const run = [lines[i++]!];
      while (i < lines.length && (INDENTED.test(lines[i]!) || (lines[i]!.trim() === '' && INDENTED.test(lines[i + 1] ?? '')))) run.push(lines[i++]!);
      blocks.push({ prose: false, text: ['```', ...run, '```'].join('\n') });
    } else if (TABLE_ROW.test(line.trim())) {
      const run: string[] = [];
      while (i < lines.length && TABLE_ROW.test(lines[i]!.trim())) run.push(lines[i++]!.trim());
      if (!/^\|[\s:|-]+\|$/.test(run[1] ?? '')) run.splice(1, 0, `|${' --- |'.repeat(run[0]!.split('|').length - 2)}`);
      blocks.push({ prose: false, text: run.join('\n') });
    } else {
      blocks.push({ prose: true, text: line });
      i++;
    }
  }
  // Adjacent prose lines stay separate lines (a hard break); blank lines and code/table blocks separate paragraphs.
  let out = '';
  blocks.forEach((block, k) => {
    if (k === 0) out = block.text;
    else if (block.prose && blocks[k - 1]!.prose && block.text !== '' && blocks[k - 1]!.text !== '') out += `  \n${block.text}`;
    else out += `\n\n${block.text}`;
  });
  return out.replace(/\n{3,}/g, '\n\n').trim();
}

export const NOTHING_FOUND_ANSWER = 'Nothing in your docs answers this.';

/** Maps `[n]` markers in generated text to sources, and writes extractive answers. */
import { keywordTokens } from '../search/tokenize.js';
import { sourceLabel } from './prompt.js';
import type { Citation } from './types.js';
import { fenced, keepsSourceWraps, literalInline, literalLineStart, passageBlocks, type Block } from './passageBlocks.js';

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
 * answer. Each shows the passage around the sentences that share the most words with `query`
 * as markdown: paragraphs of whole sentences (a source's hard wraps joined; HTML's lines kept),
 * code fenced, table rows as a table, plain text escaped so nothing turns into a heading or a
 * link, cut only at sentence or line boundaries. Those sentences are quoted first when the
 * excerpt does not already open with them.
 */
export function extractiveBody(query: string, sources: readonly Citation[]): string {
  const terms = new Set(keywordTokens(query));
  // The label is a paragraph of its own: the excerpt's first prose line would otherwise run on after it.
  return sources.map((source) => `${sourceLabel(source)}\n\n${focusedExcerpt(source.text, terms, keepsSourceWraps(source.path))}`).join('\n\n');
}

/** A sentence (prose) or a line (code, table row): the unit an excerpt is cut at. */
interface Unit {
  block: number;
  /** Logical line of a paragraph (always 0 for code and tables). */
  line: number;
  text: string;
}

function focusedExcerpt(text: string, terms: ReadonlySet<string>, reflow: boolean): string {
  const blocks = passageBlocks(text, reflow);
  const units: Unit[] = blocks.flatMap((block, b) =>
    block.kind === 'prose' ? block.lines.flatMap((sentences, line) => sentences.map((s) => ({ block: b, line, text: s }))) : block.lines.map((l) => ({ block: b, line: 0, text: l })),
  );
  if (units.length === 0) return '';
  const scores = units.map((unit) => overlap(unit.text, terms));
  // Sentences answer; a code line is the center only when no sentence shares a word with the question.
  const all = units.map((_unit, i) => i);
  const prose = all.filter((i) => blocks[units[i]!.block]!.kind === 'prose');
  const best = (prose.some((i) => scores[i]! > 0) ? prose : all).reduce((top, i) => (scores[i]! > scores[top]! ? i : top));
  const shown = unitsAround(units, best);
  const body = render(blocks, units, shown);
  const key = prose
    .filter((i) => scores[i]! > 0 && scores[i]! >= scores[best]! - 1)
    .sort((a, b) => scores[b]! - scores[a]! || a - b)
    .slice(0, KEY_SENTENCES)
    .sort((a, b) => a - b);
  // A quote puts the answer first; it is left out when the excerpt opens with the answer anyway.
  if (key.length === 0 || body.slice(0, KEY_OPENING_CHARS).includes(literalInline(units[best]!.text))) return body;
  return `${key.map((i) => `> ${literalLineStart(literalInline(cutAtWord(units[i]!.text, CONTEXT_CHARS / 2)))}`).join('\n>\n')}\n\n${body}`;
}

/** The excerpt opens with the answer when its best sentence lies within this many characters of the top. */
const KEY_OPENING_CHARS = 300;

/** Distinct query terms in `sentence`. */
function overlap(sentence: string, terms: ReadonlySet<string>): number {
  return new Set(keywordTokens(sentence).filter((term) => terms.has(term))).size;
}

/** Indexes of the whole units around unit `center` within CONTEXT_CHARS (the center itself cut at a word when longer). */
function unitsAround(units: readonly Unit[], center: number): { first: number; last: number } {
  let first = center;
  let last = center;
  let used = units[center]!.text.length;
  for (let grew = true; grew; ) {
    grew = false;
    if (last + 1 < units.length && used + units[last + 1]!.text.length + 1 <= CONTEXT_CHARS) used += units[++last]!.text.length + 1, (grew = true);
    if (first > 0 && used + units[first - 1]!.text.length + 1 <= CONTEXT_CHARS) used += units[--first]!.text.length + 1, (grew = true);
  }
  return { first, last };
}

/** Units `first..last` as markdown blocks, with an ellipsis paragraph where the passage goes on. */
function render(blocks: readonly Block[], units: readonly Unit[], { first, last }: { first: number; last: number }): string {
  const out: string[] = [];
  if (first > 0) out.push('…');
  for (let i = first; i <= last; ) {
    const block = blocks[units[i]!.block]!;
    const inside: Unit[] = [];
    for (const b = units[i]!.block; i <= last && units[i]!.block === b; i++) inside.push(units[i]!);
    const texts = inside.map((unit) => (first === last ? cutAtWord(unit.text, CONTEXT_CHARS) : unit.text));
    if (block.kind === 'code') out.push(fenced(texts));
    else if (block.kind === 'table') out.push(texts.join('\n'));
    else {
      const lines: string[][] = [];
      inside.forEach((unit, k) => (lines[unit.line] ??= []).push(literalInline(texts[k]!)));
      // Logical lines of one paragraph (list items, HTML blocks) stay apart by hard breaks.
      out.push(lines.filter((line) => line !== undefined).map((line) => literalLineStart(line.join(' '))).join('  \n'));
    }
  }
  if (last < units.length - 1) out.push('…');
  return out.join('\n\n');
}

function cutAtWord(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.lastIndexOf(' ', max);
  return `${text.slice(0, cut > max / 2 ? cut : max).trimEnd()}…`;
}

export const NOTHING_FOUND_ANSWER = 'Nothing in your docs answers this.';

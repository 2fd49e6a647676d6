/**
 * Structure-aware chunking: a chunk never spans two sections, so its heading path is exact;
 * long sections are cut at paragraph boundaries into pieces of at most `maxTokens`, each
 * repeating about `overlapTokens` of the previous piece so a sentence cut in two stays findable.
 * A piece cites the source lines its parser recorded for each of its text lines, so the lines
 * are exact whatever markup the parser dropped; a line too long for one piece (minified or
 * line-less files) is cut at word boundaries into pieces that all cite that line.
 */
import { estimateTokens } from './tokenEstimate.js';
import type { LineSpan, ParsedDocument, Section } from './types.js';

export interface ChunkingOptions {
  maxTokens: number;
  overlapTokens: number;
}

export const DEFAULT_CHUNKING: ChunkingOptions = { maxTokens: 256, overlapTokens: 48 };

export interface ChunkDraft {
  startLine: number;
  endLine: number;
  title: string;
  headingPath: string[];
  text: string;
}

export function chunkDocument(doc: ParsedDocument, options: ChunkingOptions = DEFAULT_CHUNKING): ChunkDraft[] {
  const drafts: ChunkDraft[] = [];
  for (const section of doc.sections) {
    for (const piece of splitSection(section, options)) {
      drafts.push({ ...piece, title: doc.title, headingPath: section.headingPath });
    }
  }
  return drafts;
}

interface Piece {
  startLine: number;
  endLine: number;
  text: string;
}

/** Consecutive text lines `first..last` of a section, or one slice of the long line `first`. */
interface Block {
  first: number;
  last: number;
  tokens: number;
  text: string;
}

function splitSection(section: Section, options: ChunkingOptions): Piece[] {
  const text = section.text.trim();
  if (estimateTokens(text) <= options.maxTokens) return [{ startLine: section.startLine, endLine: section.endLine, text }];

  const lines = section.text.split('\n');
  const spanOf = (index: number): LineSpan => section.sourceLines[index] ?? { first: section.startLine, last: section.endLine };
  const blocks = paragraphBlocks(lines, options.maxTokens);
  const pieces: Piece[] = [];
  let current: Block[] = [];
  const flush = (): void => {
    if (current.length === 0) return;
    const pieceText = joinBlocks(current).trim();
    const first = current[0]!;
    const last = current[current.length - 1]!;
    // The first piece also cites its heading line.
    const startLine = first.first === 0 && first === blocks[0] ? section.startLine : spanOf(first.first).first;
    if (pieceText) pieces.push({ startLine, endLine: Math.max(startLine, spanOf(last.last).last), text: pieceText });
  };
  let tokens = 0;
  for (const block of blocks) {
    if (current.length > 0 && tokens + block.tokens > options.maxTokens) {
      flush();
      // Carry trailing blocks into the next piece until the overlap budget is used.
      const carried: Block[] = [];
      let carriedTokens = 0;
      for (let i = current.length - 1; i >= 0; i--) {
        const candidate = current[i]!;
        if (carriedTokens + candidate.tokens > options.overlapTokens) break;
        carried.unshift(candidate);
        carriedTokens += candidate.tokens;
      }
      current = carried;
      tokens = carriedTokens;
    }
    current.push(block);
    tokens += block.tokens;
  }
  flush();
  return pieces;
}

/** Blocks joined as they stood: slices of one line by a space, adjacent lines by a line break, paragraphs by a blank line. */
function joinBlocks(blocks: Block[]): string {
  let text = blocks[0]!.text;
  for (let i = 1; i < blocks.length; i++) {
    const gap = blocks[i]!.first - blocks[i - 1]!.last;
    text += (gap <= 0 ? ' ' : gap === 1 ? '\n' : '\n\n') + blocks[i]!.text;
  }
  return text;
}

/**
 * Paragraphs (runs separated by blank lines); a paragraph over budget is cut into line runs,
 * and a line over budget into word-boundary slices.
 */
function paragraphBlocks(lines: string[], maxTokens: number): Block[] {
  const blocks: Block[] = [];
  let start = -1;
  let tokens = 0;
  const close = (end: number): void => {
    if (start >= 0) blocks.push({ first: start, last: end, tokens, text: lines.slice(start, end + 1).join('\n') });
    start = -1;
    tokens = 0;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') {
      close(i - 1);
      continue;
    }
    const lineTokens = estimateTokens(line) + 1;
    if (lineTokens > maxTokens) {
      close(i - 1);
      for (const slice of sliceLongLine(line, maxTokens * 4)) blocks.push({ first: i, last: i, tokens: estimateTokens(slice) + 1, text: slice });
      continue;
    }
    if (start >= 0 && tokens + lineTokens > maxTokens) close(i - 1);
    if (start < 0) start = i;
    tokens += lineTokens;
  }
  close(lines.length - 1);
  return blocks;
}

/** Cuts a line into slices of at most `maxChars`, at the last space of each window (hard cut only when it has none). */
function sliceLongLine(line: string, maxChars: number): string[] {
  const slices: string[] = [];
  let rest = line.trim();
  while (rest.length > maxChars) {
    let cut = rest.lastIndexOf(' ', maxChars);
    if (cut < maxChars / 2) cut = maxChars;
    slices.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest !== '') slices.push(rest);
  return slices;
}

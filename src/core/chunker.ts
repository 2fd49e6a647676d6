/**
 * Structure-aware chunking: a chunk never spans two sections, so its heading path is exact;
 * long sections are cut at paragraph boundaries into pieces of at most `maxTokens`, each
 * repeating about `overlapTokens` of the previous piece so a sentence cut in two stays findable.
 */
import { estimateTokens } from './tokenEstimate.js';
import type { ParsedDocument, Section } from './types.js';

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

function splitSection(section: Section, options: ChunkingOptions): Piece[] {
  const text = section.text.trim();
  if (estimateTokens(text) <= options.maxTokens) return [{ startLine: section.startLine, endLine: section.endLine, text }];

  const lines = section.text.split('\n');
  // Parsers that drop markup may not keep one text line per source line; map proportionally then.
  const sourceSpan = section.endLine - section.startLine + 1;
  const sourceLineOf = (index: number): number =>
    lines.length === sourceSpan
      ? section.startLine + index
      : section.startLine + Math.min(sourceSpan - 1, Math.floor((index * sourceSpan) / lines.length));

  const blocks = paragraphBlocks(lines, options.maxTokens);
  const pieces: Piece[] = [];
  let current: { first: number; last: number; tokens: number }[] = [];
  const flush = (): void => {
    if (current.length === 0) return;
    const first = current[0]!.first;
    const last = current[current.length - 1]!.last;
    const pieceText = lines.slice(first, last + 1).join('\n').trim();
    if (pieceText) pieces.push({ startLine: sourceLineOf(first), endLine: sourceLineOf(last), text: pieceText });
  };
  let tokens = 0;
  for (const block of blocks) {
    if (current.length > 0 && tokens + block.tokens > options.maxTokens) {
      flush();
      // Carry trailing blocks into the next piece until the overlap budget is used.
      const carried: typeof current = [];
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

/** Paragraphs (runs separated by blank lines); a paragraph over budget is cut into line runs. */
function paragraphBlocks(lines: string[], maxTokens: number): { first: number; last: number; tokens: number }[] {
  const blocks: { first: number; last: number; tokens: number }[] = [];
  let start = -1;
  let tokens = 0;
  const close = (end: number): void => {
    if (start >= 0) blocks.push({ first: start, last: end, tokens });
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
    if (start >= 0 && tokens + lineTokens > maxTokens) close(i - 1);
    if (start < 0) start = i;
    tokens += lineTokens;
  }
  close(lines.length - 1);
  return blocks;
}

import type { LineSpan, Section } from '../types.js';

interface OpenSection {
  headingPath: string[];
  /** Line of the heading, or undefined for text before the first heading. */
  headingLine: number | undefined;
  /** Text lines so far; the last one is still open. */
  lines: string[];
  /** Source lines of each text line, parallel to `lines`; undefined until text with content arrives. */
  spans: (LineSpan | undefined)[];
  firstTextLine: number;
  lastTextLine: number;
}

/**
 * Collects headings and text in source order and cuts them into sections.
 * Each format parser feeds it; line numbers are 1-based lines of the original file, and every
 * text line remembers the source lines it was read from.
 */
export class SectionBuilder {
  private readonly headingStack: { level: number; text: string }[] = [];
  private readonly sections: Section[] = [];
  private current: OpenSection = newSection([], undefined);

  /** Starts a section under `text`, closing every open heading of the same or a deeper level. */
  heading(level: number, text: string, line: number): void {
    this.flush();
    while (this.headingStack.length > 0 && this.headingStack[this.headingStack.length - 1]!.level >= level) {
      this.headingStack.pop();
    }
    this.headingStack.push({ level, text });
    this.current = newSection(this.headingStack.map((h) => h.text), line);
  }

  /**
   * Appends text read from source lines `startLine..endLine`; every text line it touches is
   * credited with that range. Lines are only recorded for text with non-whitespace content,
   * so blank separators never stretch a section's line range.
   */
  append(text: string, startLine?: number, endLine: number | undefined = startLine): void {
    const open = this.current;
    if (text === '\n') {
      // A line break alone (every line of a line-based format ends with one): no text, nothing to credit.
      open.lines.push('');
      open.spans.push(undefined);
      return;
    }
    const credit = startLine !== undefined && endLine !== undefined && /\S/.test(text);
    if (!text.includes('\n')) {
      // Most appends (an HTML text node, a line) continue the open line: no split.
      const at = open.lines.length - 1;
      open.lines[at] += text;
      if (credit) {
        open.spans[at] = widen(open.spans[at], startLine, endLine);
        this.record(startLine, endLine);
      }
      return;
    }
    text.split('\n').forEach((part, k) => {
      if (k > 0) {
        open.lines.push('');
        open.spans.push(undefined);
      }
      const at = open.lines.length - 1;
      open.lines[at] += part;
      if (credit && /\S/.test(part)) open.spans[at] = widen(open.spans[at], startLine, endLine);
    });
    if (credit) this.record(startLine, endLine);
  }

  /** Appends source text verbatim (preformatted): its k-th line is source line `firstLine + k`. */
  verbatim(text: string, firstLine: number): void {
    // The lines splitLines would make, cut out one by one: no array and no regex per text node.
    for (let k = 0, start = 0; ; k++) {
      let end = start;
      while (end < text.length && text.charCodeAt(end) !== 10 && text.charCodeAt(end) !== 13) end++;
      if (k > 0) this.append('\n');
      this.append(text.slice(start, end), firstLine + k);
      if (end === text.length) return;
      start = end + (text.charCodeAt(end) === 13 && text.charCodeAt(end + 1) === 10 ? 2 : 1);
    }
  }

  /** Appends one line of text followed by a line break. */
  line(text: string, lineNumber: number): void {
    if (text.includes('\n')) return this.append(text + '\n', lineNumber);
    // The same as appending text + '\n', without the concatenation and the split.
    this.append(text, lineNumber);
    this.append('\n');
  }

  finish(): Section[] {
    this.flush();
    return this.sections;
  }

  private record(startLine: number, endLine: number): void {
    if (this.current.firstTextLine === 0) this.current.firstTextLine = startLine;
    if (endLine > this.current.lastTextLine) this.current.lastTextLine = endLine;
  }

  private flush(): void {
    const open = this.current;
    const { text, sourceLines } = tidyLines(open.lines, open.spans);
    if (text === '' || open.firstTextLine === 0) return;
    const startLine = open.headingLine ?? open.firstTextLine;
    this.sections.push({
      headingPath: open.headingPath,
      startLine,
      endLine: Math.max(startLine, open.lastTextLine),
      text,
      sourceLines,
    });
  }
}

function newSection(headingPath: string[], headingLine: number | undefined): OpenSection {
  return { headingPath, headingLine, lines: [''], spans: [undefined], firstTextLine: 0, lastTextLine: 0 };
}

/** `span` (a line's own, changed in place: most appends credit a line already credited) widened to first..last. */
function widen(span: LineSpan | undefined, first: number, last: number): LineSpan {
  if (span === undefined) return { first, last };
  if (first < span.first) span.first = first;
  if (last > span.last) span.last = last;
  return span;
}

/**
 * Trims line ends, keeps at most one blank line in a row and drops leading/trailing blank lines;
 * each line's source span follows it. A line without a span (a blank, or text the parser could
 * not place) takes the one before it.
 */
export function tidyLines(lines: readonly string[], spans: readonly (LineSpan | undefined)[]): { text: string; sourceLines: LineSpan[] } {
  const kept: string[] = [];
  const sourceLines: LineSpan[] = [];
  let previous: LineSpan | undefined;
  let pendingBlank = false;
  lines.forEach((raw, i) => {
    const line = raw.trimEnd();
    const span = spans[i] ?? previous;
    if (span !== undefined) previous = span;
    if (line === '') {
      pendingBlank = kept.length > 0;
      return;
    }
    if (pendingBlank) {
      kept.push('');
      sourceLines.push(sourceLines[sourceLines.length - 1]!);
      pendingBlank = false;
    }
    kept.push(line);
    sourceLines.push(span ?? { first: 0, last: 0 });
  });
  // A line placed before any span was known takes the first span that follows it.
  const firstKnown = sourceLines.find((s) => s.first > 0);
  for (let i = 0; i < sourceLines.length && firstKnown && sourceLines[i]!.first === 0; i++) sourceLines[i] = firstKnown;
  return { text: kept.join('\n'), sourceLines };
}

/** Lines of `text`, the k-th read from source line `firstLine + k`, tidied. */
export function tidySourceText(text: string, firstLine: number): { text: string; sourceLines: LineSpan[] } {
  const lines = text.split('\n');
  return tidyLines(lines, lines.map((_, k) => ({ first: firstLine + k, last: firstLine + k })));
}

/** Splits on LF, CRLF or lone CR; index i holds line i + 1. */
export function splitLines(content: string): string[] {
  return content.split(/\r\n|\r|\n/);
}

/** "docs/guide/Install.md" -> "Install.md" (either separator). */
export function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

/** "docs/guide/Install.md" -> "Install". */
export function fileStem(path: string): string {
  const name = baseName(path);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

/** Width of leading whitespace, a tab counting as 4 columns. */
export function indentOf(line: string): number {
  let width = 0;
  for (const ch of line) {
    if (ch === ' ') width += 1;
    else if (ch === '\t') width += 4 - (width % 4);
    else break;
  }
  return width;
}

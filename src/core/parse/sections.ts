import type { Section } from '../types.js';

interface OpenSection {
  headingPath: string[];
  /** Line of the heading, or undefined for text before the first heading. */
  headingLine: number | undefined;
  text: string;
  firstTextLine: number;
  lastTextLine: number;
}

/**
 * Collects headings and text in source order and cuts them into sections.
 * Each format parser feeds it; line numbers are 1-based lines of the original file.
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
   * Appends raw text. Lines are only recorded for text with non-whitespace content,
   * so blank separators never stretch a section's line range.
   */
  append(text: string, startLine?: number, endLine: number | undefined = startLine): void {
    this.current.text += text;
    if (startLine === undefined || endLine === undefined || !/\S/.test(text)) return;
    if (this.current.firstTextLine === 0) this.current.firstTextLine = startLine;
    if (endLine > this.current.lastTextLine) this.current.lastTextLine = endLine;
  }

  /** Appends one line of text followed by a line break. */
  line(text: string, lineNumber: number): void {
    this.append(text + '\n', lineNumber);
  }

  finish(): Section[] {
    this.flush();
    return this.sections;
  }

  private flush(): void {
    const open = this.current;
    const text = tidyText(open.text);
    if (text === '' || open.firstTextLine === 0) return;
    const startLine = open.headingLine ?? open.firstTextLine;
    this.sections.push({
      headingPath: open.headingPath,
      startLine,
      endLine: Math.max(startLine, open.lastTextLine),
      text,
    });
  }
}

function newSection(headingPath: string[], headingLine: number | undefined): OpenSection {
  return { headingPath, headingLine, text: '', firstTextLine: 0, lastTextLine: 0 };
}

/** Trims line ends, keeps at most one blank line in a row and drops leading/trailing blank lines. */
export function tidyText(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+|\n+$/g, '');
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

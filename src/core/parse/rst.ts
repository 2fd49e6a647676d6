import type { ParsedDocument } from '../types.js';
import { SectionBuilder, fileStem, indentOf, splitLines } from './sections.js';

/** A line made of one punctuation character repeated, e.g. "=====" or "~~~~". */
const ADORNMENT = /^([!-/:-@[-`{-~])\1+[ \t]*$/;
const DIRECTIVE = /^\.\.[ \t]+(?:\|[^|]+\|[ \t]+)?([\w:.+-]+)::(?:[ \t]+(.*))?$/;
const FOOTNOTE = /^\.\.[ \t]+\[[^\]]+\][ \t]*(.*)$/;
const DIRECTIVE_OPTION = /^:[\w-][\w .-]*:(?:[ \t]|$)/;
/** Directives whose body is code: kept verbatim, argument (the language) dropped. */
const CODE_DIRECTIVES = new Set(['code', 'code-block', 'sourcecode', 'literalinclude', 'parsed-literal', 'doctest']);
/** Directives that contribute no readable text. */
const SILENT_DIRECTIVES = new Set(['toctree', 'include', 'image', 'raw', 'index', 'meta', 'contents', 'sectnum', 'highlight', 'replace', 'unicode', 'date', 'currentmodule', 'default-role', 'role', 'only', 'tabularcolumns']);
const ARGUMENTLESS_DIRECTIVES = new Set(['figure', 'csv-table', 'list-table', 'table']);

interface IndentedBlock {
  /** Lines indented deeper than this belong to the block. */
  indent: number;
  /** skip: dropped; verbatim: kept as is; body: a directive body read as ordinary text. */
  kind: 'skip' | 'verbatim' | 'body';
  /** Directive options (":linenos:") may open the block and are dropped. */
  leadingOptions: boolean;
}

/** Parses reStructuredText: adorned section titles, directives, comments and roles. */
export function parseRst(path: string, content: string): ParsedDocument {
  const lines = splitLines(content);
  const builder = new SectionBuilder();
  const levelOfStyle = new Map<string, number>();
  let title: string | undefined;
  let block: IndentedBlock | undefined;
  let previousBlank = true;

  const heading = (style: string, text: string, lineNumber: number): void => {
    let level = levelOfStyle.get(style);
    if (level === undefined) {
      level = levelOfStyle.size + 1;
      levelOfStyle.set(style, level);
    }
    const cleaned = cleanRstInline(text);
    title ??= cleaned;
    builder.heading(level, cleaned, lineNumber);
    previousBlank = true;
  };

  for (let i = 0; i < lines.length; i++) {
    const lineNumber = i + 1;
    const line = lines[i]!;
    const blank = line.trim() === '';
    const indent = indentOf(line);
    const wasBlank = previousBlank;
    previousBlank = blank;

    if (block && !blank && indent <= block.indent) block = undefined;
    if (block) {
      const isOption = !blank && DIRECTIVE_OPTION.test(line.trim());
      if (block.leadingOptions && isOption) continue;
      block.leadingOptions = false;
      if (block.kind === 'verbatim') {
        builder.line(line, lineNumber);
        continue;
      }
      if (block.kind === 'skip') continue;
      block = undefined; // the directive body is ordinary text
    }
    if (blank) {
      builder.append('\n');
      continue;
    }

    // Bounds checked, not read past the end: an out-of-bounds read deoptimizes the compiled loop
    // (at every file's last lines), and V8 compiles this long function again (~60 ms).
    const next = i + 1 < lines.length ? lines[i + 1] : undefined;
    const afterNext = i + 2 < lines.length ? lines[i + 2] : undefined;
    const overline = ADORNMENT.exec(line);
    if (overline && indent === 0 && next !== undefined && next.trim() !== '' && afterNext !== undefined) {
      const underline = ADORNMENT.exec(afterNext);
      if (underline && underline[1] === overline[1] && !ADORNMENT.test(next)) {
        heading(`over${overline[1]}`, next.trim(), lineNumber);
        i += 2;
        continue;
      }
    }
    if (overline) continue; // a transition, or adornment we cannot pair

    const underline = next === undefined ? null : ADORNMENT.exec(next);
    const titleText = line.trim();
    if (underline && indent === 0 && wasBlank && !titleText.startsWith('..') && next!.trim().length >= Math.min(titleText.length, 4)) {
      heading(`under${underline[1]}`, titleText, lineNumber);
      i += 1;
      continue;
    }
    const explicit = line.trimStart();
    if (explicit.startsWith('..') && (explicit.length === 2 || /^\.\.[ \t]/.test(explicit))) {
      const directive = DIRECTIVE.exec(explicit);
      const footnote = FOOTNOTE.exec(explicit);
      if (directive) {
        const name = directive[1]!.toLowerCase();
        const argument = directive[2]?.trim() ?? '';
        if (SILENT_DIRECTIVES.has(name)) {
          block = { indent, kind: 'skip', leadingOptions: false };
          continue;
        }
        if (argument !== '' && !CODE_DIRECTIVES.has(name) && !ARGUMENTLESS_DIRECTIVES.has(name)) {
          builder.line(cleanRstInline(argument), lineNumber);
        }
        block = { indent, kind: CODE_DIRECTIVES.has(name) ? 'verbatim' : 'body', leadingOptions: true };
      } else if (footnote) {
        builder.line(cleanRstInline(footnote[1]!), lineNumber);
      } else {
        block = { indent, kind: 'skip', leadingOptions: false }; // comment or hyperlink target
      }
      continue;
    }

    if (titleText === '::') {
      block = { indent, kind: 'verbatim', leadingOptions: false };
      continue;
    }
    const text = cleanRstInline(titleText.replace(/^[-*+•][ \t]+/, '').replace(/(\S)::$/, '$1:'));
    if (/^\+[-=+]+\+$/.test(titleText)) continue; // grid table border
    builder.line(text, lineNumber);
    if (titleText.endsWith('::')) block = { indent, kind: 'verbatim', leadingOptions: false };
  }

  return { title: title ?? fileStem(path), sections: builder.finish() };
}

/**
 * Roles and hyperlinks keep their visible text; literal, emphasis and reference markers go.
 * Each group of steps needs its marker character and no step adds one (but the literals'
 * placeholders), so a group whose character is absent is skipped: most lines of prose have none.
 */
function cleanRstInline(text: string): string {
  const literals: string[] = [];
  let out = text;
  if (out.includes('`')) {
    out = out
      .replace(/``(.+?)``/g, (_m, literal: string) => {
        literals.push(literal);
        return `\u{F8F0}${literals.length - 1}\u{F8F1}`;
      })
      .replace(/:[\w:.+-]+:`([^`]*?)\s*<[^<>`]*>`/g, '$1')
      .replace(/:[\w:.+-]+:`[~!]?([^`]*)`/g, '$1')
      .replace(/`([^`<]*?)\s*<[^<>`]*>`__?/g, '$1')
      .replace(/`([^`]+)`(?:__?|:[\w:.+-]+:)?/g, '$1');
  }
  if (out.includes('[')) out = out.replace(/\[(?:#?\w*|\*)\]_/g, '');
  if (out.includes('*')) out = out.replace(/\*\*(\S(?:.*?\S)?)\*\*/g, '$1').replace(/(^|[^\w*])\*(\S(?:.*?\S)?)\*(?!\w)/g, '$1$2');
  if (out.includes('\\')) out = out.replace(/\\(.)/g, '$1');
  if (out.includes('\u{F8F0}')) out = out.replace(/\u{F8F0}(\d+)\u{F8F1}/gu, (_m, index: string) => literals[Number(index)]!);
  return out;
}

import type { ParsedDocument } from '../types.js';
import { SectionBuilder, fileStem, indentOf, splitLines } from './sections.js';

interface Fence {
  char: '`' | '~';
  length: number;
}

interface FrontMatter {
  title: string | undefined;
  /** Index of the closing delimiter line. */
  endIndex: number;
}

const ATX_HEADING = /^ {0,3}(#{1,6})(?=[ \t]|$)(.*)$/;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/;
const FENCE_OPEN = /^[ \t]*(`{3,}|~{3,})(.*)$/;
const LIST_ITEM = /^ {0,3}(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)/;
const THEMATIC_BREAK = /^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$/;
const TABLE_DELIMITER_ROW = /^ *\|? *:?-+:? *(?:\| *:?-+:? *)*\|? *$/;
const LINK_REFERENCE_DEFINITION = /^ {0,3}\[[^\]^][^\]]*\]:\s*\S+/;
const MDX_MODULE_LINE = /^(?:import|export)\b/;
/** A JSX/HTML opening tag whose attributes continue on the next lines. */
const UNFINISHED_TAG = /^\s*<[A-Za-z][\w.:-]*(?:\s[^>]*)?$/;

/** Parses Markdown and MDX (`mdx` drops ESM lines and JSX comments). */
export function parseMarkdown(path: string, content: string, mdx: boolean): ParsedDocument {
  const lines = splitLines(content);
  const builder = new SectionBuilder();
  const frontMatter = readFrontMatter(lines);
  const title = frontMatter?.title;
  let firstH1: string | undefined;

  let fence: Fence | undefined;
  let inHtmlComment = false;
  let inIndentedCode = false;
  let inList = false;
  let inUnfinishedTag = false;
  let moduleDepth = 0;
  let previousBlank = true;

  const heading = (level: number, text: string, lineNumber: number): void => {
    if (text === '') return;
    if (level === 1 && firstH1 === undefined) firstH1 = text;
    builder.heading(level, text, lineNumber);
  };

  for (let i = frontMatter ? frontMatter.endIndex + 1 : 0; i < lines.length; i++) {
    const lineNumber = i + 1;
    let line = lines[i]!;

    if (fence) {
      if (closesFence(line, fence)) fence = undefined;
      else builder.line(line, lineNumber);
      continue;
    }
    if (inHtmlComment) {
      const end = line.indexOf('-->');
      if (end < 0) continue;
      inHtmlComment = false;
      line = line.slice(end + 3);
    }
    if (mdx && moduleDepth > 0) {
      moduleDepth += bracketBalance(line);
      continue;
    }
    if (inUnfinishedTag) {
      if (line.includes('>')) inUnfinishedTag = false;
      continue;
    }

    const blank = line.trim() === '';
    if (blank) {
      builder.append('\n');
      previousBlank = true;
      continue;
    }
    const indent = indentOf(line);
    if (indent === 0) inList = LIST_ITEM.test(line);
    const wasBlank = previousBlank;
    previousBlank = false;

    if (inIndentedCode || (indent >= 4 && wasBlank && !inList)) {
      inIndentedCode = indent >= 4;
      if (inIndentedCode) {
        builder.line(line, lineNumber);
        continue;
      }
    }

    // Fences may be indented further inside list items.
    const fenceOpen = indent < 4 || inList ? FENCE_OPEN.exec(line) : null;
    if (fenceOpen && !(fenceOpen[1]![0] === '`' && fenceOpen[2]!.includes('`'))) {
      fence = { char: fenceOpen[1]![0] as Fence['char'], length: fenceOpen[1]!.length };
      continue;
    }

    const atx = ATX_HEADING.exec(line);
    if (atx) {
      const text = atx[2]!.trim().replace(/(?:^|[ \t]+)#+$/, '');
      heading(atx[1]!.length, cleanInline(text.trim()), lineNumber);
      continue;
    }

    if (mdx && indent === 0 && MDX_MODULE_LINE.test(line)) {
      moduleDepth = Math.max(0, bracketBalance(line));
      continue;
    }

    const next = lines[i + 1];
    const underline = next === undefined ? null : SETEXT_UNDERLINE.exec(next);
    if (underline && indent < 4 && !inList && !LIST_ITEM.test(line) && !line.trimStart().startsWith('>') && !THEMATIC_BREAK.test(line)) {
      heading(underline[1]![0] === '=' ? 1 : 2, cleanInline(line.trim()), lineNumber);
      i++;
      continue;
    }

    if (THEMATIC_BREAK.test(line) || LINK_REFERENCE_DEFINITION.test(line) || (line.includes('-') && TABLE_DELIMITER_ROW.test(line))) {
      continue;
    }

    const visible = removeHtmlComments(line);
    if (visible.openComment) inHtmlComment = true;
    let text = visible.text;
    if (mdx) text = text.replace(/\{\/\*[\s\S]*?\*\/\}/g, '');
    if (UNFINISHED_TAG.test(text)) {
      inUnfinishedTag = true;
      continue;
    }
    text = cleanInline(stripBlockMarkers(text)).trim();
    if (text !== '') builder.line(text, lineNumber);
  }

  return { title: title ?? firstH1 ?? fileStem(path), sections: builder.finish() };
}

function readFrontMatter(lines: string[]): FrontMatter | undefined {
  const opener = lines[0]?.trimEnd();
  if (opener !== '---' && opener !== '+++') return undefined;
  const closers = opener === '---' ? ['---', '...'] : ['+++'];
  const titleLine = opener === '---' ? /^title:\s*(.*)$/ : /^title\s*=\s*(.*)$/;
  let title: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (closers.includes(line.trimEnd())) return { title, endIndex: i };
    const match = titleLine.exec(line);
    if (match && title === undefined) title = unquote(match[1]!.trim()) || undefined;
  }
  return undefined;
}

function unquote(value: string): string {
  const quoted = /^(["'])(.*)\1$/.exec(value);
  return quoted ? quoted[2]! : value.replace(/\s+#.*$/, '');
}

function closesFence(line: string, fence: Fence): boolean {
  const match = /^[ \t]*(`+|~+)[ \t]*$/.exec(line);
  return match !== null && match[1]![0] === fence.char && match[1]!.length >= fence.length;
}

/** Net count of opening minus closing brackets, to follow multi-line MDX imports/exports. */
function bracketBalance(line: string): number {
  let depth = 0;
  for (const ch of line) {
    if (ch === '{' || ch === '(' || ch === '[') depth++;
    else if (ch === '}' || ch === ')' || ch === ']') depth--;
  }
  return depth;
}

/** One scan with indexOf: a regex per comment rescans the rest of the line for each unclosed `<!--`. */
function removeHtmlComments(line: string): { text: string; openComment: boolean } {
  let text = '';
  let from = 0;
  for (;;) {
    const open = line.indexOf('<!--', from);
    if (open < 0) return { text: text + line.slice(from), openComment: false };
    text += line.slice(from, open);
    const close = line.indexOf('-->', open + 4);
    if (close < 0) return { text, openComment: true };
    from = close + 3;
  }
}

/** Drops blockquote markers, bullets and task boxes at the start of a line. */
function stripBlockMarkers(line: string): string {
  return line.replace(/^(\s*>)+\s?/, '').replace(/^(\s*)[-+*][ \t]+(?:\[[ xX]\][ \t]+)?/, '$1');
}

const PROTECTED_START = 0xe000;

/**
 * Light Markdown inline cleanup: links/images keep their text, emphasis markers and
 * inline HTML/JSX tags go, code span content stays verbatim.
 */
export function cleanInline(text: string): string {
  // Each rewrite runs only when its marker occurs: most prose lines need few or none.
  const codeSpans: string[] = [];
  let out = text;
  if (out.includes('`')) {
    out = out.replace(/(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g, (_m, _ticks: string, code: string) => {
      codeSpans.push(code);
      return `\u{F8F0}${codeSpans.length - 1}\u{F8F1}`;
    });
  }
  const escaped = out.includes('\\');
  if (escaped) out = out.replace(/\\([!-/:-@[-`{-~])/g, (_m, ch: string) => String.fromCharCode(PROTECTED_START + ch.charCodeAt(0)));
  if (out.includes('](') || out.includes('][')) {
    out = out
      .replace(/!\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)/g, '$1')
      .replace(/!\[([^\]]*)\]\[[^\]]*\]/g, '$1')
      .replace(/\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)/g, '$1')
      .replace(/\[([^\]]+)\]\[[^\]]*\]/g, '$1');
  }
  if (out.includes('<')) {
    out = out.replace(/<((?:https?|ftp|mailto):[^>\s]+)>/g, '$1').replace(/<\/?[A-Za-z][\w.:-]*(?:\s[^<>]*?)?\s*\/?>/g, '');
  }
  if (out.includes('~~')) out = out.replace(/~~(?=\S)([^~]*?\S)~~/g, '$1');
  if (out.includes('*') || out.includes('_')) {
    out = out
      .replace(/(\*\*|__)(?=\S)(.*?\S)\1/g, '$2')
      .replace(/(^|[^\w*])\*(?=[^\s*])(.*?[^\s*])\*(?![\w*])/g, '$1$2')
      .replace(/(^|[^\w])_(?=[^\s_])(.*?[^\s_])_(?!\w)/g, '$1$2');
  }
  if (escaped) out = out.replace(/[\ue000-\ue07f]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - PROTECTED_START));
  return codeSpans.length === 0 ? out : out.replace(/\u{F8F0}(\d+)\u{F8F1}/gu, (_m, index: string) => codeSpans[Number(index)]!);
}

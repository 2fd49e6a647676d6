import type { ParsedDocument, Section } from '../types.js';
import { baseName, indentOf, splitLines, tidySourceText } from './sections.js';

type CommentSyntax = 'slash' | 'go' | 'python' | 'hash';

const SYNTAX_OF_EXTENSION: Record<string, CommentSyntax> = {
  ts: 'slash', tsx: 'slash', js: 'slash', jsx: 'slash', mjs: 'slash', cjs: 'slash', rs: 'slash', java: 'slash',
  kt: 'slash', cs: 'slash', c: 'slash', h: 'slash', cpp: 'slash', hpp: 'slash', swift: 'slash', php: 'slash',
  scala: 'slash', go: 'go', py: 'python', rb: 'hash', sh: 'hash',
};

const LICENSE = /copyright|licen[cs]e|spdx/i;
const MODIFIERS =
  /^(?:(?:export|default|declare|public|private|protected|internal|static|readonly|abstract|async|override|final|virtual|sealed|open|data|inner|partial|suspend|inline|extern|unsafe|const|constexpr|let|var|val|mut|lazy|implicit|case|synchronized|native|transient|volatile|pub(?:\([^)]*\))?|get|set|lateinit|fileprivate|mutating|required|convenience|dynamic)\s+)*/;
const GO_METHOD = /^func\s*\(\s*(?:\w+\s+)?\*?\s*([A-Za-z_]\w*)(?:\[[^\]]*\])?\s*\)\s*([A-Za-z_]\w*)/;
const RUST_IMPL = /^impl(?:<[^>]*>)?\s+(?:[\w:<>, ]+?\s+for\s+)?([A-Za-z_]\w*)/;
const KEYWORD_DECLARATION =
  /^(?:class|interface|struct|trait|enum|union|object|record|protocol|extension|type|typealias|namespace|module|package|function\*?|func|fn|def|fun|macro_rules!)\s+(?:<[^>]*>\s*)?([A-Za-z_$][\w$?!]*(?:\.[A-Za-z_$][\w$?!]*)*)/;
const CONTAINER = /^(?:class|interface|struct|trait|enum|object|record|protocol|extension)\s+([A-Za-z_$][\w$]*)/;
const C_DEFINE = /^#\s*define\s+(\w+)/;
const MEMBER = /^([A-Za-z_$#][\w$]*)\s*(?:<[^>]*>)?\s*[(:=?!;,]/;
const NAME_BEFORE_PARENTHESIS = /([A-Za-z_$~][\w$]*(?:::~?[A-Za-z_]\w*)*)\s*(?:<[^<>]*>)?\s*\(/;
const TRAILING_NAME = /([A-Za-z_$][\w$]*)\s*(?:\[[^\]]*\])?$/;
/** Statements that follow a file-level comment rather than a documented declaration. */
const MODULE_STATEMENT = /^(?:import\b|export\s*(?:\*|\{)|#\s*include\b|using\s|use\s|require\b|extern\s+crate\b|mod\s+\w+;|package\s+[\w.]+;|['"]use strict['"])/;
const GO_DECLARATION = /^(?:func|type|package|var|const)\b/;
const SHELL_FUNCTION = /^(?:function\s+([\w.:-]+)|([\w.:-]+)\s*\(\s*\))/;
const RUBY_DECLARATION = /^(?:def|class|module)\s/;
const DOCSTRING_OPENING = /^[rRuUbBfF]{0,2}("""|''')/;
const PYTHON_DEFINITION = /^(?:async\s+)?(?:def|class)\s+[A-Za-z_]/;

interface Container {
  name: string;
  indent: number;
}

/** Collects doc comments as sections named [fileName, declaration]. */
class DocCommentCollector {
  readonly sections: Section[] = [];
  private readonly containers: Container[] = [];
  private sawCode = false;

  constructor(private readonly fileName: string) {}

  /** Records a code line: tracks the classes/structs/impls that enclose later declarations. */
  code(line: string): void {
    this.sawCode = true;
    if (line.trim() === '{') return; // Allman-style brace: still inside the declaration above
    const indent = indentOf(line);
    while (this.containers.length > 0 && this.containers[this.containers.length - 1]!.indent >= indent) this.containers.pop();
    const name = containerOf(line.trim());
    if (name !== undefined) this.containers.push({ name, indent });
  }

  /**
   * `text` holds one line per source line `startIndex..endIndex`; `declaration` is the line after
   * the comment; undefined or an import-like line means module-level docs.
   */
  comment(startIndex: number, endIndex: number, text: string, declaration: string | undefined): void {
    const beforeCode = !this.sawCode;
    const { text: cleaned, sourceLines } = tidySourceText(text, startIndex + 1);
    if (cleaned === '' || (beforeCode && LICENSE.test(cleaned))) return;
    const documentsModule = declaration === undefined || MODULE_STATEMENT.test(declaration.trim());
    const name = documentsModule ? '' : this.qualifiedName(declaration);
    this.sections.push({
      headingPath: name === '' ? [this.fileName] : [this.fileName, name],
      startLine: startIndex + 1,
      endLine: endIndex + 1,
      text: cleaned,
      sourceLines,
    });
  }

  private qualifiedName(declaration: string): string {
    const name = declarationName(declaration.trim());
    if (name === '' || name.includes('.')) return name;
    const indent = indentOf(declaration);
    const enclosing = this.containers.filter((c) => c.indent < indent).at(-1);
    return enclosing ? `${enclosing.name}.${name}` : name;
  }
}

/** Extracts documentation comments from source code; each becomes one section. */
export function parseCode(path: string, content: string, extension: string): ParsedDocument {
  const fileName = baseName(path);
  const lines = splitLines(content);
  const collector = new DocCommentCollector(fileName);
  const syntax = SYNTAX_OF_EXTENSION[extension] ?? 'slash';
  if (syntax === 'python') collectPython(lines, collector);
  else if (syntax === 'hash') collectHash(lines, collector, extension === 'sh');
  else collectSlash(lines, collector, syntax === 'go');
  return { title: fileName, sections: collector.sections };
}

function collectSlash(lines: string[], collector: DocCommentCollector, go: boolean): void {
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i]!.trim();
    if (trimmed === '') continue;
    if (trimmed.startsWith('/*')) {
      const end = blockCommentEnd(lines, i);
      const isDoc = go || (trimmed.startsWith('/**') && !trimmed.startsWith('/**/')) || trimmed.startsWith('/*!');
      if (isDoc) collector.comment(i, end, cleanBlockComment(lines.slice(i, end + 1)), declarationAfter(lines, end + 1, !go));
      i = end;
      continue;
    }
    if (trimmed.startsWith('//')) {
      const marker = trimmed.startsWith('//!') ? '//!' : trimmed.startsWith('///') && !trimmed.startsWith('////') ? '///' : '//';
      let end = i;
      while (end + 1 < lines.length && commentMarkerOf(lines[end + 1]!.trim()) === marker) end++;
      const run = lines.slice(i, end + 1);
      if (marker === '//!') {
        collector.comment(i, end, stripLinePrefix(run, '//!'), undefined);
      } else if (marker === '///') {
        collector.comment(i, end, stripLinePrefix(run, '///'), declarationAfter(lines, end + 1, true));
      } else if (go && GO_DECLARATION.test(lines[end + 1]?.trim() ?? '')) {
        // Directive lines become blank rather than vanish, so text lines stay one per source line.
        const prose = run.map((l) => (/^\s*\/\/(?:go:|nolint|lint:)/.test(l) ? '//' : l));
        collector.comment(i, end, stripLinePrefix(prose, '//'), lines[end + 1]);
      }
      i = end;
      continue;
    }
    collector.code(lines[i]!);
  }
}

function commentMarkerOf(trimmed: string): string | undefined {
  if (trimmed.startsWith('//!')) return '//!';
  if (trimmed.startsWith('///') && !trimmed.startsWith('////')) return '///';
  return trimmed.startsWith('//') ? '//' : undefined;
}

function blockCommentEnd(lines: string[], start: number): number {
  const first = lines[start]!;
  if (first.indexOf('*/', first.indexOf('/*') + 2) >= 0) return start;
  for (let i = start + 1; i < lines.length; i++) if (lines[i]!.includes('*/')) return i;
  return lines.length - 1;
}

/** Strips the opener, closer and leading `*` of a block comment, keeping tags such as @param. */
function cleanBlockComment(commentLines: string[]): string {
  const last = commentLines.length - 1;
  const body = commentLines.map((line, k) => {
    let text = line;
    if (k === last) text = text.replace(/\s*\*+\/.*$/, '');
    if (k === 0) text = text.replace(/^\s*\/\*[*!]*/, '');
    else text = text.replace(/^\s*\*(?!\/)/, '');
    return text;
  });
  return dedent(body)
    .replace(/\{@(?:link|linkplain|code|literal|value)\s+([^}]*)\}/g, '$1')
    .replace(/<\/?(?:p|br|ul|ol|li|code|pre|b|i|em|strong|a|tt|blockquote|dl|dt|dd)(?:\s[^>]*)?\/?>/gi, '');
}

function stripLinePrefix(commentLines: string[], prefix: string): string {
  return dedent(commentLines.map((line) => line.trimStart().slice(prefix.length)));
}

/** Removes the indentation shared by all non-blank lines. */
function dedent(lines: string[]): string {
  const indents = lines.filter((l) => l.trim() !== '').map(indentOf);
  const common = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((l) => (indentOf(l) >= common ? l.replace(/^[ \t]+/, (ws) => ' '.repeat(Math.max(0, indentOf(ws) - common))) : l)).join('\n');
}

/**
 * The line declared right after a comment, skipping decorators/attributes
 * (and blank lines when `allowGap`); undefined when another comment or the end comes first.
 */
function declarationAfter(lines: string[], index: number, allowGap: boolean): string | undefined {
  for (let i = index; i < lines.length; i++) {
    const trimmed = lines[i]!.trim();
    if (trimmed === '') {
      if (!allowGap) return undefined;
      continue;
    }
    if (trimmed.startsWith('@') || trimmed.startsWith('#[') || /^\[.*\]$/.test(trimmed)) {
      let depth = parenthesisBalance(trimmed);
      while (depth > 0 && i + 1 < lines.length) depth += parenthesisBalance(lines[++i]!);
      continue;
    }
    if (trimmed.startsWith('//') || trimmed.startsWith('/*')) return undefined;
    return lines[i]!;
  }
  return undefined;
}

function parenthesisBalance(line: string): number {
  let depth = 0;
  for (const ch of line) {
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
  }
  return depth;
}

/** Best-effort identifier of a declaration line, e.g. "sendBatch", "Client.Send", "LumenClient". */
function declarationName(line: string): string {
  const define = C_DEFINE.exec(line);
  if (define) return define[1]!;
  const rest = line.replace(MODIFIERS, '');
  const goMethod = GO_METHOD.exec(rest);
  if (goMethod) return `${goMethod[1]}.${goMethod[2]}`;
  const impl = RUST_IMPL.exec(rest);
  if (impl) return impl[1]!;
  const keyword = KEYWORD_DECLARATION.exec(rest);
  if (keyword) return keyword[1]!.replace(/^self\./, '');
  const shell = SHELL_FUNCTION.exec(rest);
  if (shell) return (shell[1] ?? shell[2])!;
  const member = MEMBER.exec(rest);
  if (member) return member[1]!;
  const called = NAME_BEFORE_PARENTHESIS.exec(rest);
  if (called) return called[1]!;
  return TRAILING_NAME.exec(rest.split(/[{;=]/)[0]!.trim())?.[1] ?? '';
}

function containerOf(trimmedLine: string): string | undefined {
  const rest = trimmedLine.replace(MODIFIERS, '');
  return CONTAINER.exec(rest)?.[1] ?? RUST_IMPL.exec(rest)?.[1];
}

function collectPython(lines: string[], collector: DocCommentCollector): void {
  let openString: string | undefined;
  let sawStatement = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const trimmed = line.trim();
    if (openString !== undefined) {
      const closing = trimmed.indexOf(openString);
      if (closing >= 0) openString = unclosedTripleQuote(trimmed.slice(closing + 3));
      continue;
    }
    if (trimmed === '' || trimmed.startsWith('#')) continue;

    if (!sawStatement && DOCSTRING_OPENING.test(trimmed)) {
      sawStatement = true;
      const end = docstringEnd(lines, i);
      collector.comment(i, end, docstringText(lines.slice(i, end + 1)), undefined);
      i = end;
      continue;
    }
    sawStatement = true;
    collector.code(line);

    if (PYTHON_DEFINITION.test(trimmed)) {
      const signatureEnd = pythonSignatureEnd(lines, i);
      let body = signatureEnd + 1;
      while (body < lines.length && lines[body]!.trim() === '') body++;
      if (body < lines.length && DOCSTRING_OPENING.test(lines[body]!.trim())) {
        const end = docstringEnd(lines, body);
        collector.comment(body, end, docstringText(lines.slice(body, end + 1)), line);
        i = end;
      } else {
        i = signatureEnd;
      }
      continue;
    }
    openString = unclosedTripleQuote(trimmed);
  }
}

/** Index of the line holding the `:` that ends a def/class header (which may span lines). */
function pythonSignatureEnd(lines: string[], start: number): number {
  let depth = 0;
  for (let i = start; i < lines.length; i++) {
    for (const ch of lines[i]!.replace(/#.*$/, '')) {
      if (ch === '(' || ch === '[' || ch === '{') depth++;
      else if (ch === ')' || ch === ']' || ch === '}') depth--;
    }
    if (depth <= 0) return i;
  }
  return lines.length - 1;
}

function docstringEnd(lines: string[], start: number): number {
  const first = lines[start]!.trim();
  const quote = DOCSTRING_OPENING.exec(first)![1]!;
  if (first.indexOf(quote, first.indexOf(quote) + 3) >= 0) return start;
  for (let i = start + 1; i < lines.length; i++) if (lines[i]!.includes(quote)) return i;
  return lines.length - 1;
}

/** Docstring body with quotes removed and the continuation lines dedented (PEP 257). */
function docstringText(docLines: string[]): string {
  const quote = DOCSTRING_OPENING.exec(docLines[0]!.trim())![1]!;
  const closing = (text: string): string => {
    const at = text.indexOf(quote);
    return at >= 0 ? text.slice(0, at) : text;
  };
  const first = docLines[0]!.trim().replace(DOCSTRING_OPENING, '');
  if (docLines.length === 1) return closing(first).trim();
  const rest = docLines.slice(1);
  rest[rest.length - 1] = closing(rest[rest.length - 1]!);
  return `${first.trim()}\n${dedent(rest)}`;
}

function unclosedTripleQuote(line: string): string | undefined {
  for (const quote of ['"""', "'''"]) {
    if (line.split(quote).length % 2 === 0) return quote;
  }
  return undefined;
}

function collectHash(lines: string[], collector: DocCommentCollector, shell: boolean): void {
  const declares = (line: string | undefined): boolean => {
    const trimmed = line?.trim() ?? '';
    return shell ? SHELL_FUNCTION.test(trimmed) : RUBY_DECLARATION.test(trimmed);
  };
  const isComment = (trimmed: string): boolean => trimmed.startsWith('#') && !trimmed.startsWith('#!');
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i]!.trim();
    if (trimmed === '') continue;
    if (isComment(trimmed)) {
      let end = i;
      while (end + 1 < lines.length && isComment(lines[end + 1]!.trim())) end++;
      const next = lines[end + 1];
      if (declares(next)) collector.comment(i, end, stripLinePrefix(lines.slice(i, end + 1), '#'), next);
      i = end;
      continue;
    }
    collector.code(lines[i]!);
  }
}

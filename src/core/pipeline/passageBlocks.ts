/**
 * A passage's plain text (markup removed, code kept as plain lines) read back into the blocks a
 * reader expects: paragraphs of whole sentences, code, tables. Passages store no code flags, so
 * code is recognised by its look (measured against fences and <pre> on the eval sets: BENCHMARKS.md).
 */
import { formatOf } from '../parse/formats.js';

export interface Paragraph {
  kind: 'prose';
  /** Logical lines (a wrapped source paragraph is one line); each is a list of sentences. */
  lines: string[][];
}

export interface Verbatim {
  kind: 'code' | 'table';
  lines: string[];
}

export type Block = Paragraph | Verbatim;

const INDENTED = /^(?: {2,}|\t)\S/;
const TABLE_ROW = /^\|.*\|$/;
/** Comment markers, shell/REPL prompts, preprocessor lines, tags, tree drawings: code whatever follows. */
const CODE_START = /^(?:\/\/|\/\*|\*\/|#include\s*[<"][^>"]*[>"]$|#define\b|#if|#endif|#!|#\[|# |#$|\$ |PS> |>>> |\.\.\. |-- |<\/?[A-Za-z][\w.-]*(?:\s[^>]*)?\/?>$|<!--)|[│├└┌┐┘┬┴┼]/;
/** A one-space indent (trimmed prose has none), trailing comments, an unclosed argument list, lone brackets, template includes, a string literal alone ("{{#include …}}"), rulers of program output ("-----+----"), columns aligned with runs of spaces. */
const CODE_SHAPE = /^ \S|\S\s+\/\/ |\w\([^)]*,$|^[{}()[\];,\s]+$|^\{\{.*\}\}$|^(["'])[^"']*\1[),;]*$| {3,}\S.* {3,}\S/;
/** Lines that start like a statement or declaration in a common language (case matters: "Use the …" is prose). */
const CODE_KEYWORD =
  /^(?:import|export|def|class|fn|let|const|var|use|pub|struct|impl|enum|mod|trait|return|package|func|async|await|extern|static|unsafe|match|loop|while|for|if|elif|else|try|catch|except|finally|raise|throw|yield|lambda|assert|int|void|char|bool|unsigned|using|namespace|template|typedef|switch|case|new|print|println!|console|module|exports|require|process|SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|GRANT|REVOKE|BEGIN|COMMIT|ROLLBACK|WITH|VALUES|FROM|WHERE|ORDER|GROUP|SET|SHOW|EXPLAIN|COPY|DECLARE|\\[a-z]+)(?=$|[\s(.:;{<!])/;
/** A keyword line is code when it has code punctuation, not only words ("for it to be borrowed from" is wrapped prose). */
const CODE_CHAR = /[=(){}[\];<>"'*&|]|\w[.:]\w/;
/** Punctuation English prose does not have: statement ends, an opened block, operators, assignments, imports. */
const CODE_MARK = /;\s*$|\{\s*$|^[^{]*\}\s*$|\(\s*$|=>|::|->|==|!=|&&|\|\||\+=|^[\w.[\]]+\s*[-+*/]?=\s*\S|^import [\w.]+(?: as \w+)?$|^from [\w.]+ import /;
const PLAIN_WORD = /^[a-z][a-z'’-]*[,.;:!?]?$/;

/** Whether a line reads as English: enough plain lowercase words and no statement end. */
function proseLike(line: string): boolean {
  const words = line.trim().split(/\s+/);
  if (words.length < 4 || /\{\s*$/.test(line)) return false;
  // "let x = 5;" has plain words too: a statement end asks for a real sentence.
  const statementEnd = /;\s*$/.test(line);
  if (statementEnd && words.length < 6) return false;
  return words.filter((word) => PLAIN_WORD.test(word)).length >= words.length * (statementEnd ? 0.7 : 0.5);
}

const RULER = /^[-+=|\s]{3,}$/;

/** Prose for certain between code lines: a sentence, or a line too long to be a command ("jbang info classpath x.java" is one). */
function sentence(line: string): boolean {
  return proseLike(line) && (/[.:!?]$/.test(line.trim()) || line.trim().split(/\s+/).length >= 6);
}

function codeLike(line: string): boolean {
  const trimmed = line.trim();
  if (TABLE_ROW.test(trimmed) || RULER.test(trimmed)) return false;
  if (INDENTED.test(line) || CODE_START.test(trimmed) || CODE_SHAPE.test(line)) return true;
  // A line ending a sentence ("… with Option::take.") is wrapped prose, whatever it mentions.
  if (/[\w)'"’`]\.$/.test(trimmed)) return false;
  const keyword = CODE_KEYWORD.test(trimmed) && CODE_CHAR.test(trimmed.replace(/[.,:]$/, ''));
  return (keyword || CODE_MARK.test(trimmed)) && !proseLike(trimmed);
}

/**
 * Which lines are code: each line by its look, then a line that is not a sentence between code
 * lines or right under one (the command after "# Use verbose mode"), and the line that opens an
 * indented run ("for line in f:"), join the code around them.
 */
export function codeLines(lines: readonly string[]): boolean[] {
  const code = lines.map((line) => line.trim() !== '' && codeLike(line));
  const nonBlank = (from: number, step: number): number => {
    let i = from;
    while (i >= 0 && i < lines.length && lines[i]!.trim() === '') i += step;
    return i >= 0 && i < lines.length ? i : -1;
  };
  lines.forEach((line, i) => {
    const trimmed = line.trim();
    if (code[i] || trimmed === '' || /^[A-Z][a-z]/.test(trimmed) || TABLE_ROW.test(trimmed)) return;
    const before = nonBlank(i - 1, -1);
    const after = nonBlank(i + 1, 1);
    if (after === i + 1 && INDENTED.test(lines[after]!) && /[:{(]$/.test(trimmed) && (CODE_KEYWORD.test(trimmed) || /[()=[\]]/.test(trimmed))) code[i] = true;
    else if (!sentence(line) && before >= 0 && code[before] && (after - before <= 3 && after >= 0 ? code[after] : before === i - 1 && !RULER.test(trimmed))) code[i] = true;
    // A ruler ("-----+----", "=====") belongs to the program output it touches; alone it underlines a title.
    else if (RULER.test(trimmed) && (code[i - 1] || code[i + 1])) code[i] = true;
  });
  return code;
}

/** Sources whose text keeps the author's hard wraps (a paragraph spans lines); HTML's lines are logical blocks. */
export function keepsSourceWraps(path: string): boolean {
  const format = formatOf(path);
  return format !== 'html' && format !== 'code';
}

/** A source-wrapped line continues the one before unless that one is short (a list item, a line break on purpose). */
const WRAPPED_LINE = 45;
const FENCE_RESIDUE = /^\s*(?:`{3,}|~{3,})[\w,+.-]*\s*$/;
/** A numbered or bulleted item starts a line of its own even after a long one. */
const LIST_ITEM = /^(?:\d{1,3}[.)]|[-*•+]|[a-z][.)])\s/;

/** Splits `text` into paragraphs, code and tables; wrapped paragraphs are joined into whole lines when `reflow`. */
export function passageBlocks(text: string, reflow: boolean): Block[] {
  // A fence the parser left in the text (Markdown fences inside a blockquote) is markup, not content.
  const lines = text.split('\n').map((line) => (FENCE_RESIDUE.test(line) ? '' : line));
  const code = codeLines(lines);
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '') {
      i++;
    } else if (code[i]) {
      const run: string[] = [];
      while (i < lines.length && (code[i] || (lines[i]!.trim() === '' && code[i + 1]))) run.push(lines[i++]!);
      blocks.push({ kind: 'code', lines: run });
    } else if (TABLE_ROW.test(line.trim())) {
      const run: string[] = [];
      while (i < lines.length && TABLE_ROW.test(lines[i]!.trim())) run.push(lines[i++]!.trim());
      if (!/^\|[\s:|-]+\|$/.test(run[1] ?? '')) run.splice(1, 0, `|${' --- |'.repeat(run[0]!.split('|').length - 2)}`);
      blocks.push({ kind: 'table', lines: run });
    } else {
      const logical: string[] = [];
      while (i < lines.length && lines[i]!.trim() !== '' && !code[i] && !TABLE_ROW.test(lines[i]!.trim())) {
        const current = lines[i++]!.trim();
        const previous = logical[logical.length - 1];
        if (reflow && previous !== undefined && lines[i - 2]!.trim().length >= WRAPPED_LINE && !LIST_ITEM.test(current)) logical[logical.length - 1] = `${previous} ${current}`;
        else logical.push(current);
      }
      blocks.push({ kind: 'prose', lines: logical.map(splitSentences) });
    }
  }
  return blocks;
}

function splitSentences(line: string): string[] {
  return line.split(/(?<=[.!?])\s+(?=[A-Z0-9`"'(\[])/u);
}

/**
 * Markdown that shows `text` literally: passage text is plain, so nothing in it may turn into
 * code, emphasis, a link or an autolink. Only what markdown-it would read is escaped, so the
 * CLI's plain output stays readable ("[Chapter 7][modules]" without definitions is literal anyway).
 */
export function literalInline(text: string): string {
  return text
    .replace(/\\(?=[!-/:-@[-`{-~])/g, '\\\\')
    .replace(/[`*]|~~|\[(?=[^\]]*\]\()|<(?=[A-Za-z][\w+.-]*:|[^\s>]+@)/g, (match) => `\\${match.split('').join('\\')}`)
    .replace(/(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, '\\_')
    .replace(/&(?=#?\w+;)/g, '\\&');
}

/** Escapes what would open a block (heading, list, quote, rule) at the start of a line. */
export function literalLineStart(line: string): string {
  return line.replace(/^(\s*)([#+=-])/, '$1\\$2').replace(/^(\s*\d+)([.)])/, '$1\\$2');
}

/** A code fence longer than any backtick run inside the code. */
export function fenced(lines: readonly string[]): string {
  const longest = Math.max(2, ...lines.map((line) => Math.max(0, ...[...line.matchAll(/`+/g)].map((m) => m[0].length))));
  const fence = '`'.repeat(longest + 1);
  return [fence, ...lines, fence].join('\n');
}

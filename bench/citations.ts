/**
 * The citation property: every passage the chunker makes opens on lines that really hold it —
 * its first words lie on startLine..endLine and its last words end within them. Checked on
 * passages exactly as the indexer makes them (parseDocument + chunkDocument), for any folder;
 * bench:retrieval reports it for the evaluation corpora and test/bench/citations.test.ts asserts it.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parseDocument as parseHtmlDom, DomUtils } from 'htmlparser2';
import { chunkDocument, DEFAULT_CHUNKING } from '../src/core/chunker.js';
import { discoverFiles, readTextFile } from '../src/core/discovery.js';
import { formatOf } from '../src/core/parse/formats.js';
import { parseDocument } from '../src/core/parse/parseDocument.js';
import { splitLines } from '../src/core/parse/sections.js';

/** How many words at each end of a passage must be found in its cited lines. */
const EDGE_WORDS = 4;

export interface CitationFailure {
  path: string;
  startLine: number;
  endLine: number;
  /** Which end of the passage was not found in its lines. */
  end: 'first words' | 'last words' | 'range';
  words: string[];
}

export interface CitationReport {
  files: number;
  passages: number;
  /** Characters in the longest passage: line-less files must still make bounded passages. */
  longestPassage: number;
  failures: CitationFailure[];
}

function wordsOf(text: string): string[] {
  return text.match(/[\p{L}\p{N}_]+/gu) ?? [];
}

/** True when `words` occur in `haystack` in this order (markup may sit between them). */
function inOrder(haystack: string, words: string[]): boolean {
  let at = 0;
  for (const word of words) {
    const found = haystack.indexOf(word, at);
    if (found < 0) return false;
    at = found + word.length;
  }
  return true;
}

/**
 * What a reader sees on source lines first..last, in the forms a passage's words may be found:
 * HTML without its tags and entities; other formats as written, and without inline tags,
 * code-span backticks, link brackets and escaping backslashes, which may sit inside a word
 * ("`Buffer`s", "ESM\_RESOLVE", "2<sup>64</sup>", "[`TLSSocket`][]s").
 */
function visibleForms(path: string, lines: string[], first: number, last: number): string[] {
  const slice = lines.slice(first - 1, last).join('\n');
  if (formatOf(path) === 'html') return [DomUtils.textContent(parseHtmlDom(slice, { decodeEntities: true }))];
  return [slice, slice.replace(/<\/?[A-Za-z][^<>]*>/g, '').replace(/[`\\[\]]/g, '')];
}

/** Checks every passage of one file. */
export function checkFileCitations(path: string, content: string): CitationReport {
  const text = content.startsWith('\uFEFF') ? content.slice(1) : content;
  const lines = splitLines(text);
  const failures: CitationFailure[] = [];
  const chunks = chunkDocument(parseDocument(path, content), DEFAULT_CHUNKING);
  for (const chunk of chunks) {
    const { startLine, endLine } = chunk;
    if (!(startLine >= 1 && startLine <= endLine && endLine <= lines.length)) {
      failures.push({ path, startLine, endLine, end: 'range', words: [] });
      continue;
    }
    const words = wordsOf(chunk.text);
    const forms = visibleForms(path, lines, startLine, endLine);
    const found = (edge: string[]): boolean => forms.some((form) => inOrder(form, edge));
    const first = words.slice(0, EDGE_WORDS);
    const last = words.slice(-EDGE_WORDS);
    if (!found(first)) failures.push({ path, startLine, endLine, end: 'first words', words: first });
    else if (!found(last)) failures.push({ path, startLine, endLine, end: 'last words', words: last });
  }
  const longestPassage = chunks.reduce((longest, chunk) => Math.max(longest, chunk.text.length), 0);
  return { files: 1, passages: chunks.length, longestPassage, failures };
}

/** Checks every file the indexer would read under `root`. */
export async function checkFolderCitations(root: string): Promise<CitationReport> {
  const { files } = await discoverFiles(root);
  const report: CitationReport = { files: 0, passages: 0, longestPassage: 0, failures: [] };
  for (const file of files) {
    const read = await readTextFile(file);
    if ('skip' in read) continue;
    const one = checkFileCitations(file.path, read.text);
    report.files++;
    report.passages += one.passages;
    report.longestPassage = Math.max(report.longestPassage, one.longestPassage);
    report.failures.push(...one.failures);
  }
  return report;
}

/** The five evaluation corpora, fetched into .cache/<name>-docs by ../shared/eval's get scripts. */
export const EVAL_CORPORA = ['postgres', 'nodejs', 'python', 'rustbook', 'small'] as const;

export interface CorpusCitations {
  corpus: string;
  files: number;
  passages: number;
  exact: number;
  longestPassage: number;
  /** The first few failures, to read. */
  examples: CitationFailure[];
}

/** The citation property on every corpus found in `cacheDir`; fetches a missing one when `fetch` is given. */
export async function corpusCitations(cacheDir: string, fetch?: (corpus: string, dest: string) => void): Promise<CorpusCitations[]> {
  const results: CorpusCitations[] = [];
  for (const corpus of EVAL_CORPORA) {
    const folder = path.join(cacheDir, `${corpus}-docs`);
    if (!existsSync(path.join(folder, '.done'))) fetch?.(corpus, folder);
    if (!existsSync(folder)) continue;
    const report = await checkFolderCitations(folder);
    results.push({
      corpus,
      files: report.files,
      passages: report.passages,
      exact: report.passages === 0 ? 1 : 1 - report.failures.length / report.passages,
      longestPassage: report.longestPassage,
      examples: report.failures.slice(0, 5),
    });
  }
  return results;
}

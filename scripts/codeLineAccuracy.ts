/**
 * How well passage rendering tells code lines from prose (passageBlocks.codeLines), measured on
 * eval doc sets where the source says which lines are code: inside a Markdown fence or an HTML <pre>.
 * Usage: node --import tsx scripts/codeLineAccuracy.ts .cache/rustbook-docs .cache/nodejs-docs …
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { formatOf } from '../src/core/parse/formats.js';
import { parseDocument } from '../src/core/parse/parseDocument.js';
import { codeLines } from '../src/core/pipeline/passageBlocks.js';

/** 1-based source lines inside fences (Markdown) or <pre> elements (HTML). */
function sourceCodeLines(file: string, content: string): Set<number> {
  const inside = new Set<number>();
  if (formatOf(file) === 'markdown') {
    let fence: string | undefined;
    content.split('\n').forEach((line, i) => {
      const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence !== undefined) {
        if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = undefined;
        else inside.add(i + 1);
      } else if (marker) fence = marker;
    });
  } else {
    const starts = [0, ...[...content.matchAll(/\n/g)].map((m) => m.index + 1)];
    const lineAt = (offset: number): number => {
      let low = 0;
      for (let high = starts.length - 1; low < high; ) {
        const mid = (low + high + 1) >> 1;
        if (starts[mid]! <= offset) low = mid;
        else high = mid - 1;
      }
      return low + 1;
    };
    for (const match of content.matchAll(/<pre\b[^>]*>([\s\S]*?)<\/pre>/gi)) {
      const start = match.index + match[0].indexOf('>') + 1;
      for (let line = lineAt(start); line <= lineAt(match.index + match[0].length); line++) inside.add(line);
    }
  }
  return inside;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && ['markdown', 'html'].includes(formatOf(e.name) ?? '')).map((e) => path.join(e.parentPath, e.name));
}

export interface CodeLineAccuracy {
  /** Non-blank passage text lines, and how many of them the source marks as code. */
  lines: number;
  code: number;
  precision: number;
  recall: number;
  /** Misclassified lines: "FP text" (called code) or "FN text" (missed). */
  misses: string[];
}

/** Code-line precision and recall over the Markdown and HTML files under `dir`, on the text the parsers index. */
export async function measureCodeLines(dir: string): Promise<CodeLineAccuracy> {
  let tp = 0, fp = 0, fn = 0, lines = 0;
  const misses: string[] = [];
  for (const file of await filesUnder(dir)) {
    const content = await fs.readFile(file, 'utf8');
    const truth = sourceCodeLines(file, content);
    for (const section of parseDocument(file, content).sections) {
      const text = section.text.split('\n');
      const guess = codeLines(text);
      text.forEach((line, i) => {
        const span = section.sourceLines[i];
        if (line.trim() === '' || !span) return;
        lines++;
        const actual = truth.has(span.first);
        if (actual && guess[i]) tp++;
        else if (guess[i]) fp++, misses.push(`FP ${line.slice(0, 100)}`);
        else if (actual) fn++, misses.push(`FN ${line.slice(0, 100)}`);
      });
    }
  }
  return { lines, code: tp + fn, precision: tp / (tp + fp), recall: tp / (tp + fn), misses };
}

async function main(): Promise<void> {
  for (const dir of process.argv.slice(2)) {
    const { lines, code, precision, recall, misses } = await measureCodeLines(dir);
    console.log(`${path.basename(dir)}: lines ${lines}, code ${code}, precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}`);
    // MISSES=40 prints a random sample of the misclassified lines.
    for (const miss of misses.sort(() => 0.5 - Math.random()).slice(0, Number(process.env.MISSES ?? 0))) console.log(`  ${miss}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(__filename)) void main();

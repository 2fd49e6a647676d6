import type { ParsedDocument } from '../types.js';
import { SectionBuilder, fileStem, splitLines } from './sections.js';

const UNDERLINE = /^([=~-])\1{2,}[ \t]*$/;
const PREFIXED_TITLE = /^(={1,6})[ \t]+(\S.*?)(?:[ \t]+=+)?[ \t]*$/;
const MAX_TITLE_LINE = 80;

/** Parses plain text: underlined or `=`-prefixed heading lines, everything else kept as is. */
export function parseText(path: string, content: string): ParsedDocument {
  const lines = splitLines(content);
  const builder = new SectionBuilder();
  const levelOfUnderline = new Map<string, number>();
  let firstHeading: string | undefined;
  let firstLine: string | undefined;
  let previousBlank = true;

  for (let i = 0; i < lines.length; i++) {
    const lineNumber = i + 1;
    const line = lines[i]!;
    const trimmed = line.trim();
    const wasBlank = previousBlank;
    previousBlank = trimmed === '';
    if (trimmed === '') {
      builder.append('\n');
      continue;
    }
    firstLine ??= trimmed;

    const prefixed = PREFIXED_TITLE.exec(line);
    if (prefixed) {
      firstHeading ??= prefixed[2]!;
      builder.heading(prefixed[1]!.length, prefixed[2]!, lineNumber);
      previousBlank = true;
      continue;
    }

    const underline = UNDERLINE.exec(lines[i + 1] ?? '');
    if (underline && wasBlank && isRoughlyAsLong(lines[i + 1]!.trim(), trimmed) && !UNDERLINE.test(line)) {
      let level = levelOfUnderline.get(underline[1]!);
      if (level === undefined) {
        level = levelOfUnderline.size + 1;
        levelOfUnderline.set(underline[1]!, level);
      }
      firstHeading ??= trimmed;
      builder.heading(level, trimmed, lineNumber);
      previousBlank = true;
      i++;
      continue;
    }
    builder.line(line, lineNumber);
  }

  const title = firstHeading ?? (firstLine !== undefined && firstLine.length < MAX_TITLE_LINE ? firstLine : fileStem(path));
  return { title, sections: builder.finish() };
}

function isRoughlyAsLong(underline: string, title: string): boolean {
  return Math.abs(underline.length - title.length) <= Math.max(3, Math.ceil(title.length * 0.3));
}

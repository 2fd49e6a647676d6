import type { ParsedDocument } from '../types.js';
import { cleanInline } from './markdown.js';
import { SectionBuilder, fileStem, splitLines } from './sections.js';

const SECTION_TITLE = /^(={1,6})[ \t]+(\S.*?)(?:[ \t]+=+)?[ \t]*$/;
/** Listing, literal, example, sidebar, quote, passthrough, comment and open block delimiters. */
const BLOCK_DELIMITER = /^(?:-{4,}|\.{4,}|={4,}|\*{4,}|_{4,}|\+{4,}|\/{4,}|--|\|===)[ \t]*$/;
const ATTRIBUTE_ENTRY = /^:!?\w[\w-]*!?:(?:[ \t].*)?$/;
const BLOCK_ATTRIBUTES = /^\[.*\][ \t]*$/;
const BLOCK_TITLE = /^\.([^\s.].*)$/;
const LIST_MARKER = /^[ \t]*(?:\*{1,5}|-|\.{1,5})[ \t]+/;

/** Blocks whose content is shown verbatim, so nothing inside them is markup. */
const VERBATIM_BLOCK_CHARS = new Set(['-', '.', '+', '/']);

/** Parses AsciiDoc: document header, `==` sections, delimited blocks kept as text, comments dropped. */
export function parseAsciiDoc(path: string, content: string): ParsedDocument {
  const lines = splitLines(content);
  const builder = new SectionBuilder();
  const openBlocks: string[] = [];
  let title: string | undefined;
  let inHeader = false;
  let seenContent = false;

  for (let i = 0; i < lines.length; i++) {
    const lineNumber = i + 1;
    const line = lines[i]!;
    const trimmed = line.trim();
    const innermost = openBlocks[openBlocks.length - 1];
    const verbatim = innermost !== undefined && VERBATIM_BLOCK_CHARS.has(innermost[0]!);

    if (BLOCK_DELIMITER.test(trimmed) && line === line.trimStart()) {
      if (trimmed === innermost) openBlocks.pop();
      else if (!verbatim) openBlocks.push(trimmed);
      else builder.line(line, lineNumber);
      continue;
    }
    if (innermost?.startsWith('/')) continue;
    if (verbatim) {
      builder.line(line, lineNumber);
      continue;
    }

    if (trimmed === '') {
      inHeader = false;
      builder.append('\n');
      continue;
    }
    if (line.startsWith('//')) continue;
    if (inHeader || ATTRIBUTE_ENTRY.test(line)) continue;

    const section = openBlocks.length === 0 ? SECTION_TITLE.exec(line) : null;
    if (section) {
      const level = section[1]!.length;
      const text = cleanAsciiDocInline(section[2]!);
      if (level === 1 && title === undefined) {
        title = text;
        inHeader = !seenContent;
      }
      seenContent = true;
      builder.heading(level, text, lineNumber);
      continue;
    }
    seenContent = true;
    if (BLOCK_ATTRIBUTES.test(trimmed) || trimmed === '+') continue;

    const blockTitle = BLOCK_TITLE.exec(trimmed);
    let text = blockTitle ? blockTitle[1]! : trimmed.replace(LIST_MARKER, '');
    if (innermost === '|===') text = text.replace(/(?:^|[ \t]+)[\w.^<>*+]*\|[ \t]*/g, ' ').trim();
    builder.line(cleanAsciiDocInline(text), lineNumber);
  }

  return { title: title ?? fileStem(path), sections: builder.finish() };
}

const INLINE_MACRO = /\b(link|xref|image|kbd|btn|menu|footnote|mailto|https?|ftp):(\S*?)\[([^\]]*)\]/g;

/** Macros and cross references keep their visible text; emphasis and monospace markers go. */
function cleanAsciiDocInline(text: string): string {
  const withoutMacros = text
    .replace(INLINE_MACRO, (_m, macro: string, target: string, label: string) => {
      const visible = label.split(',')[0]!.replace(/^"|"$/g, '').trim();
      if (visible !== '') return visible;
      return macro === 'http' || macro === 'https' || macro === 'ftp' ? `${macro}:${target}` : target;
    })
    // No '<' inside: a run of '<' would otherwise be rescanned to the end of the line from each one.
    .replace(/<<([^,<>]+)(?:,\s*([^<>]+))?>>/g, (_m, id: string, label: string | undefined) => (label ?? id).trim())
    .replace(/(^|\s)::?(?=\s|$)/g, '$1')
    .replace(/([^:\s]):{2,4}(?=\s|$)/g, '$1:');
  return cleanInline(withoutMacros);
}

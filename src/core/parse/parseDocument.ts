import type { ParsedDocument } from '../types.js';
import { parseAsciiDoc } from './asciidoc.js';
import { parseCode } from './code.js';
import { parseHtml } from './html.js';
import { parseMarkdown } from './markdown.js';
import { parseRst } from './rst.js';
import { parseText } from './plainText.js';
import { extensionOf, formatOf } from './formats.js';

/**
 * Splits a document into sections with 1-based line ranges of the original file.
 * Unknown extensions are read as plain text.
 */
export function parseDocument(path: string, content: string): ParsedDocument {
  const text = content.startsWith('\uFEFF') ? content.slice(1) : content;
  const extension = extensionOf(path);
  switch (formatOf(path)) {
    case 'markdown':
      return parseMarkdown(path, text, extension === 'mdx');
    case 'html':
      return parseHtml(path, text);
    case 'asciidoc':
      return parseAsciiDoc(path, text);
    case 'rst':
      return parseRst(path, text);
    case 'code':
      return parseCode(path, text, extension);
    case 'text':
    case undefined:
      return parseText(path, text);
  }
}

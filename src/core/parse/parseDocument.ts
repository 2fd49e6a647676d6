import type { ParsedDocument } from '../types.js';
import { parseAsciiDoc } from './asciidoc.js';
import { parseCode } from './code.js';
import { parseHtml } from './html.js';
import { parseMarkdown } from './markdown.js';
import { parseRst } from './rst.js';
import { parseText } from './plainText.js';

export type DocFormat = 'markdown' | 'html' | 'asciidoc' | 'rst' | 'text' | 'code';

export const DOC_EXTENSIONS: readonly string[] = ['md', 'mdx', 'markdown', 'txt', 'rst', 'adoc', 'asciidoc', 'html', 'htm'];
export const CODE_EXTENSIONS: readonly string[] = [
  'ts', 'tsx', 'js', 'jsx', 'mjs', 'cjs', 'py', 'go', 'rs', 'java', 'kt', 'cs', 'c', 'h', 'cpp', 'hpp', 'rb', 'swift',
  'php', 'scala', 'sh',
];

const FORMAT_OF_DOC_EXTENSION: Record<string, DocFormat> = {
  md: 'markdown', mdx: 'markdown', markdown: 'markdown', txt: 'text', rst: 'rst', adoc: 'asciidoc', asciidoc: 'asciidoc',
  html: 'html', htm: 'html',
};

function extensionOf(path: string): string {
  const name = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** The format a file is parsed as, by extension (case-insensitive); undefined when not indexed. */
export function formatOf(path: string): DocFormat | undefined {
  const extension = extensionOf(path);
  return FORMAT_OF_DOC_EXTENSION[extension] ?? (CODE_EXTENSIONS.includes(extension) ? 'code' : undefined);
}

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

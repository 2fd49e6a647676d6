/**
 * Which files are documentation or code, by extension. Apart from the parsers so that discovery
 * (and a re-index that finds nothing to parse) loads none of them.
 */
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

export function extensionOf(path: string): string {
  const name = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** The format a file is parsed as, by extension (case-insensitive); undefined when not indexed. */
export function formatOf(path: string): DocFormat | undefined {
  const extension = extensionOf(path);
  return FORMAT_OF_DOC_EXTENSION[extension] ?? (CODE_EXTENSIONS.includes(extension) ? 'code' : undefined);
}

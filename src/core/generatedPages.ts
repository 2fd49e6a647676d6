/**
 * Copies a documentation generator leaves next to the pages a team wrote, which would crowd
 * real pages out of the results: Sphinx puts the reST source of every page under `_sources/`
 * beside its rendered HTML (the same document twice), and writes index, search and module
 * index pages that list every term of the manual. One form of each document is kept.
 */

export interface GeneratedSkip {
  path: string;
  reason: 'generated' | 'duplicate';
  detail: string;
}

/** Sphinx's generated pages, recognised only in a folder that is Sphinx output. */
const SPHINX_GENERATED = /^(?:genindex(?:-[^/]*)?|search|py-modindex|[a-z]+-modindex|modindex)\.html?$/i;
/** `_sources/<page>.rst.txt` (also .md.txt, .txt): the source copy of `<page>.html`. */
const SPHINX_SOURCE_COPY = /^(.*\/)?_sources\/(.+?)(?:\.(?:rst|md|rest|markdown))?\.txt$/i;

function folderOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash + 1);
}

/** The files among `paths` (relative, '/' separators) that are generated pages or a second copy of another file there. */
export function generatedCopies(paths: readonly string[]): GeneratedSkip[] {
  const present = new Set(paths.map((p) => p.toLowerCase()));
  // A folder is Sphinx output when it has a _sources/ copy or a genindex page.
  const sphinxFolders = new Set<string>();
  for (const p of paths) {
    const source = SPHINX_SOURCE_COPY.exec(p);
    if (source) sphinxFolders.add((source[1] ?? '').toLowerCase());
    else if (/^genindex\.html?$/i.test(p.slice(folderOf(p).length))) sphinxFolders.add(folderOf(p).toLowerCase());
  }
  const skips: GeneratedSkip[] = [];
  for (const p of paths) {
    const folder = folderOf(p);
    const source = SPHINX_SOURCE_COPY.exec(p);
    if (source) {
      const page = `${source[1] ?? ''}${source[2]}`;
      const rendered = [`${page}.html`, `${page}.htm`].find((candidate) => present.has(candidate.toLowerCase()));
      if (rendered) skips.push({ path: p, reason: 'duplicate', detail: `Sphinx source copy of ${rendered}, which is indexed` });
      continue;
    }
    if (sphinxFolders.has(folder.toLowerCase()) && SPHINX_GENERATED.test(p.slice(folder.length))) {
      skips.push({ path: p, reason: 'generated', detail: 'Sphinx index/search page, generated from the other pages' });
    }
  }
  return skips;
}

/**
 * Whether a path's name is one whose presence decides another file's fate here (a Sphinx source
 * copy or a generated page): an update of only some paths walks the whole folder for it.
 */
export function relatesGeneratedCopies(path: string): boolean {
  return SPHINX_SOURCE_COPY.test(path) || SPHINX_GENERATED.test(path.slice(folderOf(path).length));
}

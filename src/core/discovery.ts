/**
 * Finds the documentation files to index under a folder. Honours .gitignore and
 * .ignore files at every level plus exclude globs, never throws for a bad
 * entry, and records why every entry it does not return was skipped.
 */
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync, statSync, type Dirent, type Stats, promises as fsp } from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import ignore from 'ignore';
import { CODE_EXTENSIONS, DOC_EXTENSIONS, extensionOf } from './parse/formats.js';
import { ConcurrencyLimiter } from './concurrencyLimiter.js';
import { errorMessage } from './errorMessage.js';
import { generatedCopies } from './generatedPages.js';
import { findCredential } from './credentialScan.js';
import { RulePrefilter } from './rulePrefilter.js';

export type SkipReason =
  | 'ignored'
  | 'excluded'
  | 'unsupported'
  | 'too-large'
  | 'binary'
  | 'symlink-loop'
  /** A symbolic link whose real path is outside the root: the walk never leaves the folder. */
  | 'outside-workspace'
  | 'unreadable'
  | 'generated'
  | 'duplicate'
  /** A page kept by name (secrets.md) whose text holds a credential: listed, unlike a name-only exclude. */
  | 'credential';

export interface DiscoveredFile {
  /** Relative to the root, '/' separators. */
  path: string;
  absolutePath: string;
  size: number;
  mtimeMs: number;
}

export interface SkippedFile {
  /** Relative to the root, '/' separators; ends with '/' for a directory skipped with its whole subtree. */
  path: string;
  reason: SkipReason;
  detail?: string;
}

export interface DiscoveryOptions {
  /** Extensions without the dot, case-insensitive. Default: the parsers' DOC_EXTENSIONS + CODE_EXTENSIONS. */
  include?: string[];
  /**
   * Gitignore-style globs relative to the root. Replaces DEFAULT_EXCLUDES (spread it to extend).
   * A pattern ending in '/**' also excludes the directory itself, so the walk never enters it.
   */
  exclude?: string[];
  /** Gitignore-style globs relative to the root; when given, a file is kept only if one matches it. */
  includeGlobs?: string[];
  /** Default DEFAULT_MAX_FILE_BYTES. */
  maxFileBytes?: number;
  /**
   * Default true; a directory reached twice by real path is skipped as 'symlink-loop', a link
   * whose real path is outside the root as 'outside-workspace'.
   */
  followSymlinks?: boolean;
  /** Default false: SECRET_FILE_PATTERNS are left out whatever `exclude` says. Only a user's own settings may lift it. */
  allowSecretFiles?: boolean;
  /** Aborting rejects with `signal.reason` (an AbortError DOMException unless the caller passed a reason). */
  signal?: AbortSignal;
}

export interface DiscoveryResult {
  /** Sorted by path (UTF-16 code unit order, independent of locale). */
  files: DiscoveredFile[];
  /** Sorted by path; at most MAX_SKIPPED_ENTRIES_PER_REASON entries per reason, the smallest paths. */
  skipped: SkippedFile[];
  /** Exact counts, including skips left out of `skipped`. */
  skippedByReason: Record<SkipReason, number>;
}

export const DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024;

export const MAX_SKIPPED_ENTRIES_PER_REASON = 1000;

/**
 * Dependencies, build output, caches and tool state: generated or third-party
 * text a team does not want answers from.
 *
 * Hidden folders are not excluded wholesale: `.github/`, `.gitlab/`,
 * `.devcontainer/` or `.changeset/` hold real documentation (contributing
 * guides, templates, decision records). Only dot-folders that are editor
 * settings, caches or tool state are listed. `.git` is never entered whatever
 * the exclude option says.
 */
export const DEFAULT_EXCLUDES: readonly string[] = [
  // Version control
  '.git/', '.hg/', '.svn/', '.bzr/', '_darcs/', 'CVS/',
  // Editors
  '.vscode/', '.idea/', '.vs/', '.history/', '.fleet/',
  // JavaScript / TypeScript
  'node_modules/', 'bower_components/', 'jspm_packages/', '.npm/', '.yarn/', '.pnpm-store/',
  '.next/', '.nuxt/', '.svelte-kit/', '.angular/', '.turbo/', '.parcel-cache/', '.vercel/',
  '.docusaurus/', '.nyc_output/', 'storybook-static/',
  // Python
  '.venv/', 'venv/', '__pycache__/', '.tox/', '.nox/', '.pytest_cache/', '.mypy_cache/',
  '.ruff_cache/', '.ipynb_checkpoints/', '*.egg-info/', 'site-packages/',
  // Other ecosystems' dependencies and build state
  'vendor/', 'target/', '.gradle/', '.build/', '.dart_tool/', 'Pods/', 'DerivedData/',
  '.terraform/', '.serverless/', 'obj/',
  // Build output, including generated doc sites (Sphinx `_build`, Jekyll `_site`)
  'dist/', 'out/', 'build/', '_build/', '_site/', 'coverage/', '.cache/',
  // Generated files
  '*.min.js', '*.min.css', '*.map', '*.bundle.js', '*.chunk.js',
  'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb',
  'Cargo.lock', 'poetry.lock', 'Pipfile.lock', 'Gemfile.lock', 'composer.lock', 'go.sum',
];

/** Markup formats: a page in one is written for readers, so a name like secrets.md is a page about secrets. */
const MARKUP_EXTENSIONS = DOC_EXTENSIONS.filter((extension) => extension !== 'txt');

/**
 * Files that hold credentials rather than documentation. Applied apart from `exclude`, so neither
 * a replaced exclude list nor a negated pattern brings them back; only `allowSecretFiles` does.
 * The two patterns that go by name alone keep markup pages (Python's library/secrets.html, a
 * team's credentials.md): those explain secrets; secrets.yaml or credentials.txt may hold them.
 */
export const SECRET_FILE_PATTERNS: readonly string[] = [
  '.env', '.env.*', 'id_*', '*.pem', '*.key', '*.p12', '*.pfx', '*.keystore', '*.jks',
  'credentials', 'credentials.*', '.netrc', '.npmrc', '.pypirc', '.htpasswd', '.pgpass',
  '.ssh/', '.aws/', '.gnupg/', '.docker/config.json', 'secrets.*',
  ...['credentials', 'secrets'].flatMap((name) => MARKUP_EXTENSIONS.map((extension) => `!${name}.${extension}`)),
];

/** Which files' names could match a secret-file pattern (ignore's rules match case-insensitively). */
const SECRET_FILES_FILTER = new RulePrefilter(SECRET_FILE_PATTERNS, true);
/** The markup pages SECRET_FILE_PATTERNS keeps by name; their text is checked for credentials (credentialScan.ts). */
const NAMED_SECRET_PAGE = new RegExp(`(?:^|/)(?:credentials|secrets)\\.(?:${MARKUP_EXTENSIONS.join('|')})$`, 'i');

/**
 * Says why an include entry is refused, or undefined when it is a plain extension. Entries are
 * extensions; an empty one would match every extensionless file (`id_rsa`, `credentials`) and a
 * glob would read as one, so both are refused rather than guessed at.
 */
export function refusedIncludeEntry(entry: string): string | undefined {
  const extension = entry.replace(/^\./, '');
  const problem =
    extension === '' ? 'would match every file without an extension (id_rsa, credentials)'
    : /[*?[\]{}!]/.test(extension) ? 'is a glob; entries are extensions, and a glob can match every file'
    : /[/\\]/.test(extension) ? 'is a path; entries are extensions'
    : /\s/.test(extension) ? 'contains white space'
    : undefined;
  return problem === undefined ? undefined : `include entry ${JSON.stringify(entry)} ${problem}: refused; list a file extension such as "md"`;
}

const IGNORE_FILE_NAMES = ['.gitignore', '.ignore'] as const;

/** Concurrent filesystem calls; bounds open handles, the thread pool does the rest. */
const MAX_CONCURRENT_FS_CALLS = 16;

/** Entries handled between two yields to the event loop. */
const ENTRIES_PER_YIELD = 256;

const BINARY_SNIFF_BYTES = 8 * 1024;
const MAX_REPLACEMENT_CHAR_RATIO = 0.1;
const READ_CHUNK_BYTES = 64 * 1024;

/** Git matches case-insensitively where the filesystem does (core.ignorecase). */
const CASE_INSENSITIVE_FS = process.platform === 'win32' || process.platform === 'darwin';

type Matcher = ignore.Ignore;

interface DirectoryToWalk {
  absolutePath: string;
  /** '' for the root. */
  relativePath: string;
  realPath: string;
  /** Rules of every ignore file from the root down to the parent, rebased to root-relative paths; undefined while there are none (most folders: no matcher to test). */
  ignoreRules: Matcher | undefined;
}

/** Its real path is resolved only when its turn comes, after the real tree. */
type SymlinkedDirectory = Omit<DirectoryToWalk, 'realPath'>;

export async function discoverFiles(root: string, options: DiscoveryOptions = {}): Promise<DiscoveryResult> {
  const rootDirectory = await rootToWalk(root, options);
  const walk = new DiscoveryWalk(options);
  await walk.run(rootDirectory);
  return walk.result();
}

/** What the walk's rules say of some paths of a folder (discoverChangedPaths). */
export interface ChangedPathsResult {
  /** The paths that are files to index, as a walk of the whole folder would list them, sorted by path. */
  files: DiscoveredFile[];
  /** The other paths given: missing (deleted) or skipped (see `skipped`). */
  gone: string[];
  skipped: SkippedFile[];
  skippedByReason: Record<SkipReason, number>;
  /** Paths with a `_sources` folder beside one of their ancestors (or beside them): Sphinx output, where pages and their source copies decide each other's fate (generatedPages.ts). */
  besideSphinxSources: Set<string>;
}

/**
 * Applies the walk's rules to these root-relative paths only ('/' separators): every ignore file,
 * exclude, include and secret rule on the way down to each, without listing the rest of the
 * folder. Returns why the whole folder must be walked instead, when a path is a folder, an
 * ignore file, or reached through a symbolic link (rules that relate a path to others).
 */
export async function discoverChangedPaths(root: string, relativePaths: readonly string[], options: DiscoveryOptions = {}): Promise<ChangedPathsResult | { fullWalk: string }> {
  const rootDirectory = await rootToWalk(root, options);
  const walk = new DiscoveryWalk(options);
  const besideSphinxSources = new Set<string>();
  const gone = new Set<string>();
  for (const relativePath of new Set(relativePaths)) {
    options.signal?.throwIfAborted();
    const verdict = await walk.checkPath(rootDirectory, relativePath);
    if (typeof verdict === 'object') return verdict;
    if (verdict === 'gone') gone.add(relativePath);
    else if (verdict === 'gone-beside-sources') {
      gone.add(relativePath);
      besideSphinxSources.add(relativePath);
    } else if (verdict === 'file-beside-sources') besideSphinxSources.add(relativePath);
  }
  const result = walk.changedResult();
  const kept = new Set(result.files.map((file) => file.path));
  // Left out by the include globs.
  for (const relativePath of relativePaths) if (!kept.has(relativePath)) gone.add(relativePath);
  return { ...result, gone: [...gone], besideSphinxSources };
}

/** The root as the walk starts from it; a missing root, a file or a refused include entry throws. */
async function rootToWalk(root: string, options: DiscoveryOptions): Promise<DirectoryToWalk> {
  options.signal?.throwIfAborted();
  const rootPath = path.resolve(root);
  // A missing or unreadable root is the caller's error, not a skip.
  const rootStats = await fsp.stat(rootPath);
  if (!rootStats.isDirectory()) throw new Error(`Not a directory: ${rootPath}`);
  const refused = (options.include ?? []).map(refusedIncludeEntry).filter((problem) => problem !== undefined);
  if (refused.length > 0) throw new Error(refused.join('; '));
  return { absolutePath: rootPath, relativePath: '', realPath: await fsp.realpath(rootPath), ignoreRules: undefined };
}

/** What checkPath found: a file to index or gone (missing or skipped), and whether beside Sphinx sources; or why to walk the whole folder. */
type PathVerdict = 'file' | 'file-beside-sources' | 'gone' | 'gone-beside-sources' | { fullWalk: string };

type EntryKind = 'file' | 'directory' | 'symlink' | 'special' | 'unknown';

class DiscoveryWalk {
  private readonly includedExtensions: Set<string>;
  private readonly excludeRules: Matcher;
  /** The exclude rules a file's own path can match (see the constructor). */
  private readonly fileExcludeRules: Matcher;
  /** Which files' names could match an exclude pattern (the others need no test by the rules). */
  private readonly fileExcludeFilter: RulePrefilter;
  private readonly secretRules: Matcher | undefined;
  /** Real path of the root: every followed link must resolve to it or below it. */
  private rootRealPath = '';
  private readonly includeRules: Matcher | undefined;
  private readonly maxFileBytes: number;
  private readonly followSymlinks: boolean;
  private readonly signal: AbortSignal | undefined;
  private readonly limitFsCall: <T>(call: () => Promise<T>) => Promise<T>;
  private readonly files: DiscoveredFile[] = [];
  private readonly skips = new SkipLog();
  /** Real path of every walked directory → the relative path it was walked as. */
  private readonly walkedDirectories = new Map<string, string>();
  /** Symlinked directories, walked after the real tree so that its directories win deduplication. */
  private deferredSymlinks: SymlinkedDirectory[] = [];
  private entriesSinceYield = 0;

  constructor(options: DiscoveryOptions) {
    const include = options.include ?? [...DOC_EXTENSIONS, ...CODE_EXTENSIONS];
    this.includedExtensions = new Set(include.map((extension) => extension.replace(/^\./, '').toLowerCase()));
    const excludes = excludePatterns(options.exclude ?? DEFAULT_EXCLUDES);
    this.excludeRules = ignore({ ignorecase: CASE_INSENSITIVE_FS }).add(excludes);
    // A directory-only pattern ('node_modules/') never matches a file's path, and the walk tested
    // the file's folders with every rule on the way in: without negations (where a later rule
    // could undo an earlier one) a file needs only the other patterns, a quarter of the defaults,
    // and testing every rule was a fifth of a re-index that finds nothing changed.
    this.fileExcludeRules = excludes.some(({ pattern }) => pattern.startsWith('!'))
      ? this.excludeRules
      : ignore({ ignorecase: CASE_INSENSITIVE_FS }).add(excludes.filter(({ pattern }) => !pattern.endsWith('/')));
    this.fileExcludeFilter = new RulePrefilter(excludes.map(({ pattern }) => pattern), CASE_INSENSITIVE_FS);
    this.secretRules = options.allowSecretFiles
      ? undefined
      : ignore({ ignorecase: true }).add(SECRET_FILE_PATTERNS.map((pattern) => ({ pattern, mark: `secret file pattern: ${pattern} (docent.index.allowSecretFiles lifts it)` })));
    this.includeRules = options.includeGlobs?.length ? ignore({ ignorecase: CASE_INSENSITIVE_FS }).add(options.includeGlobs) : undefined;
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.followSymlinks = options.followSymlinks ?? true;
    this.signal = options.signal;
    const fsCalls = new ConcurrencyLimiter(MAX_CONCURRENT_FS_CALLS);
    // Checked once a call has its slot (no abort listener per queued call: thousands may wait).
    this.limitFsCall = (call) =>
      fsCalls.run(() => {
        options.signal?.throwIfAborted();
        return call();
      });
  }

  async run(root: DirectoryToWalk): Promise<void> {
    this.walkedDirectories.set(root.realPath, '');
    this.rootRealPath = root.realPath;
    await this.walkDirectory(root);
    // Symlinks are taken one at a time in path order, so which path wins a
    // directory reached twice does not depend on timing.
    while (this.deferredSymlinks.length > 0) {
      const batch = this.deferredSymlinks.sort((a, b) => compareCodeUnits(a.relativePath, b.relativePath));
      this.deferredSymlinks = [];
      for (const link of batch) {
        this.signal?.throwIfAborted();
        await this.walkSymlinkedDirectory(link);
      }
    }
  }

  result(): DiscoveryResult {
    const files = this.includedFiles();
    const generated = generatedCopies(files.map((file) => file.path));
    for (const skip of generated) this.skips.add(skip);
    const dropped = new Set(generated.map((skip) => skip.path));
    return {
      files: files.filter((file) => !dropped.has(file.path)).sort(byPath),
      skipped: this.skips.entries(),
      skippedByReason: { ...this.skips.counts },
    };
  }

  /** The files checked by checkPath; generated copies are the caller's to judge (ChangedPathsResult.besideSphinxSources). */
  changedResult(): Omit<ChangedPathsResult, 'gone' | 'besideSphinxSources'> {
    return { files: this.includedFiles().sort(byPath), skipped: this.skips.entries(), skippedByReason: { ...this.skips.counts } };
  }

  /**
   * One path, judged as the walk would reach it: each folder on the way is listed (for its
   * ignore files and the next entry's type) and tested as visitEntry tests it, then the path itself.
   */
  async checkPath(root: DirectoryToWalk, relativePath: string): Promise<PathVerdict> {
    this.rootRealPath = root.realPath;
    const names = relativePath.split('/');
    let directory = root;
    let besideSources = false;
    const gone = (): PathVerdict => (besideSources ? 'gone-beside-sources' : 'gone');
    for (const [depth, name] of names.entries()) {
      let entries: Dirent[];
      try {
        entries = await this.limitFsCall(() => fsp.readdir(directory.absolutePath, { withFileTypes: true }));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return gone();
        if (directory.relativePath === '') throw error;
        this.skips.add({ path: `${directory.relativePath}/`, ...skipForFsError(error) });
        return gone();
      }
      besideSources ||= entries.some((entry) => entry.name.toLowerCase() === '_sources');
      const { rules, unreadableIgnoreFiles } = await this.loadIgnoreFiles(directory, entries);
      const entry = entries.find((candidate) => candidate.name === name);
      if (!entry) return gone();
      const kind = direntKind(entry);
      const entryPath = joinRelative(directory.relativePath, name);
      if (depth < names.length - 1) {
        if (kind === 'symlink' || kind === 'unknown') return { fullWalk: `${entryPath} is a symbolic link (or of unknown type)` };
        if (kind !== 'directory') return gone();
        if (this.skipIfGitMetadata(name, `${entryPath}/`)) return gone();
        if (this.skipIfMatched(`${entryPath}/`, rules)) return gone();
        directory = { absolutePath: path.join(directory.absolutePath, name), relativePath: entryPath, realPath: path.join(directory.realPath, name), ignoreRules: rules };
        continue;
      }
      if ((IGNORE_FILE_NAMES as readonly string[]).includes(name)) return { fullWalk: `${entryPath} is an ignore file` };
      if (kind === 'directory' || kind === 'symlink' || kind === 'unknown') return { fullWalk: `${entryPath} is a folder or a symbolic link` };
      const before = this.files.length;
      const parent = { absolute: withTrailingSeparator(directory.absolutePath), real: withTrailingSeparator(directory.realPath) };
      await this.visitEntry(entry, { ...directory, ignoreRules: rules }, parent, unreadableIgnoreFiles);
      if (this.files.length === before) return gone();
      return besideSources ? 'file-beside-sources' : 'file';
    }
    return gone();
  }

  /** Whether `name` is version-control metadata, which is never indexed (then recorded as a skip of `skippedPath`). */
  private skipIfGitMetadata(name: string, skippedPath: string): boolean {
    if (name !== '.git') return false;
    this.skips.add({ path: skippedPath, reason: 'excluded', detail: 'version-control metadata is never indexed' });
    return true;
  }

  /** The files found, less those the include globs leave out (recorded as skips). */
  private includedFiles(): DiscoveredFile[] {
    const rules = this.includeRules;
    if (!rules) return this.files;
    return this.files.filter((file) => {
      if (rules.ignores(file.path)) return true;
      this.skips.add({ path: file.path, reason: 'excluded', detail: 'matches none of the include globs' });
      return false;
    });
  }

  private async walkSymlinkedDirectory(link: SymlinkedDirectory): Promise<void> {
    const skippedPath = `${link.relativePath}/`;
    let realPath: string;
    try {
      realPath = await this.limitFsCall(() => fsp.realpath(link.absolutePath));
    } catch (error) {
      this.skips.add({ path: skippedPath, ...skipForFsError(error) });
      return;
    }
    if (this.skipIfOutside(skippedPath, realPath)) return;
    const walkedAs = this.walkedDirectories.get(realPath);
    if (walkedAs !== undefined) {
      const isAncestor = walkedAs === '' || link.relativePath.startsWith(`${walkedAs}/`);
      const detail = isAncestor
        ? `points back to its ancestor ${describeWalked(walkedAs)}`
        : `same directory as ${describeWalked(walkedAs)}, already walked`;
      this.skips.add({ path: skippedPath, reason: 'symlink-loop', detail });
      return;
    }
    this.walkedDirectories.set(realPath, link.relativePath);
    await this.walkDirectory({ ...link, realPath });
  }

  private async walkDirectory(directory: DirectoryToWalk): Promise<void> {
    this.signal?.throwIfAborted();
    let entries: Dirent[];
    try {
      entries = await this.limitFsCall(() => fsp.readdir(directory.absolutePath, { withFileTypes: true }));
    } catch (error) {
      if (directory.relativePath === '') throw error;
      this.skips.add({ path: `${directory.relativePath}/`, ...skipForFsError(error) });
      return;
    }
    const { rules, unreadableIgnoreFiles } = await this.loadIgnoreFiles(directory, entries);
    const scope: DirectoryToWalk = { ...directory, ignoreRules: rules };

    // Entry paths by concatenation: path.join normalizes each one, a tenth of a no-change re-index.
    const parent = { absolute: withTrailingSeparator(directory.absolutePath), real: withTrailingSeparator(directory.realPath) };
    const visits: Promise<void>[] = [];
    for (const entry of entries) {
      const visit = this.visitEntry(entry, scope, parent, unreadableIgnoreFiles);
      if (visit) visits.push(visit);
      if (++this.entriesSinceYield >= ENTRIES_PER_YIELD) {
        this.entriesSinceYield = 0;
        await yieldToEventLoop();
        this.signal?.throwIfAborted();
      }
    }
    await Promise.all(visits);
  }

  /** Returns the directory's rules: the parent's plus its own ignore files, .ignore last so it wins. */
  private async loadIgnoreFiles(
    directory: DirectoryToWalk,
    entries: Dirent[],
  ): Promise<{ rules: Matcher | undefined; unreadableIgnoreFiles: Map<string, string> }> {
    const unreadableIgnoreFiles = new Map<string, string>();
    const ownPatterns: ignore.PatternParams[] = [];
    for (const name of IGNORE_FILE_NAMES) {
      const entry = entries.find((candidate) => candidate.name === name);
      // Anything but a file or a link to one (a FIFO could block forever) is left to visitEntry.
      if (!entry || !(entry.isFile() || entry.isSymbolicLink())) continue;
      const relativePath = joinRelative(directory.relativePath, name);
      const content = readRegularFile(path.join(directory.absolutePath, name), this.maxFileBytes);
      if (!Buffer.isBuffer(content)) {
        unreadableIgnoreFiles.set(name, `ignore file not applied: ${content.detail}`);
        continue;
      }
      ownPatterns.push(...rebaseIgnoreFile(content.toString('utf8'), directory.relativePath, relativePath));
    }
    if (ownPatterns.length === 0) return { rules: directory.ignoreRules, unreadableIgnoreFiles };
    const rules = ignore({ ignorecase: CASE_INSENSITIVE_FS }).add(directory.ignoreRules ?? []).add(ownPatterns);
    return { rules, unreadableIgnoreFiles };
  }

  /**
   * Files and directories as the directory listing says are handled here at once; only symbolic
   * links, entries of unknown type and subdirectories return a promise (a promise per file was
   * most of a no-change re-index's garbage).
   */
  private visitEntry(
    entry: Dirent,
    directory: DirectoryToWalk,
    parent: { absolute: string; real: string },
    unreadableIgnoreFiles: Map<string, string>,
  ): Promise<void> | undefined {
    const relativePath = joinRelative(directory.relativePath, entry.name);
    const absolutePath = parent.absolute + entry.name;
    if (this.skipIfGitMetadata(entry.name, entry.isDirectory() ? `${relativePath}/` : relativePath)) return undefined;
    const ignoreFileProblem = unreadableIgnoreFiles.get(entry.name);
    if (ignoreFileProblem !== undefined) {
      this.skips.add({ path: relativePath, reason: 'unreadable', detail: ignoreFileProblem });
      return undefined;
    }
    const kind = direntKind(entry);
    if (kind === 'symlink' || kind === 'unknown') return this.visitLinkOrUnknown(kind, relativePath, absolutePath, parent.real + entry.name, directory);
    if (this.skipIfMatched(kind === 'directory' ? `${relativePath}/` : relativePath, directory.ignoreRules)) return undefined;
    if (kind === 'directory') return this.walkRealSubdirectory({ absolutePath, relativePath, ignoreRules: directory.ignoreRules, realPath: parent.real + entry.name });
    this.visitFile(kind, relativePath, absolutePath);
    return undefined;
  }

  private async visitLinkOrUnknown(kind: 'symlink' | 'unknown', relativePath: string, absolutePath: string, realPath: string, directory: DirectoryToWalk): Promise<void> {
    let stats: Stats | undefined;
    let resolved: EntryKind = kind;
    if (kind === 'unknown') {
      // Some filesystems do not report entry types; ask for them.
      try {
        resolved = statsKind(await this.limitFsCall(() => fsp.lstat(absolutePath)));
      } catch (error) {
        this.skips.add({ path: relativePath, ...skipForFsError(error) });
        return;
      }
    }
    const isSymlink = resolved === 'symlink';
    if (isSymlink) {
      // Matched as a file first: a rule that skips it needs no stat, and only dir-only rules remain once it proves a directory.
      if (this.skipIfMatched(relativePath, directory.ignoreRules)) return;
      if (!this.followSymlinks) {
        this.skips.add({ path: relativePath, reason: 'excluded', detail: 'symbolic link (followSymlinks is off)' });
        return;
      }
      try {
        stats = await this.limitFsCall(() => fsp.stat(absolutePath));
      } catch (error) {
        this.skips.add({ path: relativePath, ...skipForFsError(error) });
        return;
      }
      resolved = statsKind(stats);
      if (resolved === 'directory' && this.skipIfMatched(`${relativePath}/`, directory.ignoreRules)) return;
      if (resolved !== 'directory') {
        // A directory's real path is resolved when its turn comes (walkSymlinkedDirectory).
        let linkTarget: string;
        try {
          linkTarget = await this.limitFsCall(() => fsp.realpath(absolutePath));
        } catch (error) {
          this.skips.add({ path: relativePath, ...skipForFsError(error) });
          return;
        }
        if (this.skipIfOutside(relativePath, linkTarget)) return;
      }
    } else if (this.skipIfMatched(resolved === 'directory' ? `${relativePath}/` : relativePath, directory.ignoreRules)) {
      return;
    }
    if (resolved === 'directory') {
      const subdirectory = { absolutePath, relativePath, ignoreRules: directory.ignoreRules };
      if (isSymlink) this.deferredSymlinks.push(subdirectory);
      else await this.walkRealSubdirectory({ ...subdirectory, realPath });
      return;
    }
    this.visitFile(resolved, relativePath, absolutePath, stats);
  }

  /** A file (or what a link led to) that no rule skipped: kept unless its type, extension or size rules it out. */
  private visitFile(kind: EntryKind, relativePath: string, absolutePath: string, stats?: Stats): void {
    if (kind !== 'file') {
      this.skips.add({ path: relativePath, reason: 'unreadable', detail: 'not a regular file (FIFO, socket or device)' });
      return;
    }
    if (!this.includedExtensions.has(extensionOf(relativePath))) {
      this.skips.add({ path: relativePath, reason: 'unsupported' });
      return;
    }
    try {
      // Synchronous: a promise per file through the thread pool cost ~0.4 s of CPU on 8k files (a
      // re-index that finds nothing changed is mostly this walk); a local stat takes microseconds,
      // and src/core runs off the extension host.
      stats ??= statSync(absolutePath);
    } catch (error) {
      this.skips.add({ path: relativePath, ...skipForFsError(error) });
      return;
    }
    if (stats.size > this.maxFileBytes) {
      this.skips.add({ path: relativePath, reason: 'too-large', detail: `${stats.size} bytes > ${this.maxFileBytes}` });
      return;
    }
    const file = { path: relativePath, absolutePath, size: stats.size, mtimeMs: stats.mtimeMs };
    if (this.skipIfHoldsCredential(file)) return;
    this.files.push(file);
  }

  /**
   * A page named secrets.md or credentials.html is kept as a page about secrets unless its text
   * holds one. Read here, in the walk, so that a no-change re-index and `--changed` judge it
   * alike; such pages are a handful per workspace. An unreadable one is left to the parser to skip.
   */
  private skipIfHoldsCredential(file: DiscoveredFile): boolean {
    if (this.secretRules === undefined || !NAMED_SECRET_PAGE.test(file.path)) return false;
    const read = readTextFile(file, this.maxFileBytes);
    const finding = 'text' in read ? findCredential(read.text) : undefined;
    if (finding === undefined) return false;
    this.skips.add({
      path: file.path,
      reason: 'credential',
      detail: `line ${finding.line} looks like ${finding.kind}; docent.index.allowSecretFiles lifts this`,
    });
    return true;
  }

  private async walkRealSubdirectory(subdirectory: DirectoryToWalk): Promise<void> {
    // A real directory seen before can only be reached again through a symlinked ancestor.
    const walkedAs = this.walkedDirectories.get(subdirectory.realPath);
    if (walkedAs !== undefined) {
      this.skips.add({
        path: `${subdirectory.relativePath}/`,
        reason: 'symlink-loop',
        detail: `reached through a symbolic link; same directory as ${describeWalked(walkedAs)}`,
      });
      return;
    }
    this.walkedDirectories.set(subdirectory.realPath, subdirectory.relativePath);
    await this.walkDirectory(subdirectory);
  }

  private skipIfOutside(skippedPath: string, realPath: string): boolean {
    const inside = path.relative(this.rootRealPath, realPath);
    if (inside === '' || (!inside.startsWith(`..${path.sep}`) && inside !== '..' && !path.isAbsolute(inside))) return false;
    this.skips.add({ path: skippedPath, reason: 'outside-workspace', detail: `symbolic link to ${realPath}, outside the workspace` });
    return true;
  }

  /** `testedPath` ends with '/' for a directory, so dir-only patterns apply. */
  private skipIfMatched(testedPath: string, ignoreRules: Matcher | undefined): boolean {
    // A folder's path ends in '/'; a file's is tested by the rules only when its name could match one.
    const folder = testedPath.endsWith('/');
    const secret = folder || SECRET_FILES_FILTER.couldMatch(testedPath) ? this.secretRules?.test(testedPath) : undefined;
    if (secret?.ignored) {
      this.skips.add({ path: testedPath, reason: 'excluded', detail: secret.rule?.mark });
      return true;
    }
    const ignored = ignoreRules?.test(testedPath);
    if (ignored?.ignored) {
      this.skips.add({ path: testedPath, reason: 'ignored', detail: ignored.rule?.mark });
      return true;
    }
    const excluded = folder ? this.excludeRules.test(testedPath) : this.fileExcludeFilter.couldMatch(testedPath) ? this.fileExcludeRules.test(testedPath) : undefined;
    if (excluded?.ignored) {
      this.skips.add({ path: testedPath, reason: 'excluded', detail: excluded.rule?.mark });
      return true;
    }
    return false;
  }
}

/** Keeps exact counts but only the first paths (in path order) of each reason, so memory stays bounded. */
class SkipLog {
  readonly counts: Record<SkipReason, number> = {
    ignored: 0,
    excluded: 0,
    unsupported: 0,
    'too-large': 0,
    binary: 0,
    'symlink-loop': 0,
    'outside-workspace': 0,
    unreadable: 0,
    generated: 0,
    duplicate: 0,
    credential: 0,
  };
  private readonly kept = new Map<SkipReason, SkippedFile[]>();

  add(skip: SkippedFile): void {
    this.counts[skip.reason]++;
    const kept = this.kept.get(skip.reason) ?? [];
    this.kept.set(skip.reason, kept);
    kept.push(skip.detail === undefined ? { path: skip.path, reason: skip.reason } : skip);
    // Trim in batches: sorting on every add would be quadratic.
    if (kept.length >= 2 * MAX_SKIPPED_ENTRIES_PER_REASON) trimToSmallestPaths(kept);
  }

  entries(): SkippedFile[] {
    const all: SkippedFile[] = [];
    for (const kept of this.kept.values()) {
      trimToSmallestPaths(kept);
      all.push(...kept);
    }
    return all.sort(byPath);
  }
}

function trimToSmallestPaths(skips: SkippedFile[]): void {
  skips.sort(byPath);
  skips.length = Math.min(skips.length, MAX_SKIPPED_ENTRIES_PER_REASON);
}

/**
 * Rewrites an ignore file's patterns so they match root-relative paths, which
 * lets one matcher hold the rules of every level in precedence order (deeper
 * files last, so they win) and the `ignore` package's parent-directory rule
 * sees every level's verdict, as git's does.
 */
function rebaseIgnoreFile(content: string, directory: string, ignoreFilePath: string): ignore.PatternParams[] {
  const prefix = escapeGlob(directory);
  const patterns: ignore.PatternParams[] = [];
  content
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((line, index) => {
      // Unescaped trailing spaces are not part of a pattern.
      const trimmed = line.replace(/(?<!\\) +$/, '');
      if (trimmed === '' || trimmed.startsWith('#')) return;
      const negation = trimmed.startsWith('!') ? '!' : '';
      const body = trimmed.slice(negation.length);
      // Git ignores a pattern with nothing to match ('!', '/'); rebased, it would match a whole folder.
      if (body.replace(/^\/|\/$/g, '') === '') return;
      const mark = `${ignoreFilePath}:${index + 1}: ${trimmed}`;
      if (prefix === '') {
        patterns.push({ pattern: trimmed, mark });
        return;
      }
      // A slash before the end anchors the pattern to the ignore file's directory; otherwise it matches at any depth below it.
      const anchored = body.replace(/\/$/, '').includes('/');
      const rebased = anchored ? `${prefix}/${body.replace(/^\//, '')}` : `${prefix}/**/${body}`;
      patterns.push({ pattern: `${negation}${rebased}`, mark });
    });
  return patterns;
}

/** Directory names are literal text inside a rebased pattern. */
function escapeGlob(literal: string): string {
  return literal.replace(/[\\*?[\]!#]/g, '\\$&');
}

function excludePatterns(excludes: readonly string[]): ignore.PatternParams[] {
  return excludes.flatMap((pattern) => {
    const mark = `exclude pattern: ${pattern}`;
    if (pattern.startsWith('!') || !pattern.endsWith('/**')) return [{ pattern, mark }];
    // 'x/**' matches only what is inside x; also matching x itself prunes the walk there.
    const base = pattern.slice(0, -'/**'.length);
    const directoryPattern = base.includes('/') ? `${base}/` : `/${base}/`;
    return [{ pattern, mark }, { pattern: directoryPattern, mark }];
  });
}

function direntKind(entry: Dirent): EntryKind {
  if (entry.isFile()) return 'file';
  if (entry.isDirectory()) return 'directory';
  if (entry.isSymbolicLink()) return 'symlink';
  if (entry.isFIFO() || entry.isSocket() || entry.isCharacterDevice() || entry.isBlockDevice()) return 'special';
  return 'unknown';
}

function statsKind(stats: Stats): EntryKind {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symlink';
  return 'special';
}

function skipForFsError(error: unknown): { reason: SkipReason; detail: string } {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return { reason: 'symlink-loop', detail: 'symbolic link resolves to itself' };
  if (code === 'ENOENT') return { reason: 'unreadable', detail: 'missing (dangling symbolic link or deleted during the walk)' };
  return { reason: 'unreadable', detail: errorMessage(error) };
}

function describeWalked(relativePath: string): string {
  return relativePath === '' ? 'the root folder' : `${relativePath}/`;
}

function withTrailingSeparator(absolutePath: string): string {
  return absolutePath.endsWith(path.sep) ? absolutePath : `${absolutePath}${path.sep}`;
}

function joinRelative(directory: string, name: string): string {
  return directory === '' ? name : `${directory}/${name}`;
}

/** Code unit order: the same on every machine, unlike localeCompare. */
function compareCodeUnits(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

function byPath(a: { path: string }, b: { path: string }): number {
  return compareCodeUnits(a.path, b.path);
}

/**
 * Reads a file as text, or says why it is skipped. Re-checks the size (the file
 * may have changed since discovery), treats a NUL byte in the first 8 KiB or
 * more than 10% undecodable characters as binary, strips a byte order mark and
 * keeps line endings as they are. UTF-16 is decoded when it starts with a BOM.
 * Synchronous: the indexer's parse workers read the files they parse (a read is a few
 * system calls; promises around each cost more CPU than the reading).
 */
export function readTextFile(
  file: DiscoveredFile,
  maxFileBytes: number = DEFAULT_MAX_FILE_BYTES,
): { text: string } | { skip: SkipReason; detail: string } {
  const bytes = readRegularFile(file.absolutePath, maxFileBytes);
  if (!Buffer.isBuffer(bytes)) return bytes;

  const utf16 = bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : undefined;
  if (utf16 === undefined && bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
    return { skip: 'binary', detail: 'NUL byte in the first 8 KiB' };
  }
  // TextDecoder drops a leading BOM and replaces invalid sequences with U+FFFD.
  const text = new TextDecoder(utf16 ?? 'utf-8').decode(bytes);
  let replacements = 0;
  // indexOf first: most files have none, and it is a native search rather than a loop over every character.
  for (let index = text.indexOf('\ufffd'); index >= 0; index = text.indexOf('\ufffd', index + 1)) replacements++;
  if (replacements > text.length * MAX_REPLACEMENT_CHAR_RATIO) {
    return { skip: 'binary', detail: `${replacements} of ${text.length} characters are not valid ${utf16 ?? 'utf-8'}` };
  }
  return { text };
}

/** Never blocks on a FIFO: opens non-blocking, then refuses anything but a regular file. */
function readRegularFile(absolutePath: string, maxBytes: number): Buffer | { skip: SkipReason; detail: string } {
  let fd: number;
  try {
    fd = openSync(absolutePath, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  } catch (error) {
    const { reason, detail } = skipForFsError(error);
    return { skip: reason, detail };
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return { skip: 'unreadable', detail: 'not a regular file (FIFO, socket or device)' };
    if (stats.size > maxBytes) return { skip: 'too-large', detail: `${stats.size} bytes > ${maxBytes}` };
    const chunks: Buffer[] = [];
    let total = 0;
    // Read to EOF rather than trusting the size: the file may grow while being read.
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, stats.size + 1));
      const bytesRead = readSync(fd, chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) return { skip: 'too-large', detail: `more than ${maxBytes} bytes` };
    }
    return Buffer.concat(chunks, total);
  } catch (error) {
    return { skip: 'unreadable', detail: errorMessage(error) };
  } finally {
    closeSync(fd);
  }
}

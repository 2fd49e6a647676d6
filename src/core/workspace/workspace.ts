/**
 * The workspace facade: the one place that composes src/core. It opens N folders' stores, the
 * embedder (embedderChoice.ts), one retriever over all folders and the answer pipeline; it
 * indexes through a scheduler (indexScheduler.ts), searches and answers, reports metrics, and
 * tells its front end what happens through an injected sink. The CLI, the extension's core
 * process, `docent serve` and the benchmarks are thin adapters over it.
 *
 * Everything is opened on first use (or by `open()`), so a long-lived front end can create a
 * workspace at once and pay for models and stores only when it indexes or answers. The indexer
 * and the answer pipeline are loaded by the first index run and the first answer: a process
 * that only searches (`docent query`) never loads them, their parsers or their HTTP clients.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ANSWER_CACHE_FILE } from '../pipeline/answerCacheFile.js';
import type { AnswerPipeline } from '../pipeline/answerPipeline.js';
import { citationFromHit } from '../pipeline/prompt.js';
import { exampleQuestions } from './exampleQuestions.js';
import type { Answer, AnswerEvent, AnswerRequest, Citation, LocatedCitation, MetricsSnapshot, PartialIndex } from '../pipeline/types.js';
import { defaultFusionFor, HybridRetriever } from '../search/hybrid.js';
import { MultiFolderRetriever } from '../search/multiFolderRetriever.js';
import { DocStore, type EmbedderInfo, type LastIndexRun } from '../store.js';
import type { Chunk, Embedder, RetrievalHit, SearchMode } from '../types.js';
import type { EmbedderRuntimeOptions, ResolvedEmbedder } from './embedderChoice.js';
import { IndexScheduler, type IndexRunEnd, type IndexTarget } from './indexScheduler.js';
import { runProgress, type IndexState, type IndexTotals } from './indexState.js';
import type { FolderIndexReport, WorkspaceDependencies, WorkspaceEvent, WorkspaceOptions } from './options.js';

/** The answer cache file's bound (options.answers.persistentCacheBytes; 0 keeps answers in memory only). */
export const DEFAULT_PERSISTENT_CACHE_BYTES = 8 * 1024 * 1024;

/** Index state events per second at most while a run is busy: a front end only redraws a status item. */
export const PROGRESS_INTERVAL_MS = 250;

export type WorkspaceAnswer = Omit<Answer, 'citations'> & { citations: LocatedCitation[] };

export type WorkspaceAnswerEvent = Exclude<AnswerEvent, { type: 'sources' | 'passages' }> | { type: 'sources' | 'passages'; citations: LocatedCitation[] };

/** One folder's store as `docent info` describes it. */
export interface StoreInfo {
  folder: string;
  dir: string;
  files: number;
  chunks: number;
  generation: number;
  embedder: EmbedderInfo | null;
  lastIndex?: LastIndexRun;
  /** Why the store holds only part of its folder (its last index run stopped after a checkpoint); absent when complete. */
  incomplete?: string;
}

/** Lines of one indexed file, as `readPassage` returns them. */
export interface PassageLines {
  path: string;
  startLine: number;
  /** May be less than asked: the file's end, or MAX_PASSAGE_LINES after `startLine`. */
  endLine: number;
  /** Lines in the file ('index' source: the last indexed line). */
  totalLines: number;
  text: string;
  /** 'file': the file's own lines; 'index': the indexed passages' text (a store searched without its folder). */
  source: 'file' | 'index';
}

/** Lines read at most by one `readPassage`: a passage, not a way to dump whole files. */
export const MAX_PASSAGE_LINES = 400;

/** A `readPassage` that cannot be answered: a path that is not indexed, or lines outside the file. */
export class PassageError extends Error {
  override readonly name = 'PassageError';
}

interface Opened {
  options: WorkspaceOptions;
  embedder: Embedder | undefined;
  /** Recorded in the stores so a later process makes the same embedder; absent for an injected one. */
  embedderSpec: string | undefined;
  /** Only an embedder the workspace made is disposed with it. */
  ownsEmbedder: boolean;
  stores: Map<string, DocStore>;
  retriever: MultiFolderRetriever;
  pipeline: Lazy<AnswerPipeline>;
  /** Answers running on this pipeline: a reconfiguration disposes it only after they end. */
  answering: Set<Promise<unknown>>;
}

export class Workspace {
  private options: WorkspaceOptions;
  private opened: Promise<Opened> | undefined;
  private readonly scheduler: IndexScheduler;
  private lastProgressAt = 0;
  /** Folders whose index run has listed their files but not finished (going, paused or stopped): how far it got. */
  private readonly unfinished = new Map<string, { filesCurrent: number; filesTotal: number }>();

  constructor(
    options: WorkspaceOptions,
    private readonly dependencies: WorkspaceDependencies = {},
  ) {
    this.options = options;
    this.scheduler = new IndexScheduler({
      folderNames: () => this.options.folders.map((folder) => folder.name),
      run: (take, signal) => this.runIndex(take, signal),
      ended: (end) => this.reportEnd(end),
      failed: (error) => {
        this.emit({ type: 'log', level: 'error', message: `indexing failed: ${error.stack ?? String(error)}` });
        this.emit({ type: 'indexState', state: { state: 'error', percent: 0, files: 0, chunks: 0, message: error.message } });
      },
    });
  }

  /** A workspace whose stores and embedder are open: a missing or corrupt store rejects here (StoreError). */
  static async open(options: WorkspaceOptions, dependencies?: WorkspaceDependencies): Promise<Workspace> {
    const workspace = new Workspace(options, dependencies);
    await workspace.ensureOpened();
    return workspace;
  }

  /**
   * Applies new options. A change of folders, embedder, device or search settings reopens the
   * stores (after the index run using them has stopped) and re-indexes every folder; any other
   * change only rebuilds the answer pipeline. Answers in flight finish on the pipeline they started with.
   */
  async reconfigure(options: WorkspaceOptions): Promise<void> {
    const previous = this.options;
    this.options = options;
    if (!this.opened) return;
    const reopen = JSON.stringify(storeShaping(previous)) !== JSON.stringify(storeShaping(options));
    const old = this.opened;
    if (reopen) {
      // The old stores' run must have stopped (and finished any commit) before new stores open the same folders.
      this.opened = this.scheduler.stop().then(() => {
        this.unfinished.clear();
        return this.openAll(options);
      });
    } else {
      this.opened = old.then(async (opened) => {
        const previous = await opened.pipeline.made?.catch(() => undefined);
        const pipeline = new Lazy(() => this.createPipeline(options, opened, previous));
        // A pipeline in use is replaced at once, as its metrics continue in the new one.
        if (previous) await pipeline.get();
        return { ...opened, options, pipeline, answering: new Set() };
      });
    }
    const replaced = await old.catch(() => undefined);
    await this.retire(replaced, reopen);
    if (reopen) void this.index();
  }

  // ---- indexing ----

  /**
   * Brings the stores of these folders (all when absent) up to date with their files, through
   * the scheduler: one run at a time, requests made meanwhile join the next run. Settles with
   * one report per folder indexed; rejects with the run's error, or an AbortError when it is
   * cancelled, paused or `signal` aborts. Front ends that follow the `indexState` events need
   * not await it.
   */
  index(folders?: string[], signal?: AbortSignal): Promise<FolderIndexReport[]> {
    signal?.addEventListener('abort', () => this.scheduler.cancel(), { once: true });
    return this.scheduler.request(folders);
  }

  /**
   * Brings only these paths of one folder up to date (files created, modified or deleted, or
   * deleted folders; absolute or relative to its root), as a file watcher or an editor's save
   * reports them: no walk of the rest of the folder (see IndexOptions.changedPaths). Through the
   * scheduler, as `index`.
   */
  indexChanged(folder: string, paths: readonly string[], signal?: AbortSignal): Promise<FolderIndexReport[]> {
    // Folders are named, not located: a root passed here would be dropped silently by the scheduler.
    if (!this.options.folders.some((known) => known.name === folder)) return Promise.reject(new Error(`no workspace folder named ${folder}`));
    signal?.addEventListener('abort', () => this.scheduler.cancel(), { once: true });
    return this.scheduler.requestChanged(folder, paths);
  }

  pauseIndexing(): void {
    this.scheduler.pause();
  }

  resumeIndexing(): void {
    this.scheduler.resume();
  }

  cancelIndexing(): void {
    this.scheduler.cancel();
  }

  // ---- questions ----

  /** Best passages first, over every folder (paths prefixed with the folder's name when there are several). */
  async search(query: string, options: { k: number; signal?: AbortSignal; mode?: SearchMode; explain?: boolean }): Promise<RetrievalHit[]> {
    return (await this.ensureOpened()).retriever.search(query, options);
  }

  /** The best passages as numbered citations, each located in its folder as an answer's citations are (for agents' tools). */
  async searchPassages(query: string, options: { k: number; signal?: AbortSignal }): Promise<LocatedCitation[]> {
    const opened = await this.ensureOpened();
    const hits = await opened.retriever.search(query, options);
    return hits.map((hit, i) => locatedCitation(opened.retriever, citationFromHit(hit, i + 1)));
  }

  /**
   * Answers through the pipeline (cache, retrieval, backend or retrieval-only); citations say
   * which folder they lie in. A question asked before anything was ever indexed waits for the
   * first index run (when the folders' roots are known).
   */
  async ask(request: AnswerRequest, onEvent?: (event: WorkspaceAnswerEvent) => void): Promise<WorkspaceAnswer> {
    const opened = await this.ensureOpened();
    const neverIndexed = [...opened.stores.values()].every((store) => store.generation === 0);
    if (neverIndexed && !this.scheduler.isPaused && opened.options.folders.every((folder) => folder.root)) {
      // An empty or failed first run still answers (with nothing found), as any later question would.
      await this.index().catch(() => undefined);
    }
    const locate = (citation: Citation): LocatedCitation => locatedCitation(opened.retriever, citation);
    const pipeline = await opened.pipeline.get();
    const answering = pipeline.ask(
      request,
      onEvent && ((event) => onEvent(event.type === 'sources' || event.type === 'passages' ? { type: event.type, citations: event.citations.map(locate) } : event)),
    );
    opened.answering.add(answering);
    try {
      const answer = await answering;
      return { ...answer, citations: answer.citations.map(locate) };
    } finally {
      opened.answering.delete(answering);
    }
  }

  // ---- what front ends show ----

  /** The pipeline's metrics (null until the workspace is open) and the index totals. */
  async metrics(): Promise<{ metrics: MetricsSnapshot | null; totals: IndexTotals }> {
    const opened = await this.opened?.catch(() => undefined);
    const pipeline = await opened?.pipeline.get().catch(() => undefined);
    return { metrics: pipeline?.metrics() ?? null, totals: opened ? totalsOf(opened) : { files: 0, chunks: 0 } };
  }

  async storeInfo(): Promise<StoreInfo[]> {
    const opened = await this.ensureOpened();
    return opened.options.folders.map((folder) => {
      const store = opened.stores.get(folder.name)!;
      // A search reads (and verifies) only the parts it needs; describing a store checks all of it.
      store.verify();
      return {
        folder: folder.name,
        dir: store.dir,
        files: store.fileCount,
        chunks: store.chunkCount,
        generation: store.generation,
        embedder: store.embedder,
        ...(store.lastIndex ? { lastIndex: store.lastIndex } : {}),
        ...incompleteness(store),
      };
    });
  }

  /** Every indexed passage, paths as search returns them. */
  async chunks(): Promise<Readonly<Chunk>[]> {
    const opened = await this.ensureOpened();
    const prefixed = opened.retriever.prefixed;
    return [...opened.stores].flatMap(([name, store]) =>
      [...store.allChunks()].map((chunk) => (prefixed ? { ...chunk, path: `${name}/${chunk.path}` } : chunk)),
    );
  }

  /**
   * Lines `startLine`..`endLine` (1-based, inclusive) of a file of the index, `filePath` as search
   * returns it. Only indexed files can be read, so no path leads outside the indexed folders.
   */
  async readPassage(filePath: string, startLine: number, endLine: number): Promise<PassageLines> {
    const opened = await this.ensureOpened();
    const located = opened.retriever.locate(filePath);
    const folder = located && opened.options.folders.find((candidate) => candidate.name === located.folder.name);
    const entry = located && folder && opened.stores.get(folder.name)?.file(located.path);
    if (!located || !folder || !entry) throw new PassageError(`"${filePath}" is not an indexed file; use a path from the search results`);
    if (!Number.isInteger(startLine) || !Number.isInteger(endLine) || startLine < 1 || endLine < startLine) {
      throw new PassageError(`lines ${startLine}-${endLine} are not a range: give 1 <= startLine <= endLine`);
    }
    const last = Math.min(endLine, startLine + MAX_PASSAGE_LINES - 1);
    if (folder.root) {
      const lines = (await fs.readFile(path.join(folder.root, located.path), 'utf8')).split(/\r?\n/);
      if (lines.at(-1) === '') lines.pop();
      if (startLine > lines.length) throw new PassageError(`${filePath} has ${lines.length} lines; startLine ${startLine} is past its end`);
      const end = Math.min(last, lines.length);
      return { path: filePath, startLine, endLine: end, totalLines: lines.length, text: lines.slice(startLine - 1, end).join('\n'), source: 'file' };
    }
    const store = opened.stores.get(folder.name)!;
    const chunks = entry.chunkIds.map((id) => store.chunk(id)!).sort((a, b) => a.startLine - b.startLine);
    const totalLines = Math.max(0, ...chunks.map((chunk) => chunk.endLine));
    if (startLine > totalLines) throw new PassageError(`${filePath} has ${totalLines} indexed lines; startLine ${startLine} is past its end`);
    const overlapping = chunks.filter((chunk) => chunk.endLine >= startLine && chunk.startLine <= last);
    return {
      path: filePath,
      startLine,
      endLine: Math.min(last, totalLines),
      totalLines,
      text: overlapping.map((chunk) => chunk.text).join('\n\n'),
      source: 'index',
    };
  }

  /** Questions for an empty chat, from this workspace's own headings (exampleQuestions.ts). */
  async exampleQuestions(count = 3): Promise<string[]> {
    const opened = await this.ensureOpened();
    return exampleQuestions([...opened.stores.values()].flatMap((store) => [...store.allChunks()]), count);
  }

  clearCache(): void {
    void this.opened?.then((opened) => opened.pipeline.get()).then((pipeline) => pipeline.clearCache(), () => undefined);
  }

  /** Stops indexing, lets answers in flight finish, and releases the pipeline and the embedder. */
  async close(): Promise<void> {
    this.scheduler.cancel();
    await this.scheduler.stop();
    await this.retire(await this.opened?.catch(() => undefined), true);
    this.opened = undefined;
  }

  // ---- internals ----

  private emit(event: WorkspaceEvent): void {
    this.dependencies.sink?.(event);
  }

  private ensureOpened(): Promise<Opened> {
    this.opened ??= this.openAll(this.options);
    return this.opened;
  }

  private async openAll(options: WorkspaceOptions): Promise<Opened> {
    const injected = this.dependencies.embedder;
    const runtime = { device: options.device, deviceId: options.deviceId, workers: options.embeddingWorkers };
    // A model named by the caller is checked before any store folder is created.
    let resolved = injected || options.embedder === undefined ? undefined : await embedderFor(options.embedder, runtime);
    const stores = new Map<string, DocStore>();
    try {
      for (const folder of options.folders) {
        const store = await DocStore.open(folder.storeDir, { create: options.createStores ?? false, keywordOptions: options.search?.keyword });
        if (store.notice) this.emit({ type: 'log', level: 'warn', message: store.notice });
        // A front end that only searches needs every segment: read them before any answer's stage timers start.
        if (!options.createStores) store.load();
        stores.set(folder.name, store);
      }
    } catch (error) {
      await resolved?.embedder?.dispose();
      throw error;
    }
    // No model named: an existing index keeps the model its vectors came from (query vectors must
    // match them, and an update must not re-embed every passage with another model); a store an
    // indexing front end has never committed to gets the default one.
    if (!injected && !resolved) {
      const first = stores.get(options.folders[0]?.name ?? '');
      const fresh = options.createStores && first?.generation === 0;
      resolved = await embedderFor(first?.embedder?.spec ?? (fresh ? 'default' : 'none'), runtime);
    }
    const embedder = injected ?? resolved?.embedder;
    const fusion = { ...defaultFusionFor(embedder?.id), ...options.search?.fusion };
    const retriever = new MultiFolderRetriever(
      options.folders.map((folder) => ({ name: folder.name, retriever: new HybridRetriever(stores.get(folder.name)!, embedder, fusion) })),
    );
    const partial = { options, embedder, embedderSpec: resolved?.spec, ownsEmbedder: !injected, stores, retriever };
    return { ...partial, pipeline: new Lazy(() => this.createPipeline(options, partial)), answering: new Set() };
  }

  /** `previous`: the pipeline being replaced, whose metrics the new one continues (Show Metrics survives a settings change). */
  private async createPipeline(options: WorkspaceOptions, parts: Pick<Opened, 'retriever' | 'embedder' | 'stores'>, previous?: AnswerPipeline): Promise<AnswerPipeline> {
    const [{ AnswerPipeline }, { withServedModel }] = await Promise.all([import('../pipeline/answerPipeline.js'), import('../pipeline/backend.js')]);
    const answers = options.answers ?? {};
    const persistentBytes = answers.persistentCacheBytes ?? DEFAULT_PERSISTENT_CACHE_BYTES;
    const first = options.folders[0];
    const persistent =
      first && persistentBytes > 0
        ? {
            file: path.join(first.storeDir, ANSWER_CACHE_FILE),
            maxBytes: persistentBytes,
            scope: JSON.stringify(options.folders.map((folder) => [folder.name, path.resolve(folder.storeDir)])),
          }
        : undefined;
    const pipeline = new AnswerPipeline({
      ...(previous ? { metrics: previous.recorder } : {}),
      retriever: parts.retriever,
      embedder: parts.embedder,
      chatBackend: answers.editorModel !== undefined ? this.dependencies.editorBackend?.(answers.editorModel) : undefined,
      backend: answers.backend && answers.editorModel === undefined ? await withServedModel(answers.backend) : undefined,
      limits: answers.limits,
      cacheOptions: { ...answers.cache, persistent },
      timeouts: answers.timeouts,
      partialIndex: () => this.partialIndex(parts.stores),
      logger: {
        info: (message) => this.emit({ type: 'log', level: 'info', message }),
        warn: (message) => this.emit({ type: 'log', level: 'warn', message }),
      },
    });
    await pipeline.loadPersistentCache();
    return pipeline;
  }

  /** Disposes a replaced pipeline once its answers end, and with `embedderToo` the embedder it made. */
  private async retire(opened: Opened | undefined, embedderToo: boolean): Promise<void> {
    if (!opened) return;
    await Promise.allSettled([...opened.answering]);
    await (await opened.pipeline.made?.catch(() => undefined))?.dispose();
    if (embedderToo && opened.ownsEmbedder) await opened.embedder?.dispose();
  }

  private async runIndex(take: () => IndexTarget[], signal: AbortSignal): Promise<FolderIndexReport[]> {
    const opened = await this.ensureOpened();
    const [{ indexFolder }, { DEFAULT_EXCLUDES, refusedIncludeEntry }] = await Promise.all([import('../indexer.js'), import('../discovery.js')]);
    const startedAt = Date.now();
    const targets = new Map(take().map((target) => [target.folder, target.changedPaths]));
    const folders = opened.options.folders.filter((folder) => targets.has(folder.name));
    const list = folders.map((folder) => folder.name).join(', ');
    this.emit({ type: 'log', level: 'info', message: `indexing ${list} (embeddings: ${opened.embedder?.id ?? 'none, keyword search only'})` });
    // Shown at once: discovery and the model's first load can take a while on a busy machine.
    this.emit({ type: 'indexState', state: { state: 'indexing', percent: 0, ...totalsOf(opened), ...this.partialOf(opened) } });
    const indexing = opened.options.indexing ?? {};
    const include = (indexing.include ?? []).filter((entry) => {
      const refused = refusedIncludeEntry(entry);
      if (refused !== undefined) this.emit({ type: 'log', level: 'warn', message: refused });
      return refused === undefined;
    });
    const reports: FolderIndexReport[] = [];
    for (const [i, folder] of folders.entries()) {
      if (!folder.root) throw new Error(`the workspace folder ${folder.name} has no root to index (only its store ${folder.storeDir} is known)`);
      const report = await indexFolder(folder.root, opened.stores.get(folder.name)!, {
        embedder: opened.embedder,
        embedderSpec: opened.embedderSpec,
        discovery: {
          exclude: [...(indexing.defaultExcludes === false ? [] : DEFAULT_EXCLUDES), ...(indexing.exclude ?? [])],
          include: include.length > 0 ? include : undefined,
          includeGlobs: indexing.includeGlobs,
          maxFileBytes: indexing.maxFileBytes,
          allowSecretFiles: indexing.allowSecretFiles,
        },
        chunking: indexing.chunking,
        checkpointFiles: indexing.checkpointFiles,
        changedPaths: targets.get(folder.name),
        signal,
        onSkip: (path, reason, detail) => this.emit({ type: 'fileSkipped', folder: folder.name, path, reason, detail }),
        onProgress: (progress) => {
          if (progress.phase !== 'discovering') this.unfinished.set(folder.name, { filesCurrent: progress.filesCurrent, filesTotal: progress.filesTotal });
          this.emit({ type: 'fileProgress', folder: folder.name, progress });
          const now = Date.now();
          if (now - this.lastProgressAt < PROGRESS_INTERVAL_MS && (progress.phase === 'indexing' || progress.phase === 'graph')) return;
          this.lastProgressAt = now;
          this.emit({ type: 'indexState', state: { state: 'indexing', ...runProgress(progress, i, folders.length), ...totalsOf(opened), ...this.partialOf(opened) } });
        },
      });
      this.unfinished.delete(folder.name);
      reports.push({ folder: folder.name, report });
    }
    const totals = totalsOf(opened);
    this.emit({ type: 'log', level: 'info', message: `indexed ${list}: ${totals.files} files, ${totals.chunks} passages in ${((Date.now() - startedAt) / 1000).toFixed(1)} s` });
    return reports;
  }

  private async reportEnd(end: IndexRunEnd): Promise<void> {
    const opened = await this.opened?.catch(() => undefined);
    const state: IndexState = { state: end, percent: end === 'ready' ? 100 : 0, ...(opened ? { ...totalsOf(opened), ...this.partialOf(opened) } : { files: 0, chunks: 0 }) };
    this.emit({ type: 'indexState', state });
  }

  private partialOf(opened: Opened): { partial?: PartialIndex } {
    const partial = this.partialIndex(opened.stores);
    return partial ? { partial } : {};
  }

  /**
   * How much of the workspace the stores cover, when not all of it: a folder counts as covered
   * once its last run finished; one whose run stopped partway (or was never run) as far as it got.
   */
  private partialIndex(stores: Map<string, DocStore>): PartialIndex | undefined {
    let filesIndexed = 0;
    let filesTotal: number | undefined = 0;
    let partial = false;
    for (const [name, store] of stores) {
      const run = this.unfinished.get(name);
      const finished = !run && store.generation > 0 && incompleteness(store).incomplete === undefined;
      filesIndexed += run ? run.filesCurrent : store.fileCount;
      // A store a run left partway through knows its files but not how many the folder holds.
      if (filesTotal !== undefined) filesTotal = run ? filesTotal + run.filesTotal : finished ? filesTotal + store.fileCount : undefined;
      partial ||= run ? run.filesCurrent < run.filesTotal : !finished;
    }
    if (!partial) return undefined;
    const state = this.scheduler.isPaused ? 'paused' : this.scheduler.isRunning ? 'indexing' : 'stopped';
    return { state, filesIndexed, ...(filesTotal !== undefined ? { filesTotal } : {}) };
  }
}

/** A value made on its first `get()`; `made` is undefined until then. */
class Lazy<T> {
  made: Promise<T> | undefined;

  constructor(private readonly make: () => Promise<T>) {}

  get(): Promise<T> {
    this.made ??= this.make();
    return this.made;
  }
}

function locatedCitation(retriever: MultiFolderRetriever, citation: Citation): LocatedCitation {
  const located = retriever.locate(citation.path);
  return {
    n: citation.n,
    // Only a multi-root workspace needs to say which folder; one folder's name is noise in every label.
    folder: retriever.prefixed ? (located?.folder.name ?? '') : '',
    path: located?.path ?? citation.path,
    startLine: citation.startLine,
    endLine: citation.endLine,
    ...(citation.heading ? { heading: citation.heading } : {}),
    text: citation.text,
  };
}

/** The options the stores, the embedder and the retriever depend on: a change means reopening them. */
/** The embedder `choice` names: the embedding modules (ONNX sessions, worker threads) load only for one, never for a keyword-only store. */
async function embedderFor(choice: string, runtime: EmbedderRuntimeOptions): Promise<ResolvedEmbedder> {
  return choice === 'none' ? { embedder: undefined, spec: choice } : (await import('./embedderChoice.js')).resolveEmbedder(choice, runtime);
}

function storeShaping(options: WorkspaceOptions): unknown[] {
  return [options.folders, options.createStores, options.embedder, options.device, options.deviceId, options.embeddingWorkers, options.search];
}

function incompleteness(store: DocStore): { incomplete?: string } {
  const last = store.lastIndex;
  // Stores written before runs recorded their generation count as complete once a run finished.
  const finished = store.generation === 0 || (last !== undefined && (last.generation === undefined || last.generation === store.generation));
  if (finished) return {};
  return {
    incomplete: last
      ? `the index run after ${last.finishedAt} stopped before it finished (cancelled or killed after a checkpoint); files it had not reached keep their older version or are missing`
      : 'the first index run stopped before it finished (cancelled or killed after a checkpoint); only the files it reached are indexed',
  };
}

function totalsOf(opened: Opened): IndexTotals {
  let files = 0;
  let chunks = 0;
  for (const store of opened.stores.values()) {
    files += store.fileCount;
    chunks += store.chunkCount;
  }
  const runtime = opened.embedder?.runtime?.() ?? [...opened.stores.values()].find((store) => store.lastIndex?.runtime)?.lastIndex?.runtime;
  return { files, chunks, ...(runtime ? { device: runtime.kind, provider: runtime.provider } : {}) };
}

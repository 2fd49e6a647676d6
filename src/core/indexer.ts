/**
 * Brings a store up to date with a folder: only files whose content hash changed are parsed,
 * chunked and embedded; deleted files are dropped. Work is committed in checkpoints, so an
 * interrupted run keeps what it finished and the next run picks up the rest.
 */
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { DEFAULT_CHUNKING, type ChunkingOptions } from './chunker.js';
import { embeddingTextOf } from './chunkText.js';
import { collectGarbage } from './collectGarbage.js';
import { discoverChangedPaths, discoverFiles, type DiscoveredFile, type DiscoveryOptions, type DiscoveryResult, type SkipReason } from './discovery.js';
import { relatesGeneratedCopies } from './generatedPages.js';
import type { FileParser, PreparedFile } from './fileParser.js';
import type { DocStore } from './store.js';
import type { Embedder, EmbedderRuntime } from './types.js';
import { monotonicMs } from './clock.js';

/**
 * A checkpoint is due after this much new passage text or this long: a commit writes only the
 * new segment and the catalog, so an interrupted run loses at most this much work. Each segment
 * is merged again later, so smaller ones cost merges: 4 MiB wrote 446 MB for a 135 MiB store
 * and 8 MiB 299 MB. 16 MiB went past 500 MB of peak RSS until each checkpoint was followed by a
 * full garbage collection (collectGarbage.ts); with it, against 8 MiB without, peak RSS 458 → 404 MiB
 * and CPU −4.6% over 8 alternating pairs of a 137 MB corpus (BENCHMARKS.md, 2026-12-08).
 */
const CHECKPOINT_BYTES = 16 * 1024 * 1024;
const CHECKPOINT_MS = 10_000;
/**
 * Files handed to the parsers (which read them) ahead of the one being added, at most this many
 * and this many bytes: the workers keep parsing while this thread writes a checkpoint or merges
 * segments (up to ~1.5 s, ~10–20 MB of source for two workers), and what they made waits here;
 * the bytes bound what waits when the files are large. 64 files / 4 MiB ran dry during commits:
 * the run kept 1.75 of 2 cores busy, 512 / 24 MiB keeps 1.88 (BENCHMARKS.md, lead 2026-12-04).
 */
const READ_AHEAD = 512;
const READ_AHEAD_BYTES = 24 * 1024 * 1024;
/** From this many files to parse on, worker threads parse them (below it, their start-up costs more than they save). */
const WORKER_FILES = 64;
/**
 * Parse threads: parsing is most of a run's CPU and the indexer's own thread is idle half the
 * time, so two keep two cores busy; more would add memory (each keeps a term dictionary) for
 * cores a laptop does not have.
 */
const PARSE_THREADS = Math.max(1, Math.min(2, availableParallelism()));

export interface IndexProgress {
  /** 'graph': the run's last commit builds HNSW graphs of large segments (in a worker thread). */
  phase: 'discovering' | 'indexing' | 'committing' | 'graph' | 'done';
  filesDone: number;
  filesTotal: number;
  /** Files of `filesTotal` the store holds as they are now: unchanged ones from the start, the others once reached. */
  filesCurrent: number;
  currentFile?: string;
  /** In phase 'graph': vectors added to the graph being built, of `total`. */
  graph?: { added: number; total: number };
}

export interface IndexOptions {
  discovery?: Omit<DiscoveryOptions, 'signal'>;
  chunking?: ChunkingOptions;
  embedder?: Embedder;
  /** Recorded in the store so a later process can make the same embedder (see EmbedderInfo.spec). */
  embedderSpec?: string;
  signal?: AbortSignal;
  onProgress?: (progress: IndexProgress) => void;
  /** Also commit a checkpoint after this many changed files (default: by size and time only). */
  checkpointFiles?: number;
  /** Called for each file skipped at read or parse time, with the reason. */
  onSkip?: (path: string, reason: SkipReason | 'parse-error', detail: string) => void;
  /**
   * Only these paths changed (files created, modified or deleted, or deleted folders; absolute or
   * relative to the root): they alone are judged by the discovery rules, read and indexed, with
   * no walk of the folder. The whole folder is walked instead when a path's fate depends on other
   * files (IndexReport.fullWalk says why). Paths outside the root are not the folder's: ignored.
   */
  changedPaths?: readonly string[];
}

export interface IndexReport {
  filesIndexed: number;
  filesUnchanged: number;
  filesDeleted: number;
  filesSkipped: number;
  skippedByReason: Record<string, number>;
  /** The skipped files and folders by name, reason and detail (discovery keeps at most MAX_SKIPPED_ENTRIES_PER_REASON per reason). */
  skipped: { path: string; reason: SkipReason | 'parse-error'; detail?: string }[];
  chunks: number;
  chunksAdded: number;
  seconds: number;
  embedder: { id: string; dimensions: number } | null;
  /** Provider, fallback reasons and throughput of the embedder, when it ran. */
  embedderRuntime?: EmbedderRuntime;
  reembedded: boolean;
  generation: number;
  /** With `changedPaths`: why the whole folder was walked after all; absent when only those paths were judged. */
  fullWalk?: string;
}

/** Holds the store's writer lock for the whole run (a StoreError when another process is writing it). */
export async function indexFolder(root: string, store: DocStore, options: IndexOptions = {}): Promise<IndexReport> {
  await store.lockForWriting();
  try {
    return await indexLocked(root, store, options);
  } finally {
    await store.unlock();
  }
}

async function indexLocked(root: string, store: DocStore, options: IndexOptions): Promise<IndexReport> {
  const started = monotonicMs();
  const { embedder, signal, onProgress } = options;
  const chunking = options.chunking ?? DEFAULT_CHUNKING;
  const checkpointFiles = options.checkpointFiles ?? Infinity;

  // A different embedding model means every stored vector is from the wrong space: re-embed all.
  const wanted = embedder ? { id: embedder.id, dimensions: embedder.dimensions, spec: options.embedderSpec } : null;
  const reembedded = store.embedder?.id !== wanted?.id || store.embedder?.dimensions !== wanted?.dimensions;
  if (reembedded) {
    store.resetVectors(wanted);
    if (embedder && store.chunkCount > 0) {
      const all = [...store.allChunks()];
      for (let i = 0; i < all.length; i += 256) {
        const batch = all.slice(i, i + 256);
        const vectors = await embedder.embed(batch.map(embeddingTextOf), signal);
        batch.forEach((chunk, j) => store.setVector(chunk.id, vectors[j]!));
      }
    }
  }

  onProgress?.({ phase: 'discovering', filesDone: 0, filesTotal: 0, filesCurrent: 0 });
  const discovery = await filesToUpdate(root, store, options);
  const skippedByReason: Record<string, number> = { ...discovery.skippedByReason };
  const skipped: IndexReport['skipped'] = [...discovery.skipped];

  let filesDeleted = 0;
  for (const known of discovery.removed) {
    store.removeFile(known);
    filesDeleted++;
  }

  let filesIndexed = 0;
  let filesUnchanged = 0;
  let chunksAdded = 0;
  let sinceCheckpoint = filesDeleted;
  let checkpointAt = monotonicMs();
  const total = discovery.files.length;
  const statUnchanged = (file: DiscoveredFile): boolean => store.hasFileStat(file.path, file.size, file.mtimeMs);
  let current = discovery.files.filter(statUnchanged).length;
  const parserOptions = { chunking, keyword: store.keywordOptions, maxFileBytes: options.discovery?.maxFileBytes, embeddingTexts: embedder !== undefined };
  const inWorker = total - current >= WORKER_FILES;
  // Loaded by the first file to parse: a run that finds nothing changed never loads the parsers.
  let parser: Promise<FileParser> | undefined;
  const parserOf = (): Promise<FileParser> =>
    (parser ??= inWorker
      ? import('./parseThreads.js').then(({ workerParser }) => workerParser(parserOptions, PARSE_THREADS))
      : import('./fileParser.js').then(({ inlineParser }) => inlineParser(parserOptions)));
  // Unchanged content is not parsed (a file's catalog entry changes only at its own turn).
  const prepare = (file: DiscoveredFile): Promise<PreparedFile> => parserOf().then((loaded) => loaded.prepare(file, store.file(file.path)?.hash));
  const reads = new Map<number, Promise<PreparedFile>>();
  let readFrom = 0;
  let readAheadBytes = 0;
  try {
    for (let done = 0; done < total; done++) {
      signal?.throwIfAborted();
      const file = discovery.files[done]!;
      onProgress?.({ phase: 'indexing', filesDone: done, filesTotal: total, filesCurrent: current, currentFile: file.path });
      if (statUnchanged(file)) {
        filesUnchanged++;
        continue;
      }
      const known = store.file(file.path);
      // Counted from the next event on, which comes once this file is done.
      current++;
      for (readFrom = Math.max(readFrom, done); readFrom < total && reads.size < READ_AHEAD && readAheadBytes < READ_AHEAD_BYTES; readFrom++) {
        const next = discovery.files[readFrom]!;
        if (statUnchanged(next)) continue;
        const reading = prepare(next);
        // An aborted run leaves reads nobody awaits.
        reading.catch(() => undefined);
        reads.set(readFrom, reading);
        readAheadBytes += next.size;
      }
      const ahead = reads.get(done);
      if (ahead) readAheadBytes -= file.size;
      const prepared = await (ahead ?? prepare(file));
      reads.delete(done);
      if ('skip' in prepared) {
        skippedByReason[prepared.skip] = (skippedByReason[prepared.skip] ?? 0) + 1;
        skipped.push({ path: file.path, reason: prepared.skip, detail: prepared.detail });
        options.onSkip?.(file.path, prepared.skip, prepared.detail);
        if (known) store.removeFile(file.path);
        continue;
      }
      const { hash } = prepared;
      if (!prepared.parsed) {
        store.touchFile(file.path, { size: file.size, mtimeMs: file.mtimeMs });
        filesUnchanged++;
        continue;
      }
      const { parsed } = prepared;
      if ('error' in parsed) {
        skippedByReason['parse-error'] = (skippedByReason['parse-error'] ?? 0) + 1;
        skipped.push({ path: file.path, reason: 'parse-error', detail: parsed.error });
        options.onSkip?.(file.path, 'parse-error', parsed.error);
        continue;
      }
      const count = parsed.drafts.ends.length;
      const vectors = embedder && count > 0 ? await embedder.embed(parsed.embeddingTexts!, signal) : null;
      store.removeFile(file.path);
      store.addFile(file.path, { hash, size: file.size, mtimeMs: file.mtimeMs }, parsed.drafts, vectors, parsed.keyword);
      filesIndexed++;
      chunksAdded += count;
      sinceCheckpoint++;
      if (sinceCheckpoint >= checkpointFiles || store.uncommittedBytes >= CHECKPOINT_BYTES || monotonicMs() - checkpointAt >= CHECKPOINT_MS) {
        onProgress?.({ phase: 'committing', filesDone: done + 1, filesTotal: total, filesCurrent: current });
        await store.commit();
        // Its segment and merges are garbage now; freed here rather than piling up to the run's peak.
        collectGarbage();
        sinceCheckpoint = 0;
        checkpointAt = monotonicMs();
      }
    }
  } finally {
    await (await parser)?.close();
  }
  const runtime = embedder?.runtime?.();
  // A store left at a checkpoint of an unfinished run is committed again, so that it reads as complete.
  const leftAtCheckpoint = store.generation > 0 && store.lastIndex?.generation !== store.generation;
  if (sinceCheckpoint > 0 || reembedded || store.generation === 0 || leftAtCheckpoint || (runtime && !store.lastIndex?.runtime)) {
    // commit() makes the next generation.
    store.lastIndex = { finishedAt: new Date().toISOString(), seconds: (monotonicMs() - started) / 1000, runtime, generation: store.generation + 1 };
    onProgress?.({ phase: 'committing', filesDone: total, filesTotal: total, filesCurrent: total });
    await store.commit({
      signal,
      onGraphProgress: onProgress && (({ added, total: vectors }) => onProgress({ phase: 'graph', filesDone: total, filesTotal: total, filesCurrent: total, graph: { added, total: vectors } })),
    });
  }
  onProgress?.({ phase: 'done', filesDone: total, filesTotal: total, filesCurrent: total });
  const filesSkipped = Object.values(skippedByReason).reduce((sum, count) => sum + count, 0);
  return {
    filesIndexed,
    filesUnchanged,
    filesDeleted,
    filesSkipped,
    skippedByReason,
    skipped,
    chunks: store.chunkCount,
    chunksAdded,
    seconds: (monotonicMs() - started) / 1000,
    embedder: store.embedder,
    embedderRuntime: runtime,
    reembedded: reembedded && store.chunkCount > 0,
    generation: store.generation,
    ...(discovery.fullWalk ? { fullWalk: discovery.fullWalk } : {}),
  };
}

/** The files to bring up to date and the indexed paths to drop: the whole folder's, or only the changed paths'. */
async function filesToUpdate(root: string, store: DocStore, options: IndexOptions): Promise<DiscoveryResult & { removed: string[]; fullWalk?: string }> {
  const discoveryOptions = { ...options.discovery, signal: options.signal };
  let fullWalk: string | undefined;
  if (options.changedPaths) {
    const scope = changedScope(root, store, options.changedPaths);
    const found = typeof scope === 'string' ? { fullWalk: scope } : await discoverChangedPaths(root, scope, discoveryOptions);
    if ('fullWalk' in found) fullWalk = found.fullWalk;
    else {
      let indexedPaths: string[] | undefined;
      const indexed = () => (indexedPaths ??= store.filePaths());
      // A deleted folder: every indexed file under it goes too.
      const removed = found.gone.flatMap((gone) => (store.file(gone) ? [gone] : indexed().filter((known) => known.startsWith(`${gone}/`))));
      const discovered = new Set(found.files.map((file) => file.path));
      fullWalk = generatedCopyChange([...found.files.map((file) => file.path), ...removed], (known) => (store.file(known) !== undefined) !== discovered.has(known), (known) =>
        [...found.besideSphinxSources].some((beside) => known === beside || known.startsWith(`${beside}/`)),
      );
      if (!fullWalk) return { ...found, removed };
    }
  }
  const discovery = await discoverFiles(root, discoveryOptions);
  const present = new Set(discovery.files.map((file) => file.path));
  return { ...discovery, removed: store.filePaths().filter((known) => !present.has(known)), ...(fullWalk ? { fullWalk } : {}) };
}

/** The changed paths relative to the root ('/' separators), or why the whole folder must be walked. */
function changedScope(root: string, store: DocStore, changedPaths: readonly string[]): string[] | string {
  const last = store.lastIndex;
  if (store.generation === 0) return 'the folder was never indexed';
  // A run that stopped after a checkpoint left files it had not reached: only a walk finds them.
  if (!last || (last.generation !== undefined && last.generation !== store.generation)) return 'the last index run did not finish';
  const relative: string[] = [];
  for (const changed of changedPaths) {
    const inside = path.relative(root, path.resolve(root, changed));
    if (inside === '') return 'the folder itself changed';
    if (inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) continue;
    relative.push(inside.split(path.sep).join('/'));
  }
  return relative;
}

/**
 * Why the paths judged change another file's fate through the generated-copy rules (a Sphinx
 * source copy is dropped while its page is indexed; a Sphinx folder's index pages are dropped),
 * which only a walk of the whole folder settles; undefined when they do not.
 */
function generatedCopyChange(paths: string[], presenceChanged: (path: string) => boolean, besideSphinxSources: (path: string) => boolean): string | undefined {
  for (const changed of paths) {
    if (relatesGeneratedCopies(changed)) return `${changed} is a Sphinx source copy or generated page`;
    if (/\.html?$/i.test(changed) && presenceChanged(changed) && besideSphinxSources(changed)) return `${changed} came or went beside Sphinx source copies`;
  }
  return undefined;
}

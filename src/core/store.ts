/**
 * The on-disk index of one folder: SEGMENTS (each checkpoint writes one: the passages it added
 * with their keyword documents and vectors, and tombstones for what it removed), a catalog
 * of the indexed files, and `manifest.json` naming the current generation's catalog and
 * segments with the size and SHA-256 of each (and of itself). A commit writes only the new
 * segment and catalog (each temp → fsync → rename; while few files changed since the last whole
 * catalog, a delta of those beside it instead), then swaps the manifest the same way; a
 * new segment at least half the size of the one before it is merged into it, so segments stay
 * few and each passage is rewritten O(log n) times. A process killed at any instant leaves
 * either the old or the new generation current.
 *
 * Opening reads the manifest and the catalog only; the segments are read (and verified) the
 * first time passages, keyword or vector search are needed, so a re-index that finds nothing
 * changed never reads them. A store opened to search (not `create`) reads a segment in parts:
 * its header, ids and lengths first, then each query's terms (a binary search of the term
 * dictionaries, entry by entry) and their postings, its hits' passages, and the vectors only for
 * a search that uses them. A segment with at least
 * HNSW_MIN_VECTORS live vectors gets an HNSW graph file (`vectors-N.hnsw`) from the last commit
 * of an index run (checkpoints do not build one: their segments are merged again soon), built in
 * a worker thread (buildGraphFile) while the commit holds the writer lock, carried
 * with its segment and dropped when the segment is merged; a query loads it at its first dense
 * search (see storeVectors.ts). The manifest lists a SHA-256 per 64 KiB block of each segment
 * (storeBlocks.ts) and every block is verified when first read, and one SHA-256 of each graph,
 * checked before hnswlib reads it, so no byte is used unverified. A writer reads and verifies whole segments.
 *
 * Safety beside other processes: one writer at a time holds `writer.lock` (see storeLock.ts);
 * only it deletes, and only names of the store's own patterns: files no longer named by the
 * current manifest or the one it replaced (a reader may still be loading that), and temp files
 * of dead writers. Readers never delete; a reader whose generation was swept while it loaded
 * moves on to the current one. Damage is a StoreError naming the store, never wrong answers.
 * A failed write (a full disk) is a StoreError too, with the new files removed and the
 * previous generation current.
 *
 * Read API — everything outside the indexer reads a store only through these. Results are
 * read-only views of the store's own objects (never mutate them) and reflect uncommitted
 * changes of the writer holding this instance:
 * - `generation`, `embedder`, `lastIndex`: the manifest's; O(1).
 * - `fileCount`, `chunkCount`: from the catalog; O(1). `vectorCount`: O(1) once loaded.
 * - `file(path)`: the catalog entry of an indexed file (hash, size, mtime, chunk ids); O(1).
 * - `hasFileStat(path, size, mtimeMs)`: whether a file is indexed with this size and mtime; O(1)
 *   (and unlike `file`, it makes no entry objects of a catalog read from disk).
 * - `filePaths()`: every indexed path, in no particular order; O(files).
 * - `chunkFile(id)`, `filePath(fileId)`, `chunkPath(id)`: the id of a passage's file, a file's
 *   path, and both at once, from the catalog (no passage is read); O(log chunks) (O(1) after an
 *   O(chunks) table when the catalog's ids are out of order).
 * - `chunk(id)`: one passage; O(log chunks) the first time. `allChunks()`: every passage, lazily; O(chunks).
 * - `keywordStatistics(query)`: document frequencies of the query's terms in the passage and
 *   page indexes, to sum across stores searched together; O(query terms).
 * - `searchPassages` / `searchPages`: BM25F over passages (chunk ids) and whole files (file ids),
 *   best first; O(postings of the query's terms).
 * - `searchVectors(vector, k)`: nearest passages by cosine: exact over segments without a graph
 *   (O(their chunks × dimensions)), HNSW over each segment with one (O(log chunks) at ef 400).
 *   `vectorOf(id)`: a passage's stored unit vector; O(1).
 * - `integrityProblems()`: cross-checks the structures of the generation; O(chunks).
 * The writer's API (`lockForWriting`, `unlock`, `resetVectors`, `setVector`,
 * `addFile`, `removeFile`, `touchFile`, `uncommittedBytes`, `lastIndex =`, `commit`) is for
 * src/core/indexer.ts.
 */
import { createHash } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { syncDirectory, writeFileAtomic } from './atomicFile.js';
import { errorMessage } from './errorMessage.js';
import { keywordFieldsOf } from './chunkText.js';
import { chunksOf, passageRecordsOf, type EncodedDrafts } from './draftRecords.js';
import { DEFAULT_KEYWORD_OPTIONS, KeywordIndex, TermDictionary, documentAt, freezeDocumentSets, sumStatistics, type FileKeywords, type KeywordDocuments, type KeywordIndexOptions, type KeywordStatistics, type PostingsSource } from './search/keywordIndex.js';
import type { Chunk, EmbedderRuntime } from './types.js';
import { acquireWriterLock, isRunning, type WriterLock } from './storeLock.js';
import { BlockDigester, BlockReadError, blocksMatch, VerifiedFile } from './storeBlocks.js';
import { IdIndex, IdTable } from './idTable.js';
import { Catalog, type CatalogEntry, type FileChunkIds } from './storeCatalog.js';
import { bufferBytes, decodeSegment, mergeSegments, openSegment, segmentFile, writtenAlone, type Segment, type SegmentBytes, type SegmentToWrite, type SegmentView } from './storeSegment.js';
import { HNSW_BUILD, HNSW_MIN_VECTORS, StoreVectors, type VectorSource } from './storeVectors.js';
import { HnswVectorIndex, VectorIndexFileError, buildGraphFile, type VectorSearchHit } from './vectorIndex.js';


export const STORE_FORMAT_VERSION = 4;
const MANIFEST = 'manifest.json';
/** A commit's new files are renamed into place, then the folder is synced once before the manifest is swapped. */
const NO_DIRECTORY_SYNC = { syncDirectory: false };

export type { CatalogEntry } from './storeCatalog.js';

export interface CommitOptions {
  /** Stops the run's last commit while it builds HNSW graphs: it rejects with the signal's reason, the previous generation current. */
  signal?: AbortSignal;
  /** Vectors added to the graph being built (`segment`'s), of `total`. */
  onGraphProgress?: (progress: { segment: string; added: number; total: number }) => void;
}

export interface EmbedderInfo {
  id: string;
  dimensions: number;
  /** How to make this embedder again (a CLI `--embedder` value); absent for programmatic ones. */
  spec?: string;
}

/** What the last index run saw of its embedder, for `docent info`. */
export interface LastIndexRun {
  finishedAt: string;
  seconds: number;
  runtime?: EmbedderRuntime;
  /** The generation the run's final commit made: a later current generation is a checkpoint of a run that never finished. */
  generation?: number;
}

interface Manifest {
  format: number;
  generation: number;
  nextChunkId: number;
  nextFileId: number;
  embedder: EmbedderInfo | null;
  /** The options the keyword documents were made with (BM25F field weights are folded in). */
  keywordOptions: KeywordIndexOptions;
  lastIndex?: LastIndexRun;
  /** The catalog file, or the delta of the files changed since `catalogBase` was written; '' before the first commit. */
  catalog: string;
  /** The whole catalog file `catalog` is a delta of (absent when `catalog` is whole). */
  catalogBase?: string;
  /** Oldest first. */
  segments: string[];
  /** The HNSW graph file of each segment that has one (absent in stores written before graphs). */
  graphs?: Record<string, string>;
  /** Every file the manifest names. */
  checksums: Record<string, FileChecksum>;
  updatedAt: string;
  /** SHA-256 of this manifest's JSON without this field. */
  sha256: string;
}

/** A segment's checksum is one digest per block (read in parts); other files' is one digest (read whole). */
type FileChecksum = { bytes: number; sha256: string } | { bytes: number; blocks: string };

/** Names the store writes (older formats' too); nothing else in its folder is ever deleted. */
const STORE_FILE = /^(?:catalog|segment|chunks|keyword|filekeyword|vectors)-\d+\.(?:json|bin|hnsw|delta)(?:\.meta\.json)?$/;
const TEMP_FILE = /^((?:catalog|segment|chunks|keyword|filekeyword|vectors)-\d+\.(?:json|bin|hnsw|delta)(?:\.meta\.json)?|manifest\.json|writer\.lock)\.tmp-(\d+)-[0-9a-f]+$/;

/** Keyword statistics of the passage and page indexes, summed over stores searched together. */
export interface CollectionStatistics {
  passages: KeywordStatistics;
  pages: KeywordStatistics;
}

export function sumCollectionStatistics(parts: CollectionStatistics[]): CollectionStatistics {
  return { passages: sumStatistics(parts.map((part) => part.passages)), pages: sumStatistics(parts.map((part) => part.pages)) };
}

export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

/**
 * Creates `dir` and its missing parents one level at a time, failing with a StoreError: Node 20's
 * recursive mkdir never returns under a folder that answers ENOENT to new entries (/proc), so a
 * bad --store would hang instead of saying why.
 */
async function makeStoreFolder(dir: string): Promise<void> {
  const missing: string[] = [];
  let at = path.resolve(dir);
  for (;;) {
    const stat = await fs.stat(at).catch(() => undefined);
    if (stat) {
      if (!stat.isDirectory()) throw new StoreError(`cannot create the store folder ${dir}: ${at} is not a folder`);
      break;
    }
    missing.push(at);
    if (path.dirname(at) === at) break;
    at = path.dirname(at);
  }
  for (const folder of missing.reverse()) {
    await fs.mkdir(folder).catch((error: NodeJS.ErrnoException) => {
      // Another process may create the same folder meanwhile.
      if (error.code !== 'EEXIST') throw new StoreError(`cannot create the store folder ${dir}: ${error.message}`);
    });
  }
}

/** The searchable structures of every segment (and the writer's uncommitted changes). */
interface Contents {
  chunks: Passages;
  keyword: KeywordIndex;
  /** Whole-file BM25F: page-level evidence that a passage's page is about the question. */
  fileKeyword: KeywordIndex;
  /** Undefined until first needed in a store read in parts (no writer changes them there). */
  vectors: StoreVectors | null | undefined;
  segments: SegmentView[];
}

interface PendingFile {
  fileId: number;
  /** Its passages' ids are firstChunkId + i for drafts i. */
  firstChunkId: number;
  drafts: EncodedDrafts;
  /** One document per chunk. */
  keyword: KeywordDocuments;
  vectors: Float32Array[] | null;
  /** The file's document; null when it has no chunks. */
  page: KeywordDocuments | null;
}

/** What the next segment will hold. */
class Pending {
  readonly files = new Map<string, PendingFile>();
  readonly removedChunks: number[] = [];
  readonly removedFiles: number[] = [];
  textBytes = 0;

  constructor(
    readonly firstChunkId: number,
    readonly firstFileId: number,
  ) {}

  get empty(): boolean {
    return this.files.size === 0 && this.removedChunks.length === 0 && this.removedFiles.length === 0;
  }

  toSegment(dimensions: number): Segment {
    const files = [...this.files.values()];
    const ids = files.flatMap((file) => Array.from(file.drafts.ends, (_, d) => file.firstChunkId + d));
    const vectors = new Float32Array(ids.length * dimensions);
    if (dimensions > 0) {
      let row = 0;
      for (const file of files) for (const vector of file.vectors ?? []) vectors.set(vector, row++ * dimensions);
    }
    const paged = files.filter((file) => file.page);
    const [keyword, pages] = freezeDocumentSets([
      { ids, parts: files.map((file) => file.keyword) },
      { ids: paged.map((file) => file.fileId), parts: paged.map((file) => file.page!) },
    ]);
    return {
      firstChunkId: this.firstChunkId,
      firstFileId: this.firstFileId,
      dimensions,
      passages: passageRecordsOf([...this.files].map(([path, file]) => ({ path, firstChunkId: file.firstChunkId, drafts: file.drafts }))),
      keyword: keyword!,
      vectors,
      pages: pages!,
      removedChunks: this.removedChunks,
      removedFiles: this.removedFiles,
    };
  }
}

/**
 * The live passages: those of segments stay JSON records until asked for (then parsed once);
 * those added in memory are kept as they came. Iterates in the order passages were added.
 * An on-disk passage is found in its segment's ids (an IdIndex: a binary search), so opening
 * fills no table over every passage.
 */
class Passages {
  private readonly segments: SegmentView[] = [];
  /** Where segment i's passages start in the order of all segments' passages. */
  private readonly starts: number[] = [];
  /** Segment i's passages' places among its chunk ids. */
  private readonly indexes: IdIndex[] = [];
  /** On-disk passages removed since (tombstones, replaced files). */
  private readonly removed = new IdTable();
  private readonly parsed = new Map<number, Chunk>();
  private readonly inMemory = new Map<number, Chunk>();
  private total = 0;

  get size(): number {
    return this.total - this.removed.size + this.inMemory.size;
  }

  has(id: number): boolean {
    return this.inMemory.has(id) || this.place(id) !== undefined;
  }

  addSegment(segment: SegmentView): void {
    this.segments.push(segment);
    this.starts.push(this.total);
    this.indexes.push(new IdIndex(segment.chunkIds));
    this.total += segment.chunkIds.length;
  }

  get(id: number): Chunk | undefined {
    const added = this.inMemory.get(id);
    if (added) return added;
    let chunk = this.parsed.get(id);
    if (!chunk) {
      const at = this.place(id);
      if (at === undefined) return undefined;
      let segment = this.segments.length - 1;
      while (this.starts[segment]! > at) segment--;
      this.parsed.set(id, (chunk = this.segments[segment]!.passage(at - this.starts[segment]!)));
    }
    return chunk;
  }

  set(chunk: Chunk): void {
    this.delete(chunk.id);
    this.inMemory.set(chunk.id, chunk);
  }

  delete(id: number): void {
    // Ids are never reused: one added in memory is on no segment.
    if (this.inMemory.delete(id)) return;
    if (this.place(id) !== undefined) this.removed.set(id, 0);
    this.parsed.delete(id);
  }

  *values(): IterableIterator<Chunk> {
    for (const { chunkIds } of this.segments) {
      for (let i = 0; i < chunkIds.length; i++) if (!this.removed.has(chunkIds[i]!)) yield this.get(chunkIds[i]!)!;
    }
    yield* this.inMemory.values();
  }

  /** A live on-disk passage's place in the order of all segments' passages. */
  private place(id: number): number | undefined {
    if (this.removed.has(id)) return undefined;
    for (let segment = this.indexes.length - 1; segment >= 0; segment--) {
      // Its ids are at least its firstChunkId (ids only grow), so one starting above `id` cannot
      // hold it; looking would be a miss, and a segment's first miss is a pass over all its ids.
      if (this.segments[segment]!.firstChunkId > id) continue;
      const i = this.indexes[segment]!.indexOf(id);
      if (i >= 0) return this.starts[segment]! + i;
    }
    return undefined;
  }
}

export class DocStore {
  private manifest!: Manifest;
  private catalog!: Catalog;
  private contents: Contents | undefined;
  private pending!: Pending;
  /** Set when every vector changed (another embedder): the next commit writes one segment of everything. */
  private rewriteAll = false;
  /** Files of the manifest the last commit replaced: a reader may still be loading them. */
  private replacedFiles: string[] = [];
  private lock: WriterLock | undefined;
  /** Segment files read in parts, open while their contents are in use. */
  private files: VerifiedFile[] = [];
  /** Live vectors a segment needs for the final commit of an index run to give it an HNSW graph. */
  private graphMinVectors = HNSW_MIN_VECTORS;
  /** Numbers the terms of files added without their keyword documents. */
  private dictionary: TermDictionary | undefined;

  private constructor(
    readonly dir: string,
    manifest: Manifest,
    catalog: Catalog,
    /** Opened to search: segments are read in parts (until the store is locked for writing). */
    private readInParts: boolean,
    /** Said once when this store replaces one an older Docent wrote (it is rebuilt by the next index run). */
    readonly notice?: string,
  ) {
    this.adopt(manifest, catalog);
  }

  get generation(): number {
    return this.manifest.generation;
  }

  get embedder(): EmbedderInfo | null {
    return this.manifest.embedder;
  }

  /** What its keyword documents are made with (BM25F field weights are folded in). */
  get keywordOptions(): KeywordIndexOptions {
    return this.manifest.keywordOptions;
  }

  get lastIndex(): LastIndexRun | undefined {
    return this.manifest.lastIndex;
  }

  /** Recorded with the next commit. */
  set lastIndex(run: LastIndexRun | undefined) {
    this.manifest.lastIndex = run;
  }

  get fileCount(): number {
    return this.catalog.size;
  }

  get chunkCount(): number {
    return this.catalog.chunkCount;
  }

  get vectorCount(): number {
    return this.vectorIndex()?.size ?? 0;
  }

  file(relativePath: string): Readonly<CatalogEntry> | undefined {
    return this.catalog.get(relativePath);
  }

  hasFileStat(relativePath: string, size: number, mtimeMs: number): boolean {
    return this.catalog.hasStat(relativePath, size, mtimeMs);
  }

  filePaths(): string[] {
    return this.catalog.paths();
  }

  chunkFile(id: number): number | undefined {
    return this.catalog.fileOf(id);
  }

  filePath(fileId: number): string | undefined {
    return this.catalog.pathOf(fileId);
  }

  /** The chunk ids of a file by its id: a lookup by path scans the catalog's paths (ranking asks per candidate page). */
  fileChunkIds(fileId: number): FileChunkIds | undefined {
    return this.catalog.chunkIdsOf(fileId);
  }

  chunkPath(id: number): string | undefined {
    const fileId = this.catalog.fileOf(id);
    return fileId === undefined ? undefined : this.catalog.pathOf(fileId);
  }

  chunk(id: number): Readonly<Chunk> | undefined {
    return this.loaded().chunks.get(id);
  }

  allChunks(): IterableIterator<Readonly<Chunk>> {
    return this.loaded().chunks.values();
  }

  keywordStatistics(query: string): CollectionStatistics {
    const { keyword, fileKeyword } = this.loaded();
    return { passages: keyword.statistics(query), pages: fileKeyword.statistics(query) };
  }

  /** Chunk ids by BM25F passage score; IDF from `statistics` when given (see sumCollectionStatistics). */
  searchPassages(query: string, limit: number, statistics?: KeywordStatistics): { id: number; score: number }[] {
    return this.loaded().keyword.search(query, limit, statistics);
  }

  /** File ids by the BM25F score of their whole text (a ranking keyed by id decodes no path it does not show). */
  searchPages(query: string, limit: number, statistics?: KeywordStatistics): { id: number; score: number }[] {
    return this.loaded().fileKeyword.search(query, limit, statistics);
  }

  /** Labels are chunk ids; empty without an embedder. */
  searchVectors(vector: Float32Array, limit: number): VectorSearchHit[] {
    return this.vectorIndex()?.search(vector, limit) ?? [];
  }

  vectorOf(id: number): Float32Array | undefined {
    return this.vectorIndex()?.vectorOf(id);
  }

  /** Reads what every search needs now rather than at the first one (a StoreError when it is damaged). */
  load(): void {
    this.loaded();
  }

  /** Reads and verifies every byte of the generation, as `docent info` reports it (a StoreError naming the damaged file). */
  verify(): void {
    this.loaded();
    for (const file of this.files) guarded(this.dir, path.basename(file.path), file).read(0, file.length);
    for (const graph of Object.values(this.manifest.graphs ?? {})) readVerified(this.dir, this.manifest, graph);
  }

  /** What does not add up between catalog, chunks, keyword and vector indexes; empty when consistent. */
  integrityProblems(): string[] {
    const { chunks, keyword, fileKeyword } = this.loaded();
    const vectors = this.vectorIndex();
    const problems: string[] = [];
    if (keyword.size !== chunks.size) problems.push(`${keyword.size} keyword passages for ${chunks.size} chunks`);
    if (vectors && vectors.size !== chunks.size) problems.push(`${vectors.size} vectors for ${chunks.size} chunks`);
    let cataloged = 0;
    let pages = 0;
    for (const [relativePath, entry] of this.catalog.all()) {
      cataloged += entry.chunkIds.length;
      if (entry.chunkIds.length > 0) pages++;
      const missing = entry.chunkIds.filter((id) => chunks.get(id)?.path !== relativePath);
      if (missing.length > 0) problems.push(`${relativePath}: ${missing.length} cataloged chunks are missing`);
    }
    if (cataloged !== chunks.size) problems.push(`${cataloged} cataloged chunks for ${chunks.size} chunks`);
    if (pages !== fileKeyword.size) problems.push(`${fileKeyword.size} keyword pages for ${pages} files with passages`);
    return problems;
  }

  static async exists(dir: string): Promise<boolean> {
    return fs.access(path.join(dir, MANIFEST)).then(
      () => true,
      () => false,
    );
  }

  /**
   * Opens the store in `dir` (its manifest and catalog), or creates an empty one when `create` is
   * set and none exists (or an older Docent wrote it: the empty store replaces it at its first
   * commit). Reads only.
   */
  static async open(
    dir: string,
    { create = false, keywordOptions, graphMinVectors }: { create?: boolean; keywordOptions?: KeywordIndexOptions; /** Default HNSW_MIN_VECTORS (tests lower it). */ graphMinVectors?: number } = {},
  ): Promise<DocStore> {
    const store = await DocStore.openStore(dir, create, keywordOptions);
    if (graphMinVectors !== undefined) store.graphMinVectors = graphMinVectors;
    return store;
  }

  private static async openStore(dir: string, create: boolean, keywordOptions: KeywordIndexOptions | undefined): Promise<DocStore> {
    for (let attempt = 1; ; attempt++) {
      const manifest = readManifest(dir);
      if (manifest === undefined || manifest.format !== STORE_FORMAT_VERSION) {
        const older = manifest === undefined ? undefined : `Docent store at ${dir} was written by an older Docent (format ${String(manifest.format)})`;
        if (!create) {
          throw new StoreError(older ? `${older}; run "docent index <folder> --store ${dir}" to rebuild it` : `no Docent store at ${dir} (run "docent index <folder> --store ${dir}" first)`);
        }
        await makeStoreFolder(dir);
        return new DocStore(dir, emptyManifest(keywordOptions ?? DEFAULT_KEYWORD_OPTIONS), Catalog.empty(), false, older && `${older}: rebuilding it`);
      }
      try {
        return new DocStore(dir, manifest, readCatalog(dir, manifest), !create);
      } catch (error) {
        // A writer replaced this generation while we read it (and swept the one before): read the new one.
        if (attempt < 5 && safeGeneration(dir) !== manifest.generation) continue;
        throw error;
      }
    }
  }

  /**
   * Takes the store's writer lock (a StoreError when another live process holds it) and catches
   * up with generations another writer committed since this instance loaded; sweeps what a
   * killed writer left. Call before changing the store; `unlock` when done.
   */
  async lockForWriting(): Promise<void> {
    if (this.lock) return;
    const lock = await acquireWriterLock(this.dir).catch((error: unknown) => {
      throw new StoreError(`cannot lock Docent store at ${this.dir} for writing: ${describeIoError(error)}`);
    });
    if ('heldBy' in lock) {
      throw new StoreError(`Docent store at ${this.dir} is being written by process ${lock.heldBy} (wait for that index run to finish)`);
    }
    this.lock = lock;
    if (this.readInParts) {
      // A writer reads whole segments: its contents change and outlive the files a merge replaces.
      this.readInParts = false;
      this.forgetContents();
    }
    try {
      const onDisk = readManifest(this.dir);
      if (onDisk?.format === STORE_FORMAT_VERSION && onDisk.generation !== this.manifest.generation) this.adopt(onDisk, readCatalog(this.dir, onDisk));
      await this.sweep();
    } catch (error) {
      await this.unlock();
      throw error;
    }
  }

  async unlock(): Promise<void> {
    const lock = this.lock;
    this.lock = undefined;
    await lock?.release();
  }

  /** Text bytes of the passages added since the last commit, for checkpoint policies. */
  get uncommittedBytes(): number {
    return this.pending.textBytes;
  }

  /** Replaces all vectors (a different embedding model); chunks and keyword index stay. */
  resetVectors(embedder: EmbedderInfo | null): void {
    // Loaded with the vectors of the embedder they came from, before the manifest names the new one.
    const contents = this.manifest.segments.length === 0 && this.pending.empty ? undefined : this.loaded();
    this.manifest.embedder = embedder;
    if (!contents) return;
    contents.vectors = embedder ? StoreVectors.empty(embedder.dimensions, contents.chunks.size) : null;
    this.rewriteAll = true;
  }

  /** Stores a chunk's vector (after resetVectors, which sets the model the vectors come from). */
  setVector(id: number, vector: Float32Array): void {
    const vectors = this.loaded().vectors;
    if (!vectors) throw new Error('this store has no embedding model; call resetVectors first');
    vectors.upsert(id, vector);
  }

  /** Records a file whose content is unchanged but whose size or mtime moved. */
  touchFile(relativePath: string, stat: { size: number; mtimeMs: number }): void {
    const entry = this.catalog.get(relativePath);
    if (entry) this.catalog.set(relativePath, { ...entry, ...stat });
  }

  /** Drops a file's chunks from every structure (not yet committed). */
  removeFile(relativePath: string): void {
    const entry = this.catalog.get(relativePath);
    if (!entry) return;
    const pendingFile = entry.fileId >= this.pending.firstFileId ? this.pending.files.get(relativePath) : undefined;
    if (pendingFile) {
      this.pending.files.delete(relativePath);
      this.pending.textBytes -= pendingFile.drafts.textLength;
    } else {
      this.pending.removedChunks.push(...entry.chunkIds);
      this.pending.removedFiles.push(entry.fileId);
    }
    if (this.contents) removeFromContents(this.contents, entry.chunkIds, [entry.fileId]);
    this.catalog.delete(relativePath);
  }

  /**
   * Adds a file's passages (its old ones must have been removed), numbered from the store's next
   * chunk id in draft order; returns their ids. Vectors align with the drafts; required when the
   * store has an embedder. `keyword` (the drafts' and the file's keyword documents, made with this
   * store's keywordOptions) when already made.
   */
  addFile(relativePath: string, entry: Omit<CatalogEntry, 'chunkIds' | 'fileId'>, drafts: EncodedDrafts, vectors: Float32Array[] | null, keyword?: FileKeywords): number[] {
    const count = drafts.ends.length;
    const embedder = this.manifest.embedder;
    if (embedder && count > 0 && vectors?.length !== count) throw new Error(`${relativePath}: ${count} passages need as many vectors from ${embedder.id}`);
    const documents = keyword ?? (this.dictionary ??= new TermDictionary(this.manifest.keywordOptions)).fileDocuments(chunksOf(relativePath, 0, drafts).map(keywordFieldsOf));
    if (documents.passages.lengths.length !== count) throw new Error(`${relativePath}: ${count} passages need as many keyword documents`);
    const fileId = this.manifest.nextFileId++;
    const firstChunkId = this.manifest.nextChunkId;
    this.manifest.nextChunkId += count;
    const pendingFile: PendingFile = {
      fileId,
      firstChunkId,
      drafts,
      keyword: documents.passages,
      vectors: embedder ? vectors : null,
      page: count > 0 ? documents.page : null,
    };
    this.pending.files.set(relativePath, pendingFile);
    this.pending.textBytes += drafts.textLength;
    if (this.contents) addToContents(this.contents, relativePath, pendingFile);
    const chunkIds = Array.from({ length: count }, (_, d) => firstChunkId + d);
    this.catalog.set(relativePath, { ...entry, fileId, chunkIds });
    return chunkIds;
  }

  /**
   * Writes a new generation and makes it current (under the writer lock): a segment of what
   * changed (merged into the segments before it while it is at least half their size) and the
   * catalog. On failure the new files are removed, the previous generation stays current, and a
   * StoreError says why in one line (an aborted `signal`: its reason instead). The run's last
   * commit builds HNSW graphs in a worker thread, this thread free meanwhile.
   */
  async commit({ signal, onGraphProgress }: CommitOptions = {}): Promise<void> {
    if (!this.lock) throw new Error('DocStore.commit needs the writer lock: call lockForWriting() first');
    const previous = this.manifest;
    const generation = previous.generation + 1;
    const dimensions = previous.embedder?.dimensions ?? 0;
    const checksums: Record<string, FileChecksum> = {};
    const written: string[] = [];
    /** Segments being merged, read block by block as the new one is written. */
    const merging: VerifiedFile[] = [];
    const write = async (file: string, bytes: Buffer): Promise<void> => {
      written.push(file);
      await writeFileAtomic(path.join(this.dir, file), bytes, NO_DIRECTORY_SYNC);
      checksums[file] = checksumOf(bytes);
    };
    try {
      let segments = [...previous.segments];
      let segment: SegmentToWrite | undefined;
      if (this.rewriteAll) {
        segments = [];
        segment = this.everything(this.loaded(), dimensions, merging);
      } else if (!this.pending.empty) {
        const added = this.pending.toSegment(dimensions);
        segment = writtenAlone(added);
        // Merged with the segments before it while it is at least half the size of the last: sizes
        // add up to a bound (tombstones only shrink a merge), so the merge is chosen before it is made.
        let bytes = segmentFile(segment).length;
        const merged: string[] = [];
        while (segments.length > 0 && bytes * 2 >= previous.checksums[segments.at(-1)!]!.bytes) {
          merged.unshift(segments.pop()!);
          bytes += previous.checksums[merged[0]!]!.bytes;
        }
        // All of them at once: each passage record is copied once, from its segment's file into the new one.
        if (merged.length > 0) segment = mergeSegments([...merged.map((name) => this.segmentToMerge(previous, name, merging)), added]);
      }
      if (segment && (segment.keyword.ids.length > 0 || segment.removedChunks.length > 0 || segment.pages.ids.length > 0 || segment.removedFiles.length > 0)) {
        const name = `segment-${generation}.bin`;
        const file = segmentFile(segment);
        const digester = new BlockDigester();
        const pieces = function* () {
          for (const piece of file.pieces()) {
            digester.update(piece);
            yield piece;
          }
        };
        written.push(name);
        await writeFileAtomic(path.join(this.dir, name), pieces(), NO_DIRECTORY_SYNC);
        checksums[name] = { bytes: file.length, blocks: digester.finish() };
        segments.push(name);
      }
      const graphs: Record<string, string> = {};
      for (const name of segments) {
        checksums[name] ??= previous.checksums[name]!;
        const graph = previous.graphs?.[name];
        if (graph !== undefined) {
          graphs[name] = graph;
          checksums[graph] = previous.checksums[graph]!;
        }
      }
      // The run's last commit (the indexer names its generation first): a checkpoint's large segment is likely merged again before the run ends.
      if (dimensions > 0 && previous.lastIndex?.generation === generation) {
        for (const { name, labels, rows } of this.graphsToBuild(segments, graphs, segment)) {
          const file = `vectors-${/\d+/.exec(name)![0]}.hnsw`;
          written.push(file);
          const onProgress = onGraphProgress && ((added: number, total: number) => onGraphProgress({ segment: name, added, total }));
          checksums[file] = await buildGraphFile(path.join(this.dir, file), dimensions, labels, rows, HNSW_BUILD, { signal, onProgress });
          graphs[name] = file;
        }
      }
      // A few files changed since the whole catalog was written: their delta beside it, not the whole catalog again.
      const delta = this.catalog.delta();
      const whole = delta ? undefined : this.catalog.encode();
      const catalogBase = delta ? (previous.catalogBase ?? previous.catalog) : undefined;
      const catalog = `catalog-${generation}.${delta ? 'delta' : 'bin'}`;
      await write(catalog, delta ?? whole!);
      if (catalogBase) checksums[catalogBase] = previous.checksums[catalogBase]!;
      const { catalogBase: _replaced, ...kept } = previous;
      const manifest = sealManifest({ ...kept, format: STORE_FORMAT_VERSION, generation, catalog, ...(catalogBase ? { catalogBase } : {}), segments, graphs, checksums, updatedAt: new Date().toISOString() });
      // The new files' renames are durable before the manifest that names them is renamed.
      await syncDirectory(this.dir);
      await writeFileAtomic(path.join(this.dir, MANIFEST), JSON.stringify(manifest, null, 2));
      this.manifest = manifest;
      this.replacedFiles = Object.keys(previous.checksums);
      this.pending = new Pending(manifest.nextChunkId, manifest.nextFileId);
      this.rewriteAll = false;
      // The next delta is of the catalog just written.
      if (whole && this.catalog.isFlat) this.catalog = Catalog.decode(whole);
      // Vectors in memory point at the old graphs (swept now) or miss the new ones: read them from the new generation when next needed.
      if (JSON.stringify(graphs) !== JSON.stringify(previous.graphs ?? {})) this.forgetContents();
    } catch (error) {
      // Past the manifest's rename (a failed directory fsync) the new generation is current: keep it.
      if (safeGeneration(this.dir) !== generation) {
        await Promise.all(written.map((file) => fs.rm(path.join(this.dir, file), { force: true }).catch(() => undefined)));
      }
      if (signal?.aborted && error === signal.reason) throw error;
      throw new StoreError(`cannot write Docent store at ${this.dir}: ${describeIoError(error)}; its previous index (generation ${previous.generation}) is intact`);
    } finally {
      for (const file of merging) file.close();
    }
    await this.sweep();
  }

  /**
   * What to build HNSW graphs of: the segments of `segments` without one (`graphs`) that hold at
   * least `graphMinVectors` live vectors, `written` (the commit's new segment, all live) or one of
   * the current generation's. Each one's `rows` are its own, to move to a worker.
   */
  private *graphsToBuild(segments: string[], graphs: Record<string, string>, written: SegmentToWrite | undefined): Generator<{ name: string; labels: ArrayLike<number>; rows: Float32Array }> {
    const dimensions = this.manifest.embedder!.dimensions;
    const writtenName = written && segments.at(-1) === `segment-${this.manifest.generation + 1}.bin` ? segments.at(-1) : undefined;
    for (const name of segments) {
      if (graphs[name] !== undefined) continue;
      if (name === writtenName) {
        // mergeSegments made these vectors for this commit, and its segment file is written: nothing reads them again.
        if (written!.keyword.ids.length >= this.graphMinVectors) yield { name, labels: written!.keyword.ids, rows: written!.vectors };
        continue;
      }
      // Its vectors alone would take this many bytes: a smaller file cannot hold enough of them.
      if (this.manifest.checksums[name]!.bytes < this.graphMinVectors * dimensions * 4) continue;
      const contents = this.loaded();
      const view = contents.segments[this.manifest.segments.indexOf(name)]!;
      if (view.dimensions !== dimensions) continue;
      const live = [...view.chunkIds.keys()].filter((i) => contents.chunks.has(view.chunkIds[i]!));
      if (live.length < this.graphMinVectors) continue;
      const rows = new Float32Array(live.length * dimensions);
      live.forEach((row, i) => rows.set(view.vector(row), i * dimensions));
      yield { name, labels: live.map((row) => view.chunkIds[row]!), rows };
    }
  }

  private adopt(manifest: Manifest, catalog: Catalog): void {
    this.manifest = manifest;
    this.catalog = catalog;
    this.forgetContents();
    this.pending = new Pending(manifest.nextChunkId, manifest.nextFileId);
  }

  private forgetContents(): void {
    this.contents = undefined;
    for (const file of this.files.splice(0)) file.close();
  }

  /** The vector index, made when first needed in a store read in parts. */
  private vectorIndex(): StoreVectors | null {
    const contents = this.loaded();
    contents.vectors ??= vectorsOf(this.dir, this.manifest, contents);
    return contents.vectors;
  }

  /** One segment of the current generation, read in parts when it has block checksums and this store only searches. */
  private segmentView(name: string): SegmentView {
    const checksum = this.manifest.checksums[name];
    if (!this.readInParts || !checksum || !('blocks' in checksum)) {
      const bytes = readVerified(this.dir, this.manifest, name);
      try {
        return openSegment(bufferBytes(bytes));
      } catch (error) {
        throw corrupt(this.dir, `${name}: ${errorMessage(error)}`);
      }
    }
    let file: VerifiedFile;
    try {
      file = new VerifiedFile(path.join(this.dir, name), checksum.bytes, checksum.blocks);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw corrupt(this.dir, `${name} is missing`);
      throw storeErrorOf(this.dir, name, error);
    }
    this.files.push(file);
    const bytes = guarded(this.dir, name, file);
    try {
      return guardedView(this.dir, name, openSegment(bytes));
    } catch (error) {
      throw storeErrorOf(this.dir, name, error);
    }
  }

  /**
   * Segment `name` of `manifest` to merge into a new one: all of it in memory but its passage
   * records, which are read (and verified) block by block as the new segment is written; its
   * file is added to `open`, to close once written.
   */
  private segmentToMerge(manifest: Manifest, name: string, open: VerifiedFile[]): Segment {
    const checksum = manifest.checksums[name];
    if (!checksum || !('blocks' in checksum)) return decodeOrCorrupt(this.dir, name, bufferBytes(readVerified(this.dir, manifest, name)));
    let file: VerifiedFile;
    try {
      file = new VerifiedFile(path.join(this.dir, name), checksum.bytes, checksum.blocks, false);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw corrupt(this.dir, `${name} is missing`);
      throw storeErrorOf(this.dir, name, error);
    }
    open.push(file);
    try {
      return decodeSegment(guarded(this.dir, name, file));
    } catch (error) {
      throw storeErrorOf(this.dir, name, error);
    }
  }

  /** Every live passage (on disk and pending) as one segment, with the current vectors. */
  private everything(contents: Contents, dimensions: number, open: VerifiedFile[]): SegmentToWrite {
    const segments = this.manifest.segments.map((name) => this.segmentToMerge(this.manifest, name, open));
    return mergeSegments([...segments, this.pending.toSegment(0)], { dimensions, of: (id) => contents.vectors!.vectorOf(id)! });
  }

  private loaded(): Contents {
    this.contents ??= this.loadContents();
    return this.contents;
  }

  private loadContents(): Contents {
    for (let attempt = 1; ; attempt++) {
      try {
        this.forgetContents();
        const contents = buildContents(
          this.dir,
          this.manifest,
          this.manifest.segments.map((name) => this.segmentView(name)),
          !this.readInParts,
        );
        removeFromContents(contents, this.pending.removedChunks, this.pending.removedFiles);
        for (const [relativePath, file] of this.pending.files) addToContents(contents, relativePath, file);
        return contents;
      } catch (error) {
        // A reader whose generation was swept since it opened moves on to the current one.
        if (this.lock || !this.pending.empty || attempt >= 5) throw error;
        const onDisk = readManifest(this.dir);
        if (onDisk?.format !== STORE_FORMAT_VERSION || onDisk.generation === this.manifest.generation) throw error;
        this.adopt(onDisk, readCatalog(this.dir, onDisk));
      }
    }
  }

  /**
   * The writer's clean-up: store files named neither by the current manifest nor by the one it
   * replaced, and temp files of writers that are gone. Never any other name.
   */
  private async sweep(): Promise<void> {
    const keep = new Set([...Object.keys(this.manifest.checksums), ...this.replacedFiles]);
    for (const entry of await fs.readdir(this.dir)) {
      const temp = TEMP_FILE.exec(entry);
      const orphan =
        (STORE_FILE.test(entry) && !keep.has(entry)) ||
        // A live process's lock temp file is its attempt to take the lock: not ours to remove.
        (temp !== null && (temp[1] === 'writer.lock' ? !isRunning(Number(temp[2])) : Number(temp[2]) === process.pid || !isRunning(Number(temp[2]))));
      if (orphan) await fs.rm(path.join(this.dir, entry), { force: true });
    }
  }
}

function emptyManifest(keywordOptions: KeywordIndexOptions): Manifest {
  return {
    format: STORE_FORMAT_VERSION,
    generation: 0,
    nextChunkId: 1,
    nextFileId: 1,
    embedder: null,
    keywordOptions,
    catalog: '',
    segments: [],
    checksums: {},
    updatedAt: new Date().toISOString(),
    sha256: '',
  };
}

/**
 * The live passages of `segments` (oldest first; each one's tombstones remove from those before
 * it), searchable as they are; their vectors now (`withVectors`) or when first needed.
 */
function buildContents(dir: string, manifest: Manifest, segments: SegmentView[], withVectors: boolean): Contents {
  const chunks = new Passages();
  for (const segment of segments) chunks.addSegment(segment);
  const contents: Contents = {
    chunks,
    keyword: KeywordIndex.ofParts(
      manifest.keywordOptions,
      segments.map((segment) => segment.keyword),
    ),
    fileKeyword: KeywordIndex.ofParts(
      manifest.keywordOptions,
      segments.map((segment) => segment.pages),
    ),
    vectors: null,
    segments,
  };
  // Ids never repeat across segments, so every tombstone can be applied once all are in.
  for (const segment of segments) removeFromContents(contents, segment.removedChunks, segment.removedFiles);
  contents.vectors = withVectors ? vectorsOf(dir, manifest, contents) : undefined;
  return contents;
}

/** The vectors of the live passages of `contents.segments` (each segment's graph loaded when first searched); null without an embedder. */
function vectorsOf(dir: string, manifest: Manifest, contents: Contents): StoreVectors | null {
  const { embedder } = manifest;
  if (!embedder) return null;
  const sources: VectorSource[] = contents.segments.map((segment, i) => {
    const graph = manifest.graphs?.[manifest.segments[i]!];
    return graph === undefined || segment.dimensions !== embedder.dimensions ? { segment } : { segment, load: () => loadGraph(dir, manifest, graph, embedder.dimensions) };
  });
  return StoreVectors.of(embedder.dimensions, sources, (id) => contents.chunks.has(id));
}

/**
 * Graph `file` of `manifest`, verified against its checksum; undefined when it is gone because a
 * writer swept this generation since it was read (the segment's vectors, still open, are then
 * searched exactly).
 */
function loadGraph(dir: string, manifest: Manifest, file: string, dimensions: number): HnswVectorIndex | undefined {
  const checksum = manifest.checksums[file];
  if (!checksum || !('sha256' in checksum)) throw corrupt(dir, `manifest.json has no checksum for ${file}`);
  try {
    return HnswVectorIndex.load(path.join(dir, file), dimensions, checksum);
  } catch (error) {
    if (!(error instanceof VectorIndexFileError)) throw new StoreError(`cannot read Docent store at ${dir}: ${describeIoError(error)}`);
    if (error.problem === 'missing' && safeGeneration(dir) !== manifest.generation) return undefined;
    throw corrupt(dir, error.problem === 'missing' ? `${file} is missing` : `${file} does not match its checksum`);
  }
}

function removeFromContents(contents: Contents, chunkIds: readonly number[], fileIds: readonly number[]): void {
  for (const id of chunkIds) {
    contents.chunks.delete(id);
    contents.keyword.remove(id);
    contents.vectors?.remove(id);
  }
  for (const id of fileIds) contents.fileKeyword.remove(id);
}

function addToContents(contents: Contents, relativePath: string, file: PendingFile): void {
  chunksOf(relativePath, file.firstChunkId, file.drafts).forEach((chunk, i) => {
    contents.chunks.set(chunk);
    contents.keyword.addDocument(chunk.id, documentAt(file.keyword, i));
    const vector = file.vectors?.[i];
    if (contents.vectors && vector) contents.vectors.upsert(chunk.id, vector);
  });
  if (file.page) contents.fileKeyword.addDocument(file.fileId, documentAt(file.page, 0));
}

function corrupt(dir: string, what: string): StoreError {
  return new StoreError(`corrupt Docent store at ${dir}: ${what} (delete the folder and re-index)`);
}

/** A file the manifest names, checked against its size and SHA-256. */
function readVerified(dir: string, manifest: Manifest, file: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path.join(dir, file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw corrupt(dir, `${file} is missing`);
    throw new StoreError(`cannot read Docent store at ${dir}: ${describeIoError(error)}`);
  }
  const expected = manifest.checksums[file];
  const matches = expected !== undefined && expected.bytes === bytes.length && ('blocks' in expected ? blocksMatch(bytes, expected.blocks) : expected.sha256 === checksumOf(bytes).sha256);
  if (!matches) throw corrupt(dir, `${file} does not match its checksum`);
  return bytes;
}

/** A StoreError for what went wrong reading `file` in parts: damage is "corrupt", a refused read an I/O error. */
function storeErrorOf(dir: string, file: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  if (error instanceof BlockReadError && !error.damaged) return new StoreError(`cannot read Docent store at ${dir}: ${describeIoError(error.cause ?? error)}`);
  if (error instanceof BlockReadError) return corrupt(dir, `${file} does not match its checksum (${error.message})`);
  return corrupt(dir, `${file}: ${errorMessage(error)}`);
}

/** `file`'s verified reads, failing as StoreErrors. */
function guarded(dir: string, name: string, file: VerifiedFile): SegmentBytes {
  return {
    length: file.length,
    read: (offset, length) => {
      try {
        return file.read(offset, length);
      } catch (error) {
        throw storeErrorOf(dir, name, error);
      }
    },
  };
}

/** A segment read in parts whose later reads (passages, postings, vectors) fail as StoreErrors too. */
function guardedView(dir: string, name: string, view: SegmentView): SegmentView {
  const guard =
    <A extends unknown[], R>(read: (...args: A) => R) =>
    (...args: A): R => {
      try {
        return read(...args);
      } catch (error) {
        throw storeErrorOf(dir, name, error);
      }
    };
  return {
    ...view,
    passage: guard(view.passage),
    vectors: guard(view.vectors),
    vector: guard(view.vector),
    keyword: guardedPostings(view.keyword, guard),
    pages: guardedPostings(view.pages, guard),
  };
}

function guardedPostings(postings: PostingsSource, guard: <A extends unknown[], R>(read: (...args: A) => R) => (...args: A) => R): PostingsSource {
  return { ...postings, findTerm: guard(postings.findTerm), postingCount: guard(postings.postingCount), termPostings: guard(postings.termPostings) };
}

function decodeOrCorrupt(dir: string, file: string, bytes: SegmentBytes): Segment {
  try {
    return decodeSegment(bytes);
  } catch (error) {
    throw corrupt(dir, `${file}: ${errorMessage(error)}`);
  }
}

function readCatalog(dir: string, manifest: Manifest): Catalog {
  if (!manifest.catalog) return Catalog.empty();
  const bytes = readVerified(dir, manifest, manifest.catalog);
  // Stores written before the binary catalog name a JSON one; their next commit writes a binary one.
  if (manifest.catalog.endsWith('.json')) {
    try {
      return Catalog.of(new Map(Object.entries(JSON.parse(bytes.toString('utf8')) as Record<string, CatalogEntry>)));
    } catch {
      throw corrupt(dir, `${manifest.catalog} is not valid JSON`);
    }
  }
  const base = manifest.catalogBase === undefined ? undefined : readVerified(dir, manifest, manifest.catalogBase);
  try {
    return base ? Catalog.decode(base, bytes) : Catalog.decode(bytes);
  } catch (error) {
    throw corrupt(dir, `${base ? `${manifest.catalogBase} with ${manifest.catalog}` : manifest.catalog}: ${errorMessage(error)}`);
  }
}

/** The current manifest, verified; undefined when there is none. An older format is returned as read. */
function readManifest(dir: string): Manifest | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(dir, MANIFEST), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreError(`cannot read Docent store at ${dir}: ${describeIoError(error)}`);
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch {
    throw corrupt(dir, 'manifest.json is not valid JSON');
  }
  if (typeof manifest !== 'object' || manifest === null) throw corrupt(dir, 'manifest.json is not a manifest');
  if (manifest.format !== STORE_FORMAT_VERSION) return manifest;
  if (sealManifest(manifest).sha256 !== manifest.sha256) throw corrupt(dir, 'manifest.json does not match its checksum');
  if (typeof manifest.generation !== 'number' || !Array.isArray(manifest.segments) || typeof manifest.checksums !== 'object') throw corrupt(dir, 'manifest.json is incomplete');
  return manifest;
}

/** The generation on disk now, for retry decisions; undefined when it cannot be read. */
function safeGeneration(dir: string): number | undefined {
  try {
    return readManifest(dir)?.generation;
  } catch {
    return undefined;
  }
}

function sealManifest(manifest: Manifest): Manifest {
  const { sha256: _previous, ...content } = manifest;
  return { ...content, sha256: createHash('sha256').update(JSON.stringify(content)).digest('hex') };
}

function checksumOf(bytes: Buffer): { bytes: number; sha256: string } {
  return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** One line for a failed read or write: what the system said, in words a user can act on. */
function describeIoError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC') return 'the disk is full (ENOSPC)';
  if (code === 'EDQUOT') return 'the disk quota is exhausted (EDQUOT)';
  if (code === 'EROFS') return 'the file system is read-only (EROFS)';
  if (code === 'EACCES' || code === 'EPERM') return `permission denied (${code})`;
  return errorMessage(error).split('\n')[0]!;
}

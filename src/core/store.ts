/**
 * The on-disk index of one folder: a directory holding one immutable GENERATION of files
 * (catalog + chunks + keyword index + vector index) and `manifest.json` naming the current one.
 * A commit writes a new generation's files (each temp → fsync → rename), then swaps the manifest
 * the same way, then deletes files no manifest names. A process killed at any instant leaves
 * either the old or the new generation current, both complete; orphans are swept on open.
 *
 * Read API — everything outside the indexer reads a store only through these. Results are
 * read-only views of the store's own objects (never mutate them) and reflect uncommitted
 * changes of the writer holding this instance. Costs are for the in-memory structures of today
 * and are the contract a different storage engine must keep (or beat):
 * - `generation`, `embedder`, `lastIndex`: the manifest's; O(1).
 * - `fileCount`, `chunkCount`, `vectorCount`: totals; O(1).
 * - `file(path)`: the catalog entry of an indexed file (hash, size, mtime, chunk ids); O(1).
 * - `filePaths()`: every indexed path, in no particular order; O(files).
 * - `chunk(id)`: one passage; O(1). `allChunks()`: every passage, lazily; O(chunks).
 * - `keywordStatistics(query)`: document frequencies of the query's terms in the passage and
 *   page indexes, to sum across stores searched together; O(query terms).
 * - `searchPassages` / `searchPages`: BM25F over passages (chunk ids) and whole files (paths),
 *   best first; O(postings of the query's terms).
 * - `searchVectors(vector, k)`: approximate nearest passages (HNSW); about O(log chunks).
 *   `vectorOf(id)`: a passage's stored unit vector; O(1).
 * - `integrityProblems()`: cross-checks the structures of the generation; O(chunks).
 * The writer's API (`nextChunkId`, `resetVectors`, `setVector`, `addFile`, `removeFile`,
 * `touchFile`, `lastIndex =`, `commit`) is for src/core/indexer.ts.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from './atomicFile.js';
import { keywordFieldsOf, pageKeywordFieldsOf } from './chunkText.js';
import { KeywordIndex, sumStatistics, type KeywordIndexOptions, type KeywordStatistics, type SerializedKeywordIndex } from './search/keywordIndex.js';
import type { Chunk, EmbedderRuntime } from './types.js';
import { HnswVectorIndex, type VectorSearchHit } from './vectorIndex.js';

export const STORE_FORMAT_VERSION = 1;
const MANIFEST = 'manifest.json';

export interface CatalogEntry {
  /** sha256 of the file's bytes. */
  hash: string;
  size: number;
  mtimeMs: number;
  /** Key of the file in the file-level keyword index. */
  fileId: number;
  chunkIds: number[];
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
  lastIndex?: LastIndexRun;
  files: { catalog: string; chunks: string; keyword: string; fileKeyword: string; vectors: string | null };
  updatedAt: string;
}

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

export class DocStore {
  /** Page-level keyword hits name files by id; search answers with paths. */
  private readonly pathByFileId = new Map<number, string>();

  private constructor(
    readonly dir: string,
    private manifest: Manifest,
    private readonly catalog: Map<string, CatalogEntry>,
    private readonly chunks: Map<number, Chunk>,
    private readonly keyword: KeywordIndex,
    /** Whole-file BM25F: page-level evidence that a passage's page is about the question. */
    private readonly fileKeyword: KeywordIndex,
    private vectorIndex: HnswVectorIndex | null,
  ) {
    for (const [relativePath, entry] of catalog) this.pathByFileId.set(entry.fileId, relativePath);
  }

  get generation(): number {
    return this.manifest.generation;
  }

  get embedder(): EmbedderInfo | null {
    return this.manifest.embedder;
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
    return this.chunks.size;
  }

  get vectorCount(): number {
    return this.vectorIndex?.size ?? 0;
  }

  file(relativePath: string): Readonly<CatalogEntry> | undefined {
    return this.catalog.get(relativePath);
  }

  filePaths(): string[] {
    return [...this.catalog.keys()];
  }

  chunk(id: number): Readonly<Chunk> | undefined {
    return this.chunks.get(id);
  }

  allChunks(): IterableIterator<Readonly<Chunk>> {
    return this.chunks.values();
  }

  keywordStatistics(query: string): CollectionStatistics {
    return { passages: this.keyword.statistics(query), pages: this.fileKeyword.statistics(query) };
  }

  /** Chunk ids by BM25F passage score; IDF from `statistics` when given (see sumCollectionStatistics). */
  searchPassages(query: string, limit: number, statistics?: KeywordStatistics): { id: number; score: number }[] {
    return this.keyword.search(query, limit, statistics);
  }

  /** Files by the BM25F score of their whole text. */
  searchPages(query: string, limit: number, statistics?: KeywordStatistics): { path: string; score: number }[] {
    return this.fileKeyword.search(query, limit, statistics).flatMap((hit) => {
      const relativePath = this.pathByFileId.get(hit.id);
      return relativePath === undefined ? [] : [{ path: relativePath, score: hit.score }];
    });
  }

  /** Labels are chunk ids; empty without an embedder. */
  searchVectors(vector: Float32Array, limit: number): VectorSearchHit[] {
    return this.vectorIndex ? this.vectorIndex.search(vector, limit) : [];
  }

  vectorOf(id: number): Float32Array | undefined {
    return this.vectorIndex?.vectorOf(id);
  }

  /** What does not add up between catalog, chunks, keyword and vector indexes; empty when consistent. */
  integrityProblems(): string[] {
    const problems: string[] = [];
    if (this.keyword.size !== this.chunks.size) problems.push(`${this.keyword.size} keyword passages for ${this.chunks.size} chunks`);
    if (this.vectorIndex && this.vectorIndex.size !== this.chunks.size) problems.push(`${this.vectorIndex.size} vectors for ${this.chunks.size} chunks`);
    let cataloged = 0;
    for (const [relativePath, entry] of this.catalog) {
      cataloged += entry.chunkIds.length;
      const missing = entry.chunkIds.filter((id) => this.chunks.get(id)?.path !== relativePath);
      if (missing.length > 0) problems.push(`${relativePath}: ${missing.length} cataloged chunks are missing`);
    }
    if (cataloged !== this.chunks.size) problems.push(`${cataloged} cataloged chunks for ${this.chunks.size} chunks`);
    return problems;
  }

  static async exists(dir: string): Promise<boolean> {
    return fs.access(path.join(dir, MANIFEST)).then(
      () => true,
      () => false,
    );
  }

  /** Opens the store in `dir`, or creates an empty one when `create` is set and none exists. */
  static async open(
    dir: string,
    { create = false, keywordOptions }: { create?: boolean; keywordOptions?: KeywordIndexOptions } = {},
  ): Promise<DocStore> {
    let manifestText: string;
    try {
      manifestText = await fs.readFile(path.join(dir, MANIFEST), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new StoreError(`cannot read store ${dir}: ${(error as Error).message}`);
      if (!create) throw new StoreError(`no Docent store at ${dir} (run "docent index <folder> --store ${dir}" first)`);
      await fs.mkdir(dir, { recursive: true });
      const empty: Manifest = {
        format: STORE_FORMAT_VERSION,
        generation: 0,
        nextChunkId: 1,
        nextFileId: 1,
        embedder: null,
        files: { catalog: '', chunks: '', keyword: '', fileKeyword: '', vectors: null },
        updatedAt: new Date().toISOString(),
      };
      return new DocStore(dir, empty, new Map(), new Map(), new KeywordIndex(keywordOptions), new KeywordIndex(keywordOptions), null);
    }
    const manifest = parseManifest(manifestText, dir);
    try {
      const [catalogJson, chunksJson, keywordJson, fileKeywordJson] = await Promise.all(
        [manifest.files.catalog, manifest.files.chunks, manifest.files.keyword, manifest.files.fileKeyword].map((name) =>
          fs.readFile(path.join(dir, name), 'utf8'),
        ),
      );
      const catalog = new Map<string, CatalogEntry>(Object.entries(JSON.parse(catalogJson!) as Record<string, CatalogEntry>));
      const chunks = new Map<number, Chunk>((JSON.parse(chunksJson!) as Chunk[]).map((chunk) => [chunk.id, chunk]));
      const keyword = KeywordIndex.deserialize(JSON.parse(keywordJson!) as SerializedKeywordIndex);
      const fileKeyword = KeywordIndex.deserialize(JSON.parse(fileKeywordJson!) as SerializedKeywordIndex);
      const vectors =
        manifest.files.vectors && manifest.embedder
          ? await HnswVectorIndex.load(path.join(dir, manifest.files.vectors), manifest.embedder.dimensions)
          : null;
      const store = new DocStore(dir, manifest, catalog, chunks, keyword, fileKeyword, vectors);
      await store.sweep();
      return store;
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError(`corrupt Docent store at ${dir}: ${(error as Error).message} (delete the folder and re-index)`);
    }
  }

  nextChunkId(): number {
    return this.manifest.nextChunkId++;
  }

  /** Replaces all vectors (a different embedding model); chunks and keyword index stay. */
  resetVectors(embedder: EmbedderInfo | null): void {
    this.manifest.embedder = embedder;
    this.vectorIndex = embedder ? HnswVectorIndex.create(embedder.dimensions, { initialCapacity: Math.max(1024, this.chunks.size) }) : null;
  }

  /** Stores a chunk's vector (after resetVectors, which sets the model the vectors come from). */
  setVector(id: number, vector: Float32Array): void {
    if (!this.vectorIndex) throw new Error('this store has no embedding model; call resetVectors first');
    this.vectorIndex.upsert(id, vector);
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
    for (const id of entry.chunkIds) {
      this.chunks.delete(id);
      this.keyword.remove(id);
      this.vectorIndex?.remove(id);
    }
    this.fileKeyword.remove(entry.fileId);
    this.pathByFileId.delete(entry.fileId);
    this.catalog.delete(relativePath);
  }

  /** Adds a file's chunks (its old chunks must have been removed). Vectors align with chunks. */
  addFile(relativePath: string, entry: Omit<CatalogEntry, 'chunkIds' | 'fileId'>, chunks: Chunk[], vectors: Float32Array[] | null): void {
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      this.chunks.set(chunk.id, chunk);
      this.keyword.add(chunk.id, keywordFieldsOf(chunk));
      if (vectors && this.vectorIndex) this.vectorIndex.upsert(chunk.id, vectors[i]!);
    }
    const fileId = this.manifest.nextFileId++;
    if (chunks.length > 0) this.fileKeyword.add(fileId, pageKeywordFieldsOf(chunks));
    this.pathByFileId.set(fileId, relativePath);
    this.catalog.set(relativePath, { ...entry, fileId, chunkIds: chunks.map((chunk) => chunk.id) });
  }

  /** Writes a new generation and makes it current. */
  async commit(): Promise<void> {
    const generation = this.manifest.generation + 1;
    const name = (kind: string, extension: string): string => `${kind}-${generation}.${extension}`;
    const files: Manifest['files'] = {
      catalog: name('catalog', 'json'),
      chunks: name('chunks', 'json'),
      keyword: name('keyword', 'json'),
      fileKeyword: name('filekeyword', 'json'),
      vectors: this.vectorIndex ? name('vectors', 'hnsw') : null,
    };
    await writeFileAtomic(path.join(this.dir, files.catalog), JSON.stringify(Object.fromEntries(this.catalog)));
    await writeFileAtomic(path.join(this.dir, files.chunks), JSON.stringify([...this.chunks.values()]));
    await writeFileAtomic(path.join(this.dir, files.keyword), JSON.stringify(this.keyword.serialize()));
    await writeFileAtomic(path.join(this.dir, files.fileKeyword), JSON.stringify(this.fileKeyword.serialize()));
    if (this.vectorIndex && files.vectors) await this.vectorIndex.save(path.join(this.dir, files.vectors));
    const manifest: Manifest = { ...this.manifest, format: STORE_FORMAT_VERSION, generation, files, updatedAt: new Date().toISOString() };
    await writeFileAtomic(path.join(this.dir, MANIFEST), JSON.stringify(manifest, null, 2));
    this.manifest = manifest;
    await this.sweep();
  }

  /** Deletes files of other generations and temp files left by a killed writer. */
  private async sweep(): Promise<void> {
    const current = Object.values(this.manifest.files).filter((file): file is string => !!file);
    // A generation's file may have sidecars (the vector index's `.meta.json`): keep those too.
    const isCurrent = (entry: string): boolean => entry === MANIFEST || current.some((file) => entry === file || entry.startsWith(`${file}.meta`));
    for (const entry of await fs.readdir(this.dir)) {
      if (isCurrent(entry)) continue;
      if (/^(catalog|chunks|keyword|filekeyword|vectors)-\d+\.(json|hnsw)/.test(entry) || entry.includes('.tmp-')) {
        await fs.rm(path.join(this.dir, entry), { force: true });
      }
    }
  }
}

function parseManifest(text: string, dir: string): Manifest {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch {
    throw new StoreError(`corrupt Docent store at ${dir}: manifest.json is not valid JSON (delete the folder and re-index)`);
  }
  if (manifest.format !== STORE_FORMAT_VERSION) {
    throw new StoreError(`Docent store at ${dir} has format ${String(manifest.format)}, this version reads ${STORE_FORMAT_VERSION} (re-index into a new folder)`);
  }
  if (typeof manifest.generation !== 'number' || !manifest.files?.catalog) {
    throw new StoreError(`corrupt Docent store at ${dir}: manifest.json is incomplete (delete the folder and re-index)`);
  }
  return manifest;
}

/**
 * The on-disk index of one folder: a directory holding one immutable GENERATION of files
 * (catalog + chunks + keyword index + vector index) and `manifest.json` naming the current one
 * with the size and SHA-256 of each of its files (and of itself). A commit writes a new
 * generation's files (each temp → fsync → rename), then swaps the manifest the same way.
 * A process killed at any instant leaves either the old or the new generation current.
 *
 * Safety beside other processes: one writer at a time holds `writer.lock` (see storeLock.ts);
 * only it deletes, and only names of the store's own patterns: generations older than the
 * previous one (a reader may still be loading that) and temp files of dead writers. Readers
 * never delete; a reader whose generation was replaced while it loaded reads the new one.
 * Every file is verified against the manifest on load: damage is a StoreError naming the
 * store, never wrong answers. A failed write (a full disk) is a StoreError too, with the new
 * generation's files removed and the previous generation current.
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
 * The writer's API (`lockForWriting`, `unlock`, `nextChunkId`, `resetVectors`, `setVector`,
 * `addFile`, `removeFile`, `touchFile`, `lastIndex =`, `commit`) is for src/core/indexer.ts.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from './atomicFile.js';
import { errorMessage } from './errorMessage.js';
import { keywordFieldsOf, pageKeywordFieldsOf } from './chunkText.js';
import { KeywordIndex, sumStatistics, type KeywordIndexOptions, type KeywordStatistics, type SerializedKeywordIndex } from './search/keywordIndex.js';
import type { Chunk, EmbedderRuntime } from './types.js';
import { acquireWriterLock, isRunning, type WriterLock } from './storeLock.js';
import { HnswVectorIndex, metadataPathFor, type VectorSearchHit } from './vectorIndex.js';

export const STORE_FORMAT_VERSION = 2;
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
  /** Every file of the generation (the vector index's sidecar included). */
  checksums: Record<string, FileChecksum>;
  updatedAt: string;
  /** SHA-256 of this manifest's JSON without this field. */
  sha256: string;
}

interface FileChecksum {
  bytes: number;
  sha256: string;
}

/** Names the store writes; nothing else in its folder is ever deleted. */
const GENERATION_FILE = /^(?:catalog|chunks|keyword|filekeyword|vectors)-(\d+)\.(?:json|hnsw)(?:\.meta\.json)?$/;
const TEMP_FILE = /^((?:catalog|chunks|keyword|filekeyword|vectors)-\d+\.(?:json|hnsw)(?:\.meta\.json)?|manifest\.json|writer\.lock)\.tmp-(\d+)-[0-9a-f]+$/;

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

/** What one generation holds in memory. */
interface Loaded {
  manifest: Manifest;
  catalog: Map<string, CatalogEntry>;
  chunks: Map<number, Chunk>;
  keyword: KeywordIndex;
  /** Whole-file BM25F: page-level evidence that a passage's page is about the question. */
  fileKeyword: KeywordIndex;
  vectorIndex: HnswVectorIndex | null;
}

export class DocStore {
  /** Page-level keyword hits name files by id; search answers with paths. */
  private readonly pathByFileId = new Map<number, string>();
  private manifest!: Manifest;
  private catalog!: Map<string, CatalogEntry>;
  private chunks!: Map<number, Chunk>;
  private keyword!: KeywordIndex;
  private fileKeyword!: KeywordIndex;
  private vectorIndex!: HnswVectorIndex | null;
  private lock: WriterLock | undefined;

  private constructor(
    readonly dir: string,
    loaded: Loaded,
    /** Said once when this store replaces one an older Docent wrote (it is rebuilt by the next index run). */
    readonly notice?: string,
  ) {
    this.adopt(loaded);
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

  /**
   * Opens the store in `dir`, or creates an empty one when `create` is set and none exists (or
   * an older Docent wrote it: the empty store replaces it at its first commit). Reads only.
   */
  static async open(
    dir: string,
    { create = false, keywordOptions }: { create?: boolean; keywordOptions?: KeywordIndexOptions } = {},
  ): Promise<DocStore> {
    for (let attempt = 1; ; attempt++) {
      const manifest = await readManifest(dir);
      if (manifest === undefined || manifest.format !== STORE_FORMAT_VERSION) {
        const older = manifest === undefined ? undefined : `Docent store at ${dir} was written by an older Docent (format ${String(manifest.format)})`;
        if (!create) {
          throw new StoreError(older ? `${older}; run "docent index <folder> --store ${dir}" to rebuild it` : `no Docent store at ${dir} (run "docent index <folder> --store ${dir}" first)`);
        }
        await fs.mkdir(dir, { recursive: true });
        return new DocStore(dir, emptyGeneration(keywordOptions), older && `${older}: rebuilding it`);
      }
      try {
        return new DocStore(dir, await loadGeneration(dir, manifest));
      } catch (error) {
        // A writer replaced this generation while we read it (and swept the one before): read the new one.
        if (attempt < 5 && (await readManifest(dir).catch(() => undefined))?.generation !== manifest.generation) continue;
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
    try {
      const onDisk = await readManifest(this.dir);
      if (onDisk?.format === STORE_FORMAT_VERSION && onDisk.generation !== this.manifest.generation) this.adopt(await loadGeneration(this.dir, onDisk));
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

  /**
   * Writes a new generation and makes it current (under the writer lock). On failure its files
   * are removed, the previous generation stays current, and a StoreError says why in one line.
   */
  async commit(): Promise<void> {
    if (!this.lock) throw new Error('DocStore.commit needs the writer lock: call lockForWriting() first');
    const previous = this.manifest.generation;
    const generation = previous + 1;
    const name = (kind: string, extension: string): string => `${kind}-${generation}.${extension}`;
    const files: Manifest['files'] = {
      catalog: name('catalog', 'json'),
      chunks: name('chunks', 'json'),
      keyword: name('keyword', 'json'),
      fileKeyword: name('filekeyword', 'json'),
      vectors: this.vectorIndex ? name('vectors', 'hnsw') : null,
    };
    const checksums: Record<string, FileChecksum> = {};
    const written: string[] = [];
    const write = async (file: string, text: string): Promise<void> => {
      const bytes = Buffer.from(text);
      written.push(file);
      await writeFileAtomic(path.join(this.dir, file), bytes);
      checksums[file] = checksumOf(bytes);
    };
    try {
      await write(files.catalog, JSON.stringify(Object.fromEntries(this.catalog)));
      await write(files.chunks, JSON.stringify([...this.chunks.values()]));
      await write(files.keyword, JSON.stringify(this.keyword.serialize()));
      await write(files.fileKeyword, JSON.stringify(this.fileKeyword.serialize()));
      if (this.vectorIndex && files.vectors) {
        const sidecar = path.basename(metadataPathFor(files.vectors));
        written.push(files.vectors, sidecar);
        await this.vectorIndex.save(path.join(this.dir, files.vectors));
        // The sidecar holds the index file's own SHA-256, which HnswVectorIndex.load checks.
        checksums[sidecar] = checksumOf(await fs.readFile(path.join(this.dir, sidecar)));
      }
      const manifest = sealManifest({ ...this.manifest, format: STORE_FORMAT_VERSION, generation, files, checksums, updatedAt: new Date().toISOString() });
      await writeFileAtomic(path.join(this.dir, MANIFEST), JSON.stringify(manifest, null, 2));
      this.manifest = manifest;
    } catch (error) {
      // Past the manifest's rename (a failed directory fsync) the new generation is current: keep it.
      if ((await readManifest(this.dir).catch(() => undefined))?.generation !== generation) {
        await Promise.all(written.map((file) => fs.rm(path.join(this.dir, file), { force: true }).catch(() => undefined)));
      }
      throw new StoreError(`cannot write Docent store at ${this.dir}: ${describeIoError(error)}; its previous index (generation ${previous}) is intact`);
    }
    await this.sweep();
  }

  private adopt(loaded: Loaded): void {
    ({ manifest: this.manifest, catalog: this.catalog, chunks: this.chunks, keyword: this.keyword, fileKeyword: this.fileKeyword, vectorIndex: this.vectorIndex } =
      loaded);
    this.pathByFileId.clear();
    for (const [relativePath, entry] of this.catalog) this.pathByFileId.set(entry.fileId, relativePath);
  }

  /**
   * The writer's clean-up: generations other than the current and the previous one (which a
   * reader may be loading), and temp files of writers that are gone. Never any other name.
   */
  private async sweep(): Promise<void> {
    const current = this.manifest.generation;
    for (const entry of await fs.readdir(this.dir)) {
      const generation = GENERATION_FILE.exec(entry)?.[1];
      const temp = TEMP_FILE.exec(entry);
      const orphan =
        (generation !== undefined && Number(generation) !== current && Number(generation) !== current - 1) ||
        // A live process's lock temp file is its attempt to take the lock: not ours to remove.
        (temp !== null && (temp[1] === 'writer.lock' ? !isRunning(Number(temp[2])) : Number(temp[2]) === process.pid || !isRunning(Number(temp[2]))));
      if (orphan) await fs.rm(path.join(this.dir, entry), { force: true });
    }
  }
}

function emptyGeneration(keywordOptions: KeywordIndexOptions | undefined): Loaded {
  return {
    manifest: {
      format: STORE_FORMAT_VERSION,
      generation: 0,
      nextChunkId: 1,
      nextFileId: 1,
      embedder: null,
      files: { catalog: '', chunks: '', keyword: '', fileKeyword: '', vectors: null },
      checksums: {},
      updatedAt: new Date().toISOString(),
      sha256: '',
    },
    catalog: new Map(),
    chunks: new Map(),
    keyword: new KeywordIndex(keywordOptions),
    fileKeyword: new KeywordIndex(keywordOptions),
    vectorIndex: null,
  };
}

/** Reads and verifies every file the manifest names. */
async function loadGeneration(dir: string, manifest: Manifest): Promise<Loaded> {
  const corrupt = (what: string): StoreError => new StoreError(`corrupt Docent store at ${dir}: ${what} (delete the folder and re-index)`);
  const readVerified = async (file: string): Promise<Buffer> => {
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(path.join(dir, file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw corrupt(`${file} is missing`);
      throw new StoreError(`cannot read Docent store at ${dir}: ${describeIoError(error)}`);
    }
    const expected = manifest.checksums[file];
    const actual = checksumOf(bytes);
    if (!expected || expected.bytes !== actual.bytes || expected.sha256 !== actual.sha256) throw corrupt(`${file} does not match its checksum`);
    return bytes;
  };
  const readJson = async (file: string): Promise<unknown> => {
    const bytes = await readVerified(file);
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch {
      throw corrupt(`${file} is not valid JSON`);
    }
  };
  const { files } = manifest;
  const [catalogJson, chunksJson, keywordJson, fileKeywordJson] = await Promise.all([files.catalog, files.chunks, files.keyword, files.fileKeyword].map(readJson));
  let vectorIndex: HnswVectorIndex | null = null;
  if (files.vectors && manifest.embedder) {
    await readVerified(path.basename(metadataPathFor(files.vectors)));
    try {
      vectorIndex = await HnswVectorIndex.load(path.join(dir, files.vectors), manifest.embedder.dimensions);
    } catch (error) {
      throw corrupt(errorMessage(error));
    }
  }
  try {
    return {
      manifest,
      catalog: new Map<string, CatalogEntry>(Object.entries(catalogJson as Record<string, CatalogEntry>)),
      chunks: new Map<number, Chunk>((chunksJson as Chunk[]).map((chunk) => [chunk.id, chunk])),
      keyword: KeywordIndex.deserialize(keywordJson as SerializedKeywordIndex),
      fileKeyword: KeywordIndex.deserialize(fileKeywordJson as SerializedKeywordIndex),
      vectorIndex,
    };
  } catch (error) {
    throw corrupt(errorMessage(error));
  }
}

/** The current manifest, verified; undefined when there is none. An older format is returned as read. */
async function readManifest(dir: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, MANIFEST), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreError(`cannot read Docent store at ${dir}: ${describeIoError(error)}`);
  }
  const corrupt = (what: string): StoreError => new StoreError(`corrupt Docent store at ${dir}: manifest.json ${what} (delete the folder and re-index)`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(text) as Manifest;
  } catch {
    throw corrupt('is not valid JSON');
  }
  if (typeof manifest !== 'object' || manifest === null) throw corrupt('is not a manifest');
  if (manifest.format !== STORE_FORMAT_VERSION) return manifest;
  if (sealManifest(manifest).sha256 !== manifest.sha256) throw corrupt('does not match its checksum');
  if (typeof manifest.generation !== 'number' || !manifest.files?.catalog || typeof manifest.checksums !== 'object') throw corrupt('is incomplete');
  return manifest;
}

function sealManifest(manifest: Manifest): Manifest {
  const { sha256: _previous, ...content } = manifest;
  return { ...content, sha256: createHash('sha256').update(JSON.stringify(content)).digest('hex') };
}

function checksumOf(bytes: Buffer): FileChecksum {
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

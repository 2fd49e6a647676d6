/**
 * Nearest-neighbour indexes over unit-length embedding vectors, scored by cosine similarity.
 * `HnswVectorIndex` is the approximate index used for real corpora; `ExactVectorIndex` is the
 * brute-force baseline (ground truth in tests and benchmarks, and good enough for tiny corpora).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rm, stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { HierarchicalNSW } from 'hnswlib-node';
import { commitTempFile, tempPathFor, writeFileAtomic } from './atomicFile.js';
import { errorMessage } from './errorMessage.js';

export interface VectorSearchHit {
  label: number;
  /** Cosine similarity, 1 = same direction. */
  score: number;
}

export interface LabeledVector {
  label: number;
  vector: Float32Array;
}

export interface VectorIndex {
  readonly dimensions: number;
  /** Number of live (searchable) vectors. */
  readonly size: number;
  has(label: number): boolean;
  /** Adds the vector, or replaces the vector already stored under `label`. */
  upsert(label: number, vector: Float32Array): void;
  upsertMany(items: readonly LabeledVector[]): void;
  /** Returns false when `label` was not in the index. */
  remove(label: number): boolean;
  /** Up to `k` hits, best first. */
  search(query: Float32Array, k: number): VectorSearchHit[];
  /** The stored vector under `label` (unit length for cosine indexes), or undefined. */
  vectorOf(label: number): Float32Array | undefined;
}

export interface HnswCreateOptions {
  /** Graph out-degree; memory and build time grow with it. */
  M?: number;
  efConstruction?: number;
  /** Default candidate-list size for `search`; raised to `k` when smaller. */
  efSearch?: number;
  initialCapacity?: number;
}

export interface HnswLoadOptions {
  efSearch?: number;
}

/** Why a saved index could not be loaded; 'corrupt' and 'incompatible' call for a rebuild. */
export type VectorIndexFileProblem = 'missing' | 'corrupt' | 'incompatible';

export class VectorIndexFileError extends Error {
  constructor(
    message: string,
    readonly problem: VectorIndexFileProblem,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'VectorIndexFileError';
  }
}

/** The sidecar written next to a saved HNSW index: labels, checksum and shape of the index file. */
export function metadataPathFor(indexPath: string): string {
  return `${indexPath}.meta.json`;
}

/** hnswlib's native addon, loaded by the first HNSW index: a store searched exactly never loads it. */
function hnswlib(): typeof import('hnswlib-node') {
  return require('hnswlib-node') as typeof import('hnswlib-node');
}

const METADATA_FORMAT = 'docent-hnsw';
const METADATA_VERSION = 1;
/** hnswlib-node passes labels through Uint32. */
const MAX_HNSW_LABEL = 0xffff_ffff;
/** Bytes of the fixed header hnswlib's saveIndex writes before the element data. */
const HNSW_HEADER_BYTES = 96;

interface HnswFileMetadata {
  format: typeof METADATA_FORMAT;
  version: typeof METADATA_VERSION;
  space: 'cosine';
  dimensions: number;
  byteLength: number;
  sha256: string;
  nextHandle: number;
  /** Parallel arrays: live public label i is stored under hnswlib label handles[i]. */
  labels: number[];
  handles: number[];
}

/**
 * HNSW index (hnswlib, cosine space).
 *
 * Public labels are mapped to hnswlib labels ("handles") that are never reused. hnswlib's
 * replace-deleted insert takes over an arbitrary removed slot and silently drops that slot's old
 * label; with fresh handles the dropped label is always one nobody refers to any more, so a label
 * that is removed and added again can never end up stored twice.
 */
export class HnswVectorIndex implements VectorIndex {
  private readonly handleOfLabel = new Map<number, number>();
  private readonly labelOfHandle = new Map<number, number>();
  private appliedEf = -1;
  private saving = false;

  private constructor(
    readonly dimensions: number,
    private readonly index: HierarchicalNSW,
    readonly efSearch: number,
    private nextHandle: number,
  ) {}

  static create(dimensions: number, options: HnswCreateOptions = {}): HnswVectorIndex {
    const { M = 16, efConstruction = 200, efSearch = 64, initialCapacity = 1024 } = options;
    assertPositiveInteger(dimensions, 'dimensions');
    assertPositiveInteger(M, 'M');
    assertPositiveInteger(efConstruction, 'efConstruction');
    assertPositiveInteger(efSearch, 'efSearch');
    assertPositiveInteger(initialCapacity, 'initialCapacity');
    const index = new (hnswlib().HierarchicalNSW)('cosine', dimensions);
    index.initIndex({ maxElements: initialCapacity, m: M, efConstruction, allowReplaceDeleted: true });
    return new HnswVectorIndex(dimensions, index, efSearch, 0);
  }

  /**
   * Loads an index written by `save`. The file is checked against the sidecar's length and
   * SHA-256 before hnswlib sees it: hnswlib rejects truncated files itself, but a same-length
   * corruption loads "fine" and can then crash the process inside a search.
   */
  static async load(path: string, dimensions: number, options: HnswLoadOptions = {}): Promise<HnswVectorIndex> {
    const { efSearch = 64 } = options;
    assertPositiveInteger(dimensions, 'dimensions');
    assertPositiveInteger(efSearch, 'efSearch');
    const metadata = await readMetadata(path);
    if (metadata.dimensions !== dimensions) {
      throw new VectorIndexFileError(
        `Vector index ${path} holds ${metadata.dimensions}-dimensional vectors, expected ${dimensions}`,
        'incompatible',
      );
    }
    const byteLength = await fileSize(path);
    if (byteLength !== metadata.byteLength) {
      throw new VectorIndexFileError(
        `Vector index ${path} is truncated or was modified: ${byteLength} bytes, expected ${metadata.byteLength}`,
        'corrupt',
      );
    }
    if ((await sha256OfFile(path)) !== metadata.sha256) {
      throw new VectorIndexFileError(`Vector index ${path} is corrupt: its checksum does not match ${metadataPathFor(path)}`, 'corrupt');
    }
    const index = new (hnswlib().HierarchicalNSW)('cosine', dimensions);
    try {
      await index.readIndex(path, true);
    } catch (error) {
      throw new VectorIndexFileError(`Vector index ${path} could not be read: ${errorMessage(error)}`, 'corrupt', { cause: error });
    }
    const loaded = new HnswVectorIndex(dimensions, index, efSearch, metadata.nextHandle);
    metadata.labels.forEach((label, i) => loaded.remember(label, metadata.handles[i]!));
    if (loaded.size > index.getCurrentCount()) {
      throw new VectorIndexFileError(`Vector index ${path} lists more labels than the index file holds`, 'corrupt');
    }
    return loaded;
  }

  get size(): number {
    return this.handleOfLabel.size;
  }

  /** Elements the index can hold before it has to grow; removed elements' slots count as free. */
  get capacity(): number {
    return this.index.getMaxElements();
  }

  has(label: number): boolean {
    return this.handleOfLabel.has(label);
  }

  vectorOf(label: number): Float32Array | undefined {
    const handle = this.handleOfLabel.get(label);
    return handle === undefined ? undefined : Float32Array.from(this.index.getPoint(handle));
  }

  upsert(label: number, vector: Float32Array): void {
    this.assertWritable();
    assertLabel(label);
    assertVector(vector, this.dimensions, `vector for label ${label}`);
    if (!this.has(label)) this.reserve(1);
    this.write(label, vector);
  }

  upsertMany(items: readonly LabeledVector[]): void {
    this.assertWritable();
    const newLabels = new Set<number>();
    // Validate everything first so a bad item does not leave the batch half applied.
    for (const { label, vector } of items) {
      assertLabel(label);
      assertVector(vector, this.dimensions, `vector for label ${label}`);
      if (!this.has(label)) newLabels.add(label);
    }
    this.reserve(newLabels.size);
    for (const { label, vector } of items) this.write(label, vector);
  }

  remove(label: number): boolean {
    this.assertWritable();
    const handle = this.handleOfLabel.get(label);
    if (handle === undefined) return false;
    this.index.markDelete(handle);
    this.handleOfLabel.delete(label);
    this.labelOfHandle.delete(handle);
    return true;
  }

  search(query: Float32Array, k: number, efSearch: number = this.efSearch): VectorSearchHit[] {
    assertVector(query, this.dimensions, 'query vector');
    if (!Number.isInteger(k) || k < 0) throw new Error(`k must be a non-negative integer, got ${k}`);
    assertPositiveInteger(efSearch, 'efSearch');
    const count = Math.min(k, this.size);
    if (count === 0) return [];
    const ef = Math.max(efSearch, count);
    if (ef !== this.appliedEf) {
      this.index.setEf(ef);
      this.appliedEf = ef;
    }
    const { neighbors, distances } = this.index.searchKnn(Array.from(query), count);
    return neighbors.map((handle, i) => ({ label: this.labelOfHandle.get(handle)!, score: 1 - distances[i]! }));
  }

  /**
   * Writes the index to `path` and its sidecar to `metadataPathFor(path)`, each atomically.
   * Searches may run meanwhile; changes throw until the returned promise settles.
   */
  async save(path: string): Promise<void> {
    this.assertWritable();
    this.saving = true;
    const tempPath = tempPathFor(path);
    try {
      try {
        await this.index.writeIndex(tempPath);
        await assertCompleteHnswFile(tempPath, this.index.getCurrentCount());
        const metadata: HnswFileMetadata = {
          format: METADATA_FORMAT,
          version: METADATA_VERSION,
          space: 'cosine',
          dimensions: this.dimensions,
          byteLength: await fileSize(tempPath),
          sha256: await sha256OfFile(tempPath),
          nextHandle: this.nextHandle,
          labels: [...this.handleOfLabel.keys()],
          handles: [...this.handleOfLabel.values()],
        };
        await commitTempFile(tempPath, path);
        // A crash between the two renames leaves a checksum mismatch, which load reports as corrupt.
        await writeFileAtomic(metadataPathFor(path), JSON.stringify(metadata));
      } finally {
        await rm(tempPath, { force: true });
      }
    } finally {
      this.saving = false;
    }
  }

  private write(label: number, vector: Float32Array): void {
    const values = Array.from(vector);
    const handle = this.handleOfLabel.get(label);
    if (handle !== undefined) {
      this.index.addPoint(values, handle, false);
      return;
    }
    if (this.nextHandle > MAX_HNSW_LABEL) throw new Error('Vector index has used up its internal labels; rebuild it');
    const fresh = this.nextHandle++;
    // true: take over a removed element's slot when there is one, so churn does not grow the index.
    this.index.addPoint(values, fresh, true);
    this.remember(label, fresh);
  }

  private remember(label: number, handle: number): void {
    this.handleOfLabel.set(label, handle);
    this.labelOfHandle.set(handle, label);
  }

  /** Doubles capacity until `newLabels` more labels fit; removed elements' slots count as free. */
  private reserve(newLabels: number): void {
    let capacity = this.capacity;
    while (capacity - this.size < newLabels) capacity *= 2;
    if (capacity !== this.capacity) this.index.resizeIndex(capacity);
  }

  private assertWritable(): void {
    if (this.saving) throw new Error('Vector index is being saved; wait for save() to finish before changing it');
  }
}

/** Brute-force cosine search over one contiguous Float32Array of normalised rows. */
export class ExactVectorIndex implements VectorIndex {
  /** Rows [0, size) are live, each normalised to unit length. */
  private rows: Float32Array;
  private labelOfRow: Float64Array;
  private readonly rowOfLabel = new Map<number, number>();

  constructor(
    readonly dimensions: number,
    initialCapacity = 1024,
  ) {
    assertPositiveInteger(dimensions, 'dimensions');
    assertPositiveInteger(initialCapacity, 'initialCapacity');
    this.rows = new Float32Array(initialCapacity * dimensions);
    this.labelOfRow = new Float64Array(initialCapacity);
  }

  get size(): number {
    return this.rowOfLabel.size;
  }

  get capacity(): number {
    return this.labelOfRow.length;
  }

  has(label: number): boolean {
    return this.rowOfLabel.has(label);
  }

  vectorOf(label: number): Float32Array | undefined {
    const row = this.rowOfLabel.get(label);
    return row === undefined ? undefined : this.rows.slice(row * this.dimensions, (row + 1) * this.dimensions);
  }

  upsert(label: number, vector: Float32Array): void {
    assertLabel(label);
    const norm = assertVector(vector, this.dimensions, `vector for label ${label}`);
    let row = this.rowOfLabel.get(label);
    if (row === undefined) {
      row = this.size;
      if (row === this.capacity) this.grow();
      this.rowOfLabel.set(label, row);
      this.labelOfRow[row] = label;
    }
    const offset = row * this.dimensions;
    for (let i = 0; i < this.dimensions; i++) this.rows[offset + i] = vector[i]! / norm;
  }

  upsertMany(items: readonly LabeledVector[]): void {
    // Validate everything first so a bad item does not leave the batch half applied.
    for (const { label, vector } of items) {
      assertLabel(label);
      assertVector(vector, this.dimensions, `vector for label ${label}`);
    }
    for (const { label, vector } of items) this.upsert(label, vector);
  }

  remove(label: number): boolean {
    const row = this.rowOfLabel.get(label);
    if (row === undefined) return false;
    this.rowOfLabel.delete(label);
    const last = this.size; // size already excludes the removed row
    if (row !== last) {
      // Swap-remove: move the last row into the hole to keep rows contiguous.
      const dims = this.dimensions;
      this.rows.copyWithin(row * dims, last * dims, (last + 1) * dims);
      const moved = this.labelOfRow[last]!;
      this.labelOfRow[row] = moved;
      this.rowOfLabel.set(moved, row);
    }
    return true;
  }

  search(query: Float32Array, k: number): VectorSearchHit[] {
    const norm = assertVector(query, this.dimensions, 'query vector');
    if (!Number.isInteger(k) || k < 0) throw new Error(`k must be a non-negative integer, got ${k}`);
    const count = Math.min(k, this.size);
    if (count === 0) return [];
    const unitQuery = query.map((value) => value / norm);
    const best = new TopK(count);
    const { rows, dimensions, size } = this;
    const pair = new Float64Array(2);
    for (let row = 0; row < size; row += 2) {
      // An odd last row is scored twice over (pairs with itself).
      const second = Math.min(row + 1, size - 1);
      dotPair(rows, row * dimensions, second * dimensions, unitQuery, dimensions, pair);
      best.offer(pair[0]!, row);
      if (second !== row) best.offer(pair[1]!, second);
    }
    return best
      .drain()
      .map(({ score, row }) => ({ label: this.labelOfRow[row]!, score }))
      .sort((a, b) => b.score - a.score || a.label - b.label);
  }

  private grow(): void {
    const rows = new Float32Array(this.rows.length * 2);
    rows.set(this.rows);
    this.rows = rows;
    const labels = new Float64Array(this.labelOfRow.length * 2);
    labels.set(this.labelOfRow);
    this.labelOfRow = labels;
  }
}

/**
 * The query's dot products with the rows at offsets `offset` and `next`, into `out`: each query
 * value is loaded once for both rows, and four independent sums per row let the CPU overlap the
 * multiply-adds.
 */
function dotPair(rows: Float32Array, offset: number, next: number, query: Float32Array, dimensions: number, out: Float64Array): void {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  let b0 = 0, b1 = 0, b2 = 0, b3 = 0;
  const unrolledEnd = dimensions - (dimensions % 4);
  let i = 0;
  for (; i < unrolledEnd; i += 4) {
    const q0 = query[i]!;
    const q1 = query[i + 1]!;
    const q2 = query[i + 2]!;
    const q3 = query[i + 3]!;
    a0 += rows[offset + i]! * q0;
    a1 += rows[offset + i + 1]! * q1;
    a2 += rows[offset + i + 2]! * q2;
    a3 += rows[offset + i + 3]! * q3;
    b0 += rows[next + i]! * q0;
    b1 += rows[next + i + 1]! * q1;
    b2 += rows[next + i + 2]! * q2;
    b3 += rows[next + i + 3]! * q3;
  }
  for (; i < dimensions; i++) {
    a0 += rows[offset + i]! * query[i]!;
    b0 += rows[next + i]! * query[i]!;
  }
  out[0] = a0 + a1 + a2 + a3;
  out[1] = b0 + b1 + b2 + b3;
}

/** Keeps the `capacity` highest scores seen, as a binary min-heap (worst kept score at the root). */
class TopK {
  private readonly scores: Float64Array;
  private readonly rows: Int32Array;
  private count = 0;

  constructor(private readonly capacity: number) {
    this.scores = new Float64Array(capacity);
    this.rows = new Int32Array(capacity);
  }

  offer(score: number, row: number): void {
    if (this.count < this.capacity) {
      let i = this.count++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (this.scores[parent]! <= score) break;
        this.scores[i] = this.scores[parent]!;
        this.rows[i] = this.rows[parent]!;
        i = parent;
      }
      this.scores[i] = score;
      this.rows[i] = row;
      return;
    }
    if (score <= this.scores[0]!) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.count) break;
      if (child + 1 < this.count && this.scores[child + 1]! < this.scores[child]!) child++;
      if (this.scores[child]! >= score) break;
      this.scores[i] = this.scores[child]!;
      this.rows[i] = this.rows[child]!;
      i = child;
    }
    this.scores[i] = score;
    this.rows[i] = row;
  }

  drain(): { score: number; row: number }[] {
    return Array.from({ length: this.count }, (_, i) => ({ score: this.scores[i]!, row: this.rows[i]! }));
  }
}

/** Throws unless `vector` is a usable `dimensions`-long vector; returns its Euclidean norm. */
function assertVector(vector: Float32Array, dimensions: number, what: string): number {
  if (vector.length !== dimensions) {
    throw new Error(`Dimension mismatch: ${what} has ${vector.length} dimensions, the index has ${dimensions}`);
  }
  let squares = 0;
  for (let i = 0; i < dimensions; i++) {
    const value = vector[i]!;
    if (!Number.isFinite(value)) throw new Error(`Invalid ${what}: element ${i} is ${value}`);
    squares += value * value;
  }
  if (squares === 0) throw new Error(`Invalid ${what}: it is all zeros, so it has no direction to compare`);
  return Math.sqrt(squares);
}

function assertLabel(label: number): void {
  if (!Number.isSafeInteger(label)) throw new Error(`Vector labels must be integers, got ${label}`);
}

function assertPositiveInteger(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
}

async function readMetadata(indexPath: string): Promise<HnswFileMetadata> {
  const path = metadataPathFor(indexPath);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isMissingFile(error)) throw new VectorIndexFileError(`No vector index metadata at ${path}`, 'missing', { cause: error });
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new VectorIndexFileError(`Vector index metadata ${path} is not valid JSON`, 'corrupt', { cause: error });
  }
  const metadata = parsed as Partial<HnswFileMetadata> | null;
  if (metadata?.format !== METADATA_FORMAT || metadata.version !== METADATA_VERSION || metadata.space !== 'cosine') {
    throw new VectorIndexFileError(`${path} is not a version ${METADATA_VERSION} Docent vector index`, 'incompatible');
  }
  const wellFormed =
    Number.isInteger(metadata.dimensions) &&
    Number.isInteger(metadata.byteLength) &&
    typeof metadata.sha256 === 'string' &&
    Number.isInteger(metadata.nextHandle) &&
    Array.isArray(metadata.labels) &&
    Array.isArray(metadata.handles) &&
    metadata.labels.length === metadata.handles.length;
  if (!wellFormed) throw new VectorIndexFileError(`Vector index metadata ${path} is incomplete`, 'corrupt');
  return metadata as HnswFileMetadata;
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if (isMissingFile(error)) throw new VectorIndexFileError(`No vector index at ${path}`, 'missing', { cause: error });
    throw error;
  }
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * hnswlib's saveIndex ignores write errors (a full disk leaves a short file), so walk the written
 * file's layout the way its loader will before it replaces a good index.
 */
async function assertCompleteHnswFile(path: string, expectedElements: number): Promise<void> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const header = Buffer.alloc(HNSW_HEADER_BYTES);
    const { bytesRead } = await file.read(header, 0, HNSW_HEADER_BYTES, 0);
    const elements = bytesRead === HNSW_HEADER_BYTES ? Number(header.readBigUInt64LE(16)) : -1;
    const tailStart = HNSW_HEADER_BYTES + elements * Number(header.readBigUInt64LE(24));
    let complete = elements === expectedElements && tailStart <= size;
    if (complete) {
      // After the fixed-size element block: per element, a uint32 byte count then its upper-layer links.
      const tail = Buffer.alloc(size - tailStart);
      await file.read(tail, 0, tail.length, tailStart);
      let offset = 0;
      let walked = 0;
      for (; walked < elements && offset + 4 <= tail.length; walked++) offset += 4 + tail.readUInt32LE(offset);
      complete = walked === elements && offset === tail.length;
    }
    if (!complete) {
      // hnswlib hides the write error; a full disk is the usual cause, and it says so in the code.
      const full = (await statfs(dirname(path))).bavail === 0;
      throw Object.assign(new Error(full ? 'no space left on device (ENOSPC) while writing the vector index' : 'the vector index was written incompletely'), full ? { code: 'ENOSPC' } : {});
    }
  } finally {
    await file.close();
  }
}

function isMissingFile(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

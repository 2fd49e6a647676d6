/**
 * Nearest-neighbour indexes over unit-length embedding vectors, scored by cosine similarity.
 * `ExactVectorIndex` is brute force (a store's vectors below a measured size, and the ground
 * truth in tests and benchmarks); `HnswVectorIndex` is the approximate graph a store keeps for a
 * segment above that size (see storeVectors.ts).
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { HierarchicalNSW } from 'hnswlib-node';
import { commitTempFile, tempPathFor } from './atomicFile.js';
import { errorMessage } from './errorMessage.js';
import { VectorRows } from './vectorRows.js';
import { workerEntry } from './workerScript.js';

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

export interface HnswBuildOptions {
  /** Graph out-degree; memory and build time grow with it. */
  M?: number;
  efConstruction?: number;
}

/** Size and SHA-256 of a saved graph file, as its owner records them to check the file on load. */
export interface GraphFileChecksum {
  bytes: number;
  sha256: string;
}

/** Why a saved graph could not be loaded. */
export type VectorIndexFileProblem = 'missing' | 'corrupt';

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

/** hnswlib's native addon, loaded by the first HNSW index: a store searched exactly never loads it. */
function hnswlib(): typeof import('hnswlib-node') {
  return require('hnswlib-node') as typeof import('hnswlib-node');
}

/** A graph build reports progress after every this many vectors. */
const PROGRESS_EVERY = 1000;

/** hnswlib-node passes labels through Uint32. */
const MAX_HNSW_LABEL = 0xffff_ffff;
/** Bytes of the fixed header hnswlib's saveIndex writes before the element data. */
const HNSW_HEADER_BYTES = 96;

/**
 * An HNSW graph (hnswlib, cosine space) built once from a set of labeled vectors, as a store
 * segment's vectors are: it is never added to, only searched, saved, loaded and told which
 * labels are gone (removed ones stay in the graph as waypoints but are never returned). The
 * file is hnswlib's own format; labels are the caller's, stored in it as they are.
 */
export class HnswVectorIndex {
  private removed = 0;
  private appliedEf = -1;

  private constructor(
    readonly dimensions: number,
    private readonly index: HierarchicalNSW,
  ) {}

  /**
   * The graph of `rows` (`labels.length` rows of `dimensions` floats, back to back); row i is
   * labeled `labels[i]`. Synchronous and CPU-bound (~0.5 ms a vector): a store builds its graphs
   * in a worker (buildGraphFile). `onAdded` hears the count every PROGRESS_EVERY vectors and at
   * the end; once `stopped()` says so (asked before each vector), the build throws an AbortError.
   */
  static build(
    dimensions: number,
    labels: ArrayLike<number>,
    rows: Float32Array,
    options: HnswBuildOptions = {},
    { onAdded, stopped }: { onAdded?: (added: number) => void; stopped?: () => boolean } = {},
  ): HnswVectorIndex {
    const { M = 16, efConstruction = 200 } = options;
    assertPositiveInteger(dimensions, 'dimensions');
    assertPositiveInteger(M, 'M');
    assertPositiveInteger(efConstruction, 'efConstruction');
    if (rows.length !== labels.length * dimensions) throw new Error(`${labels.length} labels need ${labels.length * dimensions} values, got ${rows.length}`);
    // Validate everything first so a bad row never leaves a half-built graph behind.
    for (let i = 0; i < labels.length; i++) {
      if (!Number.isInteger(labels[i]) || labels[i]! < 0 || labels[i]! > MAX_HNSW_LABEL) throw new Error(`HNSW labels must be integers in [0, 2^32), got ${labels[i]}`);
      assertVector(rows.subarray(i * dimensions, (i + 1) * dimensions), dimensions, `vector for label ${labels[i]}`);
    }
    const index = new (hnswlib().HierarchicalNSW)('cosine', dimensions);
    index.initIndex({ maxElements: Math.max(1, labels.length), m: M, efConstruction });
    const point = new Array<number>(dimensions);
    for (let i = 0; i < labels.length; i++) {
      if (stopped?.()) throw new DOMException('the HNSW graph build was stopped', 'AbortError');
      for (let d = 0; d < dimensions; d++) point[d] = rows[i * dimensions + d]!;
      index.addPoint(point, labels[i]!);
      if ((i + 1) % PROGRESS_EVERY === 0 || i + 1 === labels.length) onAdded?.(i + 1);
    }
    return new HnswVectorIndex(dimensions, index);
  }

  /**
   * Loads a graph written by `save`, checked against `expected` (its size and SHA-256) before
   * hnswlib sees it: hnswlib rejects truncated files itself, but a same-length corruption loads
   * "fine" and can then crash the process inside a search.
   */
  static load(path: string, dimensions: number, expected: GraphFileChecksum): HnswVectorIndex {
    assertPositiveInteger(dimensions, 'dimensions');
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      if (isMissingFile(error)) throw new VectorIndexFileError(`No vector index at ${path}`, 'missing', { cause: error });
      throw error;
    }
    if (bytes.length !== expected.bytes) {
      throw new VectorIndexFileError(`Vector index ${path} is truncated or was modified: ${bytes.length} bytes, expected ${expected.bytes}`, 'corrupt');
    }
    if (createHash('sha256').update(bytes).digest('hex') !== expected.sha256) throw new VectorIndexFileError(`Vector index ${path} does not match its checksum`, 'corrupt');
    const index = new (hnswlib().HierarchicalNSW)('cosine', dimensions);
    try {
      index.readIndexSync(path);
    } catch (error) {
      throw new VectorIndexFileError(`Vector index ${path} could not be read: ${errorMessage(error)}`, 'corrupt', { cause: error });
    }
    return new HnswVectorIndex(dimensions, index);
  }

  /** Number of live (searchable) vectors. */
  get size(): number {
    return this.index.getCurrentCount() - this.removed;
  }

  /** Every label the graph was built with, removed ones included. */
  labels(): number[] {
    return this.index.getIdsList();
  }

  /** Returns false when `label` is not in the graph or was removed already. */
  remove(label: number): boolean {
    try {
      this.index.markDelete(label);
    } catch {
      return false;
    }
    this.removed++;
    return true;
  }

  /** Up to `k` live hits, best first; `efSearch` (the candidate list, raised to `k` when smaller) trades speed for recall. */
  search(query: Float32Array, k: number, efSearch: number): VectorSearchHit[] {
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
    return neighbors.map((label, i) => ({ label, score: 1 - distances[i]! }));
  }

  /**
   * Writes the graph, as built, to `tempPath` and returns its size and SHA-256; buildGraphFile
   * moves it into place. Checked complete first (hnswlib hides write errors).
   */
  async writeUnplaced(tempPath: string): Promise<GraphFileChecksum> {
    // hnswlib's file keeps removal marks but nothing counts them on load: the owner re-applies its removals instead.
    if (this.removed > 0) throw new Error('a graph is saved as built, before any removal');
    this.index.writeIndexSync(tempPath);
    await assertCompleteHnswFile(tempPath, this.index.getCurrentCount());
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const piece of createReadStream(tempPath) as AsyncIterable<Buffer>) {
      hash.update(piece);
      bytes += piece.length;
    }
    return { bytes, sha256: hash.digest('hex') };
  }
}

/** What buildGraphFile hands its worker (dist/graphWorker.js). */
export interface GraphJob {
  dimensions: number;
  labels: Float64Array;
  rows: Float32Array;
  options: HnswBuildOptions;
  tempPath: string;
  /** Set to 1 by the caller to stop the build: the worker checks it before each vector. */
  stop: Int32Array;
}

export type GraphWorkerMessage = { type: 'progress'; added: number } | { type: 'written'; checksum: GraphFileChecksum } | { type: 'failed'; message: string; code?: string };

export interface GraphBuildControl {
  /** Stops the build (the worker before its next vector): nothing is left on disk, the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Vectors added so far, of `total`. */
  onProgress?: (added: number, total: number) => void;
}

/**
 * Builds the HNSW graph of `rows` (as HnswVectorIndex.build) in a worker thread and writes it to
 * `path` atomically, returning the file's size and SHA-256 for its owner to check on load. The
 * calling thread stays free: a build takes 40–140 s at 89k vectors on two loaded cores, and the
 * process that indexes also answers queries. `rows`' buffer is moved to the worker (detached
 * here) rather than copied. A cancelled build stops within one vector's insertion (a file being
 * written is finished first); a cancelled or failed build removes its temp file; a killed process
 * leaves only that temp file, named with its pid, which the store's next writer sweeps.
 */
export async function buildGraphFile(
  path: string,
  dimensions: number,
  labels: ArrayLike<number>,
  rows: Float32Array,
  options: HnswBuildOptions = {},
  { signal, onProgress }: GraphBuildControl = {},
): Promise<GraphFileChecksum> {
  signal?.throwIfAborted();
  const tempPath = tempPathFor(path);
  const job: GraphJob = { dimensions, labels: Float64Array.from(labels), rows, options, tempPath, stop: new Int32Array(new SharedArrayBuffer(4)) };
  const { script, execArgv } = workerEntry(__dirname, 'graphWorker');
  // Required here, synchronously (the rows move at the call): every cold query loads this module, and worker_threads cost it ~3 ms.
  const { Worker: GraphWorker } = require('node:worker_threads') as typeof import('node:worker_threads');
  const worker: Worker = new GraphWorker(script, { workerData: job, transferList: [job.labels.buffer as ArrayBuffer, rows.buffer as ArrayBuffer], execArgv });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  try {
    const checksum = await new Promise<GraphFileChecksum>((resolve, reject) => {
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        outcome();
      };
      const onAbort = () => settle(() => reject(signal!.reason));
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.on('message', (message: GraphWorkerMessage) => {
        // Progress the worker sent before an abort reached it is not reported after it.
        if (message.type === 'progress') {
          if (!settled) onProgress?.(message.added, labels.length);
        } else if (message.type === 'written') settle(() => resolve(message.checksum));
        else settle(() => reject(Object.assign(new Error(message.message), message.code === undefined ? {} : { code: message.code })));
      });
      worker.once('error', (error) => settle(() => reject(error)));
      void exited.then(() => settle(() => reject(new Error('the HNSW graph worker exited before it wrote the graph'))));
    });
    await commitTempFile(tempPath, path);
    return checksum;
  } finally {
    // Stopped between two vectors, never terminated: Worker.terminate() inside an hnswlib call is a
    // fatal error of the whole process (the addon cannot throw into a terminating thread). The temp
    // file is removed once the worker is gone (it may have been inside hnswlib's write).
    Atomics.store(job.stop, 0, 1);
    await exited;
    await fsp.rm(tempPath, { force: true });
  }
}

/** Brute-force cosine search over one contiguous Float32Array of normalised rows. */
export class ExactVectorIndex implements VectorIndex {
  /** Rows [0, size) are live, each normalised to unit length. */
  private readonly rows: VectorRows;
  private labelOfRow: Float64Array;
  private readonly rowOfLabel = new Map<number, number>();

  constructor(
    readonly dimensions: number,
    initialCapacity = 1024,
  ) {
    assertPositiveInteger(dimensions, 'dimensions');
    assertPositiveInteger(initialCapacity, 'initialCapacity');
    this.rows = new VectorRows(dimensions, initialCapacity);
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
    return row === undefined ? undefined : this.rows.rows.slice(row * this.dimensions, (row + 1) * this.dimensions);
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
    const rows = this.rows.rows;
    for (let i = 0; i < this.dimensions; i++) rows[offset + i] = vector[i]! / norm;
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
      this.rows.rows.copyWithin(row * dims, last * dims, (last + 1) * dims);
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
    const scores = this.rows.score(
      query.map((value) => value / norm),
      this.size,
    );
    const best = new TopK(count);
    for (let row = 0; row < scores.length; row++) best.offer(scores[row]!, row);
    return best
      .drain()
      .map(({ score, row }) => ({ label: this.labelOfRow[row]!, score }))
      .sort((a, b) => b.score - a.score || a.label - b.label);
  }

  private grow(): void {
    this.rows.grow(this.capacity * 2);
    const labels = new Float64Array(this.labelOfRow.length * 2);
    labels.set(this.labelOfRow);
    this.labelOfRow = labels;
  }
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

/**
 * hnswlib's saveIndex ignores write errors (a full disk leaves a short file), so walk the written
 * file's layout the way its loader will before it replaces a good index.
 */
async function assertCompleteHnswFile(path: string, expectedElements: number): Promise<void> {
  const file = await fsp.open(path, 'r');
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
      const full = (await fsp.statfs(dirname(path))).bavail === 0;
      throw Object.assign(new Error(full ? 'no space left on device (ENOSPC) while writing the vector index' : 'the vector index was written incompletely'), full ? { code: 'ENOSPC' } : {});
    }
  } finally {
    await file.close();
  }
}

function isMissingFile(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

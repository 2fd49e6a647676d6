/**
 * The catalog of a store: every indexed file's hash, size, mtime, file id and chunk ids. On
 * disk (`catalog-N.bin`) it is flat little-endian arrays, so opening one is a few views of the
 * bytes read: a query asks only which file a hit's passage or page belongs to, and a JSON
 * catalog cost a cold query ~20 ms to parse and as much again to index by chunk. Entries are
 * made into objects only when something asks for them by path or changes them (the indexer).
 *
 * File layout: MAGIC, uint32 file count, uint32 chunk count, then sections each starting at a
 * multiple of 8: sizes and mtimes (float64), file ids (int32), where each file's chunk ids end
 * (uint32) and the chunk ids (int32), where each path and each hash ends (uint32), and the
 * paths' and hashes' UTF-8 bytes.
 */
import { IdIndex, IdTable } from './idTable.js';

export interface CatalogEntry {
  /** sha256 of the file's bytes. */
  hash: string;
  size: number;
  mtimeMs: number;
  /** Key of the file in the file-level keyword index. */
  fileId: number;
  chunkIds: number[];
}

/** A file's chunk ids: an entry's array, or a view of a flat catalog's. */
export type FileChunkIds = readonly number[] | Int32Array;

const MAGIC = Buffer.from('DOCCAT\u0000\u0001', 'latin1');
const HEADER_BYTES = MAGIC.length + 8;
const decoder = new TextDecoder();
const encoder = new TextEncoder();
/**
 * Lookups by path of a flat catalog answered by scanning its path bytes (~20 µs each) before a
 * map of every path is made (~10 ms for 8k files): an update of a few files makes a few dozen.
 */
const SCANNED_LOOKUPS = 64;
/** A delta is written while the files changed since the catalog file are at most this many, or a sixteenth of it. */
const MIN_DELTA_ROWS = 64;

/** The catalog's arrays as views of its file. */
interface FlatCatalog {
  sizes: Float64Array;
  mtimes: Float64Array;
  fileIds: Int32Array;
  chunkEnds: Uint32Array;
  chunkIds: Int32Array;
  pathEnds: Uint32Array;
  hashEnds: Uint32Array;
  pathBytes: Uint8Array;
  hashBytes: Uint8Array;
}

function align8(offset: number): number {
  return (offset + 7) & ~7;
}

/** Where row `row`'s items of a section with these `ends` start. */
function startOf(ends: Uint32Array, row: number): number {
  return row === 0 ? 0 : ends[row - 1]!;
}

function textAt(bytes: Uint8Array, ends: Uint32Array, i: number): string {
  return decoder.decode(bytes.subarray(startOf(ends, i), ends[i]!));
}

/** The row of `wanted` (a path's UTF-8 bytes) in `flat`, by a scan of the paths' bytes. */
function scanForPath(flat: FlatCatalog, wanted: Uint8Array): number | undefined {
  const { pathEnds, pathBytes } = flat;
  let start = 0;
  rows: for (let row = 0; row < pathEnds.length; row++) {
    const end = pathEnds[row]!;
    if (end - start === wanted.length) {
      for (let i = 0; i < wanted.length; i++) if (pathBytes[start + i] !== wanted[i]) {
        start = end;
        continue rows;
      }
      return row;
    }
    start = end;
  }
  return undefined;
}

/** Where each section starts (in FlatCatalog's order) and the file's size, for these counts; writing and reading share it. */
function layoutOf(files: number, chunks: number, pathLength: number, hashLength: number): { offsets: number[]; size: number } {
  const sections: [width: number, count: number][] = [[8, files], [8, files], [4, files], [4, files], [4, chunks], [4, files], [4, files], [1, pathLength], [1, hashLength]];
  let at = HEADER_BYTES;
  const offsets = sections.map(([width, count]) => {
    const offset = at;
    at = align8(at + width * count);
    return offset;
  });
  return { offsets, size: at };
}

/** The sections of a catalog laid out by `layoutOf` in `data` (8-aligned), as views. */
function viewsOf(data: Uint8Array, files: number, chunks: number, pathLength: number, hashLength: number): FlatCatalog {
  const { offsets } = layoutOf(files, chunks, pathLength, hashLength);
  const view = <T>(type: new (buffer: ArrayBufferLike, offset: number, length: number) => T, section: number, length: number): T => new type(data.buffer, data.byteOffset + offsets[section]!, length);
  return {
    sizes: view(Float64Array, 0, files),
    mtimes: view(Float64Array, 1, files),
    fileIds: view(Int32Array, 2, files),
    chunkEnds: view(Uint32Array, 3, files),
    chunkIds: view(Int32Array, 4, chunks),
    pathEnds: view(Uint32Array, 5, files),
    hashEnds: view(Uint32Array, 6, files),
    pathBytes: view(Uint8Array, 7, pathLength),
    hashBytes: view(Uint8Array, 8, hashLength),
  };
}

function entryOfRow(flat: FlatCatalog, row: number): CatalogEntry {
  return {
    hash: textAt(flat.hashBytes, flat.hashEnds, row),
    size: flat.sizes[row]!,
    mtimeMs: flat.mtimes[row]!,
    fileId: flat.fileIds[row]!,
    chunkIds: Array.from(flat.chunkIds.subarray(startOf(flat.chunkEnds, row), flat.chunkEnds[row]!)),
  };
}

/** One file's row as the encoder copies it from an entry. */
interface Row {
  size: number;
  mtimeMs: number;
  fileId: number;
  chunkIds: ArrayLike<number>;
  path: Uint8Array;
  hash: Uint8Array;
}

function rowOfEntry(relativePath: string, entry: CatalogEntry): Row {
  return { size: entry.size, mtimeMs: entry.mtimeMs, fileId: entry.fileId, chunkIds: entry.chunkIds, path: Buffer.from(relativePath), hash: Buffer.from(entry.hash) };
}

/**
 * A catalog file of rows `[from, to)` of `flat` for each of `spans` (copied section by section,
 * a span at a time: an update of a few files copies the catalog read in a few block moves), then
 * `rows`. Its arrays are filled in place in the file's buffer.
 */
function encodeCatalog(flat: FlatCatalog | undefined, spans: readonly [from: number, to: number][], rows: Row[]): Buffer {
  let files = rows.length;
  let chunks = 0;
  let pathLength = 0;
  let hashLength = 0;
  for (const [from, to] of spans) {
    files += to - from;
    chunks += flat!.chunkEnds[to - 1]! - startOf(flat!.chunkEnds, from);
    pathLength += flat!.pathEnds[to - 1]! - startOf(flat!.pathEnds, from);
    hashLength += flat!.hashEnds[to - 1]! - startOf(flat!.hashEnds, from);
  }
  for (const row of rows) {
    chunks += row.chunkIds.length;
    pathLength += row.path.length;
    hashLength += row.hash.length;
  }
  const bytes = Buffer.alloc(layoutOf(files, chunks, pathLength, hashLength).size);
  MAGIC.copy(bytes, 0);
  bytes.writeUInt32LE(files, MAGIC.length);
  bytes.writeUInt32LE(chunks, MAGIC.length + 4);
  const out = viewsOf(bytes, files, chunks, pathLength, hashLength);
  let at = 0;
  let chunkAt = 0;
  let pathAt = 0;
  let hashAt = 0;
  /** Copies a span of one variable-length section and its ends, shifted to where they land. */
  const copyEnds = (ends: Uint32Array, items: Uint32Array | Int32Array | Uint8Array, outEnds: Uint32Array, outItems: typeof items, from: number, to: number, itemAt: number): number => {
    const first = startOf(ends, from);
    const last = ends[to - 1]!;
    outItems.set(items.subarray(first, last), itemAt);
    for (let row = from; row < to; row++) outEnds[at + row - from] = ends[row]! - first + itemAt;
    return itemAt + last - first;
  };
  for (const [from, to] of spans) {
    out.sizes.set(flat!.sizes.subarray(from, to), at);
    out.mtimes.set(flat!.mtimes.subarray(from, to), at);
    out.fileIds.set(flat!.fileIds.subarray(from, to), at);
    chunkAt = copyEnds(flat!.chunkEnds, flat!.chunkIds, out.chunkEnds, out.chunkIds, from, to, chunkAt);
    pathAt = copyEnds(flat!.pathEnds, flat!.pathBytes, out.pathEnds, out.pathBytes, from, to, pathAt);
    hashAt = copyEnds(flat!.hashEnds, flat!.hashBytes, out.hashEnds, out.hashBytes, from, to, hashAt);
    at += to - from;
  }
  for (const row of rows) {
    out.sizes[at] = row.size;
    out.mtimes[at] = row.mtimeMs;
    out.fileIds[at] = row.fileId;
    out.chunkIds.set(row.chunkIds, chunkAt);
    out.chunkEnds[at] = chunkAt += row.chunkIds.length;
    out.pathBytes.set(row.path, pathAt);
    out.pathEnds[at] = pathAt += row.path.length;
    out.hashBytes.set(row.hash, hashAt);
    out.hashEnds[at] = hashAt += row.hash.length;
    at++;
  }
  return bytes;
}

/** Throws (a plain Error saying what is wrong) when `bytes` is not a whole catalog. */
function decodeCatalog(bytes: Uint8Array): FlatCatalog {
  // Typed views need their element alignment: bytes that do not start 8-aligned are copied once.
  const data = bytes.byteOffset % 8 === 0 ? bytes : Uint8Array.prototype.slice.call(bytes);
  const head = Buffer.from(data.buffer, data.byteOffset, Math.min(data.length, HEADER_BYTES));
  if (head.length < HEADER_BYTES || !head.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not a Docent catalog');
  const files = head.readUInt32LE(MAGIC.length);
  const chunks = head.readUInt32LE(MAGIC.length + 4);
  // The text lengths are the last path and hash ends, whose place does not depend on them.
  const counted = layoutOf(files, chunks, 0, 0);
  if (counted.size > data.length) throw new Error('catalog is truncated');
  const { pathEnds, hashEnds } = viewsOf(data, files, chunks, 0, 0);
  const pathLength = pathEnds[files - 1] ?? 0;
  const hashLength = hashEnds[files - 1] ?? 0;
  if (layoutOf(files, chunks, pathLength, hashLength).size !== data.length) throw new Error('catalog sections disagree');
  const flat = viewsOf(data, files, chunks, pathLength, hashLength);
  if ((flat.chunkEnds[files - 1] ?? 0) !== chunks) throw new Error('catalog sections disagree');
  for (const ends of [flat.chunkEnds, flat.pathEnds, flat.hashEnds]) for (let i = 1; i < files; i++) if (ends[i]! < ends[i - 1]!) throw new Error('catalog sections disagree');
  return flat;
}

/**
 * A catalog delta file: DELTA_MAGIC, uint32 row count, 4 zero bytes, the int32 row of the
 * catalog file it applies to that each of its rows replaces (-1: none), padded to a multiple of
 * 8, then its rows as a catalog file; a row with file id REMOVED removes its path.
 */
const DELTA_MAGIC = Buffer.from('DOCCAT\u0000\u0002', 'latin1');
const REMOVED = -1;

function encodeDelta(replacedRows: number[], rows: Row[]): Buffer {
  const head = align8(DELTA_MAGIC.length + 8 + 4 * rows.length);
  const catalog = encodeCatalog(undefined, [], rows);
  const bytes = Buffer.alloc(head + catalog.length);
  DELTA_MAGIC.copy(bytes, 0);
  bytes.writeUInt32LE(rows.length, DELTA_MAGIC.length);
  replacedRows.forEach((row, i) => bytes.writeInt32LE(row, DELTA_MAGIC.length + 8 + 4 * i));
  catalog.copy(bytes, head);
  return bytes;
}

/** Throws (a plain Error saying what is wrong) when `bytes` is not a whole delta. */
function decodeDelta(bytes: Uint8Array): { replacedRows: Int32Array; rows: FlatCatalog } {
  const data = bytes.byteOffset % 8 === 0 ? bytes : Uint8Array.prototype.slice.call(bytes);
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.length);
  if (buffer.length < DELTA_MAGIC.length + 8 || !buffer.subarray(0, DELTA_MAGIC.length).equals(DELTA_MAGIC)) throw new Error('not a Docent catalog delta');
  const count = buffer.readUInt32LE(DELTA_MAGIC.length);
  const head = align8(DELTA_MAGIC.length + 8 + 4 * count);
  if (head > buffer.length) throw new Error('catalog delta is truncated');
  const rows = decodeCatalog(data.subarray(head));
  if (rows.fileIds.length !== count) throw new Error('catalog delta sections disagree');
  return { replacedRows: new Int32Array(data.buffer, data.byteOffset + DELTA_MAGIC.length + 8, count), rows };
}

/**
 * The indexed files, by path. Read from a catalog file (and the delta written since, if any) it
 * stays flat, with the entries changed since kept beside it, until something needs every entry
 * as an object: the lookups a search makes (a passage's or a page's file) and an update of a few
 * files (a lookup by path, a change, the delta or the next catalog file copied from the flat
 * bytes) never do.
 */
export class Catalog {
  private entries: Map<string, CatalogEntry> | undefined;
  private flat: FlatCatalog | undefined;
  /** Flat: the entries changed since it was read (null: removed). */
  private changed = new Map<string, CatalogEntry | null>();
  /** Flat: the row of `flat` each changed path replaces, and those rows marked (made at the first). */
  private readonly replaced = new Map<string, number>();
  private replacedRows: Uint8Array | undefined;
  private files = 0;
  private chunks = 0;
  /** Flat: each path's row, made after SCANNED_LOOKUPS lookups (a re-index compares every file's size and mtime). */
  private rowOfPath: Map<string, number> | undefined;
  private scans = 0;
  /** Flat: each file id's row, and each row's path once decoded. */
  private rowOfFile: IdIndex | undefined;
  private pathOfRow: (string | undefined)[] | undefined;
  /** Each file id's path: of the changed entries (flat) or of all (as entries); made when first asked. */
  private pathOfFileId: Map<number, string> | undefined;
  /** Flat: each chunk id's place in the chunk ids. */
  private placeOfChunk: IdIndex | undefined;
  /** Each cataloged chunk's file id: of the changed entries (flat) or of all (as entries); made when first asked. */
  private fileOfChunkId: IdTable | undefined;

  private constructor(entries: Map<string, CatalogEntry> | undefined, flat: FlatCatalog | undefined) {
    this.entries = entries;
    this.flat = flat;
    this.files = flat ? flat.fileIds.length : entries!.size;
    if (flat) this.chunks = flat.chunkIds.length;
    else for (const entry of entries!.values()) this.chunks += entry.chunkIds.length;
  }

  static empty(): Catalog {
    return new Catalog(new Map(), undefined);
  }

  /** A catalog file's contents, and the delta written since (see `delta`); throws (a plain Error) when they do not add up. */
  static decode(bytes: Uint8Array, delta?: Uint8Array): Catalog {
    const catalog = new Catalog(undefined, decodeCatalog(bytes));
    if (delta) catalog.apply(decodeDelta(delta));
    return catalog;
  }

  /** The entries of an older store's JSON catalog. */
  static of(entries: Map<string, CatalogEntry>): Catalog {
    return new Catalog(entries, undefined);
  }

  get size(): number {
    return this.files;
  }

  get chunkCount(): number {
    return this.chunks;
  }

  /** Whether it was read from a catalog file (and so can write a delta against it). */
  get isFlat(): boolean {
    return this.flat !== undefined;
  }

  get(relativePath: string): CatalogEntry | undefined {
    const { flat } = this;
    if (!flat) return this.entries!.get(relativePath);
    const changed = this.changed.get(relativePath);
    if (changed !== undefined) return changed ?? undefined;
    const row = this.rowOf(flat, relativePath);
    return row === undefined ? undefined : entryOfRow(flat, row);
  }

  paths(): string[] {
    const { flat } = this;
    if (!flat) return [...this.entries!.keys()];
    const paths = [...this.rowsByPath(flat).keys()].filter((relativePath) => !this.changed.has(relativePath));
    for (const [relativePath, entry] of this.changed) if (entry) paths.push(relativePath);
    return paths;
  }

  /** Whether the file is cataloged with this size and mtime, without making entries of a flat catalog. */
  hasStat(relativePath: string, size: number, mtimeMs: number): boolean {
    const { flat } = this;
    if (!flat || this.changed.has(relativePath)) {
      const entry = this.get(relativePath);
      return entry !== undefined && entry.size === size && entry.mtimeMs === mtimeMs;
    }
    const row = this.rowOf(flat, relativePath);
    return row !== undefined && flat.sizes[row] === size && flat.mtimes[row] === mtimeMs;
  }

  /** Every entry, in catalog order. */
  all(): IterableIterator<[string, CatalogEntry]> {
    return this.asEntries().entries();
  }

  /** The path of the file with this id. */
  pathOf(fileId: number): string | undefined {
    const { flat } = this;
    if (flat) {
      if (this.changed.size > 0) {
        const changed = this.changedIds().pathOfFileId.get(fileId);
        if (changed !== undefined) return changed;
      }
      const row = this.liveRowOf(flat, fileId);
      if (row < 0) return undefined;
      // Decoded once: ranking asks for a thousand passages' paths per query.
      this.pathOfRow ??= new Array<string | undefined>(flat.fileIds.length);
      return (this.pathOfRow[row] ??= textAt(flat.pathBytes, flat.pathEnds, row));
    }
    if (!this.pathOfFileId) {
      this.pathOfFileId = new Map();
      for (const [relativePath, entry] of this.entries!) this.pathOfFileId.set(entry.fileId, relativePath);
    }
    return this.pathOfFileId.get(fileId);
  }

  /** The chunk ids of the file with this id, in order (of a flat catalog: a view of its file, no copy). */
  chunkIdsOf(fileId: number): FileChunkIds | undefined {
    const { flat } = this;
    if (!flat) {
      const relativePath = this.pathOf(fileId);
      return relativePath === undefined ? undefined : this.entries!.get(relativePath)?.chunkIds;
    }
    if (this.changed.size > 0) {
      const changed = this.changedIds().pathOfFileId.get(fileId);
      if (changed !== undefined) return this.changed.get(changed)?.chunkIds;
    }
    const row = this.liveRowOf(flat, fileId);
    if (row < 0) return undefined;
    return flat.chunkIds.subarray(startOf(flat.chunkEnds, row), flat.chunkEnds[row]!);
  }

  /** The id of the file a cataloged chunk belongs to. */
  fileOf(chunkId: number): number | undefined {
    const { flat } = this;
    if (flat) {
      if (this.changed.size > 0) {
        const changed = this.changedIds().fileOfChunkId.get(chunkId);
        if (changed !== undefined) return changed;
      }
      // Ranking asks for a thousand passages' files per query.
      const place = (this.placeOfChunk ??= new IdIndex(flat.chunkIds)).indexOf(chunkId);
      if (place < 0) return undefined;
      // The row whose chunk range holds `place`: the first whose end is past it.
      let low = 0;
      let high = flat.chunkEnds.length - 1;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (flat.chunkEnds[middle]! > place) high = middle;
        else low = middle + 1;
      }
      return this.replacedRows?.[low] ? undefined : flat.fileIds[low];
    }
    if (!this.fileOfChunkId) {
      this.fileOfChunkId = new IdTable();
      for (const entry of this.entries!.values()) for (const id of entry.chunkIds) this.fileOfChunkId.set(id, entry.fileId);
    }
    return this.fileOfChunkId.get(chunkId);
  }

  set(relativePath: string, entry: CatalogEntry): void {
    const old = this.get(relativePath);
    if (old) this.forget(relativePath, old);
    else this.files++;
    if (this.flat) this.change(this.flat, relativePath, entry);
    else this.entries!.set(relativePath, entry);
    this.chunks += entry.chunkIds.length;
    this.pathOfFileId?.set(entry.fileId, relativePath);
    for (const id of entry.chunkIds) this.fileOfChunkId?.set(id, entry.fileId);
  }

  delete(relativePath: string): void {
    const old = this.get(relativePath);
    if (!old) return;
    this.forget(relativePath, old);
    this.files--;
    if (this.flat) this.change(this.flat, relativePath, null);
    else this.entries!.delete(relativePath);
  }

  /** The whole catalog as a catalog file. */
  encode(): Buffer {
    const { flat } = this;
    if (!flat) return encodeCatalog(undefined, [], [...this.entries!].map(([relativePath, entry]) => rowOfEntry(relativePath, entry)));
    // The rows read stay in their order but those replaced, then the changed entries.
    const rows: Row[] = [];
    for (const [relativePath, entry] of this.changed) if (entry) rows.push(rowOfEntry(relativePath, entry));
    const spans: [number, number][] = [];
    let from = 0;
    for (const row of [...this.replaced.values()].sort((a, b) => a - b)) {
      if (row > from) spans.push([from, row]);
      from = row + 1;
    }
    if (from < flat.fileIds.length) spans.push([from, flat.fileIds.length]);
    return encodeCatalog(flat, spans, rows);
  }

  /**
   * The changes since the catalog file this one was read from (all of them, a delta read with it
   * included) as a delta file to read with that file; undefined when it was not read from one, or
   * when so much changed that the whole catalog should be written instead.
   */
  delta(): Buffer | undefined {
    const { flat } = this;
    if (!flat || this.changed.size > Math.max(MIN_DELTA_ROWS, flat.fileIds.length / 16)) return undefined;
    const replacedRows: number[] = [];
    const rows: Row[] = [];
    for (const [relativePath, entry] of this.changed) {
      const row = this.replaced.get(relativePath) ?? -1;
      // A file added and removed since the catalog file was written: nothing to say.
      if (!entry && row < 0) continue;
      replacedRows.push(row);
      rows.push(entry ? rowOfEntry(relativePath, entry) : { size: 0, mtimeMs: 0, fileId: REMOVED, chunkIds: [], path: Buffer.from(relativePath), hash: new Uint8Array(0) });
    }
    return encodeDelta(replacedRows, rows);
  }

  /** A delta's rows as changes of this catalog, read from the file it was written against; throws when they do not fit it. */
  private apply({ replacedRows, rows }: { replacedRows: Int32Array; rows: FlatCatalog }): void {
    const flat = this.flat!;
    for (let i = 0; i < replacedRows.length; i++) {
      const relativePath = textAt(rows.pathBytes, rows.pathEnds, i);
      const row = replacedRows[i]!;
      if (row !== -1 && (row < 0 || row >= flat.fileIds.length || this.replacedRows?.[row] || textAt(flat.pathBytes, flat.pathEnds, row) !== relativePath)) throw new Error('catalog delta does not match its catalog');
      if (this.changed.has(relativePath) || (row === -1 && rows.fileIds[i] === REMOVED)) throw new Error('catalog delta does not match its catalog');
      if (row !== -1) {
        this.files--;
        this.chunks -= flat.chunkEnds[row]! - startOf(flat.chunkEnds, row);
        this.replace(flat, relativePath, row);
      }
      if (rows.fileIds[i] === REMOVED) {
        this.changed.set(relativePath, null);
        continue;
      }
      const entry = entryOfRow(rows, i);
      this.changed.set(relativePath, entry);
      this.files++;
      this.chunks += entry.chunkIds.length;
    }
  }

  /** Records a flat catalog's change of `relativePath` (the row it replaces, the first time). */
  private change(flat: FlatCatalog, relativePath: string, entry: CatalogEntry | null): void {
    if (!this.changed.has(relativePath)) {
      const row = this.rowOf(flat, relativePath);
      if (row !== undefined) this.replace(flat, relativePath, row);
    }
    this.changed.set(relativePath, entry);
  }

  private replace(flat: FlatCatalog, relativePath: string, row: number): void {
    this.replaced.set(relativePath, row);
    (this.replacedRows ??= new Uint8Array(flat.fileIds.length))[row] = 1;
  }

  /** Flat: the changed entries' file ids and chunk ids. */
  private changedIds(): { pathOfFileId: Map<number, string>; fileOfChunkId: IdTable } {
    if (!this.pathOfFileId || !this.fileOfChunkId) {
      this.pathOfFileId = new Map();
      this.fileOfChunkId = new IdTable();
      for (const [relativePath, entry] of this.changed) {
        if (!entry) continue;
        this.pathOfFileId.set(entry.fileId, relativePath);
        for (const id of entry.chunkIds) this.fileOfChunkId.set(id, entry.fileId);
      }
    }
    return { pathOfFileId: this.pathOfFileId, fileOfChunkId: this.fileOfChunkId };
  }

  private forget(relativePath: string, entry: CatalogEntry): void {
    this.chunks -= entry.chunkIds.length;
    if (this.pathOfFileId?.get(entry.fileId) === relativePath) this.pathOfFileId.delete(entry.fileId);
    for (const id of entry.chunkIds) if (this.fileOfChunkId?.get(id) === entry.fileId) this.fileOfChunkId.delete(id);
  }

  /** The row of `flat` holding the file with this id, or -1 when none does or a change replaced it. */
  private liveRowOf(flat: FlatCatalog, fileId: number): number {
    const row = (this.rowOfFile ??= new IdIndex(flat.fileIds)).indexOf(fileId);
    return row < 0 || this.replacedRows?.[row] ? -1 : row;
  }

  private rowOf(flat: FlatCatalog, relativePath: string): number | undefined {
    if (this.rowOfPath || ++this.scans > SCANNED_LOOKUPS) return this.rowsByPath(flat).get(relativePath);
    return scanForPath(flat, encoder.encode(relativePath));
  }

  private rowsByPath(flat: FlatCatalog): Map<string, number> {
    if (!this.rowOfPath) {
      this.rowOfPath = new Map();
      for (let row = 0; row < flat.fileIds.length; row++) this.rowOfPath.set(textAt(flat.pathBytes, flat.pathEnds, row), row);
    }
    return this.rowOfPath;
  }

  /** The entries as objects by path (made from the flat arrays once). */
  private asEntries(): Map<string, CatalogEntry> {
    const { flat } = this;
    if (flat) {
      const entries = new Map<string, CatalogEntry>();
      for (const [relativePath, row] of this.rowsByPath(flat)) if (!this.changed.has(relativePath)) entries.set(relativePath, entryOfRow(flat, row));
      for (const [relativePath, entry] of this.changed) if (entry) entries.set(relativePath, entry);
      this.changed.clear();
      this.replaced.clear();
      this.replacedRows = undefined;
      this.entries = entries;
      this.flat = undefined;
      this.rowOfPath = undefined;
      this.rowOfFile = undefined;
      this.pathOfRow = undefined;
      this.placeOfChunk = undefined;
      // They held only the changed entries' ids.
      this.pathOfFileId = undefined;
      this.fileOfChunkId = undefined;
    }
    return this.entries!;
  }
}

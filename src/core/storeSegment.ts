/**
 * One segment of a store: what one checkpoint added (passages, their keyword postings and
 * vectors, the added files' page postings) and what it removed from older segments
 * (tombstones). Chunk and file ids only grow, so every id a segment adds is at least its
 * `firstChunkId` / `firstFileId` and every id it removes is below them: merging two adjacent
 * segments applies exactly the newer one's tombstones that point into the older one.
 *
 * File layout: MAGIC, a little-endian uint32 byte length, that many bytes of JSON (ids, counts,
 * tombstones and each section's byte length), then the sections, each starting at a multiple
 * of 8: the passages' JSON records and where each ends, the passage postings, the page
 * postings (FrozenPostings, little-endian typed arrays) and the float32 vectors. Decoding makes
 * views of the file's bytes, nothing more: a passage's JSON is parsed when it is asked for.
 */
import { mergeFrozen, type FrozenPostings } from './search/keywordIndex.js';
import type { Chunk } from './types.js';

const decoder = new TextDecoder();
const MAGIC = Buffer.from('DOCSEG\u0000\u0002', 'latin1');

/** The passages of a segment as JSON records, aligned with its keyword postings' ids. */
export interface PassageRecords {
  /** UTF-8 JSON of each passage, concatenated; passage i ends at ends[i]. */
  bytes: Uint8Array;
  ends: Uint32Array;
}

export interface Segment {
  firstChunkId: number;
  firstFileId: number;
  /** 0 when the store has no embedder. */
  dimensions: number;
  passages: PassageRecords;
  /** Over the passages; its ids are the chunk ids, aligned with `passages`. */
  keyword: FrozenPostings;
  /** `passages × dimensions` values, or empty. */
  vectors: Float32Array;
  /** Over the added files' whole text; its ids are file ids. */
  pages: FrozenPostings;
  removedChunks: number[];
  removedFiles: number[];
}

const POSTING_SECTIONS = ['ids', 'lengths', 'termBytes', 'termEnds', 'postingEnds', 'docs', 'tfs'] as const;

interface SegmentHeader {
  firstChunkId: number;
  firstFileId: number;
  dimensions: number;
  removedChunks: number[];
  removedFiles: number[];
  /** Byte length of each section, in file order. */
  sections: number[];
  /** Whether each postings' tfs are float64 (passages, pages). */
  wideTfs: [boolean, boolean];
}

export function passageRecords(chunks: readonly Chunk[]): PassageRecords {
  const encoded = chunks.map((chunk) => Buffer.from(JSON.stringify(chunk)));
  const ends = new Uint32Array(encoded.length);
  let at = 0;
  encoded.forEach((bytes, i) => (ends[i] = at += bytes.length));
  return { bytes: Buffer.concat(encoded), ends };
}

export function passageAt(records: PassageRecords, i: number): Chunk {
  const start = i === 0 ? 0 : records.ends[i - 1]!;
  return JSON.parse(decoder.decode(records.bytes.subarray(start, records.ends[i]!))) as Chunk;
}

function sectionsOf(segment: Segment): ArrayBufferView[] {
  const postings = (part: FrozenPostings) => POSTING_SECTIONS.map((name) => part[name]);
  return [segment.passages.bytes, segment.passages.ends, ...postings(segment.keyword), ...postings(segment.pages), segment.vectors];
}

export function encodeSegment(segment: Segment): Buffer {
  const sections = sectionsOf(segment);
  const header: SegmentHeader = {
    firstChunkId: segment.firstChunkId,
    firstFileId: segment.firstFileId,
    dimensions: segment.dimensions,
    removedChunks: segment.removedChunks,
    removedFiles: segment.removedFiles,
    sections: sections.map((section) => section.byteLength),
    wideTfs: [segment.keyword.tfs instanceof Float64Array, segment.pages.tfs instanceof Float64Array],
  };
  const text = Buffer.from(JSON.stringify(header));
  let at = align8(MAGIC.length + 4 + text.length);
  const offsets = sections.map((section) => {
    const offset = at;
    at = align8(at + section.byteLength);
    return offset;
  });
  const bytes = Buffer.alloc(at);
  MAGIC.copy(bytes, 0);
  bytes.writeUInt32LE(text.length, MAGIC.length);
  text.copy(bytes, MAGIC.length + 4);
  sections.forEach((section, i) => bytes.set(new Uint8Array(section.buffer, section.byteOffset, section.byteLength), offsets[i]));
  return bytes;
}

type TypedArrayOf = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayBufferView & { length: number };

/** Throws (a plain Error saying what is wrong) when `bytes` is not a whole segment. */
export function decodeSegment(bytes: Buffer): Segment {
  if (bytes.length < MAGIC.length + 4 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not a Docent segment');
  const textLength = bytes.readUInt32LE(MAGIC.length);
  if (MAGIC.length + 4 + textLength > bytes.length) throw new Error('segment is truncated');
  const header = JSON.parse(bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + textLength).toString('utf8')) as SegmentHeader;
  // Typed views need their element alignment: a buffer that does not start 8-aligned is copied once.
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : Buffer.from(Uint8Array.prototype.slice.call(bytes));
  let at = align8(MAGIC.length + 4 + textLength);
  let section = 0;
  const next = <T extends ArrayBufferView>(type: TypedArrayOf, width: number): T => {
    const length = header.sections[section++];
    if (length === undefined || length % width !== 0 || at + length > aligned.length) throw new Error('segment sections disagree');
    const view = new type(aligned.buffer, aligned.byteOffset + at, length / width) as unknown as T;
    at = align8(at + length);
    return view;
  };
  const postings = (wide: boolean): FrozenPostings => ({
    ids: next(Int32Array, 4),
    lengths: next(Uint32Array, 4),
    termBytes: next(Uint8Array, 1),
    termEnds: next(Uint32Array, 4),
    postingEnds: next(Uint32Array, 4),
    docs: next(Uint32Array, 4),
    tfs: wide ? next(Float64Array, 8) : next(Float32Array, 4),
  });
  const passages = { bytes: next<Uint8Array>(Uint8Array, 1), ends: next<Uint32Array>(Uint32Array, 4) };
  const keyword = postings(header.wideTfs[0]);
  const pages = postings(header.wideTfs[1]);
  const vectors = next<Float32Array>(Float32Array, 4);
  const count = passages.ends.length;
  if (at !== aligned.length || keyword.ids.length !== count || vectors.length !== count * header.dimensions) throw new Error('segment sections disagree');
  for (const part of [keyword, pages]) {
    if (part.lengths.length !== part.ids.length || part.termEnds.length !== part.postingEnds.length || part.docs.length !== part.tfs.length) throw new Error('segment postings disagree');
  }
  return { ...header, passages, keyword, pages, vectors };
}

/** `older` and the segment right after it as one segment. */
export function mergeSegments(older: Segment, newer: Segment): Segment {
  if (older.dimensions !== newer.dimensions) throw new Error(`cannot merge segments of ${older.dimensions} and ${newer.dimensions} dimensions`);
  const removedChunks = new Set(newer.removedChunks.filter((id) => id >= older.firstChunkId));
  const removedFiles = new Set(newer.removedFiles.filter((id) => id >= older.firstFileId));
  const { dimensions } = older;
  const kept: number[] = [];
  older.keyword.ids.forEach((id, i) => {
    if (!removedChunks.has(id)) kept.push(i);
  });
  const vectors = new Float32Array((kept.length + newer.keyword.ids.length) * dimensions);
  kept.forEach((row, i) => vectors.set(older.vectors.subarray(row * dimensions, (row + 1) * dimensions), i * dimensions));
  vectors.set(newer.vectors, kept.length * dimensions);
  const records: Uint8Array[] = [];
  const ends = new Uint32Array(kept.length + newer.passages.ends.length);
  let at = 0;
  kept.forEach((row, i) => {
    const start = row === 0 ? 0 : older.passages.ends[row - 1]!;
    records.push(older.passages.bytes.subarray(start, older.passages.ends[row]!));
    ends[i] = at += older.passages.ends[row]! - start;
  });
  records.push(newer.passages.bytes);
  newer.passages.ends.forEach((end, i) => (ends[kept.length + i] = at + end));
  return {
    firstChunkId: older.firstChunkId,
    firstFileId: older.firstFileId,
    dimensions,
    passages: { bytes: Buffer.concat(records), ends },
    keyword: mergeFrozen(older.keyword, (id) => !removedChunks.has(id), newer.keyword),
    vectors,
    pages: mergeFrozen(older.pages, (id) => !removedFiles.has(id), newer.pages),
    removedChunks: [...older.removedChunks, ...newer.removedChunks.filter((id) => id < older.firstChunkId)],
    removedFiles: [...older.removedFiles, ...newer.removedFiles.filter((id) => id < older.firstFileId)],
  };
}

function align8(offset: number): number {
  return (offset + 7) & ~7;
}

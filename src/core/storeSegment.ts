/**
 * One segment of a store: what one checkpoint added (passages, their keyword documents and
 * vectors, the added files' page documents) and what it removed from older segments
 * (tombstones). Chunk and file ids only grow, so every id a segment adds is at least its
 * `firstChunkId` / `firstFileId` and every id it removes is below them: merging two adjacent
 * segments applies exactly the newer one's tombstones that point into the older one.
 *
 * File layout: MAGIC, a little-endian uint32 byte length, that many bytes of JSON (everything
 * but the vectors), zero padding to a multiple of 4, then the vectors as little-endian float32
 * rows aligned with `chunks`.
 */
import type { KeywordDocument } from './search/keywordIndex.js';
import type { Chunk } from './types.js';

const MAGIC = Buffer.from('DOCSEG\u0000\u0001', 'latin1');

export interface PageDocument {
  fileId: number;
  document: KeywordDocument;
}

export interface Segment {
  firstChunkId: number;
  firstFileId: number;
  /** 0 when the store has no embedder. */
  dimensions: number;
  chunks: Chunk[];
  /** Aligned with `chunks`. */
  keyword: KeywordDocument[];
  /** `chunks.length × dimensions` values, or empty. */
  vectors: Float32Array;
  pages: PageDocument[];
  removedChunks: number[];
  removedFiles: number[];
}

type EncodedDocument = [length: number, terms: string[], weights: number[]];

interface SegmentJson {
  firstChunkId: number;
  firstFileId: number;
  dimensions: number;
  chunks: Chunk[];
  keyword: EncodedDocument[];
  pages: [fileId: number, ...EncodedDocument][];
  removedChunks: number[];
  removedFiles: number[];
}

export function encodeSegment(segment: Segment): Buffer {
  const json: SegmentJson = {
    firstChunkId: segment.firstChunkId,
    firstFileId: segment.firstFileId,
    dimensions: segment.dimensions,
    chunks: segment.chunks,
    keyword: segment.keyword.map(encodeDocument),
    pages: segment.pages.map((page) => [page.fileId, ...encodeDocument(page.document)]),
    removedChunks: segment.removedChunks,
    removedFiles: segment.removedFiles,
  };
  const text = Buffer.from(JSON.stringify(json));
  const vectorsAt = align4(MAGIC.length + 4 + text.length);
  const bytes = Buffer.alloc(vectorsAt + segment.vectors.length * 4);
  MAGIC.copy(bytes, 0);
  bytes.writeUInt32LE(text.length, MAGIC.length);
  text.copy(bytes, MAGIC.length + 4);
  // Buffer.alloc never hands out a pooled slice: byteOffset is 0, so this view is aligned.
  new Float32Array(bytes.buffer, bytes.byteOffset + vectorsAt, segment.vectors.length).set(segment.vectors);
  return bytes;
}

/** Throws (a plain Error saying what is wrong) when `bytes` is not a whole segment. */
export function decodeSegment(bytes: Buffer): Segment {
  if (bytes.length < MAGIC.length + 4 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not a Docent segment');
  const textLength = bytes.readUInt32LE(MAGIC.length);
  const vectorsAt = align4(MAGIC.length + 4 + textLength);
  if (vectorsAt > bytes.length) throw new Error('segment is truncated');
  const json = JSON.parse(bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + textLength).toString('utf8')) as SegmentJson;
  const expectedVectors = json.chunks.length * json.dimensions;
  if (json.keyword.length !== json.chunks.length || bytes.length - vectorsAt !== expectedVectors * 4) throw new Error('segment sections disagree');
  const vectors = Float32Array.from(floatView(bytes, vectorsAt, expectedVectors));
  return {
    firstChunkId: json.firstChunkId,
    firstFileId: json.firstFileId,
    dimensions: json.dimensions,
    chunks: json.chunks,
    keyword: json.keyword.map(decodeDocument),
    vectors,
    pages: json.pages.map(([fileId, ...document]) => ({ fileId, document: decodeDocument(document) })),
    removedChunks: json.removedChunks,
    removedFiles: json.removedFiles,
  };
}

/** `older` and the segment right after it as one segment. */
export function mergeSegments(older: Segment, newer: Segment): Segment {
  if (older.dimensions !== newer.dimensions) throw new Error(`cannot merge segments of ${older.dimensions} and ${newer.dimensions} dimensions`);
  const removedChunks = new Set(newer.removedChunks.filter((id) => id >= older.firstChunkId));
  const removedFiles = new Set(newer.removedFiles.filter((id) => id >= older.firstFileId));
  const kept = older.chunks.flatMap((chunk, i) => (removedChunks.has(chunk.id) ? [] : [i]));
  const dimensions = older.dimensions;
  const vectors = new Float32Array((kept.length + newer.chunks.length) * dimensions);
  kept.forEach((row, i) => vectors.set(older.vectors.subarray(row * dimensions, (row + 1) * dimensions), i * dimensions));
  vectors.set(newer.vectors, kept.length * dimensions);
  return {
    firstChunkId: older.firstChunkId,
    firstFileId: older.firstFileId,
    dimensions,
    chunks: [...kept.map((row) => older.chunks[row]!), ...newer.chunks],
    keyword: [...kept.map((row) => older.keyword[row]!), ...newer.keyword],
    vectors,
    pages: [...older.pages.filter((page) => !removedFiles.has(page.fileId)), ...newer.pages],
    removedChunks: [...older.removedChunks, ...newer.removedChunks.filter((id) => id < older.firstChunkId)],
    removedFiles: [...older.removedFiles, ...newer.removedFiles.filter((id) => id < older.firstFileId)],
  };
}

function encodeDocument(document: KeywordDocument): EncodedDocument {
  return [document.length, document.terms, document.weights];
}

function decodeDocument([length, terms, weights]: EncodedDocument): KeywordDocument {
  return { length, terms, weights };
}

/** The float32 values at `offset` of `bytes`, copied when not 4-aligned in memory. Little-endian hosts (x64, arm64). */
function floatView(bytes: Buffer, offset: number, length: number): Float32Array {
  const at = bytes.byteOffset + offset;
  if (at % 4 === 0) return new Float32Array(bytes.buffer, at, length);
  return new Float32Array(Uint8Array.prototype.slice.call(bytes, offset, offset + length * 4).buffer);
}

function align4(offset: number): number {
  return (offset + 3) & ~3;
}

/**
 * One segment of a store: what one checkpoint added (passages, their keyword postings and
 * vectors, the added files' page postings) and what it removed from older segments
 * (tombstones). Chunk and file ids only grow, so every id a segment adds is at least its
 * `firstChunkId` / `firstFileId` and every id it removes is below them: merging adjacent segments
 * applies exactly the newer ones' tombstones that point into the oldest one's ids or above.
 *
 * File layout: MAGIC, a little-endian uint32 byte length, that many bytes of JSON (ids, counts,
 * tombstones and each section's byte length), then the sections, each starting at a multiple
 * of 8: the passages' JSON records and where each ends, the passage postings, the page
 * postings (FrozenPostings, little-endian typed arrays) and the float32 vectors. Decoding makes
 * views of the file's bytes, nothing more: a passage's JSON is parsed when it is asked for.
 */
import { findTerm, lengthTotal, mergeFrozen, termSamples, type FrozenPostings, type PostingsSource } from './search/keywordIndex.js';
import type { Chunk } from './types.js';

const decoder = new TextDecoder();
const MAGIC = Buffer.from('DOCSEG\u0000\u0002', 'latin1');

/** The passages of a segment as JSON records, aligned with its keyword postings' ids. */
export interface PassageRecords {
  /** Passage i's UTF-8 JSON is bytes [ends[i - 1] ?? 0, ends[i]) of the records, concatenated. */
  ends: Uint32Array;
  /** Bytes [start, end) of the records (in memory, or read from the segment's file when asked for). */
  read(start: number, end: number): Uint8Array;
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
  /** The sum of each postings' document lengths (passages, pages); absent in segments written before it. */
  lengthTotals?: [number, number];
  /** Each postings' termSamples (passages, pages); absent in segments written before them. */
  termSamples?: [string[], string[]];
}

/** Records [start, end) of a segment's passages, to be copied as they are. */
interface PassageRun {
  records: PassageRecords;
  start: number;
  end: number;
}

/** A segment as it is written: its passage records are runs of other segments' records (a merge copies them only into the file). */
export interface SegmentToWrite extends Omit<Segment, 'passages'> {
  passages: { ends: Uint32Array; runs: PassageRun[] };
}

const ZEROS = new Uint8Array(8);
/** Records are read from their segment and written this much at a time. */
const COPY_BYTES = 4 * 1024 * 1024;

/** A segment's file: its length, and its bytes in order (header, then each section padded to a multiple of 8) to write one after another. */
export function segmentFile(segment: SegmentToWrite): { length: number; pieces(): Generator<Uint8Array> } {
  const postings = (part: FrozenPostings) => POSTING_SECTIONS.map((name) => asBytes(part[name]));
  const arrays = [asBytes(segment.passages.ends), ...postings(segment.keyword), ...postings(segment.pages), asBytes(segment.vectors)];
  const passageBytes = segment.passages.runs.reduce((sum, run) => sum + run.end - run.start, 0);
  const header: SegmentHeader = {
    firstChunkId: segment.firstChunkId,
    firstFileId: segment.firstFileId,
    dimensions: segment.dimensions,
    removedChunks: segment.removedChunks,
    removedFiles: segment.removedFiles,
    sections: [passageBytes, ...arrays.map((array) => array.length)],
    wideTfs: [segment.keyword.tfs instanceof Float64Array, segment.pages.tfs instanceof Float64Array],
    lengthTotals: [lengthTotal(segment.keyword.lengths), lengthTotal(segment.pages.lengths)],
    termSamples: [termSamples(segment.keyword), termSamples(segment.pages)],
  };
  const text = Buffer.from(JSON.stringify(header));
  const head = Buffer.alloc(align8(MAGIC.length + 4 + text.length));
  MAGIC.copy(head, 0);
  head.writeUInt32LE(text.length, MAGIC.length);
  text.copy(head, MAGIC.length + 4);
  const padding = (length: number) => ZEROS.subarray(0, align8(length) - length);
  return {
    length: head.length + header.sections.reduce((sum, length) => sum + align8(length), 0),
    *pieces() {
      yield head;
      for (const { records, start, end } of segment.passages.runs) {
        for (let at = start; at < end; at += COPY_BYTES) yield records.read(at, Math.min(end, at + COPY_BYTES));
      }
      yield padding(passageBytes);
      for (const array of arrays) {
        yield array;
        yield padding(array.length);
      }
    },
  };
}

function asBytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

type TypedArrayOf = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayBufferView & { length: number };

/**
 * Where a segment's bytes come from: a buffer in memory, or a file a reader reads (and verifies)
 * in parts. `read` returns a view whose byteOffset keeps the file offset's alignment modulo 8.
 */
export interface SegmentBytes {
  readonly length: number;
  read(offset: number, length: number): Uint8Array;
}

/** A whole segment in memory as SegmentBytes (copied once when it does not start 8-aligned). */
export function bufferBytes(bytes: Uint8Array): SegmentBytes {
  // Typed views need their element alignment: a buffer that does not start 8-aligned is copied once.
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : Uint8Array.prototype.slice.call(bytes);
  return { length: aligned.length, read: (offset, length) => aligned.subarray(offset, offset + length) };
}

/** A segment as a reader searches it: ids, lengths and term dictionaries read at open, passages, postings and vectors when asked for. */
export interface SegmentView {
  firstChunkId: number;
  firstFileId: number;
  dimensions: number;
  removedChunks: number[];
  removedFiles: number[];
  /** Chunk ids of the passages (the keyword postings' ids). */
  chunkIds: Int32Array;
  passage(i: number): Chunk;
  keyword: PostingsSource;
  pages: PostingsSource;
  /** `passages × dimensions` values, or empty. */
  vectors(): Float32Array;
  /** Passage i's vector alone (a read of its own bytes, not of all the vectors). */
  vector(i: number): Float32Array;
}

interface Section {
  offset: number;
  length: number;
}

/** The header and where each section lies; throws (a plain Error saying what is wrong) when they do not fit `bytes`. */
function layoutOf(bytes: SegmentBytes): { header: SegmentHeader; sections: Section[] } {
  if (bytes.length < MAGIC.length + 4) throw new Error('not a Docent segment');
  const head = bytes.read(0, MAGIC.length + 4);
  if (!Buffer.from(head.buffer, head.byteOffset, MAGIC.length).equals(MAGIC)) throw new Error('not a Docent segment');
  const textLength = Buffer.from(head.buffer, head.byteOffset, head.length).readUInt32LE(MAGIC.length);
  if (MAGIC.length + 4 + textLength > bytes.length) throw new Error('segment is truncated');
  const header = JSON.parse(decoder.decode(bytes.read(MAGIC.length + 4, textLength))) as SegmentHeader;
  let at = align8(MAGIC.length + 4 + textLength);
  const sections = header.sections.map((length) => {
    if (!Number.isInteger(length) || length < 0) throw new Error('segment sections disagree');
    const section = { offset: at, length };
    at = align8(at + length);
    return section;
  });
  if (sections.length !== 2 + 2 * POSTING_SECTIONS.length + 1 || at !== bytes.length) throw new Error('segment sections disagree');
  return { header, sections };
}

function typed<T extends ArrayBufferView>(bytes: Uint8Array, type: TypedArrayOf, width: number): T {
  if (bytes.length % width !== 0) throw new Error('segment sections disagree');
  return new type(bytes.buffer, bytes.byteOffset, bytes.length / width) as unknown as T;
}

/**
 * A segment whole in memory but its passage records, which are read from `bytes` when asked
 * for (a merge streams them into the new file). Throws (a plain Error saying what is wrong)
 * when the layout does not add up; `bytes` decides what a damaged part does when read.
 */
export function decodeSegment(bytes: SegmentBytes): Segment {
  const { header, sections } = layoutOf(bytes);
  let section = 0;
  const next = <T extends ArrayBufferView>(type: TypedArrayOf, width: number): T => {
    const { offset, length } = sections[section++]!;
    return typed<T>(bytes.read(offset, length), type, width);
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
  const records = sections[section++]!;
  const ends = next<Uint32Array>(Uint32Array, 4);
  const keyword = postings(header.wideTfs[0]);
  const pages = postings(header.wideTfs[1]);
  const vectors = next<Float32Array>(Float32Array, 4);
  checkCounts(header, { passages: ends.length, lastEnd: ends.at(-1) ?? 0, passageBytes: records.length }, [shapeOf(keyword), shapeOf(pages)], vectors.length);
  const passages: PassageRecords = { ends, read: (start, end) => bytes.read(records.offset + start, end - start) };
  return { ...header, passages, keyword, pages, vectors };
}

/** What a part's sections must agree on: counts, and posting and term ranges that end where their sections do. */
interface PartShape {
  ids: Int32Array;
  lengths: Uint32Array;
  /** Entries of the term ends and of the posting ends (one per term). */
  terms: number;
  postingTerms: number;
  /**
   * The last term's and the last posting range's ends (0 without terms); undefined where the
   * segment is read in parts, as each is a read of its own block (openSegment).
   */
  lastTermEnd?: number;
  lastPostingEnd?: number;
  termBytes: number;
  docs: number;
  tfs: number;
}

function shapeOf(part: FrozenPostings): PartShape {
  return {
    ids: part.ids,
    lengths: part.lengths,
    terms: part.termEnds.length,
    postingTerms: part.postingEnds.length,
    lastTermEnd: part.termEnds.at(-1) ?? 0,
    lastPostingEnd: part.postingEnds.at(-1) ?? 0,
    termBytes: part.termBytes.length,
    docs: part.docs.length,
    tfs: part.tfs.length,
  };
}

/** `passages`: their count, where the last one's record ends (undefined when not read), and the records' bytes. */
function checkCounts(header: SegmentHeader, passages: { passages: number; lastEnd?: number; passageBytes: number }, parts: PartShape[], vectors: number): void {
  if ((passages.lastEnd !== undefined && passages.lastEnd !== passages.passageBytes) || parts[0]!.ids.length !== passages.passages || vectors !== passages.passages * header.dimensions) {
    throw new Error('segment sections disagree');
  }
  for (const part of parts) {
    if (part.lengths.length !== part.ids.length || part.terms !== part.postingTerms || part.docs !== part.tfs) throw new Error('segment postings disagree');
    // A reader reads postings and terms by these ranges: they must end where their sections do.
    if ((part.lastPostingEnd !== undefined && part.lastPostingEnd !== part.docs) || (part.lastTermEnd !== undefined && part.lastTermEnd !== part.termBytes)) {
      throw new Error('segment postings disagree');
    }
  }
}

/**
 * A segment read in parts: the header, ids and lengths now; a passage, a term (by binary search
 * of the dictionary, entry by entry), its postings or the vectors when asked for, so a query
 * reads (and verifies) a few blocks of the dictionaries rather than all of them. Throws (a plain
 * Error) when the layout does not add up; `bytes` decides what a damaged part does when read.
 */
export function openSegment(bytes: SegmentBytes): SegmentView {
  const { header, sections } = layoutOf(bytes);
  // The ids and lengths of each part lie side by side: each pair is read at once, so a file read in
  // blocks reads it in one call and the sections are views of it rather than copies.
  const span = (from: number, to: number) => bytes.read(sections[from]!.offset, sections[to]!.offset + sections[to]!.length - sections[from]!.offset);
  span(2, 3);
  span(2 + POSTING_SECTIONS.length, 3 + POSTING_SECTIONS.length);
  let section = 0;
  const take = (): Section => sections[section++]!;
  const read = <T extends ArrayBufferView>({ offset, length }: Section, type: TypedArrayOf, width: number): T => typed<T>(bytes.read(offset, length), type, width);
  /** Entry i of a uint32 section, or 0 for i = -1 (where the first range starts). */
  const entry = ({ offset, length }: Section, i: number): number => {
    if (i === -1) return 0;
    if (i < 0 || 4 * i + 4 > length) throw new Error('segment sections disagree');
    const at = bytes.read(offset + 4 * i, 4);
    return (at[0]! | (at[1]! << 8) | (at[2]! << 16) | (at[3]! << 24)) >>> 0;
  };
  /** Range i of a section of ends (`ends`) within `within` bytes or entries; throws when it does not fit. */
  const range = (ends: Section, i: number, within: number): [number, number] => {
    const start = entry(ends, i - 1);
    const end = entry(ends, i);
    if (end < start || end > within) throw new Error('segment sections disagree');
    return [start, end];
  };
  const passageBytes = take();
  const ends = take();
  const shapes: PartShape[] = [];
  const postings = (wide: boolean, recordedTotal: number | undefined, samples: unknown): PostingsSource => {
    const ids = read<Int32Array>(take(), Int32Array, 4);
    const lengths = read<Uint32Array>(take(), Uint32Array, 4);
    const termBytes = take();
    const termEnds = take();
    const postingEnds = take();
    const docs = take();
    const tfs = take();
    const tfWidth = wide ? 8 : 4;
    if (termEnds.length % 4 !== 0 || postingEnds.length % 4 !== 0 || docs.length % 4 !== 0 || tfs.length % tfWidth !== 0) throw new Error('segment sections disagree');
    const terms = termEnds.length / 4;
    const postingCount = docs.length / 4;
    const termSampled = Array.isArray(samples) && samples.every((sample) => typeof sample === 'string') ? (samples as string[]) : undefined;
    shapes.push({ ids, lengths, terms, postingTerms: postingEnds.length / 4, termBytes: termBytes.length, docs: postingCount, tfs: tfs.length / tfWidth });
    return {
      ids,
      lengths,
      ...(Number.isSafeInteger(recordedTotal) && recordedTotal! >= 0 ? { lengthTotal: recordedTotal } : {}),
      findTerm: (term) =>
        findTerm(
          terms,
          (t) => {
            const [start, end] = range(termEnds, t, termBytes.length);
            return bytes.read(termBytes.offset + start, end - start);
          },
          term,
          termSampled,
        ),
      postingCount: (t) => {
        const [start, end] = range(postingEnds, t, postingCount);
        return end - start;
      },
      termPostings: (t) => {
        const [start, end] = range(postingEnds, t, postingCount);
        return {
          docs: read<Uint32Array>({ offset: docs.offset + 4 * start, length: 4 * (end - start) }, Uint32Array, 4),
          tfs: read<Float32Array | Float64Array>({ offset: tfs.offset + tfWidth * start, length: tfWidth * (end - start) }, wide ? Float64Array : Float32Array, tfWidth),
        };
      },
    };
  };
  const keyword = postings(header.wideTfs[0], header.lengthTotals?.[0], header.termSamples?.[0]);
  const pages = postings(header.wideTfs[1], header.lengthTotals?.[1], header.termSamples?.[1]);
  const vectors = take();
  if (vectors.length % 4 !== 0 || ends.length % 4 !== 0) throw new Error('segment sections disagree');
  const passages = ends.length / 4;
  // The last ends are not read here (each would be a block of its own: a cold query read five per
  // segment for them): every range is checked against its section when it is read (range).
  checkCounts(header, { passages, passageBytes: passageBytes.length }, shapes, vectors.length / 4);
  return {
    firstChunkId: header.firstChunkId,
    firstFileId: header.firstFileId,
    dimensions: header.dimensions,
    removedChunks: header.removedChunks,
    removedFiles: header.removedFiles,
    chunkIds: keyword.ids,
    passage: (i) => {
      const [start, end] = range(ends, i, passageBytes.length);
      return JSON.parse(decoder.decode(bytes.read(passageBytes.offset + start, end - start))) as Chunk;
    },
    keyword,
    pages,
    vectors: () => read<Float32Array>(vectors, Float32Array, 4),
    vector: (i) => read<Float32Array>({ offset: vectors.offset + 4 * header.dimensions * i, length: 4 * header.dimensions }, Float32Array, 4),
  };
}

/** A segment as it is written whole: what merging it alone would make (its tombstones all point below its ids), without copying its postings. */
export function writtenAlone(segment: Segment): SegmentToWrite {
  const total = segment.passages.ends.at(-1) ?? 0;
  return { ...segment, passages: { ends: segment.passages.ends, runs: total > 0 ? [{ records: segment.passages, start: 0, end: total }] : [] } };
}

/**
 * `segments` (adjacent, oldest first) as one segment: each one's tombstones that point into the
 * ones before it are applied, the rest carried. Passage records stay where they are (runs of
 * the inputs' records, read when the result is written), postings are merged in one pass. With `vectors`, the result holds those instead
 * of the inputs' (another embedder) and is the store's only segment: no tombstones.
 */
export function mergeSegments(segments: readonly Segment[], vectors?: { dimensions: number; of: (id: number) => Float32Array }): SegmentToWrite {
  const first = segments[0]!;
  const dimensions = vectors?.dimensions ?? first.dimensions;
  if (!vectors && segments.some((segment) => segment.dimensions !== dimensions)) throw new Error(`cannot merge segments of ${dimensions} and other dimensions`);
  const inside = (ids: number[], from: number, into: boolean) => ids.filter((id) => id >= from === into);
  const removedChunks = new Set(segments.flatMap((segment) => inside(segment.removedChunks, first.firstChunkId, true)));
  const removedFiles = new Set(segments.flatMap((segment) => inside(segment.removedFiles, first.firstFileId, true)));
  const keyword = mergeFrozen(
    segments.map((segment) => segment.keyword),
    (id) => !removedChunks.has(id),
  );
  const rows = new Float32Array(keyword.ids.length * dimensions);
  const runs: PassageRun[] = [];
  const ends = new Uint32Array(keyword.ids.length);
  let row = 0;
  let at = 0;
  for (const segment of segments) {
    const records = segment.passages;
    const segmentEnds = records.ends;
    /** Start of the run of kept records not yet taken. */
    let runStart = 0;
    for (let i = 0; i < segment.keyword.ids.length; i++) {
      const start = i === 0 ? 0 : segmentEnds[i - 1]!;
      const id = segment.keyword.ids[i]!;
      if (removedChunks.has(id)) {
        if (start > runStart) runs.push({ records, start: runStart, end: start });
        runStart = segmentEnds[i]!;
        continue;
      }
      ends[row] = at += segmentEnds[i]! - start;
      if (dimensions > 0) rows.set(vectors ? vectors.of(id) : segment.vectors.subarray(i * dimensions, (i + 1) * dimensions), row * dimensions);
      row++;
    }
    const total = segmentEnds.at(-1) ?? 0;
    if (total > runStart) runs.push({ records, start: runStart, end: total });
  }
  return {
    firstChunkId: vectors ? 0 : first.firstChunkId,
    firstFileId: vectors ? 0 : first.firstFileId,
    dimensions,
    passages: { runs, ends },
    keyword,
    vectors: rows,
    pages: mergeFrozen(
      segments.map((segment) => segment.pages),
      (id) => !removedFiles.has(id),
    ),
    removedChunks: vectors ? [] : segments.flatMap((segment) => inside(segment.removedChunks, first.firstChunkId, false)),
    removedFiles: vectors ? [] : segments.flatMap((segment) => inside(segment.removedFiles, first.firstFileId, false)),
  };
}

function align8(offset: number): number {
  return (offset + 7) & ~7;
}

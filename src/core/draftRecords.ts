/**
 * A file's passages on their way into a store, encoded where they are parsed: each draft's JSON
 * (its passage record less the `id` and `path` the store gives it), UTF-8, one after another.
 * A parse worker moves these bytes to the indexer's thread instead of the drafts themselves, so
 * that thread neither deserialises passage objects nor stringifies them again when it writes a
 * segment: it splices each record's id and path in front (passageRecordsOf).
 */
import type { ChunkDraft } from './chunker.js';
import type { PassageRecords } from './storeSegment.js';
import type { Chunk } from './types.js';

export interface EncodedDrafts {
  /** Draft d's JSON is bytes [ends[d - 1] ?? 0, ends[d]). */
  bytes: Uint8Array;
  ends: Uint32Array;
  /** The drafts' texts' lengths (UTF-16 code units), summed: what checkpoints are counted in. */
  textLength: number;
}

const decoder = new TextDecoder();

export function encodeDrafts(drafts: readonly ChunkDraft[]): EncodedDrafts {
  const records = drafts.map((draft) => JSON.stringify(draft));
  const ends = new Uint32Array(records.length);
  let at = 0;
  let textLength = 0;
  for (let d = 0; d < records.length; d++) {
    ends[d] = at += Buffer.byteLength(records[d]!);
    textLength += drafts[d]!.text.length;
  }
  // Its own ArrayBuffer (never a slice of Buffer's shared pool): it is transferred between threads.
  const bytes = Buffer.allocUnsafeSlow(at);
  for (let d = 0; d < records.length; d++) bytes.write(records[d]!, d === 0 ? 0 : ends[d - 1]!);
  return { bytes, ends, textLength };
}

/** The drafts `encodeDrafts` was given. */
export function decodeDrafts(encoded: EncodedDrafts): ChunkDraft[] {
  const { bytes, ends } = encoded;
  return Array.from(ends, (end, d) => JSON.parse(decoder.decode(bytes.subarray(d === 0 ? 0 : ends[d - 1]!, end))) as ChunkDraft);
}

/** A file's drafts as passages: ids from `firstChunkId` on, in draft order. */
export function chunksOf(path: string, firstChunkId: number, encoded: EncodedDrafts): Chunk[] {
  return decodeDrafts(encoded).map((draft, d) => ({ id: firstChunkId + d, path, ...draft }));
}

/** Files' drafts, each with its path and first chunk id, as a segment's passage records. */
export interface DraftsOfFile {
  path: string;
  firstChunkId: number;
  drafts: EncodedDrafts;
}

const ID_FIELD = '{"id":';

/**
 * The passage records of `files`' drafts, in order: record i is the UTF-8 of
 * JSON.stringify(chunk) for its passage `{ id, path, ...draft }`, byte for byte, made by writing
 * `{"id":<id>,"path":<path>,` before the draft's own JSON less its opening brace.
 */
export function passageRecordsOf(files: readonly DraftsOfFile[]): PassageRecords {
  const pathFields = files.map((file) => Buffer.from(`,"path":${JSON.stringify(file.path)},`));
  let count = 0;
  let total = 0;
  files.forEach(({ firstChunkId, drafts }, f) => {
    const records = drafts.ends.length;
    count += records;
    // Each record loses its draft's brace and gains the id and path fields.
    total += (drafts.ends.at(-1) ?? 0) + records * (ID_FIELD.length - 1 + pathFields[f]!.length);
    for (let d = 0; d < records; d++) total += String(firstChunkId + d).length;
  });
  const bytes = Buffer.allocUnsafe(total);
  const ends = new Uint32Array(count);
  let at = 0;
  let record = 0;
  files.forEach(({ firstChunkId, drafts }, f) => {
    const pathField = pathFields[f]!;
    const source = drafts.bytes;
    for (let d = 0; d < drafts.ends.length; d++) {
      at += bytes.write(`${ID_FIELD}${firstChunkId + d}`, at, 'latin1');
      at += pathField.copy(bytes, at);
      const start = (d === 0 ? 0 : drafts.ends[d - 1]!) + 1;
      bytes.set(source.subarray(start, drafts.ends[d]!), at);
      at += drafts.ends[d]! - start;
      ends[record++] = at;
    }
  });
  return { ends, read: (start, end) => bytes.subarray(start, end) };
}

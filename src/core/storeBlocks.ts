/**
 * Block checksums of a store file: the SHA-256 of each BLOCK_BYTES block, listed in the manifest,
 * so a reader verifies exactly the blocks it reads. A query reads a segment's dictionaries, its
 * query terms' postings and its hits' passages: a few hundred kilobytes of a file that may hold a
 * hundred megabytes, and hashing all of it would cost a cold query more than the search.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { SegmentBytes } from './storeSegment.js';

/**
 * 64 KiB: a cold query reads each query term's postings and each hit's passage as whole blocks,
 * and at 256 KiB those reads were a third of the bytes it read and hashed.
 */
export const BLOCK_BYTES = 64 * 1024;
/** Block sizes stores have been written with: a file's is the one its digest count fits (an older store's 256 KiB). */
const WRITTEN_BLOCK_BYTES = [BLOCK_BYTES, 256 * 1024];
const DIGEST_BYTES = 32;

/** The block size `count` digests of a `length`-byte file were made with; undefined when none fits. */
function blockBytesOf(length: number, count: number): number | undefined {
  // Sizes 4× apart cannot give the same count above one block, so at most one fits (any does for one block).
  return WRITTEN_BLOCK_BYTES.find((size) => Math.ceil(length / size) === count);
}

function digestOf(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** Block digests of a file's bytes as they are written, piece by piece: the file need never be in one buffer. */
export class BlockDigester {
  private readonly digests: Buffer[] = [];
  private hash = createHash('sha256');
  /** Bytes of the current block hashed so far. */
  private filled = 0;

  constructor(private readonly blockBytes = BLOCK_BYTES) {}

  update(piece: Uint8Array): void {
    for (let at = 0; at < piece.length; ) {
      const take = Math.min(this.blockBytes - this.filled, piece.length - at);
      this.hash.update(piece.subarray(at, at + take));
      at += take;
      this.filled += take;
      if (this.filled === this.blockBytes) {
        this.digests.push(this.hash.digest());
        this.hash = createHash('sha256');
        this.filled = 0;
      }
    }
  }

  /** The digests, concatenated, in base64 (what the manifest records). */
  finish(): string {
    if (this.filled > 0) this.digests.push(this.hash.digest());
    this.filled = 0;
    return Buffer.concat(this.digests).toString('base64');
  }
}

/** Whether every block of `bytes` matches `digests` (and there are as many), in the block size they were made with. */
export function blocksMatch(bytes: Uint8Array, digests: string): boolean {
  const blockBytes = blockBytesOf(bytes.length, Buffer.from(digests, 'base64').length / DIGEST_BYTES);
  if (blockBytes === undefined) return false;
  const digester = new BlockDigester(blockBytes);
  digester.update(bytes);
  return digester.finish() === digests;
}

/** Why a verified read failed: the file does not match its checksums, or the system refused to read it. */
export class BlockReadError extends Error {
  constructor(
    message: string,
    readonly damaged: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'BlockReadError';
  }
}

/**
 * A store file read in verified blocks, each read (and hashed) once, or (`keepBlocks` false, a
 * merge streaming a segment into a new one) each time it is read and then let go. The
 * descriptor stays open, so the reader keeps its generation's bytes even after a writer sweeps
 * the file.
 */
export class VerifiedFile implements SegmentBytes {
  private readonly blocks = new Map<number, Uint8Array>();
  private readonly digests: Buffer;
  private readonly blockBytes: number;
  private fd: number | undefined;

  /** Opens `path`; throws ENOENT and other system errors as they are, a damaged BlockReadError when its size is not `bytes`. */
  constructor(
    readonly path: string,
    readonly length: number,
    digests: string,
    private readonly keepBlocks = true,
  ) {
    this.digests = Buffer.from(digests, 'base64');
    const blockBytes = this.digests.length % DIGEST_BYTES === 0 ? blockBytesOf(length, this.digests.length / DIGEST_BYTES) : undefined;
    if (blockBytes === undefined) throw new BlockReadError(`the manifest's block checksums do not fit ${length} bytes`, true);
    this.blockBytes = blockBytes;
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size !== length) throw new BlockReadError(`${size} bytes, expected ${length}`, true);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    this.fd = fd;
  }

  read(offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.length) throw new BlockReadError(`a read of ${length} bytes at ${offset} is outside the file`, true);
    const first = Math.floor(offset / this.blockBytes);
    const last = Math.max(first, Math.ceil((offset + length) / this.blockBytes) - 1);
    if (!this.keepBlocks) {
      const from = offset - first * this.blockBytes;
      return this.readRun(first, last).subarray(from, from + length);
    }
    this.fetch(first, last);
    const start = this.blocks.get(first)!;
    // Blocks read together lie side by side in one buffer: a range over them is a view, not a copy.
    if (this.adjacent(first, last)) return new Uint8Array(start.buffer, start.byteOffset + offset - first * this.blockBytes, length);
    // Blocks start at multiples of 8 in the file, so a copy at offset 0 keeps the view's alignment.
    const bytes = new Uint8Array(length);
    for (let block = first, at = 0; block <= last; block++) {
      const data = this.blocks.get(block)!;
      const from = block === first ? offset - first * this.blockBytes : 0;
      const to = Math.min(data.length, offset + length - block * this.blockBytes);
      bytes.set(data.subarray(from, to), at);
      at += to - from;
    }
    return bytes;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Reads and verifies the blocks of [first, last] not read yet, each run of them with one system call. */
  private fetch(first: number, last: number): void {
    for (let block = first; block <= last; block++) {
      if (this.blocks.has(block)) continue;
      let end = block;
      while (end < last && !this.blocks.has(end + 1)) end++;
      this.readRun(block, end);
      block = end;
    }
  }

  /** Reads and verifies blocks [first, last] with one system call; keeps them unless `keepBlocks` is false. */
  private readRun(first: number, last: number): Buffer {
    if (this.fd === undefined) throw new BlockReadError('the file was closed', false);
    const from = first * this.blockBytes;
    const size = Math.min(this.length, (last + 1) * this.blockBytes) - from;
    // Not zero-filled (every byte is read or the read fails); its own memory, so offset 0 is 8-aligned.
    const data = Buffer.allocUnsafeSlow(size);
    let read = 0;
    try {
      while (read < size) {
        const got = readSync(this.fd, data, read, size - read, from + read);
        if (got === 0) break;
        read += got;
      }
    } catch (error) {
      throw new BlockReadError((error as Error).message, false, { cause: error });
    }
    if (read < size) throw new BlockReadError(`it ends inside block ${first + Math.floor(read / this.blockBytes)}`, true);
    for (let block = first; block <= last; block++) {
      const at = (block - first) * this.blockBytes;
      const view = data.subarray(at, Math.min(size, at + this.blockBytes));
      if (!digestOf(view).equals(this.digests.subarray(block * DIGEST_BYTES, (block + 1) * DIGEST_BYTES))) throw new BlockReadError(`block ${block} does not match its checksum`, true);
      if (this.keepBlocks) this.blocks.set(block, view);
    }
    return data;
  }

  private adjacent(first: number, last: number): boolean {
    for (let block = first; block < last; block++) {
      const a = this.blocks.get(block)!;
      const b = this.blocks.get(block + 1)!;
      if (a.buffer !== b.buffer || a.byteOffset + a.length !== b.byteOffset) return false;
    }
    return true;
  }
}

/**
 * Block checksums of a store file: the SHA-256 of each BLOCK_BYTES block, listed in the manifest,
 * so a reader verifies exactly the blocks it reads. A query reads a segment's dictionaries, its
 * query terms' postings and its hits' passages: a few hundred kilobytes of a file that may hold a
 * hundred megabytes, and hashing all of it would cost a cold query more than the search.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { SegmentBytes } from './storeSegment.js';

export const BLOCK_BYTES = 256 * 1024;
const DIGEST_BYTES = 32;

function digestOf(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** Block digests of a file's bytes as they are written, piece by piece: the file need never be in one buffer. */
export class BlockDigester {
  private readonly digests: Buffer[] = [];
  private hash = createHash('sha256');
  /** Bytes of the current block hashed so far. */
  private filled = 0;

  update(piece: Uint8Array): void {
    for (let at = 0; at < piece.length; ) {
      const take = Math.min(BLOCK_BYTES - this.filled, piece.length - at);
      this.hash.update(piece.subarray(at, at + take));
      at += take;
      this.filled += take;
      if (this.filled === BLOCK_BYTES) {
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

/** Whether every block of `bytes` matches `digests` (and there are as many). */
export function blocksMatch(bytes: Uint8Array, digests: string): boolean {
  const digester = new BlockDigester();
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
  private fd: number | undefined;

  /** Opens `path`; throws ENOENT and other system errors as they are, a damaged BlockReadError when its size is not `bytes`. */
  constructor(
    readonly path: string,
    readonly length: number,
    digests: string,
    private readonly keepBlocks = true,
  ) {
    this.digests = Buffer.from(digests, 'base64');
    if (this.digests.length !== Math.ceil(length / BLOCK_BYTES) * DIGEST_BYTES) throw new BlockReadError(`the manifest's block checksums do not fit ${length} bytes`, true);
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
    const first = Math.floor(offset / BLOCK_BYTES);
    const last = Math.max(first, Math.ceil((offset + length) / BLOCK_BYTES) - 1);
    if (first === last) {
      const start = offset - first * BLOCK_BYTES;
      return this.block(first).subarray(start, start + length);
    }
    // Blocks start at multiples of 8 in the file, so a copy at offset 0 keeps the view's alignment.
    const bytes = new Uint8Array(length);
    for (let block = first, at = 0; block <= last; block++) {
      const data = this.block(block);
      const from = block === first ? offset - first * BLOCK_BYTES : 0;
      const to = Math.min(data.length, offset + length - block * BLOCK_BYTES);
      bytes.set(data.subarray(from, to), at);
      at += to - from;
    }
    return bytes;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private block(block: number): Uint8Array {
    let data = this.blocks.get(block);
    if (data) return data;
    if (this.fd === undefined) throw new BlockReadError('the file was closed', false);
    const size = Math.min(BLOCK_BYTES, this.length - block * BLOCK_BYTES);
    data = new Uint8Array(size);
    let read = 0;
    try {
      while (read < size) {
        const got = readSync(this.fd, data, read, size - read, block * BLOCK_BYTES + read);
        if (got === 0) break;
        read += got;
      }
    } catch (error) {
      throw new BlockReadError((error as Error).message, false, { cause: error });
    }
    if (read < size) throw new BlockReadError(`it ends inside block ${block}`, true);
    if (!digestOf(data).equals(this.digests.subarray(block * DIGEST_BYTES, (block + 1) * DIGEST_BYTES))) throw new BlockReadError(`block ${block} does not match its checksum`, true);
    if (this.keepBlocks) this.blocks.set(block, data);
    return data;
  }
}

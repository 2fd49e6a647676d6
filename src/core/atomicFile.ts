/**
 * Crash-safe file replacement: readers see either the old file or the complete new one, never a
 * partial write. Recipe: write a sibling temp file, fsync it, rename it over the target, fsync the
 * directory so the rename itself survives a power loss.
 */
import { randomBytes } from 'node:crypto';
// fs.promises (node:fs's lazy getter), not node:fs/promises: importing that loads it and readline at start-up,
// 1.6 ms of a cold `docent query` that never uses it. The other core modules do the same.
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A unique sibling of `path`; same directory so the final rename never crosses file systems. */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/**
 * Makes an already written `tempPath` durable and moves it over `path`. On failure the temp file
 * is removed and the previous `path` is left untouched. Without `syncDirectory` the rename is
 * durable only once the caller syncs the directory (several files renamed, then one sync).
 */
export async function commitTempFile(tempPath: string, path: string, options: { syncDirectory?: boolean } = {}): Promise<void> {
  try {
    // 'r+' because Windows only flushes handles opened for writing.
    const file = await fsp.open(tempPath, 'r+');
    try {
      await file.sync();
    } finally {
      await file.close();
    }
  } catch (error) {
    await fsp.rm(tempPath, { force: true });
    throw error;
  }
  await renameSynced(tempPath, path, options);
}

/** Moves the durable `tempPath` over `path` (removed on failure), then syncs the folder unless told not to. */
async function renameSynced(tempPath: string, path: string, { syncDirectory: sync = true }: { syncDirectory?: boolean }): Promise<void> {
  try {
    await fsp.rename(tempPath, path);
  } catch (error) {
    await fsp.rm(tempPath, { force: true });
    throw error;
  }
  if (sync) await syncDirectory(dirname(path));
}

/**
 * Atomically replaces `path` with `data`: a string, bytes, or pieces of bytes written one after
 * another (the file need never be in one buffer); see the module comment for the guarantees
 * (and commitTempFile for `syncDirectory`).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array | Iterable<Uint8Array>, options?: { syncDirectory?: boolean }): Promise<void> {
  const tempPath = tempPathFor(path);
  try {
    // 'wx': never write through a stale temp file or a symlink planted at the temp name.
    const file = await fsp.open(tempPath, 'wx');
    try {
      if (typeof data === 'string' || data instanceof Uint8Array) await file.writeFile(data);
      else await writePieces(file, data);
      // The handle that wrote it (opened for writing, as Windows needs to flush).
      await file.sync();
    } finally {
      await file.close();
    }
  } catch (error) {
    await fsp.rm(tempPath, { force: true });
    throw error;
  }
  await renameSynced(tempPath, path, options ?? {});
}

/** Pieces gathered into one writev up to this many bytes: a segment is dozens of pieces, some of a few bytes, and each write is a round trip to the thread pool. */
const WRITE_BATCH_BYTES = 1 << 20;

async function writePieces(file: FileHandle, pieces: Iterable<Uint8Array>): Promise<void> {
  let batch: Uint8Array[] = [];
  let bytes = 0;
  const flush = async () => {
    let written = (await file.writev(batch)).bytesWritten;
    // A short write: the rest piece by piece.
    for (const piece of batch) {
      for (let at = Math.min(written, piece.length); at < piece.length; ) at += (await file.write(piece, at, piece.length - at)).bytesWritten;
      written = Math.max(0, written - piece.length);
    }
    batch = [];
    bytes = 0;
  };
  for (const piece of pieces) {
    if (piece.length === 0) continue;
    batch.push(piece);
    bytes += piece.length;
    if (bytes >= WRITE_BATCH_BYTES) await flush();
  }
  if (batch.length > 0) await flush();
}

/** Makes the renames done in `directory` durable. */
export async function syncDirectory(directory: string): Promise<void> {
  // Windows cannot open a directory as a file; NTFS journals the rename itself.
  if (process.platform === 'win32') return;
  const handle = await fsp.open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

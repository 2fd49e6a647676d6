/**
 * Crash-safe file replacement: readers see either the old file or the complete new one, never a
 * partial write. Recipe: write a sibling temp file, fsync it, rename it over the target, fsync the
 * directory so the rename itself survives a power loss.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
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
export async function commitTempFile(tempPath: string, path: string, { syncDirectory: sync = true }: { syncDirectory?: boolean } = {}): Promise<void> {
  try {
    // 'r+' because Windows only flushes handles opened for writing.
    const file = await open(tempPath, 'r+');
    try {
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tempPath, path);
  } catch (error) {
    await rm(tempPath, { force: true });
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
    const file = await open(tempPath, 'wx');
    try {
      if (typeof data === 'string' || data instanceof Uint8Array) await file.writeFile(data);
      else for (const piece of data) for (let at = 0; at < piece.length; ) at += (await file.write(piece, at, piece.length - at)).bytesWritten;
    } finally {
      await file.close();
    }
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  }
  await commitTempFile(tempPath, path, options);
}

/** Makes the renames done in `directory` durable. */
export async function syncDirectory(directory: string): Promise<void> {
  // Windows cannot open a directory as a file; NTFS journals the rename itself.
  if (process.platform === 'win32') return;
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

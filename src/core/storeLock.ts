/**
 * One writer per store: `writer.lock` in the store folder holds the writing process's pid. The
 * lock is created with its content in one step (a finished temp file hard-linked to the lock's
 * name, which fails when a lock exists), so nobody reads a half-written lock. A lock whose
 * process is gone (a writer killed with -9) is stale and taken over.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { tempPathFor } from './atomicFile.js';

export const LOCK_FILE = 'writer.lock';

export interface WriterLock {
  release(): Promise<void>;
}

/** Lock files held by this process: a second instance in the same process must not write too. */
const heldHere = new Set<string>();

/** The lock, or the pid of the live process holding it. */
export async function acquireWriterLock(dir: string): Promise<WriterLock | { heldBy: number }> {
  const lockPath = path.join(dir, LOCK_FILE);
  if (heldHere.has(lockPath)) return { heldBy: process.pid };
  const tempPath = tempPathFor(lockPath);
  await fs.writeFile(tempPath, `${process.pid}\n`, { flag: 'wx' });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await fs.link(tempPath, lockPath);
        heldHere.add(lockPath);
        return {
          release: async () => {
            heldHere.delete(lockPath);
            await fs.rm(lockPath, { force: true });
          },
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = await lockOwner(lockPath);
      if (owner === undefined) continue;
      if (owner !== process.pid && isRunning(owner)) return { heldBy: owner };
      // Stale. Move it aside under a unique name; if another process replaced it meanwhile, put theirs back.
      const aside = tempPathFor(lockPath);
      try {
        await fs.rename(lockPath, aside);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      if ((await lockOwner(aside)) !== owner) await fs.link(aside, lockPath).catch(() => undefined);
      await fs.rm(aside, { force: true });
    }
    throw new Error(`could not take the writer lock ${lockPath}: it keeps changing hands`);
  } finally {
    await fs.rm(tempPath, { force: true });
  }
}

/** The pid in a lock file; -1 when it holds no pid (damaged: stale), undefined when it is gone. */
async function lockOwner(lockPath: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await fs.readFile(lockPath, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : -1;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export function isRunning(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

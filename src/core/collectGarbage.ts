import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's gc(), fetched on first use; null where V8 would not expose it. */
let fullCollection: (() => void) | null | undefined;

/**
 * A full garbage collection of the calling thread's heap, or nothing where V8 will not give one.
 * What a checkpoint built (its postings, passage records, the segments it merged) is garbage once
 * the commit is written, but V8 frees ArrayBuffers only in a full collection, which a small
 * JavaScript heap seldom triggers: a full index of corpus-100 kept 60-150 MiB of them, and the
 * process's peak RSS with them. One collection costs ~15 ms there. `--expose-gc` set at run time
 * only puts gc() in contexts made after it, hence the new context it is read from. In the
 * extension's core process the pause grows with the heap (a model's runtime), once a checkpoint.
 */
export function collectGarbage(): void {
  if (fullCollection === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const exposed: unknown = runInNewContext('typeof gc === "function" ? gc : null');
      fullCollection = typeof exposed === 'function' ? (exposed as () => void) : null;
    } catch {
      fullCollection = null;
    }
  }
  fullCollection?.();
}

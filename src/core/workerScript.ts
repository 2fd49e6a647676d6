/**
 * Where a worker thread's entry point is: the bundle beside the running bundle (dist/), or the
 * TypeScript source beside the caller when running from source under tsx.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** `--import tsx` does not reach worker threads on Node 20; tsx's CommonJS hook does. */
const TS_WORKER_EXEC_ARGV = ['--require', 'tsx/cjs'];

export interface WorkerEntry {
  script: string;
  execArgv: string[];
}

/** `explicit` (a path) wins; otherwise `<dir>/<name>.js` when bundled, else `<dir>/<name>.ts`. */
export function workerEntry(dir: string, name: string, explicit?: string): WorkerEntry {
  if (explicit) return { script: explicit, execArgv: explicit.endsWith('.ts') ? TS_WORKER_EXEC_ARGV : [] };
  const bundled = join(dir, `${name}.js`);
  if (existsSync(bundled)) return { script: bundled, execArgv: [] };
  return { script: join(dir, `${name}.ts`), execArgv: TS_WORKER_EXEC_ARGV };
}

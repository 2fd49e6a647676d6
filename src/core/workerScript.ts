/**
 * Where a worker thread's entry point is: the bundle beside the running bundle (dist/), or the
 * TypeScript source beside the caller when running from source under tsx.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';

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

/**
 * The worker's first message, read by `first` (a value, or an Error to reject with); rejects
 * when the thread errs or exits before it sends one.
 */
export function firstMessage<M, T>(worker: Worker, label: string, first: (message: M) => T | Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: M) => {
      cleanup();
      const result = first(message);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`${label} exited with code ${code} before it was ready`));
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

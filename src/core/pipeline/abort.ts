/** Signal plumbing shared by the stages. */
import { abortReason } from './errors.js';

/** A controller that aborts with its parent, and a `dispose` that unlinks it (no listener leaks on long-lived signals). */
export function linkedController(parent?: AbortSignal): { controller: AbortController; dispose: () => void } {
  const controller = new AbortController();
  if (!parent) return { controller, dispose: () => {} };
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { controller, dispose: () => {} };
  }
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return { controller, dispose: () => parent.removeEventListener('abort', onAbort) };
}

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts, even if `promise` ignores the signal. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Runs `task` with a signal that also aborts with `timeoutError` after `timeoutMs`. */
export async function withTimeout<T>(
  parent: AbortSignal,
  timeoutMs: number,
  timeoutError: () => Error,
  task: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const { controller, dispose } = linkedController(parent);
  const timer = setTimeout(() => controller.abort(timeoutError()), timeoutMs);
  try {
    return await raceAbort(task(controller.signal), controller.signal);
  } finally {
    clearTimeout(timer);
    dispose();
  }
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

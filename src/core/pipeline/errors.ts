/** Errors the pipeline surfaces to callers; each message is meant to be shown as is. */
import type { Stage } from './types.js';

/** The backend's queue is full or the wait would be too long. */
export class BusyError extends Error {
  override readonly name = 'BusyError';

  constructor(readonly retryAfterSeconds: number) {
    super(`Docent is busy, retry in ${retryAfterSeconds} s`);
  }
}

export class StageTimeoutError extends Error {
  override readonly name = 'StageTimeoutError';

  constructor(
    readonly stage: Stage,
    readonly timeoutMs: number,
  ) {
    super(`${stageLabel(stage)} timed out after ${timeoutMs} ms`);
  }
}

/** The stream sent a token, then nothing for `timeoutMs`. */
export class IdleStreamError extends Error {
  override readonly name = 'IdleStreamError';

  constructor(readonly timeoutMs: number) {
    super(`the answer stream stopped: no token for ${timeoutMs} ms`);
  }
}

export type BackendFailureKind = 'unreachable' | 'server-error' | 'rate-limited' | 'rejected' | 'malformed-stream' | 'truncated-stream';

/** The backend could not produce a (complete) answer; the pipeline degrades on it. */
export class BackendFailure extends Error {
  override readonly name = 'BackendFailure';

  constructor(
    readonly kind: BackendFailureKind,
    message: string,
    options?: { cause?: unknown; status?: number },
  ) {
    super(message, options);
    this.status = options?.status;
  }

  /** The HTTP status the backend answered with, when it answered. */
  readonly status: number | undefined;
}

/** The reason an aborted signal carries, as an Error (callers may abort with anything). */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new DOMException(typeof reason === 'string' ? reason : 'The operation was aborted', 'AbortError');
}

function stageLabel(stage: Stage): string {
  switch (stage) {
    case 'retrieve':
      return 'Retrieval';
    case 'firstToken':
      return 'Waiting for the first token';
    case 'total':
      return 'Answering';
    default:
      return `Stage "${stage}"`;
  }
}

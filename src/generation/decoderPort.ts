/**
 * How the scheduler reaches the decoder: in a worker thread (the default, so `session.run`
 * never holds the HTTP thread), or in the same thread (benchmarks compare the two).
 */
import { Worker } from 'node:worker_threads';
import { DeviceFallbackError, DeviceUnavailableError } from '../core/onnx/session.js';
import type { Placement } from '../core/onnx/placement.js';
import { firstMessage, workerEntry } from '../core/workerScript.js';
import { DecoderRuntime, type PrefillRow, type RunReport, type RuntimeInfo, type RuntimeInit } from './decoderRuntime.js';
import type { SamplingParams } from './sampling.js';

export interface DecoderPort {
  readonly info: RuntimeInfo;
  admit(id: number, sampling: SamplingParams): void;
  release(ids: number[]): void;
  prefill(rows: PrefillRow[]): Promise<{ tokens: Array<number | undefined>; report: RunReport }>;
  decode(rows: Array<{ id: number; token: number }>): Promise<{ tokens: number[]; report: RunReport }>;
  dispose(): Promise<void>;
}

export type DecoderThread = 'worker' | 'inline';

export async function openDecoder(init: RuntimeInit, thread: DecoderThread, workerScript?: string): Promise<DecoderPort> {
  if (thread === 'inline') return inlinePort(await DecoderRuntime.load(init));
  return WorkerPort.start(init, workerScript);
}

function inlinePort(runtime: DecoderRuntime): DecoderPort {
  return {
    info: runtime.info,
    admit: (id, sampling) => runtime.admit(id, sampling),
    release: (ids) => runtime.release(ids),
    prefill: (rows) => runtime.prefill(rows),
    decode: (rows) => runtime.decode(rows),
    dispose: () => runtime.dispose(),
  };
}

/** An error as it crosses the thread boundary; the two device errors are rebuilt as themselves. */
export interface SerializedError {
  name: string;
  message: string;
  provider?: string;
  cause?: string;
  placement?: Placement;
}

export type WorkerRequest =
  | { type: 'admit'; id: number; sampling: SamplingParams }
  | { type: 'release'; ids: number[] }
  | { type: 'prefill'; call: number; rows: PrefillRow[] }
  | { type: 'decode'; call: number; rows: Array<{ id: number; token: number }> }
  | { type: 'close' };

export type WorkerResponse =
  | { type: 'ready'; info: RuntimeInfo }
  | { type: 'failed'; error: SerializedError }
  | { type: 'done'; call: number; result: { tokens: Array<number | undefined>; report: RunReport } }
  | { type: 'error'; call: number; error: SerializedError };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof DeviceUnavailableError) return { name: error.name, message: error.message, provider: error.provider, cause: String((error.cause as Error | undefined)?.message ?? error.cause) };
  if (error instanceof DeviceFallbackError) return { name: error.name, message: error.message, provider: error.provider, placement: error.placement };
  return { name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) };
}

function deserializeError(error: SerializedError): Error {
  if (error.name === 'DeviceUnavailableError' && error.provider) return new DeviceUnavailableError(error.provider, new Error(error.cause));
  if (error.name === 'DeviceFallbackError' && error.provider && error.placement) return new DeviceFallbackError(error.provider, error.placement);
  const rebuilt = new Error(error.message);
  rebuilt.name = error.name;
  return rebuilt;
}

class WorkerPort implements DecoderPort {
  private nextCall = 1;
  private readonly pending = new Map<number, { resolve: (value: never) => void; reject: (error: unknown) => void }>();
  private lost?: Error;

  private constructor(
    private readonly worker: Worker,
    readonly info: RuntimeInfo,
  ) {
    worker.on('message', (message: WorkerResponse) => {
      if (message.type !== 'done' && message.type !== 'error') return;
      const waiter = this.pending.get(message.call);
      this.pending.delete(message.call);
      if (message.type === 'done') waiter?.resolve(message.result as never);
      else waiter?.reject(deserializeError(message.error));
    });
    const onLost = (error: Error) => {
      this.lost ??= error;
      for (const waiter of this.pending.values()) waiter.reject(this.lost);
      this.pending.clear();
    };
    worker.on('error', onLost);
    worker.on('exit', (code) => onLost(new Error(`the decoder worker exited with code ${code}`)));
  }

  static async start(init: RuntimeInit, workerScript?: string): Promise<WorkerPort> {
    const { script, execArgv } = workerEntry(__dirname, 'decoderWorker', workerScript);
    const worker = new Worker(script, { workerData: init, execArgv });
    const info = await firstMessage<WorkerResponse, RuntimeInfo>(worker, 'the decoder worker', (message) =>
      message.type === 'ready' ? message.info : message.type === 'failed' ? deserializeError(message.error) : new Error(`unexpected decoder worker message ${message.type}`),
    ).catch(async (error: unknown) => {
      await worker.terminate();
      throw error;
    });
    return new WorkerPort(worker, info);
  }

  admit(id: number, sampling: SamplingParams): void {
    this.post({ type: 'admit', id, sampling });
  }

  release(ids: number[]): void {
    if (ids.length > 0) this.post({ type: 'release', ids });
  }

  prefill(rows: PrefillRow[]): Promise<{ tokens: Array<number | undefined>; report: RunReport }> {
    return this.call((call) => ({ type: 'prefill', call, rows }));
  }

  decode(rows: Array<{ id: number; token: number }>): Promise<{ tokens: number[]; report: RunReport }> {
    return this.call((call) => ({ type: 'decode', call, rows }));
  }

  async dispose(): Promise<void> {
    if (this.lost) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.post({ type: 'close' });
    const timer = setTimeout(() => void this.worker.terminate(), 10_000);
    await exited;
    clearTimeout(timer);
  }

  private call<T>(request: (call: number) => WorkerRequest): Promise<T> {
    if (this.lost) return Promise.reject(this.lost);
    const call = this.nextCall++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(call, { resolve: resolve as (value: never) => void, reject });
      this.post(request(call));
    });
  }

  private post(request: WorkerRequest): void {
    if (!this.lost) this.worker.postMessage(request);
  }
}

/**
 * Embedder that runs an ONNX model in a small pool of worker threads, so inference never blocks
 * the extension host's or CLI's event loop. Texts are sorted by length and cut into batches
 * (each worker further groups its batch by token length); at most `maxQueuedBatches` batches
 * wait for a worker, and `embed` awaits room before queueing more (back-pressure).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DeviceUnavailableError, type ActiveDevice, type DeviceChoice } from '../onnx/session.js';
import type { Embedder, EmbedderRuntime } from '../types.js';
import { firstMessage, workerEntry } from '../workerScript.js';
import type { RunnerOptions } from './embeddingRunner.js';
import type { EmbeddingModelSpec } from './modelSpec.js';
import type { PoolRequest, PoolResponse, WorkerInit } from './workerProtocol.js';
import { monotonicMs } from '../clock.js';

export interface OnnxEmbedderOptions {
  /** Execution provider choice; default 'auto' (GPU providers of the platform, then CPU). */
  device?: DeviceChoice;
  /** Adapter index for CUDA and DirectML (docent.embedding.deviceId, --device-id). */
  deviceId?: number;
  /** Worker threads, each with its own session; default min(2, cores). */
  workers?: number;
  /** Texts per worker request; default 32. */
  batchSize?: number;
  /** Batches that may wait for a free worker before `embed` waits; default 2 × workers. */
  maxQueuedBatches?: number;
  /** onnxruntime intra-op threads per worker; default cores / workers. */
  intraOpThreads?: number;
  /** Padded-token budget of one model call inside a worker. */
  maxBatchTokens?: number;
  /** Worker entry point; default dist/embeddingWorker.js beside the bundle, or the .ts source under tsx. */
  workerScript?: string;
}

export interface EmbeddingStats {
  texts: number;
  tokens: number;
  batches: number;
  /** Time workers spent embedding, summed over workers. */
  computeMs: number;
  /** Wall time during which at least one batch was queued or running. */
  activeMs: number;
  textsPerSecond: number;
  tokensPerSecond: number;
}

interface Job {
  texts: string[];
  resolve(vectors: Float32Array[]): void;
  reject(error: unknown): void;
  /** Set once the caller got its answer (result, failure or abort); later results are dropped. */
  settled: boolean;
}

interface PoolWorker {
  worker: Worker;
  job?: Job;
}

let nextJobId = 1;


export class OnnxEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  private readonly device: DeviceChoice;
  private readonly workerCount: number;
  private readonly batchSize: number;
  private readonly maxQueuedBatches: number;
  private readonly runnerOptions: RunnerOptions;
  private readonly workerScript?: string;
  private pool: PoolWorker[] = [];
  private starting?: Promise<ActiveDevice>;
  private active?: ActiveDevice;
  private readonly queue: Job[] = [];
  private spaceWaiters: Array<() => void> = [];
  /** Queue places promised to callers that have not queued their batch yet. */
  private reservedSlots = 0;
  private disposed = false;
  private outstanding = 0;
  private activeSince = 0;
  private readonly counters = { texts: 0, tokens: 0, batches: 0, computeMs: 0, activeMs: 0 };

  constructor(
    readonly spec: EmbeddingModelSpec,
    options: OnnxEmbedderOptions = {},
  ) {
    this.id = spec.id;
    this.dimensions = spec.dimensions;
    const cores = availableParallelism();
    this.device = options.device ?? 'auto';
    this.workerCount = Math.max(1, options.workers ?? Math.min(2, cores));
    this.batchSize = Math.max(1, options.batchSize ?? 32);
    this.maxQueuedBatches = Math.max(1, options.maxQueuedBatches ?? 2 * this.workerCount);
    this.runnerOptions = {
      device: this.device,
      deviceId: options.deviceId,
      intraOpThreads: options.intraOpThreads ?? Math.max(1, Math.floor(cores / this.workerCount)),
      maxBatchTokens: options.maxBatchTokens,
    };
    this.workerScript = options.workerScript;
  }

  /** The execution provider in use and why better ones were passed over; undefined until started. */
  get activeDevice(): ActiveDevice | undefined {
    return this.active;
  }

  /** Batches waiting for a worker right now. */
  get queuedBatches(): number {
    return this.queue.length;
  }

  runtime(): EmbedderRuntime | undefined {
    const device = this.activeDevice;
    if (!device) return undefined;
    return { ...device, textsPerSecond: this.stats().textsPerSecond };
  }

  stats(): EmbeddingStats {
    const activeMs = this.counters.activeMs + (this.outstanding > 0 ? monotonicMs() - this.activeSince : 0);
    const seconds = activeMs / 1000;
    return {
      ...this.counters,
      activeMs,
      textsPerSecond: seconds > 0 ? this.counters.texts / seconds : 0,
      tokensPerSecond: seconds > 0 ? this.counters.tokens / seconds : 0,
    };
  }

  /**
   * Starts the workers (first call only) and resolves with the active device. Rejects with
   * DeviceUnavailableError when an explicit GPU device cannot be loaded.
   */
  ready(): Promise<ActiveDevice> {
    if (this.disposed) return Promise.reject(new Error('embedder has been disposed'));
    this.starting ??= this.startPool().catch((error: unknown) => {
      this.starting = undefined;
      throw error;
    });
    return this.starting;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    signal?.throwIfAborted();
    if (texts.length === 0) return [];
    await this.ready();
    signal?.throwIfAborted();

    const order = texts.map((_, index) => index).sort((a, b) => texts[a]!.length - texts[b]!.length);
    const results: Float32Array[] = new Array(texts.length);
    const stop = new AbortController();
    const jobSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    const settled: Promise<void>[] = [];
    let failure: unknown;
    for (let start = 0; start < order.length && failure === undefined; start += this.batchSize) {
      const indices = order.slice(start, start + this.batchSize);
      try {
        await this.acquireQueueSlot(jobSignal);
      } catch (error) {
        failure ??= error;
        break;
      }
      settled.push(
        this.submit(
          indices.map((index) => texts[index]!),
          jobSignal,
        ).then(
          (vectors) => indices.forEach((index, k) => (results[index] = vectors[k]!)),
          (error: unknown) => {
            failure ??= error;
            stop.abort(error);
          },
        ),
      );
    }
    await Promise.all(settled);
    if (signal?.aborted) throw signal.reason;
    if (failure !== undefined) throw failure;
    return results;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const error = new Error('embedder has been disposed');
    for (const job of this.queue.splice(0)) this.settle(job, () => job.reject(error));
    await this.starting?.catch(() => undefined);
    await this.stopPool(error);
  }

  private async startPool(): Promise<ActiveDevice> {
    const { script, execArgv } = workerEntry(__dirname, 'embeddingWorker', this.workerScript);
    const init: WorkerInit = { spec: this.spec, runner: this.runnerOptions };
    const workers = Array.from({ length: this.workerCount }, () => new Worker(script, { workerData: init, execArgv }));
    const readiness = workers.map((worker) => waitForReady(worker));
    const outcomes = await Promise.allSettled(readiness);
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed || this.disposed) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      throw failed ? failed.reason : new Error('embedder has been disposed');
    }
    this.pool = workers.map((worker) => ({ worker }));
    for (const member of this.pool) {
      member.worker.on('message', (message: PoolResponse) => this.onWorkerMessage(member, message));
      member.worker.on('error', (error) => this.onWorkerLost(member, error));
      member.worker.on('exit', (code) => this.onWorkerLost(member, new Error(`embedding worker exited with code ${code}`)));
    }
    this.active = (outcomes[0] as PromiseFulfilledResult<ActiveDevice>).value;
    return this.active;
  }

  /**
   * Reserves a place in the queue, waiting while it is full. The reservation is taken
   * synchronously (on the fast path, or by releaseQueueSpace before waking a waiter), so
   * concurrent callers cannot overfill the queue; submit() turns it into a queued job.
   */
  private async acquireQueueSlot(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.spaceWaiters.length === 0 && this.queue.length + this.reservedSlots < this.maxQueuedBatches) {
      this.reservedSlots++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.spaceWaiters = this.spaceWaiters.filter((waiter) => waiter !== onSpace);
        reject(signal.reason);
      };
      const onSpace = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.spaceWaiters.push(onSpace);
    });
  }

  /** Queues a batch in the slot acquireQueueSlot reserved. */
  private submit(texts: string[], signal: AbortSignal): Promise<Float32Array[]> {
    this.reservedSlots--;
    if (this.disposed) return Promise.reject(new Error('embedder has been disposed'));
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<Float32Array[]>((resolve, reject) => {
      const job: Job = { texts, settled: false, resolve, reject };
      const onAbort = () => {
        const queued = this.queue.indexOf(job);
        if (queued >= 0) {
          this.queue.splice(queued, 1);
          this.releaseQueueSpace();
        }
        // A running batch cannot be interrupted; its result is dropped when it arrives.
        this.settle(job, () => reject(signal.reason));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      job.resolve = (vectors) => {
        signal.removeEventListener('abort', onAbort);
        resolve(vectors);
      };
      job.reject = (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      };
      this.beginActive();
      this.queue.push(job);
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const member of this.pool) {
      if (member.job || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      member.job = job;
      const request: PoolRequest = { type: 'embed', jobId: nextJobId++, texts: job.texts };
      member.worker.postMessage(request);
      this.releaseQueueSpace();
    }
  }

  private releaseQueueSpace(): void {
    while (this.spaceWaiters.length > 0 && this.queue.length + this.reservedSlots < this.maxQueuedBatches) {
      this.reservedSlots++;
      this.spaceWaiters.shift()!();
    }
  }

  private onWorkerMessage(member: PoolWorker, message: PoolResponse): void {
    const job = member.job;
    member.job = undefined;
    if (job && message.type === 'result') {
      this.counters.texts += job.texts.length;
      this.counters.tokens += message.tokens;
      this.counters.batches++;
      this.counters.computeMs += message.computeMs;
      this.settle(job, () => job.resolve(message.vectors));
    } else if (job && message.type === 'error') {
      this.settle(job, () => job.reject(new Error(`embedding failed: ${message.message}`)));
    }
    this.dispatch();
  }

  /** A worker died: fail everything in flight and restart the pool on the next embed. */
  private onWorkerLost(member: PoolWorker, error: Error): void {
    if (!this.pool.includes(member)) return;
    const failure = new Error(`embedding worker failed: ${error.message}`, { cause: error });
    const inFlight = this.pool.flatMap((other) => (other.job ? [other.job] : []));
    for (const job of [...inFlight, ...this.queue.splice(0)]) this.settle(job, () => job.reject(failure));
    this.releaseQueueSpace();
    void this.stopPool(failure);
  }

  private async stopPool(reason: Error): Promise<void> {
    const pool = this.pool;
    this.pool = [];
    this.starting = undefined;
    for (const member of pool) if (member.job) this.settle(member.job, () => member.job!.reject(reason));
    await Promise.all(pool.map((member) => closeWorker(member.worker)));
  }

  /** Runs `answer` once per job and keeps the active-time clock. */
  private settle(job: Job, answer: () => void): void {
    if (job.settled) return;
    job.settled = true;
    answer();
    this.outstanding--;
    if (this.outstanding === 0) this.counters.activeMs += monotonicMs() - this.activeSince;
  }

  private beginActive(): void {
    if (this.outstanding === 0) this.activeSince = monotonicMs();
    this.outstanding++;
  }
}

function waitForReady(worker: Worker): Promise<ActiveDevice> {
  return firstMessage<PoolResponse, ActiveDevice>(worker, 'embedding worker', (message) => {
    if (message.type === 'ready') return message.activeDevice;
    if (message.type === 'failed' && message.unavailableProvider) return new DeviceUnavailableError(message.unavailableProvider, new Error(message.cause));
    return new Error(message.type === 'failed' ? message.message : `unexpected worker message ${message.type}`);
  });
}

const CLOSE_GRACE_MS = 5_000;

/** Lets the worker release its session, then makes sure the thread is gone. */
async function closeWorker(worker: Worker): Promise<void> {
  worker.removeAllListeners();
  if (worker.threadId === -1) return; // already stopped
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => void worker.terminate().then(() => resolve()), CLOSE_GRACE_MS);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    const request: PoolRequest = { type: 'close' };
    worker.postMessage(request);
  });
}

/**
 * Runs a workspace's index runs one at a time. Requests name folders; they gather while a run is
 * busy and the next run takes them all. Pause stops the run and keeps what is pending (a paused
 * run resumes where it stopped: committed checkpoints and unchanged files are not redone);
 * cancel stops it and forgets what is pending.
 */
import type { FolderIndexReport } from './options.js';

export type IndexRunEnd = 'ready' | 'paused' | 'cancelled';

/** What the scheduler runs; the workspace implements it. */
export interface IndexRunner {
  /** Every folder's name, for a run that indexes everything. */
  folderNames(): string[];
  /**
   * One run: called with `take`, which hands over (and clears) the pending folder names once the
   * runner is ready to index them, and an abort signal for pause, cancel and reconfiguration.
   */
  run(take: () => string[], signal: AbortSignal): Promise<FolderIndexReport[]>;
  /** A run ended (or indexing was paused). */
  ended(end: IndexRunEnd): Promise<void>;
  failed(error: Error): void;
}

interface Waiters {
  promise: Promise<FolderIndexReport[]>;
  resolve(reports: FolderIndexReport[]): void;
  reject(error: unknown): void;
}

function waiters(): Waiters {
  let resolve!: Waiters['resolve'];
  let reject!: Waiters['reject'];
  const promise = new Promise<FolderIndexReport[]>((res, rej) => ((resolve = res), (reject = rej)));
  // Front ends that only follow the state events never await a request.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

const abortError = (): DOMException => new DOMException('Indexing was cancelled', 'AbortError');

export class IndexScheduler {
  private readonly pending = new Set<string>();
  /** Callers of the run that will take the pending folders. */
  private next: Waiters | undefined;
  private current: AbortController | undefined;
  private paused = false;
  /** Settles when the current run stops using its stores (before any run it queued starts). */
  private stopped: Promise<void> = Promise.resolve();

  constructor(private readonly runner: IndexRunner) {}

  get isPaused(): boolean {
    return this.paused;
  }

  /** A run is going (or unwinding after a pause or cancel). */
  get isRunning(): boolean {
    return this.current !== undefined;
  }

  /**
   * Indexes these folders (all when absent) in the next run. Settles, after the run's end was
   * reported, with its reports, or rejects with its error, or an AbortError when it is cancelled
   * or paused; a request made while paused waits for resume.
   */
  request(folders?: string[]): Promise<FolderIndexReport[]> {
    for (const name of folders ?? this.runner.folderNames()) this.pending.add(name);
    const next = (this.next ??= waiters());
    this.start();
    return next.promise;
  }

  pause(): void {
    this.paused = true;
    this.current?.abort();
    void this.runner.ended('paused');
  }

  resume(): void {
    this.paused = false;
    if (this.pending.size === 0) for (const name of this.runner.folderNames()) this.pending.add(name);
    this.start();
  }

  cancel(): void {
    this.pending.clear();
    this.next?.reject(abortError());
    this.next = undefined;
    this.current?.abort();
  }

  /** Stops the current run; settles once it no longer uses its stores (pending folders stay pending). */
  stop(): Promise<void> {
    const stopped = this.stopped;
    this.current?.abort();
    return stopped;
  }

  private start(): void {
    if (this.current || this.paused || this.pending.size === 0) return;
    void this.runPending();
  }

  private async runPending(): Promise<void> {
    const controller = new AbortController();
    this.current = controller;
    let stop!: () => void;
    this.stopped = new Promise((resolve) => (stop = resolve));
    let taken: Waiters | undefined;
    let tookFolders = false;
    const take = (): string[] => {
      tookFolders = true;
      const names = [...this.pending];
      this.pending.clear();
      taken = this.next;
      this.next = undefined;
      return names;
    };
    try {
      const reports = await this.runner.run(take, controller.signal);
      // Before reporting: the report waits for a reload, and a reload waits for this.
      stop();
      this.current = undefined;
      await this.runner.ended(this.paused ? 'paused' : 'ready');
      taken?.resolve(reports);
    } catch (error) {
      stop();
      this.current = undefined;
      if (!tookFolders && (error as Error).name !== 'AbortError') {
        // The runner failed before it could start (stores or model would not open): what is
        // pending fails with it rather than being retried at once, forever.
        taken = this.next;
        this.next = undefined;
        this.pending.clear();
      }
      if ((error as Error).name === 'AbortError') {
        if (this.paused) for (const name of this.runner.folderNames()) this.pending.add(name);
        await this.runner.ended(this.paused ? 'paused' : 'cancelled');
      } else {
        this.runner.failed(error as Error);
      }
      taken?.reject(error);
    }
    // Requests that arrived while this run was busy.
    if (this.pending.size > 0 && !this.paused) await this.runPending();
  }
}

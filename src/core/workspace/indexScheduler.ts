/**
 * Runs a workspace's index runs one at a time. Requests name folders (or some changed paths of a
 * folder); they gather while a run is busy and the next run takes them all, a folder's whole
 * walk covering its changed paths. Pause stops the run and keeps what is pending (a paused
 * run resumes where it stopped: committed checkpoints and unchanged files are not redone);
 * cancel stops it and forgets what is pending.
 */
import type { FolderIndexReport } from './options.js';

export type IndexRunEnd = 'ready' | 'paused' | 'cancelled';

/** A folder a run indexes: all of it, or (`changedPaths`) only the paths that changed. */
export interface IndexTarget {
  folder: string;
  changedPaths?: string[];
}

/** What the scheduler runs; the workspace implements it. */
export interface IndexRunner {
  /** Every folder's name, for a run that indexes everything. */
  folderNames(): string[];
  /**
   * One run: called with `take`, which hands over (and clears) the pending folders once the
   * runner is ready to index them, and an abort signal for pause, cancel and reconfiguration.
   */
  run(take: () => IndexTarget[], signal: AbortSignal): Promise<FolderIndexReport[]>;
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
  /** Pending folders: null for all of a folder, else its changed paths. */
  private readonly pending = new Map<string, Set<string> | null>();
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
    for (const name of folders ?? this.runner.folderNames()) this.pending.set(name, null);
    return this.requested();
  }

  /** Indexes only these changed paths of a folder in the next run (unless it indexes all of the folder anyway). */
  requestChanged(folder: string, paths: readonly string[]): Promise<FolderIndexReport[]> {
    const pending = this.pending.get(folder);
    if (pending === undefined) this.pending.set(folder, new Set(paths));
    else if (pending !== null) for (const changed of paths) pending.add(changed);
    return this.requested();
  }

  private requested(): Promise<FolderIndexReport[]> {
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
    if (this.pending.size === 0) for (const name of this.runner.folderNames()) this.pending.set(name, null);
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
    const take = (): IndexTarget[] => {
      tookFolders = true;
      const names = [...this.pending].map(([folder, paths]) => (paths ? { folder, changedPaths: [...paths] } : { folder }));
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
        if (this.paused) for (const name of this.runner.folderNames()) this.pending.set(name, null);
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

/**
 * The extension host's side of the core process: forks dist/coreProcess.js on first use,
 * forwards requests, routes replies by id, and restarts the process (with the last options) if
 * it dies. Only `child_process` is loaded here; src/core stays in the child.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { AnswerMode, DegradedCause, LocatedCitation, MetricsSnapshot, PartialIndex, Stage } from '../../core/pipeline/types.js';
import type { IndexState, IndexTotals } from '../../core/workspace/indexState.js';
import type { WorkspaceOptions } from '../../core/workspace/options.js';
import type { AskFailureReason, AskParams, CoreProcessToHost, GenerateReply, GenerateRequest, HostToCoreProcess } from './protocol.js';

export interface AskHandlers {
  onToken(text: string): void;
  onSources(citations: LocatedCitation[]): void;
  /** Optional: a front end that shows progress. */
  onStage?(stage: Stage): void;
  onPassages?(citations: LocatedCitation[]): void;
  /** The answer is made while the index does not cover the workspace (its text says so first). */
  onPartialIndex?(partial: PartialIndex): void;
}

export interface AskOutcome {
  mode: AnswerMode;
  degradedReason?: string;
  degradedCause?: DegradedCause;
  /** The query retrieval ran with (a rewritten follow-up, Explain Selection's terms). */
  searchedQuery?: string;
  /** Nothing in the docs answers: the closest headings, to ask about instead. */
  suggestions?: string[];
}

export class AskFailure extends Error {
  constructor(
    message: string,
    readonly reason: AskFailureReason,
  ) {
    super(message);
  }
}

/** Where the editor's model sends what it writes for the core process. */
export interface GenerateSink {
  token(text: string): void;
  done(failure?: Extract<GenerateReply, { type: 'generated' }>['failure']): void;
}

export interface CoreProcessEvents {
  onIndexState(state: IndexState): void;
  onLog(level: 'info' | 'warn' | 'error', message: string): void;
  /** The core process asks for an answer from the editor's model (backend `editor`). */
  onGenerate(request: GenerateRequest, sink: GenerateSink, signal: AbortSignal): void;
}

interface PendingAsk {
  handlers: AskHandlers;
  resolve(outcome: AskOutcome): void;
  reject(error: AskFailure): void;
}

/** A request that waits for replies by id; `fail` settles it when no reply can come any more. */
interface PendingReply {
  receive(message: CoreProcessToHost): void;
  fail(error: Error): void;
}

export class CoreProcessClient {
  private child: ChildProcess | undefined;
  private options: WorkspaceOptions | undefined;
  private nextId = 1;
  private disposed = false;
  private readonly asks = new Map<string, PendingAsk>();
  private readonly replies = new Map<string, PendingReply>();
  /** The editor's model at work for the core process, by the core process's id. */
  private readonly generating = new Map<string, AbortController>();

  constructor(
    private readonly distDir: string,
    private readonly events: CoreProcessEvents,
  ) {}

  get started(): boolean {
    return this.child !== undefined;
  }

  /** Process id of the running core process, if any (the crash tests kill it). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  configure(options: WorkspaceOptions): void {
    this.options = options;
    if (this.child) this.post({ type: 'configure', options });
  }

  index(folders?: string[]): void {
    this.post(folders ? { type: 'index', folders } : { type: 'index' });
  }

  /** Re-indexes only these changed paths of a folder (absolute). */
  indexChanged(folder: string, paths: string[]): void {
    this.post({ type: 'indexChanged', folder, paths });
  }

  pauseIndex(): void {
    this.post({ type: 'pauseIndex' });
  }

  resumeIndex(): void {
    this.post({ type: 'resumeIndex' });
  }

  cancelIndex(): void {
    if (this.child) this.post({ type: 'cancelIndex' });
  }

  clearCache(): void {
    if (this.child) this.post({ type: 'clearCache' });
  }

  /** `editorModel`: the id of an editor model (vscode.lm) that answers instead of the configured backend. */
  ask(params: AskParams, handlers: AskHandlers, signal: AbortSignal, editorModel?: string): Promise<AskOutcome> {
    const id = String(this.nextId++);
    return new Promise<AskOutcome>((resolve, reject) => {
      this.asks.set(id, { handlers, resolve, reject });
      signal.addEventListener('abort', () => this.post({ type: 'cancelAsk', id }), { once: true });
      this.post({ type: 'ask', id, params, ...(editorModel !== undefined ? { editorModel } : {}) });
    });
  }

  /** The best passages, numbered and located in their folders. */
  search(query: string, k: number): Promise<LocatedCitation[]> {
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      this.replies.set(id, {
        receive: (message) => {
          if (message.type !== 'searched') return;
          if (message.passages) resolve(message.passages);
          else reject(new Error(message.error ?? 'the search failed'));
        },
        fail: reject,
      });
      this.post({ type: 'search', id, query, k });
    });
  }

  /** The pipeline's MetricsSnapshot (null before the workspace opened) and the index totals. */
  metrics(): Promise<{ metrics: MetricsSnapshot | null; totals: IndexTotals }> {
    if (!this.child) return Promise.resolve({ metrics: null, totals: { files: 0, chunks: 0 } });
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      this.replies.set(id, {
        receive: (message) => {
          if (message.type === 'metrics') resolve({ metrics: message.metrics, totals: message.totals });
        },
        fail: reject,
      });
      this.post({ type: 'metrics', id });
    });
  }

  /** Example questions from the index's headings; none before the core process runs. */
  examples(): Promise<string[]> {
    if (!this.child) return Promise.resolve([]);
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      this.replies.set(id, {
        receive: (message) => {
          if (message.type === 'examples') resolve(message.questions);
        },
        fail: reject,
      });
      this.post({ type: 'examples', id });
    });
  }

  pullModel(repoId: string, cacheDir: string, onProgress: (message: string) => void, signal?: AbortSignal): Promise<string> {
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      signal?.addEventListener('abort', () => this.post({ type: 'cancelPull', id }), { once: true });
      this.replies.set(id, {
        receive: (message) => {
          if (message.type === 'pullProgress') return onProgress(message.message);
          if (message.type !== 'pulled') return;
          this.replies.delete(id);
          if (message.folder) resolve(message.folder);
          else if (message.cancelled) reject(new DOMException('the model pull was cancelled', 'AbortError'));
          else reject(new Error(message.error ?? 'the model pull failed'));
        },
        fail: reject,
      });
      this.post({ type: 'pullModel', id, repoId, cacheDir });
    });
  }

  dispose(): void {
    this.disposed = true;
    this.child?.kill();
    this.child = undefined;
  }

  private post(message: HostToCoreProcess): void {
    this.ensureChild().send(message);
  }

  private ensureChild(): ChildProcess {
    if (this.child) return this.child;
    if (!this.options) throw new Error('the core process needs its options before it starts');
    const child = fork(path.join(this.distDir, 'coreProcess.js'), [], {
      // The host's own flags (inspector ports, heap limits) are not meant for the core process.
      execArgv: [],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      // Electron-based hosts run the script with their own Node runtime.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => this.events.onLog('warn', `core process: ${text.trimEnd()}`));
    child.on('message', (message) => this.receive(message as CoreProcessToHost));
    child.on('exit', (code, signal) => this.exited(child, code, signal));
    this.child = child;
    child.send({ type: 'configure', options: this.options } satisfies HostToCoreProcess);
    return child;
  }

  private generate(id: string, request: GenerateRequest): void {
    const controller = new AbortController();
    this.generating.set(id, controller);
    const child = this.child;
    // Replies go only to the process that asked: a restarted one never sent this id.
    const reply = (message: GenerateReply) => {
      if (this.child === child && child?.connected) child.send(message satisfies HostToCoreProcess);
    };
    this.events.onGenerate({ modelId: request.modelId, messages: request.messages, maxTokens: request.maxTokens }, {
      token: (text) => reply({ type: 'generateToken', id, text }),
      done: (failure) => {
        this.generating.delete(id);
        reply({ type: 'generated', id, ...(failure ? { failure } : {}) });
      },
    }, controller.signal);
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    for (const controller of this.generating.values()) controller.abort();
    this.generating.clear();
    for (const [id, pending] of this.asks) {
      this.asks.delete(id);
      pending.reject(new AskFailure('The Docent core process stopped while answering.', 'error'));
    }
    // Nothing can answer these any more: settle them, or their callers wait forever.
    for (const [id, pending] of this.replies) {
      this.replies.delete(id);
      pending.fail(new Error('The Docent core process stopped before it replied; it restarts on next use.'));
    }
    if (this.disposed) return;
    this.events.onLog('error', `core process exited (code ${code ?? 'none'}, signal ${signal ?? 'none'}); it restarts on next use`);
    this.events.onIndexState({ state: 'error', percent: 0, files: 0, chunks: 0, message: 'The Docent core process stopped; it restarts on next use.' });
  }

  private receive(message: CoreProcessToHost): void {
    switch (message.type) {
      case 'indexState':
        return this.events.onIndexState(message.state);
      case 'log':
        return this.events.onLog(message.level, message.message);
      case 'token':
        return this.asks.get(message.id)?.handlers.onToken(message.text);
      case 'sources':
        return this.asks.get(message.id)?.handlers.onSources(message.citations);
      case 'stage':
        return this.asks.get(message.id)?.handlers.onStage?.(message.stage);
      case 'passages':
        return this.asks.get(message.id)?.handlers.onPassages?.(message.citations);
      case 'partialIndex':
        return this.asks.get(message.id)?.handlers.onPartialIndex?.(message.partial);
      case 'answered': {
        const pending = this.asks.get(message.id);
        this.asks.delete(message.id);
        return pending?.resolve({
          mode: message.mode,
          ...(message.degradedReason ? { degradedReason: message.degradedReason } : {}),
          ...(message.degradedCause ? { degradedCause: message.degradedCause } : {}),
          ...(message.searchedQuery !== undefined ? { searchedQuery: message.searchedQuery } : {}),
          ...(message.suggestions ? { suggestions: message.suggestions } : {}),
        });
      }
      case 'askFailed': {
        const pending = this.asks.get(message.id);
        this.asks.delete(message.id);
        return pending?.reject(new AskFailure(message.message, message.reason));
      }
      case 'searched':
      case 'examples':
      case 'metrics': {
        const reply = this.replies.get(message.id);
        this.replies.delete(message.id);
        return reply?.receive(message);
      }
      case 'pullProgress':
      case 'pulled':
        return this.replies.get(message.id)?.receive(message);
      case 'generate':
        return this.generate(message.id, message);
      case 'cancelGenerate':
        return this.generating.get(message.id)?.abort();
    }
  }
}

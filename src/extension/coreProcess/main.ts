/**
 * Entry point of the engine child process (bundled as dist/coreProcess.js). Owns the per-folder
 * stores, the embedder and the answer pipeline; the extension host talks to it over IPC
 * (engineProtocol.ts). Indexing runs at a lowered OS priority so the editor stays responsive
 * on small machines.
 */
import { existsSync, statSync } from 'node:fs';
import { setPriority } from 'node:os';
import { createDefaultEmbedder } from '../../core/embedding/defaultEmbedder.js';
import { HashingEmbedder } from '../../core/embedding/hashingEmbedder.js';
import { readModelFolder } from '../../core/embedding/modelSpec.js';
import { OnnxEmbedder } from '../../core/embedding/onnxEmbedder.js';
import { pullModel } from '../../core/embedding/pullModel.js';
import { DEFAULT_EXCLUDES } from '../../core/discovery.js';
import { indexFolder } from '../../core/indexer.js';
import { AnswerPipeline, BackendFailure, BusyError, type Citation } from '../../core/pipeline/index.js';
import { HybridRetriever } from '../../core/search/hybrid.js';
import { DocStore } from '../../core/store.js';
import type { Embedder } from '../../core/types.js';
import type { EngineConfig, EngineStats, EngineToHost, HostToEngine, AskParams, BackendSettings } from './protocol.js';
import { MultiFolderRetriever } from '../../core/search/multiFolderRetriever.js';

/** Progress messages per second at most: the host only redraws a status bar item. */
const PROGRESS_INTERVAL_MS = 250;
const CHECKPOINT_FILES = 50;

function send(message: EngineToHost): void {
  process.send?.(message);
}

function log(level: 'info' | 'warn' | 'error', message: string): void {
  send({ type: 'log', level, message });
}

interface Loaded {
  config: EngineConfig;
  embedder: Embedder | undefined;
  stores: Map<string, DocStore>;
  retriever: MultiFolderRetriever;
  pipeline: AnswerPipeline;
  /** Answers running on this pipeline: a reconfiguration disposes it only after they end. */
  answering: Set<Promise<unknown>>;
}

async function settled(running: Set<Promise<unknown>> | undefined): Promise<void> {
  if (running) await Promise.allSettled([...running]);
}

class Engine {
  private config: EngineConfig | undefined;
  private loaded: Promise<Loaded> | undefined;
  private indexRun: AbortController | undefined;
  private pendingFolders = new Set<string>();
  private paused = false;
  private readonly asks = new Map<string, AbortController>();
  private readonly pulls = new Map<string, AbortController>();
  private lastProgressAt = 0;
  /** Settles when the current index run (and the runs it queued) finish. */
  private running: Promise<void> | undefined;
  /** Settles when the current index run stops using its stores (before any run it queued starts). */
  private runStopped: Promise<void> = Promise.resolve();

  handle(message: HostToEngine): void {
    switch (message.type) {
      case 'configure':
        void this.configure(message.config);
        return;
      case 'index':
        for (const name of message.folders ?? this.config?.folders.map((folder) => folder.name) ?? []) this.pendingFolders.add(name);
        void this.runIndex();
        return;
      case 'pauseIndex':
        this.paused = true;
        this.indexRun?.abort();
        void this.reportStats('paused');
        return;
      case 'resumeIndex':
        this.paused = false;
        if (this.pendingFolders.size === 0) this.config?.folders.forEach((folder) => this.pendingFolders.add(folder.name));
        void this.runIndex();
        return;
      case 'cancelIndex':
        this.pendingFolders.clear();
        this.indexRun?.abort();
        return;
      case 'ask':
        void this.ask(message.id, message.params);
        return;
      case 'cancelAsk':
        this.asks.get(message.id)?.abort();
        return;
      case 'metrics':
        void this.metrics(message.id);
        return;
      case 'clearCache':
        void this.loaded?.then((loaded) => loaded.pipeline.clearCache());
        return;
      case 'pullModel':
        void this.pull(message.id, message.repoId, message.cacheDir);
        return;
      case 'cancelPull':
        this.pulls.get(message.id)?.abort();
        return;
    }
  }

  private async configure(config: EngineConfig): Promise<void> {
    const previous = this.config;
    this.config = config;
    if (!this.loaded || !previous) return;
    // Only what the stores depend on needs a reload; backend and cache changes rebuild the pipeline.
    const reload = JSON.stringify([previous.folders, previous.embeddingModel, previous.device, previous.embeddingWorkers]) !==
      JSON.stringify([config.folders, config.embeddingModel, config.device, config.embeddingWorkers]);
    const old = this.loaded;
    if (reload) {
      // The old stores' run must have stopped (and finished any commit) before new stores open the same folders.
      const stopped = this.runStopped;
      this.indexRun?.abort();
      this.loaded = stopped.then(() => this.load(config));
    } else {
      this.loaded = old.then(async (loaded) => ({ ...loaded, config, pipeline: await createPipeline(config, loaded.retriever, loaded.embedder), answering: new Set() }));
    }
    // Answers in flight finish on the pipeline (and backend) they started with.
    const replaced = await old.catch(() => undefined);
    await settled(replaced?.answering);
    await replaced?.pipeline.dispose();
    if (!reload) return;
    await replaced?.embedder?.dispose();
    config.folders.forEach((folder) => this.pendingFolders.add(folder.name));
    void this.runIndex();
  }

  private ensureLoaded(): Promise<Loaded> {
    if (!this.config) return Promise.reject(new Error('Docent has no workspace configuration yet.'));
    this.loaded ??= this.load(this.config);
    return this.loaded;
  }

  private async load(config: EngineConfig): Promise<Loaded> {
    const embedder = createEmbedder(config);
    const stores = new Map<string, DocStore>();
    for (const folder of config.folders) stores.set(folder.name, await DocStore.open(folder.storeDir, { create: true }));
    const retriever = new MultiFolderRetriever(
      config.folders.map((folder) => ({ name: folder.name, retriever: new HybridRetriever(stores.get(folder.name)!, embedder) })),
    );
    return { config, embedder, stores, retriever, pipeline: await createPipeline(config, retriever, embedder), answering: new Set() };
  }

  private runIndex(): Promise<void> | undefined {
    if (this.indexRun || this.paused || this.pendingFolders.size === 0) return this.running;
    this.running = this.indexPending().finally(() => (this.running = undefined));
    return this.running;
  }

  private async indexPending(): Promise<void> {
    const run = new AbortController();
    this.indexRun = run;
    const startedAt = Date.now();
    let stop!: () => void;
    this.runStopped = new Promise((resolve) => (stop = resolve));
    try {
      const loaded = await this.ensureLoaded();
      const folders = loaded.config.folders.filter((folder) => this.pendingFolders.has(folder.name));
      this.pendingFolders.clear();
      const names = folders.map((folder) => folder.name).join(', ');
      log('info', `indexing ${names} (embeddings: ${loaded.embedder?.id ?? 'none, keyword search only'})`);
      // Shown at once: discovery and the model's first load can take a while on a busy machine.
      send({ type: 'indexProgress', progress: { state: 'indexing', percent: 0, ...statsOf(loaded) } });
      for (const [i, folder] of folders.entries()) {
        const store = loaded.stores.get(folder.name)!;
        await indexFolder(folder.root, store, {
          embedder: loaded.embedder,
          embedderSpec: loaded.config.embeddingModel,
          discovery: {
            exclude: [...DEFAULT_EXCLUDES, ...loaded.config.exclude],
            include: loaded.config.include.length > 0 ? loaded.config.include : undefined,
            maxFileBytes: loaded.config.maxFileBytes,
          },
          checkpointFiles: CHECKPOINT_FILES,
          signal: run.signal,
          onProgress: (update) => {
            const now = Date.now();
            if (now - this.lastProgressAt < PROGRESS_INTERVAL_MS && update.phase === 'indexing') return;
            this.lastProgressAt = now;
            const fraction = update.filesTotal === 0 ? 0 : update.filesDone / update.filesTotal;
            const stats = statsOf(loaded);
            send({ type: 'indexProgress', progress: { state: 'indexing', percent: Math.floor(((i + fraction) / folders.length) * 100), ...stats } });
          },
        });
      }
      // Before reporting: reportStats waits for a reload, and a reload waits for this.
      stop();
      this.indexRun = undefined;
      const stats = statsOf(loaded);
      log('info', `indexed ${names}: ${stats.files} files, ${stats.chunks} passages in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
      await this.reportStats(this.paused ? 'paused' : 'ready');
    } catch (error) {
      stop();
      this.indexRun = undefined;
      if ((error as Error).name === 'AbortError') {
        // Paused runs resume later; uncommitted files stay in memory, so nothing is redone.
        if (this.paused) this.config?.folders.forEach((folder) => this.pendingFolders.add(folder.name));
        await this.reportStats(this.paused ? 'paused' : 'cancelled');
      } else {
        log('error', `indexing failed: ${(error as Error).stack ?? String(error)}`);
        send({ type: 'indexProgress', progress: { state: 'error', percent: 0, files: 0, chunks: 0, message: (error as Error).message } });
      }
    }
    // Changes that arrived while this run was busy.
    if (this.pendingFolders.size > 0 && !this.paused) await this.indexPending();
  }

  private async reportStats(state: 'ready' | 'paused' | 'cancelled'): Promise<void> {
    const loaded = await this.loaded?.catch(() => undefined);
    send({ type: 'indexProgress', progress: { state, percent: state === 'ready' ? 100 : 0, ...(loaded ? statsOf(loaded) : { files: 0, chunks: 0 }) } });
  }

  private async ask(id: string, params: AskParams): Promise<void> {
    const controller = new AbortController();
    this.asks.set(id, controller);
    try {
      const loaded = await this.ensureLoaded();
      // A first question before anything was ever indexed waits for the first index run.
      if ([...loaded.stores.values()].every((store) => store.generation === 0) && !this.paused) {
        loaded.config.folders.forEach((folder) => this.pendingFolders.add(folder.name));
        void this.runIndex();
        await this.running;
      }
      const answering = loaded.pipeline.ask(
        { question: params.question, history: params.history, selection: params.selection, signal: controller.signal },
        (event) => {
          if (event.type === 'token') send({ type: 'token', id, text: event.text });
          else if (event.type === 'sources') send({ type: 'sources', id, citations: event.citations.map((citation) => toEngineCitation(loaded.retriever, citation)) });
        },
      );
      loaded.answering.add(answering);
      const answer = await answering.finally(() => loaded.answering.delete(answering));
      send({
        type: 'answered',
        id,
        mode: answer.mode,
        ...(answer.degradedReason ? { degradedReason: answer.degradedReason } : {}),
      });
    } catch (error) {
      const reason = (error as Error).name === 'AbortError' ? 'aborted' : error instanceof BusyError ? 'busy' : 'error';
      if (reason === 'error') log('warn', `question failed: ${(error as Error).message}`);
      send({ type: 'askFailed', id, message: error instanceof BackendFailure ? `The answer backend failed: ${error.message}` : (error as Error).message, reason });
    } finally {
      this.asks.delete(id);
    }
  }

  private async metrics(id: string): Promise<void> {
    const loaded = await this.loaded?.catch(() => undefined);
    send({ type: 'metrics', id, metrics: loaded?.pipeline.metrics() ?? null, stats: loaded ? statsOf(loaded) : { files: 0, chunks: 0 } });
  }

  private async pull(id: string, repoId: string, cacheDir: string): Promise<void> {
    const controller = new AbortController();
    this.pulls.set(id, controller);
    try {
      const folder = await pullModel(repoId, {
        cacheDir,
        // A mirror of the hub, as for `docent model pull`.
        endpoint: process.env.DOCENT_HF_ENDPOINT,
        // A cancelled pull keeps its partial files: the next pull resumes them.
        signal: controller.signal,
        onProgress: (update) =>
          send({ type: 'pullProgress', id, message: `${update.file} ${(update.receivedBytes / 2 ** 20).toFixed(1)}/${(update.totalBytes / 2 ** 20).toFixed(1)} MiB` }),
      });
      send({ type: 'pulled', id, folder });
    } catch (error) {
      send({ type: 'pulled', id, error: (error as Error).message, ...(controller.signal.aborted ? { cancelled: true } : {}) });
    } finally {
      this.pulls.delete(id);
    }
  }
}

function createEmbedder(config: EngineConfig): Embedder | undefined {
  const options = { device: config.device, workers: config.embeddingWorkers };
  switch (config.embeddingModel) {
    case 'none':
      return undefined;
    case 'hashing':
      return new HashingEmbedder();
    case 'default':
      return createDefaultEmbedder(options);
    default:
      if (!existsSync(config.embeddingModel) || !statSync(config.embeddingModel).isDirectory()) {
        throw new Error(`the embedding model folder ${config.embeddingModel} does not exist (setting docent.embedding.model)`);
      }
      return new OnnxEmbedder(readModelFolder(config.embeddingModel), options);
  }
}

async function createPipeline(config: EngineConfig, retriever: MultiFolderRetriever, embedder: Embedder | undefined): Promise<AnswerPipeline> {
  return new AnswerPipeline({
    retriever,
    embedder,
    backend: config.backend ? await resolveBackend(config.backend) : undefined,
    limits: { k: config.passagesPerQuestion, maxInFlight: config.maxConcurrentRequests },
    cacheOptions: {
      enabled: config.cache.enabled,
      answers: { maxEntries: config.cache.answerEntries, ttlMs: config.cache.answerTtlSeconds * 1000 },
      embeddings: { maxEntries: config.cache.embeddingEntries, ttlMs: config.cache.embeddingTtlSeconds * 1000 },
    },
    logger: { info: (message) => log('info', message), warn: (message) => log('warn', message) },
  });
}

/** The local server serves one model; its id comes from /v1/models when none is configured. */
async function resolveBackend(backend: BackendSettings): Promise<BackendSettings> {
  if (backend.model) return backend;
  try {
    const response = await fetch(`${backend.baseURL.replace(/\/$/, '')}/models`, { signal: AbortSignal.timeout(2000) });
    const body = (await response.json()) as { data?: { id?: string }[] };
    return { ...backend, model: body.data?.[0]?.id ?? 'default' };
  } catch {
    // Not running yet: questions degrade to extractive answers with the fix "Start local server".
    return { ...backend, model: 'default' };
  }
}

function statsOf(loaded: Loaded): EngineStats {
  let files = 0;
  let chunks = 0;
  for (const store of loaded.stores.values()) {
    files += store.fileCount;
    chunks += store.chunkCount;
  }
  const runtime = loaded.embedder?.runtime?.() ?? [...loaded.stores.values()].find((store) => store.lastIndex?.runtime)?.lastIndex?.runtime;
  return { files, chunks, ...(runtime ? { device: runtime.kind, provider: runtime.provider } : {}) };
}

function toEngineCitation(retriever: MultiFolderRetriever, citation: Citation) {
  const located = retriever.locate(citation.path);
  return {
    n: citation.n,
    // Only a multi-root workspace needs to say which folder; one folder's name is noise in every label.
    folder: retriever.prefixed ? (located?.folder.name ?? '') : '',
    path: located?.path ?? citation.path,
    startLine: citation.startLine,
    endLine: citation.endLine,
    ...(citation.heading ? { heading: citation.heading } : {}),
    text: citation.text,
  };
}

try {
  setPriority(process.pid, 10);
} catch {
  // Not permitted on some systems; indexing then runs at normal priority.
}
const engine = new Engine();
process.on('message', (message) => engine.handle(message as HostToEngine));
// The host went away (window closed, extension host crashed): nothing is left to serve.
process.on('disconnect', () => process.exit(0));

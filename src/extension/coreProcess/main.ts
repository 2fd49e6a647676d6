/**
 * Entry point of the core process (bundled as dist/coreProcess.js): a thin adapter that turns
 * the extension host's messages (protocol.ts) into calls on one Workspace and the workspace's
 * events back into messages. Indexing runs at a lowered OS priority so the editor stays
 * responsive on small machines.
 */
import { setPriority } from 'node:os';
import { pullModel } from '../../core/embedding/pullModel.js';
import { errorMessage } from '../../core/errorMessage.js';
import { BackendFailure, BusyError } from '../../core/pipeline/errors.js';
import type { WorkspaceEvent } from '../../core/workspace/options.js';
import { Workspace } from '../../core/workspace/workspace.js';
import { HostModels } from './hostModels.js';
import type { AskParams, CoreProcessToHost, HostToCoreProcess } from './protocol.js';

function send(message: CoreProcessToHost): void {
  process.send?.(message);
}

/** The host redraws a status item and writes a log; per-file events stay here. */
function forward(event: WorkspaceEvent): void {
  if (event.type === 'indexState') send({ type: 'indexState', state: event.state });
  else if (event.type === 'log') send({ type: 'log', level: event.level, message: event.message });
}

class CoreProcess {
  private workspace: Workspace | undefined;
  private readonly hostModels = new HostModels(send);
  private readonly asks = new Map<string, AbortController>();
  private readonly pulls = new Map<string, AbortController>();

  /** Closes the workspace (which saves the answer cache file), waiting at most `ms`. */
  async shutdown(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    await Promise.race([this.workspace?.close().catch(() => undefined), deadline]);
    clearTimeout(timer);
  }

  handle(message: HostToCoreProcess): void {
    switch (message.type) {
      case 'configure':
        if (this.workspace) void this.workspace.reconfigure(message.options);
        else this.workspace = new Workspace(message.options, { sink: forward, editorBackend: (modelId) => this.hostModels.backend(modelId) });
        return;
      case 'index':
        // Its outcome arrives as indexState events.
        void this.workspace?.index(message.folders);
        return;
      case 'indexChanged':
        void this.workspace?.indexChanged(message.folder, message.paths);
        return;
      case 'pauseIndex':
        return this.workspace?.pauseIndexing();
      case 'resumeIndex':
        return this.workspace?.resumeIndexing();
      case 'cancelIndex':
        return this.workspace?.cancelIndexing();
      case 'ask':
        void this.ask(message.id, message.params, message.editorModel);
        return;
      case 'cancelAsk':
        this.asks.get(message.id)?.abort();
        return;
      case 'search':
        void this.search(message.id, message.query, message.k);
        return;
      case 'metrics':
        void this.metrics(message.id);
        return;
      case 'clearCache':
        return this.workspace?.clearCache();
      case 'examples':
        void this.examples(message.id);
        return;
      case 'pullModel':
        void this.pull(message.id, message.repoId, message.cacheDir);
        return;
      case 'cancelPull':
        this.pulls.get(message.id)?.abort();
        return;
      case 'generateToken':
      case 'generated':
        return this.hostModels.receive(message);
    }
  }

  private async ask(id: string, params: AskParams, editorModel: string | undefined): Promise<void> {
    const controller = new AbortController();
    this.asks.set(id, controller);
    try {
      if (!this.workspace) throw new Error('Docent has no workspace configuration yet.');
      const backend = editorModel !== undefined ? { backend: this.hostModels.backend(editorModel) } : {};
      const answer = await this.workspace.ask({ ...params, ...backend, signal: controller.signal }, (event) => {
        if (event.type === 'token') send({ type: 'token', id, text: event.text });
        else if (event.type === 'sources' || event.type === 'passages') send({ type: event.type, id, citations: event.citations });
        else if (event.type === 'status') send({ type: 'stage', id, stage: event.stage });
        else if (event.type === 'partialIndex') send({ type: 'partialIndex', id, partial: event.partial });
      });
      send({
        type: 'answered',
        id,
        mode: answer.mode,
        ...(answer.degradedReason ? { degradedReason: answer.degradedReason } : {}),
        ...(answer.degradedCause ? { degradedCause: answer.degradedCause } : {}),
        ...(answer.searchedQuery !== undefined ? { searchedQuery: answer.searchedQuery } : {}),
        ...(answer.suggestions ? { suggestions: answer.suggestions } : {}),
      });
    } catch (error) {
      const reason = (error as Error).name === 'AbortError' ? 'aborted' : error instanceof BusyError ? 'busy' : 'error';
      if (reason === 'error') send({ type: 'log', level: 'warn', message: `question failed: ${errorMessage(error)}` });
      send({ type: 'askFailed', id, message: error instanceof BackendFailure ? `The answer backend failed: ${error.message}` : errorMessage(error), reason });
    } finally {
      this.asks.delete(id);
    }
  }

  private async search(id: string, query: string, k: number): Promise<void> {
    try {
      if (!this.workspace) throw new Error('Docent has no workspace configuration yet.');
      send({ type: 'searched', id, passages: await this.workspace.searchPassages(query, { k }) });
    } catch (error) {
      send({ type: 'searched', id, error: errorMessage(error) });
    }
  }

  private async examples(id: string): Promise<void> {
    const questions = await this.workspace?.exampleQuestions().catch(() => []) ?? [];
    send({ type: 'examples', id, questions });
  }

  private async metrics(id: string): Promise<void> {
    const { metrics, totals } = this.workspace ? await this.workspace.metrics() : { metrics: null, totals: { files: 0, chunks: 0 } };
    send({ type: 'metrics', id, metrics, totals });
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
      send({ type: 'pulled', id, error: errorMessage(error), ...(controller.signal.aborted ? { cancelled: true } : {}) });
    } finally {
      this.pulls.delete(id);
    }
  }
}

try {
  setPriority(process.pid, 10);
} catch {
  // Not permitted on some systems; indexing then runs at normal priority.
}
const core = new CoreProcess();
process.on('message', (message) => core.handle(message as HostToCoreProcess));
// The host went away (window closed or reloaded, extension host crashed): nothing is left to
// serve, but the answers of the last moments are saved for the next window first.
const stop = () => void core.shutdown(2_000).finally(() => process.exit(0));
process.on('disconnect', stop);
// CoreProcessClient.dispose() (the extension deactivating) sends SIGTERM.
process.on('SIGTERM', stop);

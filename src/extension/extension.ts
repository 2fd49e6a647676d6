/**
 * Extension entry point. Activation only registers the chat view, commands, the status bar and
 * a file watcher; the engine process (src/core: indexing, embeddings, retrieval, answers) is
 * forked when the editor has been idle for a moment after startup, or on the first question.
 */
import * as path from 'node:path';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import * as vscode from 'vscode';
import type { IndexStatus } from '../shared/chatProtocol.js';
import { CHAT_VIEW_ID, ChatViewProvider } from './chatView.js';
import type { IndexState } from '../core/workspace/indexState.js';
import type { WorkspaceFolder } from '../core/workspace/options.js';
import { CoreProcessClient } from './coreProcess/client.js';
import { LocalServer } from './localServer.js';
import { MetricsPanel, type MetricsSample } from './metricsPanel.js';
import { backendInfo, backendKind, workspaceOptions, localServerSettings } from './settings.js';
import { DocentStatusBar } from './statusBar.js';

const API_KEY_SECRET = 'docent.apiKey';
/** How long after startup the first index run waits, so it never competes with the editor's own startup work. */
const IDLE_START_MS = 3000;
/** File events are batched: a branch switch or a formatter run touches many files at once. */
const WATCH_DEBOUNCE_MS = 1500;

/** Owns every disposable the extension creates, so deactivation releases all of them. */
export class DocentContext implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  readonly log: vscode.LogOutputChannel;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = this.own(vscode.window.createOutputChannel('Docent', { log: true }));
  }

  own<T extends vscode.Disposable>(disposable: T): T {
    this.disposables.push(disposable);
    return disposable;
  }

  dispose(): void {
    for (const disposable of this.disposables.splice(0).reverse()) disposable.dispose();
  }
}

/** Diagnostics returned by `docent.showMetrics` (also what the panel shows). */
export interface DocentDiagnostics {
  activationMs: number;
  /** Extension-host event-loop delay measured during the last index run. */
  hostLagWhileIndexing?: { p50Ms: number; p99Ms: number; maxMs: number; samples: number };
  sample: MetricsSample;
}

class Docent {
  readonly engine: CoreProcessClient;
  readonly statusBar: DocentStatusBar;
  readonly chat: ChatViewProvider;
  readonly server: LocalServer;
  private readonly metricsPanel: MetricsPanel;
  private readonly progressListeners = new Set<(progress: IndexState) => void>();
  private readonly changedFolders = new Set<string>();
  private watchTimer: NodeJS.Timeout | undefined;
  private lagMonitor: IntervalHistogram | undefined;
  private lastLag: DocentDiagnostics['hostLagWhileIndexing'];
  private apiKey: string | undefined;
  private folderNames = new Map<string, string>();

  constructor(private readonly ctx: DocentContext) {
    const extension = ctx.extension;
    const distDir = path.join(extension.extensionPath, 'dist');
    this.engine = new CoreProcessClient(distDir, {
      onIndexState: (progress) => this.onProgress(progress),
      onLog: (level, message) => ctx.log[level](message),
    });
    ctx.own({ dispose: () => this.engine.dispose() });
    this.statusBar = ctx.own(new DocentStatusBar(() => this.backendLabel()));
    this.server = new LocalServer(distDir, ctx.log, () => this.statusBar.render(), () => this.reconfigure());
    ctx.own({ dispose: () => this.server.stop() });
    this.chat = ctx.own(
      new ChatViewProvider(extension, {
        engine: () => this.startedEngine(),
        backend: backendInfo,
        indexStatus: () => this.indexStatus(),
        log: ctx.log,
        answered: () => void this.refreshAnswerStats().catch((error: Error) => ctx.log.warn(`answer statistics unavailable: ${error.message}`)),
      }),
    );
    ctx.own(vscode.window.registerWebviewViewProvider(CHAT_VIEW_ID, this.chat, { webviewOptions: { retainContextWhenHidden: true } }));
    this.metricsPanel = ctx.own(new MetricsPanel(extension.extensionUri, () => this.sample()));
  }

  /** The engine, configured with the current settings and the API key (read once from SecretStorage). */
  startedEngine(): CoreProcessClient {
    if (!this.engine.started) this.engine.configure(this.config());
    return this.engine;
  }

  async loadApiKey(): Promise<void> {
    this.apiKey = await this.ctx.extension.secrets.get(API_KEY_SECRET);
  }

  reconfigure(): void {
    this.engine.configure(this.config());
    this.statusBar.render();
    this.chat.refresh();
  }

  private config() {
    return workspaceOptions(this.folders(), vscode.workspace.workspaceFolders ?? [], this.apiKey);
  }

  /** One store per workspace folder under the workspace's storage; names are made unique for citations. */
  private folders(): WorkspaceFolder[] {
    const storage = this.ctx.extension.storageUri;
    if (!storage) return [];
    const used = new Set<string>();
    this.folderNames.clear();
    return (vscode.workspace.workspaceFolders ?? [])
      .filter((folder) => folder.uri.scheme === 'file')
      .map((folder) => {
        let name = folder.name.replace(/\//g, '_');
        for (let n = 2; used.has(name); n++) name = `${folder.name} (${n})`;
        used.add(name);
        this.folderNames.set(folder.uri.toString(), name);
        const storeId = `${folder.index}-${folder.name.replace(/[^\w.-]+/g, '_')}`;
        return { name, root: folder.uri.fsPath, storeDir: path.join(storage.fsPath, 'stores', storeId) };
      });
  }

  index(folders?: string[]): void {
    if (this.config().folders.length === 0) {
      const open = vscode.workspace.workspaceFolders?.length ?? 0;
      const reason =
        open === 0
          ? 'no workspace folder is open'
          : !this.ctx.extension.storageUri
            ? 'the editor gave Docent no workspace storage for its index'
            : `none of the ${open} workspace folders is on this machine's file system`;
      this.ctx.log.info(`nothing to index yet: ${reason}`);
      return;
    }
    this.startLagMonitor();
    this.startedEngine().index(folders);
  }

  /** Runs an explicit reindex with a cancellable notification. */
  async reindexWithProgress(): Promise<void> {
    this.index();
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Docent: indexing workspace', cancellable: true },
      (progress, token) =>
        new Promise<void>((resolve) => {
          let reported = 0;
          const listener = (update: IndexState) => {
            if (update.state === 'indexing') {
              progress.report({ increment: update.percent - reported, message: `${update.percent}% · ${update.files} files` });
              reported = update.percent;
              return;
            }
            this.progressListeners.delete(listener);
            resolve();
          };
          this.progressListeners.add(listener);
          token.onCancellationRequested(() => {
            this.engine.cancelIndex();
            this.progressListeners.delete(listener);
            resolve();
          });
        }),
    );
  }

  onFileEvent(uri: vscode.Uri): void {
    if (!this.engine.started || uri.path.includes('/.git/')) return;
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    const name = folder && this.folderNames.get(folder.uri.toString());
    if (!name) return;
    this.changedFolders.add(name);
    clearTimeout(this.watchTimer);
    this.watchTimer = setTimeout(() => {
      const names = [...this.changedFolders];
      this.changedFolders.clear();
      this.index(names);
    }, WATCH_DEBOUNCE_MS);
  }

  private onProgress(progress: IndexState): void {
    // Also runs the engine starts itself (resume, a settings change, a first question).
    if (progress.state === 'indexing') this.startLagMonitor();
    else this.stopLagMonitor();
    this.statusBar.setProgress(progress);
    this.chat.refresh();
    for (const listener of [...this.progressListeners]) listener(progress);
  }

  /** Measures the extension host's responsiveness while the engine indexes (shown in Show Metrics). */
  private startLagMonitor(): void {
    if (this.lagMonitor) return;
    this.lagMonitor = monitorEventLoopDelay({ resolution: 10 });
    this.lagMonitor.enable();
  }

  private stopLagMonitor(): void {
    const monitor = this.lagMonitor;
    if (!monitor) return;
    monitor.disable();
    this.lagMonitor = undefined;
    if (monitor.count > 0) {
      this.lastLag = {
        p50Ms: monitor.percentile(50) / 1e6,
        p99Ms: monitor.percentile(99) / 1e6,
        maxMs: monitor.max / 1e6,
        samples: monitor.count,
      };
    }
  }

  indexStatus(): IndexStatus {
    const progress = this.statusBar.index;
    if (!vscode.workspace.isTrusted && !progress) return { state: 'restricted', files: 0, chunks: 0, message: 'Restricted mode: Docent indexes and answers, but starts no local server.' };
    if (!progress) return { state: 'idle', files: 0, chunks: 0 };
    const state = progress.state === 'cancelled' ? 'ready' : progress.state;
    return { state, files: progress.files, chunks: progress.chunks, ...(state === 'indexing' ? { percent: progress.percent } : {}), ...(progress.message ? { message: progress.message } : {}) };
  }

  async refreshAnswerStats(): Promise<void> {
    const sample = await this.sample();
    if (sample.total) {
      this.statusBar.setAnswers({
        p50Ms: sample.total.p50,
        p95Ms: sample.total.p95,
        answerHitRatio: sample.answerHitRatio,
        embeddingHitRatio: sample.embeddingHitRatio,
        breaker: sample.breaker,
      });
    }
  }

  async sample(): Promise<MetricsSample & { breaker: string }> {
    const { metrics: snapshot, totals: stats } = await this.engine.metrics();
    const stages = Object.fromEntries(Object.entries(snapshot?.stages ?? {}).map(([stage, summary]) => [stage, summary.p50]));
    return {
      at: Date.now(),
      ...(snapshot?.stages.total ? { total: snapshot.stages.total } : {}),
      stages,
      answerHitRatio: snapshot?.caches.answer.hitRatio ?? 0,
      embeddingHitRatio: snapshot?.caches.embedding.hitRatio ?? 0,
      files: stats.files,
      chunks: stats.chunks,
      breaker: snapshot?.breaker ?? 'closed',
      ...(this.lastLag ? { hostLagP99Ms: this.lastLag.p99Ms } : {}),
    };
  }

  async showMetrics(): Promise<DocentDiagnostics> {
    await this.metricsPanel.show();
    return this.diagnostics();
  }

  /** The numbers behind Show Metrics, without opening anything (also the extension's API for tests). */
  async diagnostics(): Promise<DocentDiagnostics> {
    return {
      activationMs: activationMs,
      ...(this.lastLag ? { hostLagWhileIndexing: this.lastLag } : {}),
      sample: await this.sample(),
    };
  }

  private backendLabel(): string {
    const info = backendInfo();
    if (info.kind === 'remote') return `remote (${info.host ?? 'not configured'})`;
    if (info.kind === 'local') return `local server${this.server.running ? ' (running)' : ' (stopped)'}`;
    return 'none (passages only)';
  }

  async setApiKey(): Promise<void> {
    const key = await vscode.window.showInputBox({
      title: 'Docent: API key for the remote endpoint',
      prompt: 'Stored in the editor\'s secret storage, never in settings. Leave empty to remove it.',
      password: true,
      ignoreFocusOut: true,
    });
    if (key === undefined) return;
    // Applied before it is persisted: a question asked right after the input closes already uses it.
    this.apiKey = key || undefined;
    this.reconfigure();
    if (key) await this.ctx.extension.secrets.store(API_KEY_SECRET, key);
    else await this.ctx.extension.secrets.delete(API_KEY_SECRET);
  }

  startLocalServer(): void {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Docent starts no local server in Restricted Mode. Trust this workspace to use it.');
      return;
    }
    const settings = localServerSettings();
    if (!settings.modelPath) {
      void vscode.window.showWarningMessage('Set "docent.localServer.modelPath" to a model folder first.', 'Open Settings').then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'docent.localServer');
      });
      return;
    }
    this.server.start(settings.modelPath, settings.port);
    this.ctx.log.info(`local server starting on port ${settings.port}`);
  }

  autoStartLocalServer(): void {
    const settings = localServerSettings();
    if (backendKind() === 'local' && settings.autoStart && settings.modelPath && vscode.workspace.isTrusted && !this.server.running) this.startLocalServer();
  }

  async pullEmbeddingModel(): Promise<void> {
    const repoId = await vscode.window.showInputBox({
      title: 'Docent: pull an embedding model from Hugging Face',
      prompt: 'Repository id of a sentence-transformers ONNX export',
      value: 'sentence-transformers/all-MiniLM-L6-v2',
      ignoreFocusOut: true,
    });
    if (!repoId) return;
    const cacheDir = path.join(this.ctx.extension.globalStorageUri.fsPath, 'models');
    try {
      const cancel = new AbortController();
      const folder = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Docent: pulling ${repoId}`, cancellable: true },
        (progress, token) => {
          token.onCancellationRequested(() => cancel.abort());
          return this.startedEngine().pullModel(repoId, cacheDir, (message) => progress.report({ message }), cancel.signal);
        },
      );
      await vscode.workspace.getConfiguration('docent').update('embedding.model', folder, vscode.ConfigurationTarget.Global);
      void vscode.window.showInformationMessage(`Docent now embeds with ${repoId}; the index is rebuilt in the background.`);
    } catch (error) {
      if ((error as Error).name === 'AbortError') {
        void vscode.window.showInformationMessage(`Docent: pulling ${repoId} was cancelled; pulling it again resumes the download.`);
        return;
      }
      void vscode.window.showErrorMessage(`Docent could not pull ${repoId}: ${(error as Error).message}`);
    }
  }

  async explainSelection(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.selection.isEmpty) {
      void vscode.window.showInformationMessage('Select some text to explain first.');
      return;
    }
    const text = editor.document.getText(editor.selection);
    const file = vscode.workspace.asRelativePath(editor.document.uri);
    await this.chat.reveal();
    await this.chat.ask(`Explain this ${editor.document.languageId} from ${file}.`, { text, languageId: editor.document.languageId, path: file });
  }

  async statusMenu(): Promise<void> {
    const paused = this.statusBar.index?.state === 'paused';
    const items: (vscode.QuickPickItem & { command: string })[] = [
      { label: '$(comment-discussion) Open Chat', command: 'docent.openChat' },
      { label: '$(sync) Reindex Workspace', command: 'docent.reindex' },
      paused ? { label: '$(debug-continue) Resume Indexing', command: 'docent.resumeIndexing' } : { label: '$(debug-pause) Pause Indexing', command: 'docent.pauseIndexing' },
      { label: '$(graph) Show Metrics', command: 'docent.showMetrics' },
      { label: '$(settings-gear) Configure Backend', command: 'docent.configureBackend' },
    ];
    const choice = await vscode.window.showQuickPick(items, { title: 'Docent', placeHolder: this.backendLabel() });
    if (choice) await vscode.commands.executeCommand(choice.command);
  }
}

let current: DocentContext | undefined;
let activationMs = 0;

/** What `activate` returns to other extensions and to the in-host tests. */
export interface DocentApi {
  diagnostics(): Promise<DocentDiagnostics>;
}

export function activate(extension: vscode.ExtensionContext): DocentApi {
  const started = performance.now();
  current = new DocentContext(extension);
  const ctx = current;
  extension.subscriptions.push(ctx);
  const docent = new Docent(ctx);
  void docent.loadApiKey().then(() => docent.engine.started && docent.reconfigure());
  const register = (id: string, run: () => unknown) => ctx.own(vscode.commands.registerCommand(id, run));
  register('docent.openChat', () => docent.chat.reveal());
  register('docent.explainSelection', () => docent.explainSelection());
  register('docent.reindex', () => docent.reindexWithProgress());
  register('docent.pauseIndexing', () => docent.startedEngine().pauseIndex());
  register('docent.resumeIndexing', () => {
    docent.startedEngine().resumeIndex();
  });
  register('docent.clearCache', () => {
    docent.engine.clearCache();
    void vscode.window.showInformationMessage('Docent: answer and embedding caches cleared.');
  });
  register('docent.showMetrics', () => docent.showMetrics());
  register('docent.startLocalServer', () => docent.startLocalServer());
  register('docent.stopLocalServer', () => docent.server.stop());
  register('docent.setApiKey', () => docent.setApiKey());
  register('docent.pullEmbeddingModel', () => docent.pullEmbeddingModel());
  register('docent.configureBackend', () => vscode.commands.executeCommand('workbench.action.openSettings', '@ext:docent.docent backend'));
  register('docent.statusMenu', () => docent.statusMenu());

  ctx.own(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('docent') || event.affectsConfiguration('files.exclude')) {
        if (docent.engine.started) docent.reconfigure();
        else docent.chat.refresh();
        docent.autoStartLocalServer();
      }
    }),
  );
  let idleStarted = false;
  // Folders can also arrive after activation (a workspace file resolved late, a folder added to an
  // empty window): once the first run is due, every change of folders is indexed.
  ctx.own(
    vscode.workspace.onDidChangeWorkspaceFolders((change) => {
      ctx.log.info(`workspace folders changed: ${change.added.length} added, ${change.removed.length} removed`);
      if (docent.engine.started) docent.reconfigure();
      if (docent.engine.started || idleStarted) docent.index();
    }),
  );
  ctx.own(vscode.workspace.onDidGrantWorkspaceTrust(() => docent.autoStartLocalServer()));
  // Created, changed, deleted (a rename is a delete plus a create); the engine re-reads only what changed.
  const watcher = ctx.own(vscode.workspace.createFileSystemWatcher('**/*'));
  ctx.own(watcher.onDidCreate((uri) => docent.onFileEvent(uri)));
  ctx.own(watcher.onDidChange((uri) => docent.onFileEvent(uri)));
  ctx.own(watcher.onDidDelete((uri) => docent.onFileEvent(uri)));

  const idleStart = setTimeout(() => {
    idleStarted = true;
    ctx.log.info('the editor is idle: starting the first index run');
    try {
      docent.index();
      docent.autoStartLocalServer();
    } catch (error) {
      ctx.log.error(`the first index run could not start: ${(error as Error).stack ?? String(error)}`);
    }
  }, IDLE_START_MS);
  ctx.own({ dispose: () => clearTimeout(idleStart) });

  activationMs = performance.now() - started;
  ctx.log.info(`Docent ${String(extension.extension.packageJSON.version)} activated in ${activationMs.toFixed(1)} ms (${vscode.workspace.workspaceFolders?.length ?? 0} workspace folders${vscode.workspace.workspaceFile ? ` from ${vscode.workspace.workspaceFile.toString()}` : ''})`);
  return { diagnostics: () => docent.diagnostics() };
}

export function deactivate(): void {
  current?.dispose();
  current = undefined;
}

/**
 * The extension's context: it owns every disposable, the core-process client, the local server,
 * the API key (kept in SecretStorage) and the views, and hands them to the commands. Indexing
 * state has its own owner (indexing.ts) that the status bar and the chat view read.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { WorkspaceOptions } from '../core/workspace/options.js';
import { CHAT_VIEW_ID, ChatViewProvider } from './chatView.js';
import { CoreProcessClient } from './coreProcess/client.js';
import type { HostLag } from './hostLag.js';
import { Indexing } from './indexing.js';
import { LocalServer } from './localServer.js';
import { MetricsPanel, type MetricsSample } from './metricsPanel.js';
import { backendInfo, backendKind, backendProblem, firstTokenTimeoutSeconds, localServerSettings, openSettings, remoteModel, workspaceOptions } from './settings.js';
import { DocentStatusBar } from './statusBar.js';

const API_KEY_SECRET = 'docent.apiKey';

/** Diagnostics returned by `docent.showMetrics` (also what the panel shows and the extension's API returns). */
export interface DocentDiagnostics {
  activationMs: number;
  /** Extension-host event-loop delay measured during the last index run. */
  hostLagWhileIndexing?: HostLag;
  sample: MetricsSample;
}

export class Ctx implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  readonly log: vscode.LogOutputChannel;
  readonly core: CoreProcessClient;
  readonly indexing: Indexing;
  readonly server: LocalServer;
  readonly statusBar: DocentStatusBar;
  readonly chat: ChatViewProvider;
  readonly metricsPanel: MetricsPanel;
  activationMs = 0;
  private apiKey: string | undefined;
  /** Closes the "starting the local server" notification. */
  private serverStarting: (() => void) | undefined;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = this.own(vscode.window.createOutputChannel('Docent', { log: true }));
    const distDir = path.join(extension.extensionPath, 'dist');
    this.core = new CoreProcessClient(distDir, {
      onIndexState: (state) => this.indexing.received(state),
      onLog: (level, message) => this.log[level](message),
    });
    this.own({ dispose: () => this.core.dispose() });
    this.indexing = this.own(new Indexing({ extension, log: this.log, core: this.core, startedCore: () => this.startedCore(), idle: () => this.autoStartLocalServer() }));
    this.server = new LocalServer(distDir, this.log, {
      stateChanged: () => this.statusBar.render(),
      ready: () => this.serverReady(),
      crashed: (cause, retryInMs) => {
        void vscode.window.showWarningMessage(`Docent's local server stopped unexpectedly: ${cause}. Restarting it in ${Math.round(retryInMs / 1000)} s.`, 'Show Log').then((choice) => {
          if (choice) this.log.show(true);
        });
      },
      gaveUp: (cause, attempts) => this.serverGaveUp(cause, attempts),
    });
    this.own({ dispose: () => this.server.stop() });
    this.statusBar = this.own(new DocentStatusBar({ backendLabel: () => this.backendLabel(), index: () => this.indexing.current }));
    this.chat = this.own(
      new ChatViewProvider(extension, {
        core: () => this.startedCore(),
        backend: backendInfo,
        backendProblem,
        adviceContext: () => ({ backend: backendKind(), model: remoteModel(), firstTokenTimeoutSeconds: firstTokenTimeoutSeconds(), localPort: localServerSettings().port }),
        indexStatus: () => this.indexing.status(),
        examples: () => this.core.examples(),
        log: this.log,
        answered: () => void this.refreshAnswerStats().catch((error: Error) => this.log.warn(`answer statistics unavailable: ${error.message}`)),
      }),
    );
    this.own(vscode.window.registerWebviewViewProvider(CHAT_VIEW_ID, this.chat, { webviewOptions: { retainContextWhenHidden: true } }));
    this.own(
      this.indexing.onDidChange(() => {
        this.statusBar.render();
        this.chat.refresh();
      }),
    );
    this.metricsPanel = this.own(new MetricsPanel(extension.extensionUri, () => this.sample()));
  }

  own<T extends vscode.Disposable>(disposable: T): T {
    this.disposables.push(disposable);
    return disposable;
  }

  /** The core process, configured with the current settings and the API key. */
  startedCore(): CoreProcessClient {
    if (!this.core.started) this.core.configure(this.options());
    return this.core;
  }

  /** Settings, folders or the key changed: the core process gets the new options. */
  reconfigure(): void {
    this.core.configure(this.options());
    this.statusBar.render();
    this.chat.refresh();
  }

  private options(): WorkspaceOptions {
    return workspaceOptions(this.indexing.folders(), vscode.workspace.workspaceFolders ?? [], { remote: this.apiKey, localServer: this.server.apiKey });
  }

  /** Reads the key once from SecretStorage; a core process already running gets it at once. */
  async loadApiKey(): Promise<void> {
    this.apiKey = await this.extension.secrets.get(API_KEY_SECRET);
    if (this.core.started) this.reconfigure();
  }

  get currentApiKey(): string | undefined {
    return this.apiKey;
  }

  /** Applied before it is persisted: a question asked right after the input closes already uses it. */
  async setApiKey(key: string | undefined): Promise<void> {
    this.apiKey = key || undefined;
    this.reconfigure();
    if (key) await this.extension.secrets.store(API_KEY_SECRET, key);
    else await this.extension.secrets.delete(API_KEY_SECRET);
  }

  backendLabel(): string {
    const info = backendInfo();
    if (info.kind === 'remote') return `remote (${info.host ?? 'not configured'})`;
    if (info.kind === 'local') return `local server${this.server.running ? ' (running)' : ' (stopped)'}`;
    return 'none (passages only)';
  }

  startLocalServer(): void {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Docent starts no local server in Restricted Mode. Trust this workspace to use it.');
      return;
    }
    const settings = localServerSettings();
    if (!settings.modelPath) {
      void vscode.window.showWarningMessage('Set "docent.localServer.modelPath" to a model folder first.', 'Open Settings').then((choice) => {
        if (choice) void openSettings('docent.localServer');
      });
      return;
    }
    this.server.start(settings.modelPath, settings.port);
    this.log.info(`local server starting on port ${settings.port}`);
    this.serverStarting?.();
    // A notification with a spinner while the model loads; it closes when the server is ready or gives up.
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Docent: starting the local server (${path.basename(settings.modelPath)}) on port ${settings.port}…` },
      () => new Promise<void>((resolve) => (this.serverStarting = resolve)),
    );
  }

  stopLocalServer(): void {
    const wasRunning = this.server.running;
    this.server.stop();
    this.serverStarting?.();
    if (wasRunning) void vscode.window.showInformationMessage('Docent: the local server stopped.');
    else void vscode.window.showInformationMessage('Docent: the local server is not running.');
  }

  private serverReady(): void {
    this.serverStarting?.();
    this.reconfigure();
    void vscode.window.showInformationMessage(`Docent: the local server is ready on 127.0.0.1:${localServerSettings().port}.`);
  }

  private serverGaveUp(cause: string, attempts: number): void {
    this.serverStarting?.();
    void vscode.window
      .showErrorMessage(`Docent's local server could not start (${attempts} tries, stopped trying): ${cause}`, 'Open Settings', 'Show Log')
      .then((choice) => {
        if (choice === 'Open Settings') void openSettings('docent.localServer');
        else if (choice === 'Show Log') this.log.show(true);
      });
  }

  /** Starts the local server when the settings ask for it (never in Restricted Mode). */
  autoStartLocalServer(): void {
    const settings = localServerSettings();
    if (backendKind() === 'local' && settings.autoStart && settings.modelPath && vscode.workspace.isTrusted && !this.server.running) this.startLocalServer();
  }

  async sample(): Promise<MetricsSample & { breaker: string }> {
    const { metrics: snapshot, totals } = await this.core.metrics();
    const stages = Object.fromEntries(Object.entries(snapshot?.stages ?? {}).map(([stage, summary]) => [stage, summary.p50]));
    const lag = this.indexing.hostLag.last;
    return {
      at: Date.now(),
      ...(snapshot?.stages.total ? { total: snapshot.stages.total } : {}),
      stages,
      answerHitRatio: snapshot?.caches.answer.hitRatio ?? 0,
      embeddingHitRatio: snapshot?.caches.embedding.hitRatio ?? 0,
      files: totals.files,
      chunks: totals.chunks,
      breaker: snapshot?.breaker ?? 'closed',
      ...(lag ? { hostLagP99Ms: lag.p99Ms } : {}),
    };
  }

  /** The numbers behind Show Metrics, without opening anything (also the extension's API for tests). */
  async diagnostics(): Promise<DocentDiagnostics> {
    const lag = this.indexing.hostLag.last;
    return { activationMs: this.activationMs, ...(lag ? { hostLagWhileIndexing: lag } : {}), sample: await this.sample() };
  }

  private async refreshAnswerStats(): Promise<void> {
    const sample = await this.sample();
    if (!sample.total) return;
    this.statusBar.setAnswers({
      p50Ms: sample.total.p50,
      p95Ms: sample.total.p95,
      answerHitRatio: sample.answerHitRatio,
      embeddingHitRatio: sample.embeddingHitRatio,
      breaker: sample.breaker,
    });
  }

  dispose(): void {
    for (const disposable of this.disposables.splice(0).reverse()) disposable.dispose();
  }
}

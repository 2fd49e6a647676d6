/**
 * The one owner of the extension's indexing state: which workspace folder is indexed into which
 * store, the file watcher that re-indexes what changed, the first run once the editor is idle,
 * and the last index state the core process reported. The status bar and the chat view read it;
 * only the core process's events change it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { IndexState } from '../core/workspace/indexState.js';
import type { WorkspaceFolder } from '../core/workspace/options.js';
import type { IndexStatus } from '../shared/chatProtocol.js';
import type { CoreProcessClient } from './coreProcess/client.js';
import { HostLagMonitor } from './hostLag.js';

/** How long after startup the first index run waits, so it never competes with the editor's own startup work. */
const IDLE_START_MS = 3000;
/** File events are batched: a branch switch or a formatter run touches many files at once. */
const WATCH_DEBOUNCE_MS = 1500;

export interface IndexingHost {
  extension: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  core: CoreProcessClient;
  /** The core process, started with the current options. */
  startedCore(): CoreProcessClient;
  /** The first run is due: the local server may start too. */
  idle(): void;
}

export class Indexing implements vscode.Disposable {
  private state: IndexState | undefined;
  private readonly changes = new vscode.EventEmitter<IndexState>();
  /** Fires with every state the core process reports. */
  readonly onDidChange = this.changes.event;
  readonly hostLag = new HostLagMonitor();
  /** Workspace folder URI → the unique name its citations carry. */
  private readonly names = new Map<string, string>();
  /** Folder name → the paths the watcher reported since the last batch. */
  private readonly changedPaths = new Map<string, Set<string>>();
  private watchTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private idleStarted = false;
  private readonly disposables: vscode.Disposable[] = [this.changes];

  constructor(private readonly host: IndexingHost) {}

  get current(): IndexState | undefined {
    return this.state;
  }

  /** One store per workspace folder under the workspace's storage; names are made unique for citations. */
  folders(): WorkspaceFolder[] {
    const storage = this.host.extension.storageUri;
    if (!storage) return [];
    const used = new Set<string>();
    this.names.clear();
    return (vscode.workspace.workspaceFolders ?? [])
      .filter((folder) => folder.uri.scheme === 'file')
      .map((folder) => {
        let name = folder.name.replace(/\//g, '_');
        for (let n = 2; used.has(name); n++) name = `${folder.name} (${n})`;
        used.add(name);
        this.names.set(folder.uri.toString(), name);
        const storeId = `${folder.index}-${folder.name.replace(/[^\w.-]+/g, '_')}`;
        return { name, root: folder.uri.fsPath, storeDir: path.join(storage.fsPath, 'stores', storeId) };
      });
  }

  /** Indexes these folders (all when absent), or logs why there is nothing to index. */
  index(folders?: string[]): void {
    if (this.folders().length === 0) {
      const open = vscode.workspace.workspaceFolders?.length ?? 0;
      const reason =
        open === 0
          ? 'no workspace folder is open'
          : !this.host.extension.storageUri
            ? 'the editor gave Docent no workspace storage for its index'
            : `none of the ${open} workspace folders is on this machine's file system`;
      this.host.log.info(`nothing to index yet: ${reason}`);
      return;
    }
    this.hostLag.start();
    this.host.startedCore().index(folders);
  }

  /** An explicit reindex, with a cancellable notification that follows the run. */
  async reindexWithProgress(): Promise<void> {
    this.index();
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Docent: indexing workspace', cancellable: true },
      (progress, token) =>
        new Promise<void>((resolve) => {
          let reported = 0;
          const listener = this.onDidChange((update) => {
            if (update.state === 'indexing' && update.step === 'graph') {
              // The bar stays full (every file is read); the message follows the graph's own percent.
              progress.report({ increment: 100 - reported, message: `building the vector graph ${update.percent}% · ${update.files} files` });
              reported = 100;
              return;
            }
            if (update.state === 'indexing') {
              progress.report({ increment: update.percent - reported, message: `${update.percent}% · ${update.files} files` });
              reported = update.percent;
              return;
            }
            listener.dispose();
            resolve();
          });
          token.onCancellationRequested(() => {
            this.host.core.cancelIndex();
            listener.dispose();
            resolve();
          });
        }),
    );
  }

  /** What the core process reported; also runs the process starts itself (resume, a settings change, a first question). */
  received(state: IndexState): void {
    if (state.state === 'indexing') this.hostLag.start();
    else this.hostLag.stop();
    this.state = state;
    this.changes.fire(state);
  }

  /** The index as the chat view shows it. */
  status(): IndexStatus {
    const state = this.state;
    if (!vscode.workspace.isTrusted && !state) return { state: 'restricted', files: 0, chunks: 0, message: 'Restricted mode: Docent indexes and answers, but starts no local server.' };
    if (!state) return { state: 'idle', files: 0, chunks: 0 };
    const shown = state.state === 'cancelled' ? 'ready' : state.state;
    return {
      state: shown,
      files: state.files,
      chunks: state.chunks,
      ...(shown === 'indexing' ? { percent: state.percent, ...(state.step ? { step: state.step } : {}) } : {}),
      ...(state.message ? { message: state.message } : {}),
      ...(state.partial ? { partial: state.partial } : {}),
    };
  }

  /** Watches the workspace and starts the first run once the editor has been idle for a moment. */
  start(): void {
    // Created, changed, deleted (a rename is a delete plus a create); the core process judges and re-reads only those paths.
    const watcher = vscode.workspace.createFileSystemWatcher('**/*');
    this.disposables.push(watcher, watcher.onDidCreate((uri) => this.changed(uri)), watcher.onDidChange((uri) => this.changed(uri)), watcher.onDidDelete((uri) => this.changed(uri)));
    this.idleTimer = setTimeout(() => {
      this.idleStarted = true;
      this.host.log.info('the editor is idle: starting the first index run');
      try {
        this.index();
        this.host.idle();
      } catch (error) {
        this.host.log.error(`the first index run could not start: ${(error as Error).stack ?? String(error)}`);
      }
    }, IDLE_START_MS);
  }

  /** Folders can also arrive after activation (a workspace file resolved late, a folder added to an empty window). */
  foldersChanged(): void {
    if (this.host.core.started || this.idleStarted) this.index();
  }

  private changed(uri: vscode.Uri): void {
    if (!this.host.core.started || uri.path.includes('/.git/')) return;
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    const name = folder && this.names.get(folder.uri.toString());
    if (!name) return;
    const paths = this.changedPaths.get(name) ?? new Set<string>();
    this.changedPaths.set(name, paths.add(uri.fsPath));
    clearTimeout(this.watchTimer);
    this.watchTimer = setTimeout(() => {
      const batches = [...this.changedPaths];
      this.changedPaths.clear();
      this.hostLag.start();
      const core = this.host.startedCore();
      for (const [folder, changed] of batches) core.indexChanged(folder, [...changed]);
    }, WATCH_DEBOUNCE_MS);
  }

  dispose(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.watchTimer);
    for (const disposable of this.disposables.splice(0).reverse()) disposable.dispose();
  }
}

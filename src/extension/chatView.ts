/**
 * The chat WebviewView: renders dist/webview.js under a strict CSP, validates every message
 * from the webview (src/shared/protocol.ts), streams answers from the core process, and keeps the
 * conversation in workspace state so it survives a reload.
 */
import * as vscode from 'vscode';
import {
  isWebviewToHost,
  type BackendInfo,
  type ChatTurn,
  type FixAction,
  type HostToWebview,
  type IndexStatus,
  type WebviewToHost,
} from '../shared/chatProtocol.js';
import { AskFailure, type CoreProcessClient } from './coreProcess/client.js';
import type { AskParams } from './coreProcess/protocol.js';
import { storedTurn } from './storedTurns.js';
import { newNonce, webviewHtml } from './webviewHtml.js';

export const CHAT_VIEW_ID = 'docent.chat';
const TURNS_KEY = 'docent.chat.turns';
const MAX_KEPT_TURNS = 50;
/** Turns sent as history with a follow-up question; the pipeline trims further to its token budget. */
const HISTORY_TURNS = 6;

const EXAMPLE_QUESTIONS = ['How do I get started?', 'Where is the configuration documented?', 'How do I run the tests?'];

export interface ChatHost {
  /** The core process, started. */
  core(): CoreProcessClient;
  backend(): BackendInfo;
  indexStatus(): IndexStatus;
  log: vscode.LogOutputChannel;
  /** An answer finished: the status bar's latency and hit ratio changed. */
  answered(): void;
}

export class ChatViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private turns: ChatTurn[];
  private readonly running = new Map<string, AbortController>();
  private readonly selections = new Map<string, AskParams['selection']>();
  private nextTurn = Date.now();

  constructor(
    private readonly extension: vscode.ExtensionContext,
    private readonly host: ChatHost,
  ) {
    const stored = extension.workspaceState.get<ChatTurn[]>(TURNS_KEY, []);
    // A reload interrupts whatever was streaming.
    this.turns = stored.map((turn) => storedTurn(turn.state === 'streaming' ? { ...turn, state: 'stopped' } : turn));
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const roots = [vscode.Uri.joinPath(this.extension.extensionUri, 'dist'), vscode.Uri.joinPath(this.extension.extensionUri, 'media')];
    view.webview.options = { enableScripts: true, localResourceRoots: roots };
    view.webview.html = this.html(view.webview);
    view.webview.onDidReceiveMessage((message: unknown) => {
      if (!isWebviewToHost(message)) {
        this.host.log.warn('ignored an invalid message from the chat view');
        return;
      }
      void this.receive(message);
    });
    view.onDidDispose(() => {
      if (this.view === view) this.view = undefined;
    });
  }

  /** Pushes index or backend changes to the view. */
  refresh(): void {
    this.post({ type: 'index', index: this.host.indexStatus() });
    this.post({ type: 'backend', backend: this.host.backend() });
  }

  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${CHAT_VIEW_ID}.focus`);
  }

  async ask(question: string, selection?: AskParams['selection']): Promise<void> {
    const id = `t${this.nextTurn++}`;
    const turn: ChatTurn = {
      id,
      question,
      answer: '',
      citations: [],
      state: 'streaming',
      ...(selection ? { selection: { path: selection.path, languageId: selection.languageId } } : {}),
    };
    if (selection) this.selections.set(id, selection);
    const history = this.turns
      .filter((earlier) => earlier.state === 'done')
      .slice(-HISTORY_TURNS)
      .flatMap((earlier) => [
        { role: 'user' as const, content: earlier.question },
        { role: 'assistant' as const, content: earlier.answer },
      ]);
    this.turns.push(turn);
    this.post({ type: 'turnStarted', turn });
    const controller = new AbortController();
    this.running.set(id, controller);
    try {
      const outcome = await this.host.core().ask(
        { question, history, ...(selection ? { selection } : {}) },
        {
          onToken: (text) => {
            turn.answer += text;
            this.post({ type: 'delta', id, text });
          },
          onSources: (citations) => {
            turn.citations = citations;
            this.post({ type: 'sources', id, citations });
          },
        },
        controller.signal,
      );
      turn.state = 'done';
      turn.mode = outcome.mode;
      if (outcome.degradedReason) {
        turn.degradedReason = outcome.degradedReason;
        turn.actions = this.fixActions();
      }
      this.post({ type: 'done', id, mode: outcome.mode, ...(turn.degradedReason ? { degradedReason: turn.degradedReason, actions: turn.actions } : {}) });
    } catch (error) {
      if (error instanceof AskFailure && error.reason === 'aborted') {
        turn.state = 'stopped';
        this.post({ type: 'stopped', id });
      } else {
        turn.state = 'error';
        turn.error = (error as Error).message;
        turn.actions = error instanceof AskFailure && error.reason === 'busy' ? ['retry'] : this.fixActions();
        this.post({ type: 'failed', id, error: turn.error, actions: turn.actions });
      }
    } finally {
      this.running.delete(id);
      this.save();
      this.host.answered();
    }
  }

  /** What could make a failed or degraded answer work, for the current backend. */
  private fixActions(): FixAction[] {
    switch (this.host.backend().kind) {
      case 'local':
        return ['startLocalServer', 'retry'];
      case 'remote':
        return ['setApiKey', 'configureEndpoint', 'retry'];
      default:
        return ['configureEndpoint', 'retry'];
    }
  }

  private async receive(message: WebviewToHost): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.post({ type: 'init', turns: this.turns, index: this.host.indexStatus(), backend: this.host.backend(), examples: EXAMPLE_QUESTIONS });
        return;
      case 'ask':
        return this.ask(message.question.trim());
      case 'stop':
        this.running.get(message.id)?.abort();
        return;
      case 'retry': {
        const turn = this.turns.find((candidate) => candidate.id === message.id);
        if (turn) return this.ask(turn.question, this.selections.get(turn.id));
        return;
      }
      case 'newChat':
        for (const controller of this.running.values()) controller.abort();
        this.turns = [];
        this.save();
        this.post({ type: 'cleared' });
        return;
      case 'openCitation':
        return this.openCitation(message.folder, message.path, message.startLine, message.endLine);
      case 'copy':
        await vscode.env.clipboard.writeText(message.text);
        return;
      case 'fix':
        return this.fix(message.action);
    }
  }

  private async fix(action: FixAction): Promise<void> {
    const commands: Record<Exclude<FixAction, 'retry'>, () => Thenable<unknown>> = {
      setApiKey: () => vscode.commands.executeCommand('docent.setApiKey'),
      configureEndpoint: () => vscode.commands.executeCommand('workbench.action.openSettings', 'docent.backend'),
      startLocalServer: () => vscode.commands.executeCommand('docent.startLocalServer'),
      reindex: () => vscode.commands.executeCommand('docent.reindex'),
    };
    if (action === 'retry') {
      const last = [...this.turns].reverse().find((turn) => turn.state !== 'streaming');
      if (last) await this.ask(last.question, this.selections.get(last.id));
      return;
    }
    await commands[action]();
  }

  private async openCitation(folderName: string, relativePath: string, startLine: number, endLine: number): Promise<void> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const folder = folders.find((candidate) => candidate.name === folderName) ?? (folders.length === 1 ? folders[0] : undefined);
    if (!folder) return;
    // isWebviewToHost already refused absolute paths and `..` segments.
    const uri = vscode.Uri.joinPath(folder.uri, ...relativePath.split('/'));
    const range = new vscode.Range(startLine - 1, 0, endLine - 1, Number.MAX_SAFE_INTEGER);
    try {
      await vscode.window.showTextDocument(uri, { selection: range, preview: true, viewColumn: vscode.ViewColumn.One });
    } catch (error) {
      void vscode.window.showWarningMessage(`Docent could not open ${relativePath}: ${(error as Error).message}`);
    }
  }

  private post(message: HostToWebview): void {
    void this.view?.webview.postMessage(message);
  }

  private save(): void {
    void this.extension.workspaceState.update(TURNS_KEY, this.turns.slice(-MAX_KEPT_TURNS).map(storedTurn));
  }

  private html(webview: vscode.Webview): string {
    const uri = (...segments: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.extension.extensionUri, ...segments)).toString();
    return webviewHtml({
      cspSource: webview.cspSource,
      nonce: newNonce(),
      title: 'Docent',
      styleUri: uri('media', 'chat.css'),
      scriptUri: uri('dist', 'webview.js'),
      body: '<div id="app"></div>',
    });
  }

  dispose(): void {
    for (const controller of this.running.values()) controller.abort();
  }
}

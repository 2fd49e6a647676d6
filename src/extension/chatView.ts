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
  type ProgressStep,
  type IndexStatus,
  type WebviewToHost,
} from '../shared/chatProtocol.js';
import type { Stage } from '../core/pipeline/types.js';
import { AskFailure, type CoreProcessClient } from './coreProcess/client.js';
import type { AskParams } from './coreProcess/protocol.js';
import { Conversations, conversationMarkdown, type Conversation } from './conversations.js';
import { adviceFor, type AdviceContext } from './failureAdvice.js';
import { openSettings } from './settings.js';
import { newNonce, webviewHtml } from './webviewHtml.js';

export const CHAT_VIEW_ID = 'docent.chat';
/** What a question carries besides its text and history. */
type AskContext = Pick<AskParams, 'selection' | 'searchQuery'>;

/** Turns sent as history with a follow-up question; the pipeline trims further to its token budget. */
const HISTORY_TURNS = 6;

/** Until the index can suggest questions from its own headings. */
const GENERIC_EXAMPLES = ['How do I get started?', 'Where is the configuration documented?', 'How do I run the tests?'];

export interface ChatHost {
  /** The core process, started. */
  core(): CoreProcessClient;
  backend(): BackendInfo;
  /** Why the backend cannot answer at all (a remote endpoint without a model name), or undefined. */
  backendProblem(): string | undefined;
  adviceContext(): AdviceContext;
  indexStatus(): IndexStatus;
  /** Example questions from the index (none while the core process is not running). */
  examples(): Promise<string[]>;
  log: vscode.LogOutputChannel;
  /** An answer finished: the status bar's latency and hit ratio changed. */
  answered(): void;
}

export class ChatViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private readonly conversations: Conversations;
  private readonly running = new Map<string, AbortController>();
  /** What a turn asked besides its question (Explain Selection's selection and search), for Retry. */
  private readonly contexts = new Map<string, AskContext>();
  private nextTurn = Date.now();
  /** The webview said `ready` (its script runs and listens). */
  private ready = false;
  private focusWhenReady = false;
  private examples: string[] = GENERIC_EXAMPLES;
  /** Insert at Cursor's target while the chat has the focus. */
  private lastEditor: vscode.TextEditor | undefined = vscode.window.activeTextEditor;
  private readonly editorWatch = vscode.window.onDidChangeActiveTextEditor((editor) => {
    if (editor) this.lastEditor = editor;
  });

  constructor(
    private readonly extension: vscode.ExtensionContext,
    private readonly host: ChatHost,
  ) {
    this.conversations = new Conversations(extension.workspaceState);
  }

  /** The turns of the conversation on screen. */
  private get turns(): ChatTurn[] {
    return this.conversations.current.turns;
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
      if (this.view !== view) return;
      this.view = undefined;
      this.ready = false;
    });
  }

  /** Pushes index or backend changes to the view. */
  refresh(): void {
    const index = this.host.indexStatus();
    this.post({ type: 'index', index });
    this.post({ type: 'backend', backend: this.host.backend() });
    if (index.state === 'ready' && index.chunks > 0) void this.refreshExamples();
  }

  /** The empty view's examples, from the workspace's headings once there is an index. */
  private async refreshExamples(): Promise<void> {
    const questions = await this.host.examples().catch(() => []);
    if (questions.length === 0 || JSON.stringify(questions) === JSON.stringify(this.examples)) return;
    this.examples = questions;
    if (this.turns.length === 0) this.postInit();
  }

  /** Shows the view with the caret in the question box (a view that is still loading focuses it once ready). */
  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${CHAT_VIEW_ID}.focus`);
    this.focusWhenReady = true;
    if (this.ready) this.focusInput();
  }

  /** Stops every streaming answer (the Stop keybinding outside the view). */
  stopAnswers(): void {
    for (const controller of this.running.values()) controller.abort();
  }

  private focusInput(): void {
    this.focusWhenReady = false;
    this.post({ type: 'focusInput' });
  }

  /** `docent.answering` lets the Stop keybinding apply only while something streams. */
  private answeringChanged(): void {
    void vscode.commands.executeCommand('setContext', 'docent.answering', this.running.size > 0);
  }

  /** Asks in the current conversation; `replaces` (Retry) puts the new turn where that one was. */
  async ask(question: string, context: AskContext = {}, replaces?: string): Promise<void> {
    const id = `t${this.nextTurn++}`;
    const { selection } = context;
    const turn: ChatTurn = {
      id,
      question,
      answer: '',
      citations: [],
      state: 'streaming',
      ...(selection ? { selection: { path: selection.path, languageId: selection.languageId, startLine: selection.startLine, endLine: selection.endLine } } : {}),
    };
    if (selection || context.searchQuery !== undefined) this.contexts.set(id, context);
    const earlier = replaces === undefined ? this.turns : this.turns.slice(0, Math.max(0, this.turns.findIndex((candidate) => candidate.id === replaces)));
    const history = earlier
      .filter((earlier) => earlier.state === 'done')
      .slice(-HISTORY_TURNS)
      .flatMap((earlier) => [
        { role: 'user' as const, content: earlier.question },
        { role: 'assistant' as const, content: earlier.answer },
      ]);
    const replaced = replaces === undefined ? -1 : this.turns.findIndex((earlier) => earlier.id === replaces && earlier.state !== 'streaming');
    if (replaced >= 0) {
      this.turns.splice(replaced, 1, turn);
      this.contexts.delete(replaces!);
    } else this.turns.push(turn);
    this.conversations.touched(turn);
    this.post({ type: 'turnStarted', turn, ...(replaced >= 0 ? { replaces } : {}) });
    const problem = this.host.backendProblem();
    if (problem) {
      // Never a quiet passages-only answer while the banner says questions go to a model.
      turn.state = 'error';
      turn.error = `${problem} Docent needs it to ask the model.`;
      turn.actions = ['configureBackend', 'configureEndpoint'];
      this.post({ type: 'failed', id, error: turn.error, actions: turn.actions });
      this.save();
      return;
    }
    const controller = new AbortController();
    this.running.set(id, controller);
    this.answeringChanged();
    let step: ProgressStep | undefined;
    const progress = (stage: Stage) => {
      const next = stepOf(stage);
      if (!next || next === step || turn.answer) return;
      step = next;
      const files = this.host.indexStatus().files;
      const text = next === 'searching' ? (files > 0 ? `Searching ${files.toLocaleString('en-US')} files…` : 'Searching your docs…') : 'Waiting for the model…';
      this.post({ type: 'progress', id, step: next, text });
    };
    try {
      const outcome = await this.host.core().ask(
        { question, history, ...context },
        {
          onStage: progress,
          onPassages: (citations) => {
            turn.passages = citations;
            this.post({ type: 'passages', id, citations });
          },
          onPartialIndex: (partial) => {
            turn.partialIndex = partial;
            this.post({ type: 'partialIndex', id, partial });
          },
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
      if (outcome.searchedQuery !== undefined) turn.searchedQuery = outcome.searchedQuery;
      if (outcome.suggestions) turn.suggestions = outcome.suggestions;
      if (outcome.degradedReason) {
        const advice = adviceFor(outcome.degradedCause, this.host.adviceContext());
        turn.degradedReason = `${outcome.degradedReason.replace(/\.?$/, '.')}${advice.hint ? ` ${advice.hint}` : ''}`;
        turn.actions = advice.actions;
      }
      this.post({
        type: 'done',
        id,
        mode: outcome.mode,
        ...(turn.degradedReason ? { degradedReason: turn.degradedReason, actions: turn.actions } : {}),
        ...(turn.searchedQuery !== undefined ? { searchedQuery: turn.searchedQuery } : {}),
        ...(turn.suggestions ? { suggestions: turn.suggestions } : {}),
      });
    } catch (error) {
      if (error instanceof AskFailure && error.reason === 'aborted') {
        turn.state = 'stopped';
        this.post({ type: 'stopped', id });
      } else {
        turn.state = 'error';
        turn.error = (error as Error).message;
        turn.actions = error instanceof AskFailure && error.reason === 'busy' ? ['retry'] : adviceFor(undefined, this.host.adviceContext()).actions;
        this.post({ type: 'failed', id, error: turn.error, actions: turn.actions });
      }
    } finally {
      this.running.delete(id);
      this.answeringChanged();
      this.save();
      this.host.answered();
    }
  }

  private async receive(message: WebviewToHost): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.postInit();
        if (this.focusWhenReady) this.focusInput();
        return;
      case 'ask':
        return this.ask(message.question.trim());
      case 'stop':
        this.running.get(message.id)?.abort();
        return;
      case 'retry': {
        const turn = this.turns.find((candidate) => candidate.id === message.id);
        if (turn) return this.ask(turn.question, this.contexts.get(turn.id), turn.id);
        return;
      }
      case 'newChat':
        this.newChat();
        return;
      case 'history':
        return this.showConversations();
      case 'openCitation':
        return this.openCitation(message.folder, message.path, message.startLine, message.endLine);
      case 'copy':
        await vscode.env.clipboard.writeText(message.text);
        return;
      case 'insert':
        return this.insertAtCursor(message.text);
      case 'fix':
        return this.fix(message.action);
      case 'indexing':
        await vscode.commands.executeCommand(message.action === 'pause' ? 'docent.pauseIndexing' : 'docent.resumeIndexing');
        return;
    }
  }

  private async fix(action: FixAction): Promise<void> {
    const commands: Record<Exclude<FixAction, 'retry'>, () => Thenable<unknown>> = {
      setApiKey: () => vscode.commands.executeCommand('docent.setApiKey'),
      configureEndpoint: () => openSettings(this.host.backend().kind === 'local' ? 'docent.localServer' : 'docent.remote'),
      configureBackend: () => vscode.commands.executeCommand('docent.configureBackend'),
      openTimeoutSetting: () => openSettings('docent.answer.firstTokenTimeoutSeconds'),
      showLog: async () => this.host.log.show(true),
      startLocalServer: () => vscode.commands.executeCommand('docent.startLocalServer'),
      reindex: () => vscode.commands.executeCommand('docent.reindex'),
    };
    if (action === 'retry') {
      const last = [...this.turns].reverse().find((turn) => turn.state !== 'streaming');
      if (last) await this.ask(last.question, this.contexts.get(last.id), last.id);
      return;
    }
    await commands[action]();
  }

  /** Into the active editor, or the one last active before the chat took the focus, at each cursor. */
  private async insertAtCursor(text: string): Promise<void> {
    const editor = vscode.window.activeTextEditor ?? (this.lastEditor && !this.lastEditor.document.isClosed ? this.lastEditor : undefined);
    if (!editor) {
      void vscode.window.showInformationMessage('Docent: open an editor to insert the code into.');
      return;
    }
    const inserted = await editor.edit((edit) => {
      for (const selection of editor.selections) edit.replace(selection, text);
    });
    if (!inserted) {
      void vscode.window.showWarningMessage(`Docent could not insert into ${vscode.workspace.asRelativePath(editor.document.uri)} (read-only?).`);
      return;
    }
    await vscode.window.showTextDocument(editor.document, editor.viewColumn);
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
    this.conversations.save();
  }

  private postInit(): void {
    const { title } = this.conversations.current;
    this.post({ type: 'init', turns: this.turns, index: this.host.indexStatus(), backend: this.host.backend(), examples: this.examples, title });
  }

  /** New chat: the current conversation is kept in Past Chats; an answer still streaming is stopped. */
  newChat(): void {
    this.stopAnswers();
    this.conversations.startNew();
    this.postInit();
    this.focusInput();
  }

  private openConversation(conversation: Conversation): void {
    if (conversation.id !== this.conversations.current.id) this.stopAnswers();
    this.conversations.open(conversation.id);
    this.postInit();
  }

  /** Past Chats: pick one to open; its buttons rename, export or delete it. */
  async showConversations(): Promise<void> {
    const rename: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('edit'), tooltip: 'Rename' };
    const exportMarkdown: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('markdown'), tooltip: 'Export as Markdown' };
    const remove: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('trash'), tooltip: 'Delete' };
    type Item = vscode.QuickPickItem & { conversation: Conversation };
    const pick = vscode.window.createQuickPick<Item>();
    pick.title = 'Docent: Past Chats';
    pick.placeholder = 'Open a conversation of this workspace';
    const fill = () => {
      const currentId = this.conversations.current.id;
      pick.items = this.conversations.all().map((conversation) => ({
        label: conversation.title || '(empty conversation)',
        description: `${conversation.turns.length} question${conversation.turns.length === 1 ? '' : 's'}${conversation.id === currentId ? ' · open' : ''}`,
        detail: new Date(conversation.updatedAt).toLocaleString(),
        buttons: [rename, exportMarkdown, remove],
        conversation,
      }));
    };
    fill();
    pick.onDidAccept(() => {
      const chosen = pick.selectedItems[0];
      pick.hide();
      if (chosen) this.openConversation(chosen.conversation);
    });
    pick.onDidTriggerItemButton(async ({ button, item }) => {
      if (button === exportMarkdown) {
        pick.hide();
        const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: conversationMarkdown(item.conversation) });
        await vscode.window.showTextDocument(document, { preview: false });
      } else if (button === rename) {
        pick.hide();
        const title = await vscode.window.showInputBox({ title: 'Docent: rename conversation', value: item.conversation.title, validateInput: (value) => (value.trim() ? undefined : 'A name, please') });
        if (title === undefined) return;
        this.conversations.rename(item.conversation.id, title);
        if (item.conversation.id === this.conversations.current.id) this.postInit();
      } else if (button === remove) {
        const wasCurrent = item.conversation.id === this.conversations.current.id;
        if (wasCurrent) this.stopAnswers();
        this.conversations.delete(item.conversation.id);
        if (wasCurrent) this.postInit();
        fill();
      }
    });
    pick.onDidHide(() => pick.dispose());
    pick.show();
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
    this.editorWatch.dispose();
    for (const controller of this.running.values()) controller.abort();
  }
}

/** The pipeline's stages as the chat words them before the first token. */
function stepOf(stage: Stage): ProgressStep | undefined {
  if (stage === 'rewrite' || stage === 'embed' || stage === 'retrieve') return 'searching';
  if (stage === 'prompt' || stage === 'queue' || stage === 'generate') return 'waiting';
  return undefined;
}
